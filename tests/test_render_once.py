"""Issue 14: chapter pages are parsed once (in the worker) and index.html / report.html are
assembled from the parts the worker cut, without parsing chapter pages again, and all three
come out exactly as the earlier pipeline made them (kept below as the reference: nbconvert's
HTMLExporter with its own bs4 pass, then a parse of each page for each use)."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest
from bs4 import BeautifulSoup, Comment
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.build import manifest as mf
from helpers.build import pages
from helpers.build.plan import CACHE_DIR
from helpers.report import pagetree, render

BUILT = "2026-12-01T10:00:00+08:00"
KEPT = "2026-11-30T09:30:00+08:00"

# ----------------------------------------------------------------------------- the reference


def _parse(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def reference_page(nb, title: str) -> str:
    """The chapter page as render_notebook made it: HTMLExporter (which parses and
    serialises its page itself), then a parse for the titles, the TOC and the language."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(render.REMOVE_TAGS)
    config.CSSHTMLHeaderPreprocessor.enabled = False
    exporter = HTMLExporter(
        config=config,
        template_name=render.template_name(),
        extra_template_basedirs=[str(render.TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "metadata": {"name": title},
        "nb_font_family": render.FONT_FAMILY,
        "nb_font_url": render.FONT_ASSET,
    }
    page, _ = exporter.from_notebook_node(
        render.reader_view(copy.deepcopy(nb)), resources=resources
    )
    soup = _parse(page)
    for span in soup.find_all("span", class_=("nb-num", "nb-missing")):
        span.attrs.pop("title", None)
    nav = soup.find("nav", class_="nb-toc")
    if nav is not None:
        main = soup.find("main")
        nav.replace_with(_parse(render.toc_html(main or soup, back_link="index.html")))
    if soup.html is not None:
        soup.html["lang"] = "zh-CN"
    return pagetree.html(soup)


def _ref_main(page: render.ChapterPage):
    soup = _parse(page.html or "")
    main = soup.find("main") or soup
    for t in main.find_all("footer", class_="nb-footer") + main.find_all("nav", class_="nb-toc"):
        t.decompose()
    return main


def _ref_empty(page: render.ChapterPage, main) -> bool:
    if page.stale or main.find(("img", "table", "figure", "svg")) is not None:
        return False
    for text in main.find_all(string=True):
        if isinstance(text, Comment) or not text.strip():
            continue
        if text.find_parent(("h1", "h2", "h3", "h4", "h5", "h6", "style", "script")) is None:
            return False
    return True


def _ref_head(chapters) -> str:
    for p in chapters:
        if p.html:
            head = _parse(p.html).find("head")
            if head is not None:
                for t in head.find_all("title"):
                    t.decompose()
                for st in head.find_all("style"):
                    if st.get_text().lstrip().startswith("@font-face"):
                        st.decompose()
                return pagetree.inner(head)
    return ""


def _ref_date(cover, built_at) -> None:
    if cover.find("div", class_="nb-title-date") is None:
        date = render._pieces().build_date(render.built_date(built_at))
        cover.append(_parse(str(date)))


def _ref_stamp(cover, footer) -> None:
    if footer:  # the build stamp print shows on the cover
        cover.append(_parse(str(render._pieces().cover_stamp(footer))))


def reference_combine(chapters, *, school_name, year, footer, title=None, built_at=None):
    title = title or render.report_title(year)
    parts = [(c, m) for c in chapters if c.html and not _ref_empty(c, m := _ref_main(c))]
    cover = next((t for _, m in parts if (t := m.find("header", class_="nb-title"))), None)
    if cover is not None:
        _ref_date(cover, built_at)
        _ref_stamp(cover, footer)
    headings, figures = [], []
    for c, m in parts:
        h, f = pagetree.toc_entries(m)
        headings += h or [(1, f"ch-{c.stem}", c.title)]
        figures += f
    contents = render.print_toc(headings)
    if cover is not None:
        cover.insert_after(_parse(contents))
    pieces = render._pieces()
    body = "\n".join(
        str(pieces.chapter_section(c.stem, render.Markup(pagetree.inner(m)))) for c, m in parts
    )
    if cover is None:
        own = _parse(render._cover(school_name, year, title, built_at))
        _ref_stamp(own.find("header"), footer)
        body = pagetree.html(own) + contents + body
    return render._page(
        _ref_head(chapters),
        f"{school_name} {title}",
        str(pieces.toc(headings, figures)),
        render._stale_summary(chapters) + body,
        footer,
        render.font_data_uri(),
        render.print_style(school_name, title),
        render.page_script(),
    )


def reference_index(chapters, *, school_name, year, footer, title=None, built_at=None) -> str:
    title = title or render.report_title(year)
    stale = {f"{p.stem}.html": p for p in chapters if p.stale and p.html}
    lost = {p.title for p in chapters if p.stale and not p.html}
    empty = {f"{p.stem}.html" for p in chapters if p.html and _ref_empty(p, _ref_main(p))}
    entries = []
    for p in chapters:
        href = f"{p.stem}.html" if p.html else None
        if href in empty:
            entries.append(render._IndexEntry(None, p.title, render.NOT_COVERED))
        elif href is None:
            why = "（最新构建失败，尚未生成）" if p.title in lost else "（尚未生成）"
            entries.append(render._IndexEntry(None, p.title, why))
        else:
            kept = stale.get(href)
            notice = render.stale_text(kept.kept_since) if kept else None
            entries.append(render._IndexEntry(href, p.title, notice=notice))
    cover = None
    for p in chapters:
        if p.html and (header := _parse(p.html).find("header", class_="nb-title")) is not None:
            _ref_date(header, built_at)
            cover = pagetree.html(header)
            break
    cover = cover or render._cover(school_name, year, title, built_at)
    body = render._pieces().index_body(
        render.Markup(cover), entries, "report.html", render._STALE_STYLE
    )
    return render._page(
        _ref_head(chapters),
        f"{school_name} {title}",
        "",
        str(body),
        footer,
        render.FONT_ASSET,
        render.print_style(school_name, title),
    )


# ----------------------------------------------------------------------------- notebooks


def _html_cell(html: str, *more) -> nbformat.NotebookNode:
    out = new_output("display_data", data={"text/html": html, "text/plain": "<HTML>"})
    return new_code_cell("rep.x()", outputs=[out, *more])


COVER = (
    '<header class="nb-title"><div class="nb-title-school">甲&amp;乙校</div>'
    '<h1 class="nb-title-main">质量年度报告</h1><div class="nb-title-year">2024 年度</div>'
    "</header>"
)
TRICKY = (
    '<p data-z="1" class="nb-p  lead" id="p1">文字&nbsp;&amp; &lt;b&gt; &foo; '
    '<span class="nb-num" title="公式 a&lt;b" data-derivation="来源 &quot;表&quot;">12.5</span>'
    '<br>换行<img src="data:image/png;base64,iVBORw0KGgo="><input type="checkbox" checked></p>'
    '<figure class="nb-figure" id="fig-1-1"><img alt="图" src="a.png">'
    "<figcaption>图 1-1 在校生</figcaption></figure>"
    '<figure class="nb-table" id="tab-1-1"><figcaption>表 1-1 专业</figcaption>'
    "<table><tr><td>1</td></tr></table></figure><!-- a comment -->"
    '<svg viewBox="0 0 4 4"><circle cx="2" cy="2" r="1"/></svg>'
    "<style>.a > .b { color: red; }</style><script>if (a < b && c) {}</script>"
)


def chapter_notebooks() -> dict[str, nbformat.NotebookNode]:
    """A preface with the title block, a chapter with awkward HTML, an empty chapter, one more."""
    params = new_code_cell("school_id = 'x'", metadata={"tags": ["parameters"]})
    stderr = new_output("stream", name="stderr", text="a warning\n")
    preface = new_notebook(
        cells=[
            params,
            _html_cell(COVER),
            _html_cell('<h1 class="nb-chapter" id="ch-0">前言</h1>'),
            new_markdown_cell("学校概况。"),
        ]
    )
    talent = new_notebook(
        cells=[
            params,
            _html_cell('<h1 class="nb-chapter" id="ch-1">一、人才培养</h1>'),
            new_markdown_cell("## 1.1 在校生"),
            _html_cell(TRICKY, stderr),
            new_markdown_cell("## 1.2 没有内容的小节"),
            new_code_cell("rep.y()", outputs=[]),
        ]
    )
    empty = new_notebook(
        cells=[params, new_markdown_cell("# 三、文化传承"), new_code_cell("rep.z()")]
    )
    other = new_notebook(
        cells=[
            _html_cell('<h1 class="nb-chapter" id="ch-4">四、国际合作</h1>'),
            _html_cell('<p>合作 <span class="nb-missing" title="未提供">未提供</span></p>'),
        ]
    )
    nbs = {"00_preface": preface, "01_talent": talent, "03_culture": empty, "04_intl": other}
    for nb in nbs.values():
        nb.metadata["language_info"] = {"name": "python"}
    return nbs


TITLES = {
    "00_preface": "前言",
    "01_talent": "人才培养",
    "03_culture": "文化传承",
    "04_intl": "合作",
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, render.RenderedChapter]:
    return {s: render.render_chapter(nb, TITLES[s]) for s, nb in chapter_notebooks().items()}


def _chapters(rendered, with_parts: bool) -> list[render.ChapterPage]:
    """The pages, the second kept from an earlier build (marked), plus one never built."""
    out = []
    for stem, r in rendered.items():
        p = render.ChapterPage(stem, TITLES[stem], r.html, parts=r.parts if with_parts else None)
        if stem == "01_talent":
            p = render.ChapterPage(stem, p.title, render.mark_stale(r.html, KEPT), True, KEPT)
        out.append(p)
    return [*out, render.ChapterPage("05_lost", "失败的章", None, True)]


ARGS = {"school_name": "甲校", "year": 2024, "footer": "页脚", "built_at": BUILT}


# ----------------------------------------------------------------------------- tests


def test_chapter_pages_are_the_reference_pipelines_pages(rendered):
    for stem, nb in chapter_notebooks().items():
        before = nbformat.writes(nb)
        assert render.render_notebook(nb, TITLES[stem]) == reference_page(nb, TITLES[stem])
        assert nbformat.writes(nb) == before  # the reader's view copies what it changes
    page = rendered["01_talent"].html
    # what nbconvert's own pass did and the single parse must still do
    assert f'<img alt="{pagetree.NO_ALT}" src="data:image/png;base64,iVBORw0KGgo="/>' in page
    assert 'title="公式' not in page and "a warning" not in page
    assert '<html lang="zh-CN">' in page


def test_finish_export_does_what_nbconvert_does_on_its_own_parse():
    text = (
        '<div class="jp-Notebook" id="n"><div tabindex="-1" class="jp-Cell-inputWrapper">'
        '<img src="a.png"></div><div class="x jp-OutputArea-output" z="1" a="2"></div></div>'
        '<div class="jp-OutputArea-output"></div><div class="jp-Cell-inputWrapper"></div>'
        '<section class="jp-Notebook"><p class="jp-OutputArea-output"></p></section>'
    )
    nbconvert = _parse(text)  # nbconvert 7's HTMLExporter.from_notebook_node, then a parse
    for elem in nbconvert.select("img:not([alt])"):
        elem.attrs["alt"] = pagetree.NO_ALT
    for elem in nbconvert.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in nbconvert.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    ours = _parse(text)
    assert pagetree.finish_export(ours) == 1
    assert pagetree.html(ours) == pagetree.html(_parse(str(nbconvert)))
    assert pagetree.html(ours).count('tabindex="0"') == 2


def test_parts_are_cut_from_the_page_and_kept_by_its_hash(rendered):
    preface = rendered["00_preface"]
    parts = preface.parts
    assert parts.source == preface.html
    assert parts.piece(parts.cover) == COVER
    assert parts.piece(parts.title) == parts.piece(parts.cover)
    body = parts.piece(parts.body)
    main = preface.html.split('<main class="nb-main" id="nb-main">')[1].split("</main>")[0]
    assert body == main and '<h1 class="nb-chapter" id="ch-0">前言</h1>' in body
    assert parts.headings == ((1, "ch-0", "前言"),) and not parts.shows_nothing
    assert "<title>" not in parts.head and "@font-face" not in parts.head
    assert rendered["03_culture"].parts.shows_nothing
    record = json.loads(json.dumps(parts.to_json()))
    assert pagetree.PageParts.from_json(record, preface.html) == parts
    assert pagetree.PageParts.from_json(record, preface.html + " ") is None  # another page
    assert pagetree.PageParts.from_json({"sha256": record["sha256"]}, preface.html) is None
    beyond = dict(record, body=[0, len(preface.html) + 1])
    assert pagetree.PageParts.from_json(beyond, preface.html) is None
    # a page parsed again (kept from an earlier build) gives the same parts
    assert pagetree.page_parts(preface.html) == parts


@pytest.mark.parametrize("with_parts", [True, False], ids=["worker-parts", "parsed"])
def test_report_and_index_are_the_reference_assembly(rendered, with_parts):
    chapters = _chapters(rendered, with_parts)
    report = render.combine(chapters, **ARGS)
    assert report == reference_combine(chapters, **ARGS)
    hrefs = [(f"{p.stem}.html" if p.html else None, p.title) for p in chapters]
    index = render.index_page(hrefs, pages=chapters, **ARGS)
    assert index == reference_index(chapters, **ARGS)
    # what the comparison covers: the dated cover, the empty chapter, the stale ones
    assert "编制日期：2026年12月1日" in report and 'id="ch-03_culture"' not in report
    assert 'id="ch-01_talent"' in report
    assert render.NOT_COVERED in index and "失败的章" in index and "沿用" in report


def test_a_page_without_a_main_or_cover_is_the_reference_assembly():
    bare = render.ChapterPage("00_x", "甲", "<p>正文 <b>粗</b></p><h2 id='s-1'>一</h2>")
    empty_title = '<html><head><title>t</title></head><body><main><header class="nb-title">'
    empty_title += '</header><h1 id="a">标题</h1><figure class="nb-photo" id="p"><figcaption>'
    empty_title += "图 1</figcaption></figure></main></body></html>"
    odd = render.ChapterPage("01_y", "乙", empty_title)
    chapters = [bare, odd]
    assert render.combine(chapters, **ARGS) == reference_combine(chapters, **ARGS)
    hrefs = [(f"{p.stem}.html", p.title) for p in chapters]
    index = render.index_page(hrefs, pages=chapters, **ARGS)
    assert index == reference_index(chapters, **ARGS)


class _ParseSpy:
    """Records what bs4 is asked to parse."""

    def __init__(self, monkeypatch):
        self.parsed: list[str] = []
        original = BeautifulSoup.__init__

        def spy(soup, markup="", *args, **kwargs):
            self.parsed.append(str(markup))
            original(soup, markup, *args, **kwargs)

        monkeypatch.setattr(BeautifulSoup, "__init__", spy)

    def pages(self) -> list[str]:
        return [m for m in self.parsed if "<main" in m]


def test_assembly_parses_no_chapter_page_whose_parts_were_kept(rendered, tmp_path, monkeypatch):
    folder = tmp_path / "huichang" / "2024"
    (folder / CACHE_DIR).mkdir(parents=True)
    chapters = _chapters(rendered, with_parts=False)
    for p in chapters:
        if p.html and not p.stale:  # as the worker left them; the marked one has none
            mf.write_text(folder / f"{p.stem}.html", p.html)
            pages.save_parts(folder, p.stem, rendered[p.stem].parts.to_json())
    spy = _ParseSpy(monkeypatch)
    report, index = pages.assemble(folder, chapters, "甲校", 2024, "页脚", BUILT)
    marked = next(p.html for p in chapters if p.stale and p.html)
    assert spy.pages() == [marked]  # the page with its stale notice only, and once
    monkeypatch.undo()
    assert report == reference_combine(chapters, **ARGS)
    assert index == reference_index(chapters, **ARGS)
    # its parts were recorded: the next assembly parses nothing
    spy = _ParseSpy(monkeypatch)
    assert pages.assemble(folder, chapters, "甲校", 2024, "页脚", BUILT) == (report, index)
    assert spy.pages() == []


def test_assembly_without_records_parses_each_page_once(rendered, tmp_path, monkeypatch):
    chapters = _chapters(rendered, with_parts=False)
    spy = _ParseSpy(monkeypatch)
    pages.assemble(tmp_path, chapters, "甲校", 2024, "页脚", BUILT)
    assert sorted(spy.pages()) == sorted(p.html for p in chapters if p.html)
    assert not (tmp_path / CACHE_DIR).exists()  # not a build's folder: nothing recorded


def test_a_stale_record_is_not_used(rendered, tmp_path):
    (tmp_path / CACHE_DIR).mkdir()
    talent, intl = rendered["01_talent"], rendered["04_intl"]
    pages.save_parts(tmp_path, "04_intl", talent.parts.to_json())  # another page's record
    chapters = [render.ChapterPage("04_intl", "合作", intl.html)]
    report, _ = pages.assemble(tmp_path, chapters, "甲校", 2024, "页脚", BUILT)
    assert report == reference_combine(chapters, **ARGS)
    record = mf.read_json(pages.parts_path(tmp_path, "04_intl"))
    assert record == intl.parts.to_json()  # replaced by this page's


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
@pytest.mark.parametrize("year", [2024, 2023])
def test_built_pages_are_the_reference_pipelines(built_reports, year):
    """The bundled school's built chapter pages, report.html and index.html are what the
    reference pipeline makes of the executed notebooks."""
    from helpers.build.execute import _chapter_title

    folder = built_reports / str(year)
    manifest = mf.read_json(folder / "manifest.json")
    chapters = []
    for c in manifest["chapters"]:
        html = (folder / c["html"]).read_text(encoding="utf-8") if c["html"] else None
        chapters.append(render.ChapterPage(c["chapter"], c["title"], html))
        if html is None:
            continue
        nb = nbformat.read(folder / c["notebook"], as_version=4)
        assert html == reference_page(nb, _chapter_title(c["chapter"], nb)), c["chapter"]
        record = mf.read_json(pages.parts_path(folder, c["chapter"]))
        assert pagetree.PageParts.from_json(record, html) is not None, c["chapter"]
    args = {
        "school_name": manifest["school_name"],
        "year": year,
        "footer": mf.footer_text(manifest),
        "built_at": manifest["built_at"],
    }
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert report == reference_combine(chapters, **args)
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index == reference_index(chapters, **args)


def test_reader_view_leaves_out_cells_that_draw_nothing():
    """A cell whose output is blank HTML (a block with nothing to show this year) is not kept
    as an empty block between a heading and its text: there a printed page could break right
    after the heading. A cell with an output of another kind is kept."""
    blank = new_code_cell("rep.narrative('1.2.3')")
    blank.outputs = [new_output("execute_result", {"text/html": "\n", "text/plain": "<Html>"})]
    quiet = new_code_cell("x = 1")
    text = new_code_cell("rep.narrative('1.2.3')")
    text.outputs = [new_output("execute_result", {"text/html": "<p>就业</p>", "text/plain": ""})]
    other = new_code_cell("show()")
    other.outputs = [new_output("display_data", {"application/json": {"a": 1}})]
    nb = new_notebook(cells=[new_markdown_cell("### 1.2.3 就业质量"), blank, quiet, text, other])
    view = render.reader_view(nb)
    assert [c.source for c in view.cells] == [
        '<h3 id="s-1-2-3">1.2.3 就业质量</h3>',
        "rep.narrative('1.2.3')",
        "show()",
    ]
    assert view.cells[1].outputs[0]["data"]["text/html"] == "<p>就业</p>"
