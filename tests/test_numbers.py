"""Issue 10: every number a reviewer reads is right, and says so where it differs from what the
school printed (disclosure in place, like-for-like comparisons, zero vs missing vs 不适用,
chained years). Rendered in-process with helpers.report.api (no kernel), from fixture copies."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import fmt
from helpers.indicators import audit
from helpers.indicators import evaluate as indicators
from helpers.indicators.compare import change
from helpers.ingest.load import load_school_year
from helpers.report.api import open_report
from tests.factories import set_facts, visible


# ------------------------------------------------------------ finding 2: disclosure in place
def test_corrected_figures_are_disclosed_beside_the_number():
    rep = open_report("huichang", 2024)
    text = visible(rep.section("1.1"))
    # 1:15.44 printed, 3088 / 203 = 15.2118 recomputed
    # the school's prose calls it 师生比: the figure and its restatement read 1:15.21 there
    assert "1:15.21（原报告印为“师生比 1:15.44”；按全日制在校生 3088 人复算为 1:15.21）" in text
    # 41952000 / 3088 = 13585.49; the source printed 11894.66
    assert "13585.49 元/生（原报告印为 11894.66 元/生；" in text
    # 128330 / 3088 = 41.56; the source printed 36
    assert "41.56 册/生（原报告印为 36册/生；" in text
    # 1.1.1 names 七所 / 11 个专业 and 3527 students; the report uses §1.3.1 and §1.1.2
    assert "6 所（原报告印为 7 所；本报告采用第1.3.1节的取值）" in text
    assert "9 个（原报告印为 11 个；本报告采用第1.3.1节的取值）" in text
    assert "3088 人（原报告印为 3527 人；本报告采用第1.1.2节2023-2024学年的取值）" in text
    funding = visible(rep.section("6.5.2"))
    # 25901641.9 − 7134750 = 18766891.90; printed 18766891.94
    assert "18766891.90 元（原报告印为 18766891.94 元；" in funding


def test_a_printed_text_with_its_own_words_is_quoted_in_text_and_audit_alike():
    """ "原报告印为 师生比 1:15.44" set two Chinese words apart with a space, while the audit
    quoted the same text; both now come from fmt.printed_as."""
    assert fmt.printed_as("师生比 1:15.44") == "印为“师生比 1:15.44”"
    assert fmt.printed_as(["99.85%", "99.85"]) == "印为 99.85%、99.85"
    assert fmt.printed_as("36册/生") == "印为 36册/生"
    assert fmt.printed_as(["1:15", "师生比 1:15.44"]) == "印为 1:15、“师生比 1:15.44”"
    rep = open_report("huichang", 2024)
    text = visible(rep.section("1.1"))
    assert "印为 师生比" not in text and "原报告印为“师生比 1:15.44”" in text
    ratio = next(f for f in audit.report_findings(rep.sy) if "师生比 1:15.44" in f.message)
    assert "印为“师生比 1:15.44”" in ratio.message


def test_sections_where_the_school_printed_the_same_value_say_nothing():
    # §1.3.1 itself names six colleges and nine majors: nothing to disclose there
    text = visible(open_report("huichang", 2024).section("1.3.1"))
    assert "原报告印为" not in text


def test_corrected_cell_in_a_table_has_a_numbered_note():
    html = str(open_report("huichang", 2024).section("1.2.3"))
    table = re.search(r"表\d+ 毕业生就业产业分布.*?</figure>", html, re.S).group(0)
    text = visible(table)
    # 2023: 60 / (887 − 447) = 13.636… → 13.64; the source's 表3 printed 13.67
    assert "13.64①" in text
    assert "① 2023 年第一产业就业占直接就业比例：原报告印为 13.67；" in text
    assert text.count("①") == 2  # one mark in the cell, one in the note


def test_published_policy_prints_the_schools_figures_flagged():
    rep = open_report("huichang", 2024, figures="published")
    text = visible(rep.section("1.1.3"))
    assert "1:15.44（学校填报值；按全日制在校生 3088 人复算为 1:15.21）" in text
    table = visible(rep.section("年度主要指标"))
    assert "15.44:1" in table and "学校填报值" in table


def test_unknown_policy_is_refused():
    import pytest

    with pytest.raises(ValueError, match="figures"):
        open_report("huichang", 2024, figures="typed")


# --------------------------------------------------- finding 3: like-for-like year over year
def test_recomputed_figure_is_not_compared_with_a_printed_one(raw_copy):
    # remove the printed 2023 figure's counterpart for 2024: 2024 recomputed, 2023 printed only
    pub = raw_copy / "huichang" / "2024" / "published.csv"
    lines = pub.read_text(encoding="utf-8").splitlines()
    pub.write_text(
        "\n".join(ln for ln in lines if not ln.startswith("equipment_per_student")) + "\n",
        encoding="utf-8",
    )
    sy = load_school_year("huichang", 2024, raw_copy)
    c = change(sy, "equipment_per_student")
    assert c is not None and c.delta is None and c.phrase() == "口径不同，不作比较"
    iv = indicators.get(sy, "equipment_per_student_change")
    assert iv.not_applicable and iv.value is None
    text = visible(open_report("huichang", 2024, raw_copy).section("1.1.4"))
    # the school's sentence (§1.1.4 prose) states the difference: it says it cannot be made
    assert "多出 不适用（口径不同，不作比较" in text
    assert "4307.30" not in text  # 13585.49 − 9278.19 mixes two derivations


def test_printed_figures_are_compared_as_printed_and_say_so():
    sy = load_school_year("huichang", 2024)
    c = change(sy, "equipment_per_student")
    # both as printed: 11894.66 − 9278.19 = 2616.47, as the source says (多出 2616.47)
    assert round(c.delta, 2) == 2616.47 and c.basis == "按两年原报告印出的数值比较"
    text = visible(open_report("huichang", 2024).section("1.1.4"))
    assert "多出 2616.47 元/生（按两年原报告印出的数值比较）" in text  # the school's sentence
    assert "4307.30" not in text
    # the school's own difference is consistent with its printed figures: no finding
    assert not [
        f for f in audit.audit(sy) if f.rule == "published_mismatch" and "较上年变化" in f.message
    ]


# --------------------------------------------- finding 4: zero, missing and 不适用 are three
def _no_graduates(year_dir: Path) -> None:
    set_facts(
        year_dir,
        graduates=0,
        employed_incl_further_study=0,
        further_study=0,
        further_study_through=0,
        further_study_exam=0,
        further_study_bachelor=0,
        further_study_college=0,
        employed_primary=0,
        employed_secondary=0,
        employed_tertiary=0,
    )


def test_zero_denominator_is_not_applicable_not_a_printed_fallback(year2024, raw_copy):
    _no_graduates(year2024)
    sy = load_school_year("huichang", 2024, raw_copy)
    rate = indicators.get(sy, "employment_rate")
    assert rate.status == indicators.NOT_APPLICABLE and rate.value is None
    assert rate.reason == "毕业生数为 0"
    assert not rate.missing  # not "未填报"
    assert "原始数据未提供" not in rate.derivation() and "数据中没有" not in rate.derivation()
    share = indicators.get(sy, "sector_share_primary")
    assert share.not_applicable and share.reason == "直接就业人数为 0"
    text = visible(open_report("huichang", 2024, raw_copy).section("1.2.3"))
    assert "99.85" not in text.split("原报告印为")[0]  # never shown as the value
    assert "平均就业率为 不适用（毕业生数为 0；原报告印为 99.85%、99.85）" in text
    assert "nan" not in text.lower() and "inf" not in text.lower()
    # the audit says the printed rate cannot apply
    msgs = [f.message for f in audit.audit(sy) if f.rule == "published_mismatch"]
    assert any("就业率" in m and "不适用" in m for m in msgs)


def test_absent_counts_fall_back_to_the_printed_figure_and_say_so(year2024, raw_copy):
    facts = year2024 / "facts.yaml"
    facts.write_text(
        re.sub(r"(?m)^graduates:.*\n", "", facts.read_text(encoding="utf-8")), encoding="utf-8"
    )
    rate = indicators.get(load_school_year("huichang", 2024, raw_copy), "employment_rate")
    assert rate.status == indicators.REPORTED and rate.value == 99.85
    assert "数据中没有毕业生数" in rate.derivation()


def test_zero_numerator_is_a_real_zero(year2024, raw_copy):
    set_facts(year2024, employed_primary=0, employed_secondary=158)
    share = indicators.get(load_school_year("huichang", 2024, raw_copy), "sector_share_primary")
    assert share.status == indicators.COMPUTED and share.value == 0.0 and share.text == "0%"


def test_a_table_keeps_the_decimals_of_a_whole_figure_and_the_text_drops_them(year2024, raw_copy):
    """Table 4's share column read 0 beside 21.58 and 78.42; a table cell keeps the
    indicator's decimals (0.00), while the sentence still says 0%."""
    set_facts(year2024, employed_primary=0, employed_secondary=158)
    html = str(open_report("huichang", 2024, raw_copy).section("1.2.3"))
    table = next(t for t in html.split("</table>") if "毕业生就业产业分布" in t)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in table.split("<tr>")]
    cells = next([visible(c) for c in r] for r in rows if r and visible(r[0]) == "2024")
    # 0 primary-sector graduates of 732 directly employed: 0 / 732 × 100 = 0.00;
    # 158 / 732 × 100 = 21.58; 574 / 732 × 100 = 78.42
    assert [re.sub(r"[①-⑳]", "", c) for c in cells[-6:]] == [
        "0",
        "0.00",
        "158",
        "21.58",
        "574",
        "78.42",
    ]
    assert "占直接就业人数的 0%" in visible(html)
    assert fmt.number(0.0, 2) == "0" and fmt.number(0.0, 2, trim=False) == "0.00"
    assert fmt.ratio(20.0, 2, trim=False) == "20.00:1" and fmt.ratio(20.0) == "20:1"


def test_the_appendix_value_column_keeps_decimals_as_a_table_does():
    """指标口径's 数值 column printed "100%" between "14.29%" and "25.12%"; it is a column of
    figures, so a whole one keeps its decimals there, while the sentences keep "100%"."""
    html = str(open_report("huichang", 2024).derivations())
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in html.split("<tr>")]
    values = {visible(r[0]): visible(r[1]) for r in rows if len(r) > 1}
    # 203 full-time teachers of 203 staff (§1.1.3): 203 ÷ 203 × 100 = 100.00
    assert values["专任教师占教职工比例"] == "100.00%"
    # 29 of 203 with a senior post: 29 ÷ 203 × 100 = 14.29 (unchanged)
    assert values["专任教师高级职称比例"] == "14.29%"
    sy = load_school_year("huichang", 2024)
    assert indicators.get(sy, "teacher_staff_share").text == "100%"


def test_a_year_without_graduates_builds(year2024, raw_copy):
    _no_graduates(year2024)
    rep = open_report("huichang", 2024, raw_copy)
    for number in ("年度主要指标", "1.2", "A"):
        html = str(rep.section(number))
        assert "nan" not in visible(html).lower()


# ---------------------------------------------------------------- finding 8: chained years
def test_previous_year_is_loaded_with_its_own_previous_year():
    sy = load_school_year("huichang", 2024)
    assert sy.previous.year == 2023 and sy.previous.previous.year == 2022
    growth = indicators.get(sy.previous, "fiscal_appropriation_growth")
    # (18364936.1 − 31180406.47) / 31180406.47 × 100 = −41.10
    assert growth.text == "-41.10%"


def test_2024_funding_table_shows_the_2023_growth():
    text = visible(open_report("huichang", 2024).section("6.5.1"))
    row2023 = re.search(r"2023\s*18364936.10\s*(\S+?)2024", text)  # no thousands separators
    assert row2023 and row2023.group(1) == "-41.10"


def test_published_policy_prints_the_printed_figure_in_the_placeholders_own_format(raw_copy):
    # §6.5.2 writes {{ funding_per_student | num }} 元: the printed figure keeps that format
    pub = raw_copy / "huichang" / "2024" / "published.csv"
    pub.write_text(
        pub.read_text(encoding="utf-8").replace(
            "funding_per_student,6077.4,6077.4 元", "funding_per_student,6000.0,6000.0 元"
        ),
        encoding="utf-8",
    )
    text = visible(open_report("huichang", 2024, raw_copy, figures="published").section("6.5.2"))
    # 6000.0 printed at one decimal: the placeholder's format drops the zero (6000)
    assert "6000（学校填报值；按全日制在校生 3088 人复算为 6077.36 元/生） 元" in text
    text = visible(open_report("huichang", 2024, raw_copy).section("6.5.2"))
    assert "6077.36（原报告印为 6000.0 元；按全日制在校生 3088 人复算为 6077.36 元/生） 元" in text
