"""Issue 12 (w-lang): the reviewer's page reads as a document — sources by title and section,
one number format, a 数据核验 written for a reviewer, and partial years that read well."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import fmt
from helpers.indicators import evaluate
from helpers.indicators.audit import report_findings
from helpers.ingest.load import load_school_year
from helpers.report import review, tables, textgen
from helpers.report.api import open_report
from tests.factories import (
    BUNDLED,
    placeholders_outside_tables,
    reviewer_text_problems,
    sections_saying_only_missing,
    visible,
)


@pytest.fixture
def rep2024(raw_copy):
    return open_report(BUNDLED, 2024, raw_copy)


@pytest.fixture
def rep2023(raw_copy):
    return open_report(BUNDLED, 2023, raw_copy)


# ----------------------------------------------------------------------------- the checker


def test_checker_finds_developer_words_in_text_and_attributes():
    bad = (
        '<p title="r2024 §1.1.2（data/raw/huichang/2024/facts.yaml:11）">x</p>'
        "<p>依据：数据中标注 use: true 的取值</p><td>published.csv 第 2 行</td>"
        '<span data-derivation="awards 表中level 为 国家级的count 之和">2</span>'
        "<p>[推断] 见 indicators.md §3.4；yoy_jump；值为 nan；None</p>"
        "<footer>生成于 2026-12-02T03:16:01+00:00 · git 1aacb3ae</footer>"
    )
    found = "\n".join(reviewer_text_problems(bad))
    for word in (
        "r2024",
        "facts.yaml",
        "use: true",
        "published.csv",
        "count 之和",
        "[推断]",
        "indicators.md",
        "yoy_jump",
        "nan",
        "None",
        "ISO timestamp",
        "git",
    ):
        assert word in found, word
    # attributes are read too: a tooltip alone is caught
    assert reviewer_text_problems('<span title="majors.csv 第 2 行">18 个</span>')
    clean = '<p title="来源 《2024年度质量报告》第1.1.2节">生师比 15.21:1（比值）</p>'
    assert reviewer_text_problems(clean) == []


@pytest.mark.parametrize("section", ["1.1", "1.2", "1.3", "6.5", "数据核验", "指标口径与数据来源"])
def test_sections_and_their_tooltips_speak_to_a_reviewer(rep2024, section):
    html = rep2024.section(section).html
    assert reviewer_text_problems(html) == []
    assert "《2024年度质量报告》第1." in html or "《2024年度质量报告》第6." in html


def test_derivation_says_document_section_formula_in_words_and_inputs_with_units(raw_copy):
    sy = load_school_year(BUNDLED, 2024, raw_copy)
    # 2023's awards.csv rows 2–3 (§1.2.5): 1 二等奖 + 1 三等奖 at 国家级
    text = evaluate.get(sy.previous, "awards_national").derivation()
    assert text == (
        "国家级技能大赛获奖数 = 技能大赛获奖中级别为国家级的获奖数之和 = 2 项。"
        "其中技能大赛获奖 2 项（《2024年度质量报告》第1.2.5节）。"
    )
    # a fact stated twice: the other value and the analyst's reason, in words
    fact = evaluate.fact_value(sy, "articulation_colleges").derivation()
    assert "原报告另载 7 所（第1.1.1节），未采用（第1.3.1节逐一列出六所院校名称，故采用）" in fact
    assert "use: true" not in fact and "facts.yaml" not in fact
    # developer outputs keep file and line
    assert "facts.yaml:" in evaluate.fact_value(sy, "articulation_colleges").inputs[0].provenance


def test_transcription_notes_are_not_under_the_appendix_tables(rep2024):
    text = visible(rep2024.appendix_tables().html)
    assert "未查到" not in text and "未经官方模板核实" not in text
    notes = Path(evaluate.__file__).parents[3] / "NOTES.md"
    assert "计分卡" in notes.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- number formats


def test_number_formats_from_the_seed(raw_copy):
    sy = load_school_year(BUNDLED, 2024, raw_copy)
    ratio = evaluate.get(sy, "student_teacher_ratio")
    # 全日制在校生 3088 (§1.1.2) / 专任教师 203 (§1.1.1) = 15.2118…
    assert [i.value for i in ratio.inputs] == [3088, 203]
    assert ratio.text == "15.21:1"
    # the source: “春秋两季合计 713.475 万元” (7134750 元)
    assert evaluate.fact_value(sy, "tuition_waiver_yuan").text == "713.475 万元"
    assert evaluate.fact_value(sy, "equipment_value_yuan").text == "4195.2 万元"
    # decimals only where they carry information
    assert evaluate.fact_value(sy, "public_course_national_textbook_pct").text == "100%"
    assert evaluate.fact_value(sy, "tuition_waiver_standard_yuan").text == "2000 元/生·年"
    assert evaluate.get(sy, "teacher_staff_share").text == "100%"  # 203 / 203
    assert evaluate.fact_value(sy, "satisfaction_item4_pct").text == "97.60%"
    # 25901641.9 − 7134750 = 18766891.9: the decimal carries information, no separators
    assert evaluate.get(sy, "funding_excl_tuition_waiver").text == "18766891.90 元"
    cell = tables.cell(evaluate.fact_value(sy, "fiscal_appropriation_yuan"))
    assert ">25901641.90<" in cell and "," not in visible(cell)
    assert fmt.number(100, 2) == "100" and fmt.number(0.145, 2) == "0.15"
    assert fmt.ratio(15.2118, 2) == "15.21:1" and fmt.ratio_teacher_first(15.2118) == "1:15.21"


def test_one_ratio_format_per_sentence(rep2024):
    text = visible(rep2024.section("1.1.3").html)
    assert "生师比不高于 20:1——本校 15.21:1" in text
    assert "本校 1:15.21" not in text
    # the school's prose says 师生比 and keeps its order, its restatement too
    assert (
        "师生比 1:15.21（原报告印为“师生比 1:15.44”；按全日制在校生 3088 人复算为 1:15.21）" in text
    )


def test_figures_meet_chinese_text_with_one_space(rep2024):
    text = visible(rep2024.section("1.1.1").html)
    assert "与 6 所" in text and "共 9 个" in text and "总价值 4195.2 万元" in text
    assert "与6" not in text and "总价值4195" not in text
    assert textgen.autospace('与<span class="nb-num" x="1">6 所</span>') == (
        '与 <span class="nb-num" x="1">6 所</span>'
    )


def test_counts_read_with_their_measure_words(rep2024):
    assert "聘请了 51 名有实践经验的" in visible(rep2024.section("1.3.6").html)
    assert "由 10 名骨干教师" in visible(rep2024.case(4).html)


# ----------------------------------------------------------------------------- 数据核验


def test_audit_summary_counts_match_the_findings(raw_copy, rep2024):
    findings = report_findings(load_school_year(BUNDLED, 2024, raw_copy))
    n = review.summary_counts(findings)
    by_rule = lambda *rules: sum(f.rule in rules for f in findings)  # noqa: E731
    # 生师比, 生均设备值, 生均纸质图书, 财政拨款（不含免学费补助）, 2023 第一产业占比
    assert n["mismatch"] == by_rule("published_mismatch") == 5
    # 全日制在校生 3527/3088, 合作院校 7/6, 衔接专业 11/9, and the implied denominators
    assert n["conflict"] == by_rule(
        "conflicting_fact", "published_conflict", "implied_denominators"
    )
    assert n["conflict"] == 4
    assert n["yoy"] == by_rule("yoy_jump") > 0
    assert sum(n.values()) == len(findings)
    html = rep2024.section("数据核验").html
    text = visible(html)
    assert text.startswith("数据核验审核参考：")
    assert "不符 5 处" in text and "前后不一 4 处" in text and "建议首先核对：生师比" in text
    # the groups in order of importance, the jumps last in one compact table
    order = [text.index(g) for g in ("复算结果不符（5 处）", "同一数据前后不一（4 处）")]
    assert order == sorted(order) and text.index("年度变化较大的指标（") > order[-1]
    assert html.count("请核实") <= 2  # not one 请核实 per jump
    assert 'class="nb-col-name"' in html


# ----------------------------------------------------------------------------- partial years


def test_partial_year_note_says_what_is_not_covered_and_where_figures_come_from(rep2023, rep2024):
    note = visible(textgen.coverage_note(rep2023))
    assert "《2024年度质量报告》中与上一年度对比的数据" in note
    for chapter in ("2. 服务贡献", "3. 文化传承", "4. 国际合作", "5. 产教融合", "7. 面临挑战"):
        assert chapter in note
    assert "1. 人才培养" not in note and "6. 发展保障" not in note
    assert textgen.coverage_note(rep2024) == ""


def test_partial_year_sentences_only_with_their_figures(rep2023):
    text = visible(rep2023.section("1.2.2").html)
    assert "共调查" not in text and "未填报" not in text  # 2023 has no survey count
    assert "在校生满意度 73.69%" in text


def test_partial_year_checkers_can_fail():
    page = (
        "<nav><p>未填报</p></nav><h2>A</h2><p>本年度未填报。</p><h2>B</h2><p>有 3 人，暂无</p>"
        "<table><tr><td>未填报</td><td>—</td></tr></table><p>2022—2023 年；——本校 — 项</p>"
        "<h2>C</h2><h3>C1</h3><p>x</p><h2>D</h2>"
    )
    assert sections_saying_only_missing(page) == ["A", "D"]
    found = placeholders_outside_tables(page)
    assert len(found) == 3 and all("年；——本校 —" not in f or "—" in f for f in found)


# ----------------------------------------------------------------------------- built reports


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("year", [2024, 2023])
def test_built_report_has_no_developer_words(built_reports, year):
    html = (built_reports / str(year) / "report.html").read_text(encoding="utf-8")
    assert reviewer_text_problems(html) == []
    assert "（北京时间）" in html and "所用数据版本为" in html


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_built_2023_report_reads_as_a_short_summary(built_reports):
    html = (built_reports / "2023" / "report.html").read_text(encoding="utf-8")
    found = placeholders_outside_tables(html)
    assert len(found) <= 2, found
    assert sections_saying_only_missing(html) == []
    for gone in ("2. 服务贡献", "7. 面临挑战"):  # neither in the body nor in the contents
        assert f">{gone}</a>" not in html and f">{gone}</h1>" not in html
    assert "说明：2023 年度只有部分数据" in html
