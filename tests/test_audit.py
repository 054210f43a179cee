"""Issue 3: the audit finds the seed's inconsistencies, each with provenance."""

from __future__ import annotations

import pytest

from helpers.indicators.audit import audit, findings_frame
from helpers.ingest.load import load_school_year
from tests.factories import make_sy


@pytest.fixture(scope="module")
def findings_2024():
    return audit(load_school_year("huichang", 2024))


@pytest.fixture(scope="module")
def findings_2023():
    return audit(load_school_year("huichang", 2023))


def by_rule(findings, rule):
    return [f for f in findings if f.rule == rule]


def test_student_count_conflict_pinned(findings_2024):
    f = next(
        f
        for f in by_rule(findings_2024, "conflicting_fact")
        if f.facts[0].name == "students_full_time"
    )
    assert f.severity == "warning"
    assert "3527（§1.1.1）" in f.message and "3088（§1.1.2" in f.message
    assert "报告统一采用 3088" in f.message
    # the rejected value is shown not to match its parts
    assert "1679 + 女生人数 1409 = 3088 ≠ 全日制在校生数 3527" in f.message
    assert [r.provenance.split("（")[0] for r in f.facts] == ["r2024 §1.1.1", "r2024 §1.1.2"]


def test_2023_primary_sector_rounding_slip_pinned(findings_2023):
    f = next(f for f in by_rule(findings_2023, "published_mismatch") if "第一产业" in f.message)
    assert "印为 13.67" in f.message and "复算为 13.64%" in f.message
    refs = {r.name: r for r in f.facts}
    assert refs["employed_primary"].value == "60 人"
    assert "published.csv 第 3 行" in refs["sector_share_primary"].provenance


def test_2023_shares_do_not_sum_to_100(findings_2023):
    (f,) = by_rule(findings_2023, "shares_sum")
    assert "100.04%" in f.message


def test_other_seed_inconsistencies_found_without_being_told(findings_2024):
    mismatched = {f.facts[0].name for f in by_rule(findings_2024, "published_mismatch")}
    assert {
        "student_teacher_ratio",
        "equipment_per_student",
        "books_per_student",
        "funding_excl_tuition_waiver",
    } <= mismatched
    conflicts = {f.facts[0].name for f in by_rule(findings_2024, "conflicting_fact")}
    assert conflicts == {"students_full_time", "articulation_colleges", "articulation_majors"}
    (den,) = by_rule(findings_2024, "implied_denominators")
    assert "约 3134 人" in den.message  # 1:15.44 × 203
    assert "约 3527 人" in den.message  # 4195.2 万 / 11894.66
    assert "约 3567 人" in den.message  # 713.475 万 / 2000
    assert "与 §1.1.2 的 3088 人一致" in den.message  # 生均拨款 6077.4
    assert any("专任教师占教职工比例" in f.message for f in by_rule(findings_2024, "implausible"))


def test_consistent_published_figures_raise_nothing(findings_2024):
    text = " ".join(f.message for f in by_rule(findings_2024, "published_mismatch"))
    for ok in (
        "“双师型”教师占专任教师比例",
        "就业率",
        "升学率",
        "财政拨款增幅",
        "生均财政拨款（不含",
    ):
        assert ok not in text


def test_reported_only_figures_are_info(findings_2024):
    info = by_rule(findings_2024, "not_recomputable")
    assert {f.facts[0].name for f in info} == {"practice_stations_per_student", "retention_rate"}
    assert all(f.severity == "info" for f in info)


def test_yoy_jump_uses_configurable_bound():
    sy = load_school_year("huichang", 2024)
    names = {f.facts[0].name for f in audit(sy) if f.rule == "yoy_jump"}
    assert "satisfaction_overall_pct" in names and "employment_rate" not in names
    tight = {f.facts[0].name for f in audit(sy, yoy_points=2) if f.rule == "yoy_jump"}
    assert "employment_rate" in tight  # +2.49 points
    loose = {f.facts[0].name for f in audit(sy, yoy_points=50, yoy_percent=500)}
    assert "satisfaction_overall_pct" not in loose


def test_fixing_the_data_clears_the_finding(raw_copy):
    pub = raw_copy / "huichang" / "2023" / "published.csv"
    pub.write_text(
        pub.read_text(encoding="utf-8").replace("13.67,13.67", "13.64,13.64"), encoding="utf-8"
    )
    findings = audit(load_school_year("huichang", 2023, data_dir=raw_copy))
    assert not by_rule(findings, "published_mismatch") and not by_rule(findings, "shares_sum")


def test_impossible_value_is_an_error():
    sy = make_sy({"graduates": 100, "employed_incl_further_study": 120})  # not validated
    errors = [f for f in audit(sy) if f.severity == "error"]
    assert errors and errors[0].rule == "out_of_bounds" and "就业率" in errors[0].message


def test_findings_frame_is_readable(findings_2024):
    df = findings_frame(findings_2024)
    assert list(df.columns) == ["severity", "rule", "year", "message", "facts"]
    assert (df["facts"].str.len() > 0).all()
    assert df["severity"].iloc[0] in {"error", "warning"}


# --------------------------------------------------------------------------- issue 10: the
# seed's remaining inconsistencies, found by general rules (parts that leave a rest, table
# titles naming a measure no column gives, repeated column headers)


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_named_parts_that_leave_a_rest_are_reported(findings_2024):
    # §1.2.3（2）: 升学 606, of which 贯通培养 253 + 职教高考 238 = 491 → 115 unexplained;
    # 本科 1 + 专科 605 = 606 is complete and raises nothing
    (f,) = by_rule(findings_2024, "parts_gap")
    assert f.severity == "warning"
    assert "升学人数为 606 人" in f.message
    assert "贯通培养升学人数 253 人、职教高考升学人数 238 人" in f.message
    assert "合计 491 人，比总数少 115 人（占升学人数的 18.98%）" in f.message
    assert "其余 115 人原文未作说明" in f.message
    assert [r.name for r in f.facts] == [
        "further_study",
        "further_study_through",
        "further_study_exam",
    ]
    assert "§1.2.3（2）" in f.facts[1].provenance


def test_parts_that_cover_the_whole_raise_no_gap(raw_copy):
    facts = raw_copy / "huichang" / "2024" / "facts.yaml"
    _edit(facts, "further_study_exam: {value: 238,", "further_study_exam: {value: 353,")
    findings = audit(load_school_year("huichang", 2024, data_dir=raw_copy))
    assert not by_rule(findings, "parts_gap")


def test_a_part_not_given_is_named_in_the_gap(raw_copy):
    facts = raw_copy / "huichang" / "2024" / "facts.yaml"
    _edit(facts, 'further_study_exam: {value: 238, source: "1.2.3（2）"}\n', "")
    (f,) = by_rule(audit(load_school_year("huichang", 2024, data_dir=raw_copy)), "parts_gap")
    assert "合计 253 人，比总数少 353 人" in f.message and "职教高考升学人数原文未给出" in f.message


def test_table_title_naming_a_measure_it_does_not_give(findings_2024):
    (f,) = by_rule(findings_2024, "title_measure_missing")
    assert f.severity == "warning"
    assert "原文表2（§1.2.3）的表题“就业人数、就业率、对口就业率”列出了“对口就业率”" in f.message
    assert "该表未给出对口就业率" in f.message
    assert "“就业率（%）”" in f.message  # the headers it does have are listed
    assert all("source_tables.csv 第" in r.provenance for r in f.facts)


def test_title_measures_all_given_raise_nothing(raw_copy):
    path = raw_copy / "huichang" / "2024" / "source_tables.csv"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("2,就业人数、就业率、对口就业率,6,,对口就业率（%）,1.2.3,\n")
    findings = audit(load_school_year("huichang", 2024, data_dir=raw_copy))
    assert not by_rule(findings, "title_measure_missing")


def test_title_measures_are_a_list_not_a_phrase():
    from helpers.ingest.source_tables import Column, SourceTable, missing_measures, title_measures

    assert title_measures("毕业生就业分布") == []  # one phrase: nothing to check
    assert title_measures("就业人数、就业率、对口就业率") == ["就业人数", "就业率", "对口就业率"]
    cols = (
        Column(1, "年度", "", 2),
        Column(2, "就业人数（人）", "", 3),
        Column(3, "就业率", "", 4),
    )
    # the last item may join two measures with 和; "就业率" does not stand in for "对口就业率"
    table = SourceTable(9, "就业人数、就业率和对口就业率", "1", cols)
    assert missing_measures(table) == ["对口就业率"]
    whole = SourceTable(
        9, "就业人数、学生和家长满意度", "1", (*cols, Column(4, "学生和家长满意度", "", 5))
    )
    assert missing_measures(whole) == []


def test_repeated_column_headers_are_reported(findings_2024):
    # 表1 prints 课堂育人满意度 over columns 3, 4 and 5; 表3's 就业人数（人） under three
    # different spanning headers (第一产业 …) is not a repetition
    (f,) = by_rule(findings_2024, "repeated_header")
    assert f.severity == "warning"
    assert (
        "原文表1“学在校满意度体验”（§1.2.2）第 3、4、5 列的表头都印为“课堂育人满意度”（共 3 列）"
        in f.message
    )
    assert [r.value for r in f.facts] == ["课堂育人满意度"] * 3
    assert [r.label for r in f.facts] == [f"原文表1第 {i} 列表头" for i in (3, 4, 5)]


def test_distinct_headers_raise_nothing(raw_copy):
    path = raw_copy / "huichang" / "2024" / "source_tables.csv"
    _edit(path, "1,学在校满意度体验,4,,课堂育人满意度", "1,学在校满意度体验,4,,课外育人满意度")
    _edit(
        path, "1,学在校满意度体验,5,,课堂育人满意度", "1,学在校满意度体验,5,,思想政治课教学满意度"
    )
    findings = audit(load_school_year("huichang", 2024, data_dir=raw_copy))
    assert not by_rule(findings, "repeated_header")


def test_source_table_rows_must_agree_on_title(raw_copy):
    path = raw_copy / "huichang" / "2024" / "source_tables.csv"
    _edit(path, "4,近 3 年财政拨款情况,2,", "4,近三年财政拨款,2,")
    (f,) = by_rule(
        audit(load_school_year("huichang", 2024, data_dir=raw_copy)), "source_table_inconsistent"
    )
    assert f.severity == "error"
    assert (
        "source_tables.csv 第 22 行：表4的表题为“近三年财政拨款”，与该表第 21 行不一致" in f.message
    )


def test_source_tables_are_validated_at_load(raw_copy):
    from helpers.errors import DataValidationError

    path = raw_copy / "huichang" / "2024" / "source_tables.csv"
    _edit(path, "2,就业人数、就业率、对口就业率,5,", "2,就业人数、就业率、对口就业率,第五,")
    with pytest.raises(DataValidationError) as e:
        load_school_year("huichang", 2024, data_dir=raw_copy)
    text = str(e.value)
    assert "source_tables.csv" in text and "position" in text and "第五" in text


def test_source_tables_match_the_seed():
    """Every title and header of source_tables.csv is printed in the seed (line breaks of the
    PDF text joined), under its table number."""
    import re

    from helpers.ingest.source_tables import read
    from tests.factories import SEED

    if not SEED.exists():
        pytest.skip("the seed report is in ../shared (present in CI and dev)")

    def squash(text: str) -> str:
        return re.sub(r"\s+", "", text)

    seed = squash(SEED.read_text(encoding="utf-8"))
    tables = read(load_school_year("huichang", 2024).table("source_tables"))
    assert [t.number for t in tables] == [1, 2, 3, 4]
    for t in tables:
        assert f"表{t.number}{squash(t.title)}" in seed, t.title
        for c in t.columns:
            assert squash(c.header) in seed and c.group in seed, c
    assert [len(t.columns) for t in tables] == [7, 5, 7, 2]


def test_every_audit_rule_has_a_chinese_label():
    import inspect
    import re

    import helpers.indicators.audit
    from helpers.report.review import GROUPS, YOY

    rules = set(
        re.findall(
            r'Finding\(\s*"(?:error|warning|info)",\s*"(\w+)"',
            inspect.getsource(helpers.indicators.audit),
        )
    )
    assert {"parts_gap", "title_measure_missing", "repeated_header"} <= rules
    # every rule has its place (and its Chinese title) in the reviewer's 数据核验
    grouped = {r for g in GROUPS for r in g.rules} | {YOY}
    assert rules <= grouped, rules - grouped


def test_new_findings_reach_the_report_appendix():
    from helpers.report.api import open_report

    html = open_report("huichang", 2024).section("数据核验").html
    for label in ("分项与合计对不上", "原报告表格本身的问题"):
        assert label in html
    assert "比总数少 115 人" in html and "对口就业率" in html


def test_new_findings_show_in_validate(raw_copy):
    from typer.testing import CliRunner

    from helpers.cli import app

    result = CliRunner().invoke(app, ["validate", "--data-dir", str(raw_copy), "--year", "2024"])
    assert result.exit_code == 0, result.output
    for rule in ("parts_gap", "title_measure_missing", "repeated_header"):
        assert rule in result.output
    assert "115" in result.output and "对口就业率" in result.output
