"""Issue 12, without a browser: the cover's 编制日期 (meta.yaml ``report_date``, else the build
day in 北京时间), the printed document's pieces (running header, contents with page numbers
found in a first printing), empty chapters left out, and tables made for narrow screens."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from helpers.build.pdf import locate
from helpers.report import markup, render
from helpers.report.api import open_report
from tests.factories import edit, load_errors, only


def test_report_date_from_meta_is_on_the_cover(raw_copy, year2024):
    edit(
        year2024 / "meta.yaml",
        "default_document: r2024",
        "default_document: r2024\nreport_date: 2025-01-15",
    )
    cover = open_report("huichang", 2024, raw_copy).title_page().html
    assert '<div class="nb-title-date">编制日期：2025年1月15日</div>' in cover
    # report.html keeps the meta date (the build date is only the fallback)
    page = render.ChapterPage(
        "00_preface", "前言", f"<html><body><main>{cover}<p>正文</p></main></body></html>"
    )
    report = render.combine(
        [page], school_name="甲校", year=2024, footer="", built_at="2026-12-01T20:00:00+00:00"
    )
    assert "编制日期：2025年1月15日" in report and "2026年12月2日" not in report
    index = render.index_page(
        [("00_preface.html", "前言")], school_name="甲校", year=2024, footer="", pages=[page]
    )
    assert "编制日期：2025年1月15日" in index and "2024-2025" not in index


def test_report_date_must_be_a_date(raw_copy, year2024):
    edit(
        year2024 / "meta.yaml",
        "default_document: r2024",
        'default_document: r2024\nreport_date: "2025年1月"',
    )
    p = only(load_errors(raw_copy), "bad_value")
    assert p.column == "report_date" and p.row == 5 and "2025-01-15" in p.message


def test_build_date_is_the_day_in_beijing():
    assert render.built_date("2026-12-01T16:30:00+00:00") == "2026年12月2日"  # 00:30 in Beijing
    assert render.built_date("2026-12-01T15:59:00+00:00") == "2026年12月1日"
    page = render.ChapterPage(
        "00_preface",
        "前言",
        "<main>" + markup.title_page("甲校", "标题", "2023-2024学年") + "<p>x</p></main>",
    )
    report = render.combine(
        [page], school_name="甲校", year=2024, footer="", built_at="2026-12-01T16:30:00+00:00"
    )
    assert "编制日期：2026年12月2日" in report


def test_print_header_names_school_and_title_safely():
    style = render.print_style('甲"校</style><script>', "标题")
    assert (
        "</style><script>"
        not in style.replace('<style media="print">', "", 1).rsplit("</style>", 1)[0]
    )
    assert 'content: "甲\\22 校\\3c /style\\3e \\3c script\\3e "' in style
    assert "counter(page)" in style and "@page :first" in style


def test_printed_contents_list_chapters_and_sections():
    headings = [(1, "ch-1", "1. 人才培养"), (2, "s-1-1", "1.1 学校情况"), (4, "case-1", "案例1")]
    toc = BeautifulSoup(render.print_toc(headings, {"ch-1": 6}), "html.parser")
    items = [(li["data-anchor"], li.get_text("|")) for li in toc.select("li")]
    assert items == [("ch-1", "1. 人才培养|6"), ("s-1-1", "1.1 学校情况")]  # levels 1–3 only


def test_page_numbers_are_found_after_the_contents():
    pages = [
        ["会昌中等专业学校"],  # cover
        ["目录", "1.人才培养", "1.1学校情况", "2.服务贡献"],  # the contents list every heading
        ["1.人才培养", "正文"],
        ["正文", "1.1学校情况"],
        ["2.服务贡献是本章的标题，很长很长", "续"],  # a heading wrapped over two lines
    ]
    assert locate(
        ["1. 人才培养", "1.1 学校情况", "2.服务贡献是本章的标题，很长很长很长"], pages
    ) == [
        3,
        4,
        5,
    ]
    assert locate(["不在报告里"], pages) == [None]


def test_a_chapter_that_shows_nothing_is_left_out():
    full = render.ChapterPage("01_a", "1. 甲", '<main><h1 id="ch-1">1. 甲</h1><p>内容</p></main>')
    empty = render.ChapterPage("02_b", "2. 乙", '<main><h1 id="ch-2">2. 乙</h1><div> </div></main>')
    report = render.combine([full, empty], school_name="甲校", year=2024, footer="")
    assert (
        'id="ch-01_a"' in report and 'id="ch-02_b"' not in report and 'href="#ch-2"' not in report
    )
    index = render.index_page(
        [("01_a.html", "1. 甲"), ("02_b.html", "2. 乙")],
        school_name="甲校",
        year=2024,
        footer="",
        pages=[full, empty],
    )
    body = BeautifulSoup(index, "html.parser").find("ol", class_="nb-index")
    assert [a["href"] for a in body.find_all("a")] == ["01_a.html"]
    assert "2. 乙" + render.NOT_COVERED in body.get_text()


def test_wide_table_cells_carry_their_column_for_narrow_screens():
    t = BeautifulSoup(
        markup.table(
            4,
            "宽表",
            ["年度", "甲", "乙", "丙"],
            [["2024", "1", "2", "3"]],
            [False, True, True, True],
        ),
        "html.parser",
    )
    assert t.figure["class"] == ["nb-table", "nb-wide"]
    assert [td["data-label"] for td in t.find_all("td")] == ["年度", "甲", "乙", "丙"]
    narrow = BeautifulSoup(markup.table(1, "窄表", ["指标", "值"], [["a", "1"]]), "html.parser")
    assert narrow.figure["class"] == ["nb-table"]


def test_chart_is_twice_its_shown_size_with_a_phone_variant():
    from helpers.report import figures

    rep = open_report("huichang", 2024)
    html = rep.section("1.1.3").html
    fig = BeautifulSoup(html, "html.parser").find("figure", class_="nb-figure")
    img, source = fig.find("img"), fig.find("source")
    w, h = markup.png_size(_data(img["src"]))
    assert (int(img["width"]), int(img["height"])) == (round(w / 2), round(h / 2))
    assert source["media"] == "(max-width: 40rem)"
    cw, _ = markup.png_size(_data(source["srcset"]))
    assert cw < w and abs(cw / figures.PIXEL_RATIO / 100 - figures.COMPACT_SIZE[0]) < 0.6


def _data(uri: str) -> bytes:
    import base64

    return base64.b64decode(re.sub(r"^data:image/png;base64,", "", uri))
