"""Issue 3: the seed's published figures are reproduced from raw counts, each computed."""

from __future__ import annotations

import pytest

from helpers import fmt
from helpers.indicators import compare
from helpers.indicators.evaluate import COMPUTED, MISSING, REPORTED, get, registry, value_of
from helpers.ingest.load import load_school_year


@pytest.fixture(scope="module")
def sy():
    return load_school_year("huichang", 2024)


# (indicator, year, printed figure in the seed, decimals as printed)
SEED_FIGURES = [
    ("dual_qualified_share", 2024, "51.72", 2),
    ("bachelor_plus_share", 2024, "99.01", 2),
    ("senior_title_share", 2024, "14.29", 2),
    ("employment_rate", 2024, "99.85", 2),
    ("employment_rate", 2023, "97.37", 2),
    ("further_study_rate", 2024, "45.22", 2),
    ("sector_share_primary", 2024, "0.14", 2),
    ("sector_share_secondary", 2024, "21.45", 2),
    ("sector_share_tertiary", 2024, "78.42", 2),
    ("sector_share_secondary", 2023, "9.55", 2),
    ("sector_share_tertiary", 2023, "76.82", 2),
    ("direct_employment", 2024, "732", 0),
    ("funding_per_student", 2024, "6077.4", 1),
    ("fiscal_appropriation_growth", 2024, "41", 0),
    ("awards_provincial", 2023, "22", 0),
    ("majors_offered", 2024, "18", 0),
]


@pytest.mark.parametrize(("iid", "year", "printed", "decimals"), SEED_FIGURES)
def test_seed_figures_recomputed_from_raw(iid, year, printed, decimals):
    iv = get(load_school_year("huichang", year), iid)
    assert iv.status == COMPUTED, iv.derivation()
    assert str(fmt.round_half_up(iv.value, decimals)) == printed


def test_exact_values_and_display(sy):
    assert get(sy, "dual_qualified_share").value == pytest.approx(105 / 203 * 100)
    assert get(sy, "dual_qualified_share").text == "51.72%"
    assert get(sy, "funding_per_student").value == pytest.approx((25901641.9 - 7134750) / 3088)
    assert get(sy, "funding_per_student").text == "6077.36 元/生"
    assert get(sy, "student_teacher_ratio").text == "15.21:1"
    assert get(sy, "direct_employment").text == "732 人"
    assert [
        get(sy, f"dual_qualified_{k}_share").text for k in ("senior", "intermediate", "junior")
    ] == ["5.91%", "20.69%", "25.12%"]


def test_2023_primary_sector_is_13_64_not_the_printed_13_67():
    iv = get(load_school_year("huichang", 2023), "sector_share_primary")
    assert iv.text == "13.64%" and iv.published[0]["value"] == 13.67


def test_one_student_denominator_for_every_per_student_indicator(sy):
    per_student = [s for s in registry().indicators.values() if s.per_student]
    assert len(per_student) >= 6
    for spec in per_student:
        assert "students_full_time" in spec.inputs, spec.id
        iv = get(sy, spec.id)
        if iv.status == COMPUTED:
            assert next(i for i in iv.inputs if i.name == "students_full_time").value == 3088


def test_reported_when_raw_counts_missing(sy):
    iv = get(sy, "practice_stations_per_student")
    assert iv.status == REPORTED and iv.text == "1.14 个/生"
    assert "无法复算" in iv.derivation()


def test_missing_inputs_give_missing_never_zero(sy):
    for iid in (
        "in_field_employment_rate",
        "dual_qualified_share_of_professional",
        "awards_national",
    ):
        iv = get(sy, iid)
        assert iv.status == MISSING and iv.value is None and iv.text == "未填报"
    iv2021 = get(load_school_year("huichang", 2021), "employment_rate")
    assert iv2021.status == MISSING


def test_derivation_names_inputs_values_and_sources(sy):
    text = get(sy, "dual_qualified_share").derivation()
    assert "“双师型”教师数 105 人" in text and "专任教师数 203 人" in text
    # the reader's derivation names the document and section, never the data file ...
    assert "（《2024年度质量报告》第1.1.3节）" in text and "51.72%" in text
    assert "facts.yaml" not in text and "r2024" not in text
    # ... the developer's trace keeps both
    trace = get(sy, "dual_qualified_share").trace()
    assert "§1.1.3" in trace and "facts.yaml" in trace


def test_yoy_phrases(sy):
    # rounding only at display: 99.8507 − 97.3655 = 2.4852 → 2.49 (not 99.85 − 97.37 = 2.48)
    assert compare.change(sy, "employment_rate").phrase() == "较上年增加 2.49 个百分点"
    assert (
        compare.change(sy, "fiscal_appropriation_yuan").phrase()
        == "较上年增加 7536705.80 元（增长 41.04%）"
    )
    assert compare.change(sy, "sector_share_primary").phrase() == "较上年减少 13.50 个百分点"
    # never against a missing year: 2023 has no teacher counts
    assert compare.change(sy, "student_teacher_ratio") is None
    assert compare.change(load_school_year("huichang", 2021), "student_teacher_ratio") is None


def test_flat_phrase(raw_copy):
    path = raw_copy / "huichang" / "2023" / "facts.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{value: 73.69,", "{value: 93.731,"),
        encoding="utf-8",
    )
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert compare.change(sy, "satisfaction_overall_pct").phrase() == "与上年持平"


def test_registry_covers_what_the_reference_asks_for():
    ids = set(registry().indicators)
    needed = {
        "student_teacher_ratio",
        "dual_qualified_share",
        "dual_qualified_senior_share",
        "bachelor_plus_share",
        "senior_title_share",
        "equipment_per_student",
        "practice_stations_per_student",
        "books_per_student",
        "retention_rate",
        "employment_rate",
        "further_study_rate",
        "direct_employment",
        "sector_share_primary",
        "in_field_employment_rate",
        "fiscal_appropriation_growth",
        "funding_per_student",
        "awards_national",
        "awards_provincial",
    }
    assert needed <= ids
    for spec in registry().indicators.values():
        assert spec.reference and spec.chapter, spec.id


def test_every_published_indicator_is_in_the_registry():
    from helpers import paths

    for year in paths.list_years("huichang"):
        pub = load_school_year("huichang", year).published
        assert set(pub["indicator"]) <= set(registry().indicators)


def test_value_of_facts_and_unknown(sy):
    assert value_of(sy, "graduates").text == "1340 人"
    assert value_of(sy, "fiscal_appropriation_yuan").text == "25901641.90 元"
    with pytest.raises(KeyError, match="既不是"):
        value_of(sy, "no_such_thing")


def test_thresholds_are_data():
    standards = {s["indicator"]: s for s in registry().standards}
    assert standards["student_teacher_ratio"]["max"] == 20
    assert standards["dual_qualified_share"]["min"] == 30
    assert standards["senior_title_share"]["min"] == 20
    assert standards["equipment_per_student"]["min"] == 2500
    assert standards["books_per_student"]["min"] == 30
