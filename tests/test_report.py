"""Issue 4: rendering details checked without a kernel (fast)."""

from __future__ import annotations

import re

from helpers.report.api import open_report


def test_case_text_is_escaped(raw_copy):
    path = raw_copy / "huichang" / "2024" / "text" / "case01.md"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n<script>alert(1)</script> & <b>x</b>\n",
        encoding="utf-8",
    )
    html = open_report("huichang", 2024, raw_copy).section("1.2.1").html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html


def test_numbering_runs_across_the_report():
    rep = open_report("huichang", 2024)
    figs = sorted(n for (kind, _), n in rep.numbers.items() if kind == "figure")
    tabs = sorted(n for (kind, _), n in rep.numbers.items() if kind == "table")
    assert figs == list(range(1, len(figs) + 1)) and len(figs) == 6
    assert tabs == list(range(1, len(tabs) + 1)) and len(tabs) == 5
    html = rep.section("1.1").html + rep.section("1.2").html
    assert re.findall(r"<figcaption>图(\d+)", html) == ["1", "2", "3", "4", "5"]


def test_partial_year_numbering_skips_missing_figures():
    rep = open_report("huichang", 2021)
    # 2021 has only the published student-teacher ratio: the key-indicator table, no chart
    assert rep.numbers == {("table", "key_indicators"): 1}
    html = rep.section("1.1").html
    # sections without data are left out (no empty headings, no 本年度未填报 sentence)
    assert "1.1.2 学生情况" not in html and "未填报" not in html and "图" not in html
    assert "1.1.3 教师队伍" in html  # it has the ratio


def test_figures_carry_derivations():
    html = open_report("huichang", 2024).section("1.1.3").html
    m = re.search(r'data-derivation="([^"]*)">51.72%<', html)
    assert m and "105" in m.group(1) and "203" in m.group(1)


def test_school_specific_values_use_placeholders_and_one_value():
    html = open_report("huichang", 2024).section("1.1.1").html
    visible = re.sub(r'(title|data-derivation)="[^"]*"', "", html)
    visible = re.sub(r'<span class="nb-disclosure">.*?</span>', "", visible)
    # 1.1.1 printed 3527 and 七所/11 in the source; the report uses one value everywhere,
    # and says beside it what the source printed there (tests/test_numbers.py)
    assert "3088 人" in visible and "3527" not in visible
    assert "6 所" in visible and "9 个" in visible
    assert "原报告印为 3527 人" in html


def test_chart_note_names_the_bars_a_year_lacks(tmp_path, make_school):
    """Figure 1 draws each year with any data; a year lacking one series says so by name
    (the bundled 2023 has 毕业 but no 招生), instead of a generic "missing years" note."""
    import yaml

    from helpers.report.figures import FIGURES

    raw = tmp_path / "raw"
    both = {"students_full_time": 1000, "enrollment": 400, "graduates": 300}
    make_school(raw, "gaps", years=(2022, 2023, 2024), facts=both)
    path = raw / "gaps" / "2023" / "facts.yaml"
    facts = yaml.safe_load(path.read_text(encoding="utf-8"))
    del facts["enrollment"]
    path.write_text(yaml.safe_dump(facts, allow_unicode=True), encoding="utf-8")

    fig = FIGURES["enrollment_graduates"]
    rep = open_report("gaps", 2024, raw)
    assert sorted(set(rep.figure_data("enrollment_graduates")["年度"])) == ["2022", "2023", "2024"]
    assert fig.note(rep) == "2023 年招生人数缺少数据，未绘出。"
    assert fig.note(open_report("gaps", 2022, raw)) == ""  # both series: no note
    html = rep.section("1.1").html
    assert "2023 年招生人数缺少数据，未绘出。" in html and "缺少数据的年度不绘出" not in html


def test_gaps_note_lists_each_year_and_series():
    import pandas as pd

    from helpers.report.figures import gaps_note

    df = pd.DataFrame(
        {"年度": ["2022", "2023", "2023", "2024"], "项目": ["甲", "甲", "乙", "乙"], "v": 1}
    )
    labels = ("甲", "乙", "丙")
    assert gaps_note(df, "年度", "项目", labels) == (
        "2022 年乙、丙；2023 年丙；2024 年甲、丙缺少数据，未绘出。"
    )
    assert gaps_note(df.iloc[0:0], "年度", "项目", labels) == ""
