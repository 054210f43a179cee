"""Issue 14: ``nianbao summary`` builds the regional report from the summary notebooks
(papermill really runs), links every school's built report, shows a missing figure as
missing, and is incremental like the school reports."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from helpers.build.core import build
from helpers.build.summary import build_summary
from helpers.cli import app
from helpers.demo import generate
from tests.factories import append, need_chromium, raw_facts, visible

YEAR = 2024
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("summary")]


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> tuple[Path, Path]:
    """Three generated schools, each school's report built (the preface chapter is enough
    for report.html), then the summary via the CLI; returns (raw, out)."""
    raw = tmp_path_factory.mktemp("raw")
    generate(raw, 3, [2023, YEAR], seed=4)
    out = tmp_path_factory.mktemp("reports")
    result = build(data_dir=raw, out_dir=out, chapters=["00"], years=[YEAR], jobs=2)
    assert result.ok, [c.error for c in result.failed]
    cli = CliRunner().invoke(
        app, ["summary", "--year", str(YEAR), "--data-dir", str(raw), "--out", str(out), "-j", "2"]
    )
    assert cli.exit_code == 0, cli.output
    assert "汇总 3 所学校，执行 2 个笔记本" in cli.output
    return raw, out


def test_summary_report_has_the_tables_links_and_missing_figures(region):
    raw, out = region
    folder = out / "summary" / str(YEAR)
    html = (folder / "report.html").read_text("utf-8")
    soup = BeautifulSoup(html, "html.parser")
    text = visible(html)
    for caption in (
        "区域合计",
        "主要指标在各校间的分布",
        "各项国家标准的达标学校数",
        "各校对照国家标准",
    ):
        assert caption in text
    assert "中等职业教育质量年度报告区域汇总（2024年度）" in text
    # under the title, the 学年 as on a school's cover, not the title's year again
    assert soup.select_one(".nb-title .nb-title-year").get_text() == "2023-2024学年"
    assert len(soup.select("figure.nb-figure img")) == 5  # the distribution charts
    # every school's name links to its built report, relative to the summary's folder
    hrefs = {a["href"] for a in soup.find_all("a", href=True) if a["href"].endswith("report.html")}
    assert hrefs == {f"../../demo00{i}/{YEAR}/report.html" for i in (1, 2, 3)}
    for href in hrefs:
        assert (folder / urlsplit(href).path).resolve().is_file()
    # demo003 (the generator's "missing" school) has no printed books: shown as missing
    assert "books_print" not in raw_facts(raw, "demo003", YEAR)
    table = next(
        f
        for f in soup.select("figure.nb-table")
        if "各校对照国家标准" in f.get_text() and "生均纸质图书" in f.get_text()
    )
    header = [th.get_text() for th in table.select("thead th")]
    books = header.index("生均纸质图书（册/生）")
    row = next(tr for tr in table.select("tbody tr") if "demo003" in str(tr))
    assert row.select("td")[books].get_text() == "未填报"
    assert "1 所学校未填报" in text
    assert not re.search(r"\bnan\b|None|<NA>", text)
    assert (folder / "index.html").is_file() and (folder / "summary.json").is_file()
    assert (folder / "notebooks" / "01_region.ipynb").is_file()


def test_summary_is_incremental(region):
    raw, out = region
    again = build_summary(YEAR, data_dir=raw, out_dir=out)
    assert not again.executed and not again.regenerated
    append(
        raw / "demo002" / str(YEAR) / "facts.yaml", 'ebooks_new: {value: 100, source: "1.1.4"}\n'
    )
    changed = build_summary(YEAR, data_dir=raw, out_dir=out)
    assert {c.chapter for c in changed.executed} == {"01_region", "02_schools"}
    assert changed.regenerated


def test_a_one_school_summary_builds(tmp_path):
    raw = tmp_path / "raw"
    generate(raw, 2, [YEAR], seed=9)
    out = tmp_path / "out"
    result = build_summary(YEAR, schools=["demo001"], data_dir=raw, out_dir=out, jobs=1)
    assert result.ok, [c.error for c in result.failed]
    text = visible(result.report.read_text("utf-8"))
    assert "共 1 所学校" in text and "没有离群值" in text
    assert "报告尚未生成" in text  # no school report was built
    assert result.schools == ["demo001"]


def test_summary_marks_look_as_before_in_the_browser(region):
    """The classes that replaced the inline styles render as those styles did (a 未达标 mark
    red #b42318 and semibold, figures right-aligned), on screen and in print."""
    from helpers.build.pdf import BROWSER_FLAGS

    exe = need_chromium()
    from playwright.sync_api import sync_playwright

    _, out = region
    report = out / "summary" / str(YEAR) / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=list(BROWSER_FLAGS))
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(report.as_uri(), wait_until="load")
            for media in ("screen", "print"):
                page.emulate_media(media=media)
                marks = page.eval_on_selector_all(
                    ".nb-not-met",
                    "els => els.map(e => [e.textContent, getComputedStyle(e).color,"
                    " getComputedStyle(e).fontWeight])",
                )
                assert marks and set(map(tuple, marks)) == {("未达标", "rgb(180, 35, 24)", "600")}
                aligned = page.eval_on_selector_all(
                    ".nb-cell-n", "els => els.map(e => getComputedStyle(e).textAlign)"
                )
                assert aligned and set(aligned) == {"right"}, media
        finally:
            browser.close()
