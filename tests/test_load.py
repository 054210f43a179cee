"""Issue 2: the seed's counts load and validate, by value, and reach data/processed."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import paths
from helpers.indicators.processed import process
from helpers.ingest.load import load_school_year


@pytest.fixture(scope="module")
def sy2024():
    return load_school_year("huichang", 2024)


def test_teacher_counts(sy2024):
    assert sy2024.value("fulltime_teachers") == 203
    assert sy2024.value("staff_total") == 203
    assert sy2024.value("dual_qualified_teachers") == 105
    parts = [sy2024.value(f"dual_qualified_{k}") for k in ("senior", "intermediate", "junior")]
    assert parts == [12, 42, 51] and sum(parts) == 105
    assert sy2024.value("teachers_bachelor_plus") == 201
    assert sy2024.value("teachers_senior_title") == 29
    assert sy2024.value("parttime_teachers") == 51


def test_graduate_counts(sy2024):
    assert sy2024.value("graduates") == 1340
    assert sy2024.value("employed_incl_further_study") == 1338
    assert sy2024.value("further_study") == 606
    assert [sy2024.value(f"employed_{s}") for s in ("primary", "secondary", "tertiary")] == [
        1,
        157,
        574,
    ]
    prev = sy2024.previous
    assert (
        prev.value("graduates"),
        prev.value("employed_incl_further_study"),
        prev.value("further_study"),
    ) == (911, 887, 447)


def test_funding_three_years():
    assert load_school_year("huichang", 2024).value("fiscal_appropriation_yuan") == 25901641.9
    assert load_school_year("huichang", 2023).value("fiscal_appropriation_yuan") == 18364936.1
    assert load_school_year("huichang", 2022).value("fiscal_appropriation_yuan") == 31180406.47


def test_student_count_conflict_kept_with_provenance(sy2024):
    fact = sy2024.facts["students_full_time"]
    assert fact.value == 3088 and fact.chosen.source == "1.1.2"
    assert [(o.value, o.source) for o in fact.observations] == [(3527, "1.1.1"), (3088, "1.1.2")]
    assert "统计时段" in fact.rule
    assert sy2024.value("students_male") + sy2024.value("students_female") == 3088


def test_values_in_wan_and_tables(sy2024):
    assert sy2024.value("equipment_value_yuan") == 41952000  # 4195.2 万元
    assert sy2024.value("tuition_waiver_yuan") == 7134750  # 713.475 万元
    assert sy2024.value("books_print") == 128330
    assert sy2024.value("satisfaction_overall_pct") == 93.73
    awards = sy2024.table("awards")
    assert awards["count"].tolist() == [12, 7, 21]
    assert sy2024.previous.table("awards").query("level == '省级'")["count"].sum() == 22
    assert len(sy2024.table("majors").query("status in ['在招', '停招']")) == 18


def test_missing_stays_missing(sy2024):
    # the seed gives no practice-station total, no 对口就业 count: missing, never 0
    assert sy2024.value("practice_stations") is None
    assert sy2024.value("employed_in_field") is None
    assert load_school_year("huichang", 2021).facts == {}


def test_published_figures_keep_printed_decimals(sy2024):
    pub = sy2024.published.set_index("indicator")
    assert pub.loc["funding_per_student", "value"] == 6077.4
    assert pub.loc["funding_per_student", "decimals"] == 1
    assert pub.loc["dual_qualified_share", "printed"] == "51.72%"
    sector_2023 = sy2024.previous.published.set_index("indicator")
    assert sector_2023.loc["sector_share_primary", "value"] == 13.67


def test_provenance_names_file_and_line(sy2024):
    obs = sy2024.facts["graduates"].chosen
    assert obs.source == "1.2.3 表2"
    assert obs.file.endswith("huichang/2024/facts.yaml")
    text = (paths.raw_root() / "huichang" / "2024" / "facts.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[obs.line - 1].startswith("graduates:")


def test_process_writes_tidy_parquet(tmp_path):
    out = process("huichang", 2024, out_dir=tmp_path)
    assert out == tmp_path / "huichang" / "2024"
    facts = pd.read_parquet(out / "facts.parquet")
    students = facts[facts["field"] == "students_full_time"]
    assert students["value"].tolist() == [3527, 3088]
    assert students["chosen"].tolist() == [False, True]
    assert set(pd.read_parquet(out / "awards.parquet")["count"]) == {12, 7, 21}
    ind = pd.read_parquet(out / "indicators.parquet").set_index("indicator")
    assert ind.loc["dual_qualified_share", "text"] == "51.72%"
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))


def test_every_year_loads():
    assert paths.list_years("huichang") == [2021, 2022, 2023, 2024]
    for year in paths.list_years("huichang"):
        assert load_school_year("huichang", year).year == year
