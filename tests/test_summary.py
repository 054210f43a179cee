"""Issue 14: the regional summary's numbers (helpers.summary) against numbers recomputed here
by hand from the generated raw files, and its tables as a reader sees them."""

from __future__ import annotations

import re
import statistics

import pandas as pd
import pytest

from helpers import fmt
from helpers.specs.registry import registry
from helpers.summary import stats
from helpers.summary.api import Summary, number, open_summary
from helpers.summary.collect import collect, values_frame
from tests.factories import raw_facts, visible

YEAR = 2024


def by_hand(raw, schools):
    """Per school, the figures recomputed from facts.yaml (None when a count is absent)."""
    out = {}
    for s in schools:
        f = raw_facts(raw, s, YEAR)
        n = f["students_full_time"]
        out[s] = {
            "students_full_time": n,
            "fulltime_teachers": f["fulltime_teachers"],
            "student_teacher_ratio": n / f["fulltime_teachers"],
            "books_per_student": f["books_print"] / n if "books_print" in f else None,
            "equipment_per_student": f["equipment_value_yuan"] / n
            if "equipment_value_yuan" in f
            else None,
            "employment_rate": f["employed_incl_further_study"] / f["graduates"] * 100,
        }
    return out


def schools_of(raw):
    return sorted(p.name for p in raw.iterdir() if (p / "school.yaml").is_file())


def test_standard_counts_medians_and_missing_match_a_hand_count(demo_region):
    schools = schools_of(demo_region)
    hand = by_hand(demo_region, schools)
    data = collect(YEAR, None, demo_region, audit=False)
    assert list(data.schools["school_id"]) == schools

    standards = list(registry().standards)
    counts = stats.standards_counts(stats.standards_status(data.values, standards), standards)
    rules = {  # the national standards, as specs/thresholds.yaml states them
        "student_teacher_ratio": lambda v: v <= 20,
        "students_full_time": lambda v: v >= 1200,
        "fulltime_teachers": lambda v: v >= 60,
        "books_per_student": lambda v: v >= 30,
        "equipment_per_student": lambda v: v >= 2500,
    }
    for iid, ok in rules.items():
        values = [h[iid] for h in hand.values()]
        row = counts[counts["indicator"] == iid].iloc[0]
        reported = [v for v in values if v is not None]
        assert row["met"] == sum(ok(v) for v in reported), iid
        assert row["not_met"] == sum(not ok(v) for v in reported), iid
        assert row["missing"] == len(values) - len(reported), iid
    # the generator leaves one school without printed books: missing, not 0
    books = [h["books_per_student"] for h in hand.values()]
    assert books.count(None) >= 1

    dist = stats.distribution(data.values, [*rules, "employment_rate"]).set_index("indicator")
    for iid in [*rules, "employment_rate"]:
        reported = [h[iid] for h in hand.values() if h[iid] is not None]
        assert dist.loc[iid, "median"] == pytest.approx(statistics.median(reported)), iid
        assert dist.loc[iid, "missing"] == len(schools) - len(reported)
        assert dist.loc[iid, "min"] == pytest.approx(min(reported))
    # a missing figure is not a 0: the median over all schools with 0 would differ
    with_zero = statistics.median([b or 0.0 for b in books])
    assert dist.loc["books_per_student", "median"] != pytest.approx(with_zero)

    totals = stats.totals(data.values, ["students_full_time", "books_print"]).set_index("indicator")
    assert totals.loc["students_full_time", "total"] == sum(
        h["students_full_time"] for h in hand.values()
    )
    assert totals.loc["books_print", "missing"] == books.count(None)
    pooled = stats.pooled(data.values, registry_pooled()).set_index("indicator")
    students = sum(h["students_full_time"] for h in hand.values())
    teachers = sum(h["fulltime_teachers"] for h in hand.values())
    assert pooled.loc["student_teacher_ratio", "value"] == pytest.approx(students / teachers)


def registry_pooled():
    from helpers.summary.keys import POOLED

    return POOLED


def test_met_counts_per_school_leave_missing_out(demo_region):
    schools = schools_of(demo_region)
    hand = by_hand(demo_region, schools)
    data = collect(YEAR, None, demo_region, audit=False)
    standards = [
        {"indicator": "student_teacher_ratio", "max": 20},
        {"indicator": "books_per_student", "min": 30},
    ]
    counts = stats.met_counts(stats.standards_status(data.values, standards))
    for sid, h in hand.items():
        ok = [h["student_teacher_ratio"] <= 20]
        if h["books_per_student"] is not None:
            ok.append(h["books_per_student"] >= 30)
        assert counts.loc[sid, "met"] == sum(ok) and counts.loc[sid, "reported"] == len(ok)


def test_outliers_are_outside_one_and_a_half_iqr():
    rows = [
        {"school_id": f"s{i}", "school_name": f"学校{i}", "indicator": "x", "value": v}
        for i, v in enumerate([10.0, 11.0, 12.0, 13.0, 40.0, None])
    ]
    values = values_frame(rows)
    out = stats.outliers(values, ["x"])
    # reported: 10 11 12 13 40 → Q1 11, Q3 13 (linear), IQR 2, fences 8 and 16
    assert list(out["school_id"]) == ["s4"]
    assert out.iloc[0]["side"] == "high"
    assert (out.iloc[0]["low"], out.iloc[0]["high"]) == (8.0, 16.0)
    assert stats.outliers(values, ["x"], min_schools=6).empty  # only 5 report it


def test_every_key_indicator_has_a_chart_and_the_notebook_draws_every_chart():
    import json

    from helpers.summary import keys
    from tests.factories import ROOT

    charted = [i for ids in keys.CHART_GROUPS.values() for i in ids]
    assert sorted(charted) == sorted(keys.KEY_INDICATORS)
    nb = json.loads((ROOT / "notebooks" / "summary" / "01_region.ipynb").read_text("utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert [f's.charts("{g}")' in sources for g in keys.CHART_GROUPS] == [True] * len(
        keys.CHART_GROUPS
    )


def test_meets_keeps_missing_apart():
    std = {"indicator": "student_teacher_ratio", "max": 20}
    assert stats.meets(20.0, std) is True and stats.meets(20.01, std) is False
    assert stats.meets(None, std) is None and stats.meets(float("nan"), std) is None


def test_summary_tables_say_missing_and_link_built_reports(demo_region, tmp_path):
    reports = tmp_path / "reports"
    (reports / "demo001" / str(YEAR)).mkdir(parents=True)
    (reports / "demo001" / str(YEAR) / "report.html").write_text("<html></html>", "utf-8")
    s = open_summary(YEAR, None, demo_region, reports, chapter="2", audit=True)
    lacking = [
        sid
        for sid in s.data.schools["school_id"]
        if "books_print" not in raw_facts(demo_region, sid, YEAR)
    ]
    html = "".join(
        str(x)
        for x in (
            s.overview(),
            s.totals(),
            s.distribution(),
            s.standards(),
            s.schools_standards(),
            s.schools_indicators(),
            s.schools_audit(),
            s.outliers(),
            *(s.charts(g) for g in ("办学规模", "师资队伍", "办学条件", "学生发展", "经费投入")),
        )
    )
    text = visible(re.sub(r"<style.*?</style>", "", html, flags=re.S))
    for bad in ("nan", "None", "<NA>", "NaN"):
        assert bad not in text
    assert f"{len(lacking)} 所学校未填报" in text
    assert "表2-1" in text and "图2-1" in text
    assert 'href="../../demo001/2024/report.html"' in html
    assert "报告尚未生成" in text  # the other schools have no report yet
    # the school lacking printed books shows 未填报 in its row of the standards table
    tables = str(s.schools_standards()).split("</figure>")
    assert "各校对照国家标准（一）" in tables[0] and "各校对照国家标准（二）" in tables[1]
    table = next(t for t in tables if "生均纸质图书" in t)
    name = s.data.schools.set_index("school_id").loc[lacking[0], "school_name"]
    row = next(r for r in table.split("<tr>") if name in r)
    books = [visible(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)].index(
        "生均纸质图书（册/生）"
    )
    assert visible(re.findall(r"<td[^>]*>(.*?)</td>", row)[books]) == "未填报"
    # a figure as the school's own report prints it: the ratio recomputed by hand
    hand = by_hand(demo_region, [lacking[0]])[lacking[0]]
    first = next(r for r in tables[0].split("<tr>") if name in r)
    ratio = fmt.number(hand["student_teacher_ratio"], 2, trim=False)
    assert f"{ratio}:1" in visible(first)  # 生师比 N:1, its decimals kept in a table
    assert "离群值的定义" in text and "1.5" in text
    # 各项国家标准的达标学校数: 未填报 counts schools as its neighbours do ("1 所", "0 所")
    standards = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in str(s.standards()).split("<tr>")]
    books_row = next(r for r in standards if r and "生均纸质图书" in r[0])
    assert [visible(c) for c in books_row[1:4]][2] == f"{len(lacking)} 所"
    ratio_row = next(r for r in standards if r and "生师比" in r[0])
    assert visible(ratio_row[3]) == "0 所"  # every school reports its ratio


def test_table_figures_keep_their_decimals_when_whole(demo_region, tmp_path):
    """A column of figures reads 20.00 beside 18.23, never 20 (running text still writes 20%):
    the generated region has whole percentages, which the tables printed without decimals."""
    assert number("senior_title_share", 20.0, unit=False) == "20.00"
    assert number("employment_rate", 100.0) == "100.00%"
    assert number("student_teacher_ratio", 20.0, unit=False) == "20.00:1"
    assert Summary._share(1, 2) == "50.00%"
    assert fmt.percent(20.0) == "20%" and fmt.with_unit(20.0, "%", 2) == "20%"
    s = open_summary(YEAR, None, demo_region, tmp_path / "reports", chapter="1")
    rows = re.findall(r"<tr>(.*?)</tr>", str(s.distribution()), flags=re.S)
    percent_rows = [r for r in rows if "（%）" in r]
    assert len(percent_rows) >= 6
    whole = 0
    for row in percent_rows:
        cells = [visible(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)][3:]
        assert len(cells) == 5 and all(re.fullmatch(r"\d+\.\d\d", c) for c in cells), cells
        whole += sum(c.endswith(".00") for c in cells)
    assert whole  # the region does have whole figures: the check above could have failed
    shares = [visible(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", str(s.standards()))]
    rates = [c for c in shares if re.fullmatch(r"\d[\d.]*%", c)]  # 达标率 (no standard's name)
    assert rates and all(re.fullmatch(r"\d+\.\d\d%", c) for c in rates), rates


def test_audit_counts_are_those_of_each_schools_report(demo_region):
    from helpers.indicators.audit import report_findings
    from helpers.ingest.load import load_school_year

    s = open_summary(YEAR, None, demo_region, None, audit=True)
    table = str(s.schools_audit())
    for sid, name in s.data.schools.itertuples(index=False):
        found = report_findings(load_school_year(sid, YEAR, demo_region))
        row = next(r for r in table.split("<tr>") if name in r)
        cells = [visible(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        expected = [str(sum(f.severity == k for f in found)) for k in ("error", "warning", "info")]
        assert cells[2:] == expected, sid
    # the generator's first school prints a ratio its counts do not give: a warning
    assert int(s.data.audit.set_index("school_id").loc["demo001", "warning"]) >= 1


def test_a_one_school_summary_works(demo_region):
    s = open_summary(YEAR, ["demo002"], demo_region, None, audit=True)
    assert s.n == 1
    hand = by_hand(demo_region, ["demo002"])["demo002"]
    dist = stats.distribution(s.values, ["student_teacher_ratio"]).iloc[0]
    assert dist["median"] == pytest.approx(hand["student_teacher_ratio"])
    assert dist["q1"] == dist["q3"] == dist["median"]
    text = visible(str(s.outliers()))
    assert "没有离群值" in text
    for call in (
        s.totals,
        s.distribution,
        s.standards,
        s.schools_standards,
        s.schools_indicators,
        s.schools_audit,
    ):
        assert "nan" not in visible(str(call()))
    assert "图1-1" in visible(str(s.charts("师资队伍")))


def test_an_unknown_year_says_so(demo_region):
    with pytest.raises(ValueError, match="没有学校有 2019 年度的数据"):
        collect(2019, None, demo_region)


def test_wide_frame_keeps_missing_as_na(demo_region):
    data = collect(YEAR, None, demo_region, audit=False)
    w = stats.wide(data.values, ["books_print"])
    assert w["books_print"].isna().sum() >= 1
    assert not (w["books_print"] == 0).any()
    assert isinstance(w, pd.DataFrame)


def test_summary_command_stops_on_bad_input_before_writing(demo_region, tmp_path):
    from typer.testing import CliRunner

    from helpers.build.summary import build_summary
    from helpers.cli import app
    from tests.factories import edit

    out = tmp_path / "out"
    runner = CliRunner()
    unknown = runner.invoke(app, ["summary", "--year", "2019", "--data-dir", str(demo_region)])
    assert unknown.exit_code == 2 and "没有学校有 2019 年度的数据" in unknown.output
    missing = runner.invoke(
        app, ["summary", "--year", "2024", "--school", "nosuch", "--data-dir", str(demo_region)]
    )
    assert missing.exit_code == 2 and "nosuch" in missing.output
    edit(
        demo_region / "demo002" / "2024" / "facts.yaml",
        "students_male: {value: ",
        "students_male: {value: -",
    )
    bad = runner.invoke(
        app, ["summary", "--year", "2024", "--data-dir", str(demo_region), "--out", str(out)]
    )
    assert bad.exit_code == 2, bad.output
    assert "demo002/2024/facts.yaml" in bad.output and "students_male" in bad.output
    assert "Traceback" not in bad.output
    assert not (out / "summary").exists()
    (demo_region / "summary").mkdir()
    (demo_region / "summary" / "school.yaml").write_text("name: 汇总\n", "utf-8")
    with pytest.raises(Exception, match="冲突"):
        build_summary(2024, data_dir=demo_region, out_dir=out)


def test_summary_class_takes_collected_data(demo_region):
    data = collect(YEAR, ["demo001", "demo002"], demo_region, audit=False)
    s = Summary(data, chapter="3")
    assert "表3-1" in visible(str(s.standards()))


def test_summary_tables_style_by_class_not_inline(demo_region, tmp_path):
    """The summary's cells carry classes of report.css (so its print rules and variables
    apply), no inline ``style=``: one 未达标 mark per standard a school does not meet (a
    hand count from the status frame), each figure right-aligned in its cell."""
    from helpers.report.render import TEMPLATES_DIR

    s = open_summary(YEAR, None, demo_region, tmp_path / "reports", chapter="2", audit=True)
    tables = str(s.schools_standards()) + str(s.schools_indicators())
    html = tables + "".join(str(x) for x in (s.totals(), s.distribution(), s.standards()))
    assert "style=" not in html
    not_met = int((s.status["met"] == False).sum())  # noqa: E712 (NA is neither)
    assert not_met > 0
    assert len(re.findall(r'<span class="nb-not-met">未达标</span>', tables)) == not_met
    met = int((s.status["met"] == True).sum())  # noqa: E712
    assert len(re.findall(r'<span class="nb-met">达标</span>', tables)) == met
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(tables, "html.parser")
    rows = soup.select("tbody tr")
    assert len(rows) == len(s.data.schools) * len(soup.select("table")) > 0
    for tr in rows:  # the school, then its figures
        name, *figures = tr.find_all("td", recursive=False)
        assert name.select(".nb-cell-n") == [] and figures
        assert all(td.select_one(".nb-cell-n").get_text(strip=True) for td in figures), tr
    css = (TEMPLATES_DIR / "nianbao" / "static" / "report.css").read_text("utf-8")
    assert ".nb-cell-n { display: block; text-align: right; }" in css
    assert ".nb-not-met { color: var(--nb-err); font-weight: 600; }" in css
    assert "--nb-err: #b42318;" in css  # the colour the mark had inline
