"""HTML for reviewers: executed chapter notebooks → chapter pages, title page, one-file report.

``render_chapter`` exports an executed notebook with nbconvert and the project's template
(``templates/nianbao``, extending ``lab``): no code, no prompts, no stderr or warning streams,
nothing of the ``parameters`` / ``injected-parameters`` cells, no remote scripts. The page then
gets (on its parsed tree, never by pattern matching on HTML) a table of contents built from
its headings and captions (a sidebar on wide screens, on
top on narrow ones), reading typography, traceable figures (the derivation shows on hover or
keyboard focus) and a print stylesheet. The page is parsed once (helpers.report.pagetree),
and the parts of it the one-file report and the title page need are cut from its
serialisation.

``combine`` joins the chapters into one self-contained ``report.html`` (images and the CJK font
embedded, so it works offline on any machine); ``index_page`` writes the title page. Both are
made of the chapters' parts (``ChapterPage.parts``), not of their pages parsed again.

A chapter kept from an earlier build because its latest build failed is marked on every page
that shows it (``mark_stale``): its own page, its section of ``report.html`` (plus a notice at
the top of the report) and its entry in ``index.html`` say when the kept version was built.

Pages and their pieces are Jinja templates (``templates/report/page.html.j2`` and
``pieces.html.j2``) with autoescaping: text is escaped there, and only HTML this package built
(chapters nbconvert rendered, their stylesheet) is passed as Markup.

nbconvert is imported only when a notebook is rendered, so the build's main process never
pays for the import.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from bs4 import BeautifulSoup, Comment, Tag
from markupsafe import Markup

from helpers import fmt
from helpers.report import markup, pagetree, sections
from helpers.report.fonts import FONT_FAMILY, FONT_FILE
from helpers.report.markup import TEMPLATES_DIR, environment
from helpers.specs.outline import report_title

TEMPLATE = "lab"
CUSTOM_TEMPLATE = "nianbao"
REMOVE_TAGS = ("injected-parameters", "parameters", "papermill-error-cell-tag")
FONT_ASSET = f"assets/{FONT_FILE.name}"
LANGUAGE = "zh-CN"


def template_name() -> str:
    """``CUSTOM_TEMPLATE`` when src/helpers/templates/nianbao exists, else ``TEMPLATE``."""
    return CUSTOM_TEMPLATE if (TEMPLATES_DIR / CUSTOM_TEMPLATE).is_dir() else TEMPLATE


@lru_cache(maxsize=2)
def _exporter(template: str) -> Any:
    """nbconvert's HTMLExporter for the template, whose ``page`` is the template's page before
    HTMLExporter's own parse and serialisation of it: ``render_chapter`` parses it once and
    makes those changes on its tree (helpers.report.pagetree.finish_export)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters import TemplateExporter
    from traitlets.config import Config

    class _Template(TemplateExporter):  # type: ignore[misc]
        """Keeps the template's page and hands HTMLExporter an empty one to parse."""

        raw: str | None = None

        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            self.raw, resources = super().from_notebook_node(nb, resources, **kw)
            return "", resources

    class _Exporter(HTMLExporter, _Template):  # type: ignore[misc]
        def page(self, nb: Any, resources: dict[str, Any]) -> str:
            self.raw = None
            page, _ = self.from_notebook_node(nb, resources=resources)
            # an nbconvert that no longer goes through TemplateExporter: its own page (which
            # finish_export then leaves as it is)
            return self.raw if self.raw is not None else page

        def _validate_preprocessor(self, nbc: Any, preprocessor: Any) -> None:
            """No schema validation of the notebook (a third of the export's time): it comes
            from papermill's execution (validated as it is written) less some cells and
            outputs, and its only preprocessor removes cells (TagRemovePreprocessor)."""

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_TAGS)
    config.CSSHTMLHeaderPreprocessor.enabled = False  # no code, so no pygments CSS
    extra = [str(TEMPLATES_DIR)] if TEMPLATES_DIR.is_dir() else []
    return _Exporter(
        config=config,
        template_name=template,
        extra_template_basedirs=extra,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def reader_view(nb: Any) -> Any:
    """The notebook without parameter cells, stderr streams and error outputs, and without
    the headings of sections that show nothing (helpers.report.sections). A new notebook and
    new cells (``nb`` is left as it is); outputs and metadata are shared, not copied."""
    from nbformat import NotebookNode

    view = NotebookNode(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if tags & set(REMOVE_TAGS):
            continue
        cell = NotebookNode(cell)
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
            ]
        cells.append(cell)
    view.cells = sections.anchor_headings(sections.drop_empty(cells))
    return view


@dataclass(frozen=True)
class RenderedChapter:
    """A chapter page and the parts of it report.html and index.html are assembled from."""

    html: str
    parts: pagetree.PageParts


def render_chapter(nb: Any, title: str | None = None) -> RenderedChapter:
    """An executed notebook (``nbformat.NotebookNode``) as a reviewer's chapter page.

    The nianbao nbconvert template lays the page out (font, an empty ``nav.nb-toc``); the
    table of contents is then built from the rendered headings, on the parsed page. The page
    is parsed and serialised once; its parts come out of that serialisation.
    """
    exporter = _exporter(template_name())
    resources = {
        "metadata": {"name": title or report_title()},
        "nb_font_family": FONT_FAMILY,
        "nb_font_url": FONT_ASSET,
    }
    raw = exporter.page(reader_view(nb), resources)
    soup = _parse(raw)
    missing_alt = pagetree.finish_export(soup)
    if missing_alt:
        exporter.log.warning("Alternative text is missing on %s image(s).", missing_alt)
    clean_figures(soup)
    main = soup.find("main")
    entries = toc_entries(main or soup)
    nav = soup.find("nav", class_="nb-toc")
    if nav is not None:
        nav.replace_with(_fragment(str(_pieces().toc(*entries, "index.html"))))
    if soup.html is not None:
        soup.html["lang"] = LANGUAGE  # nbconvert accepts ISO 639-1 codes only ("zh")
    if main is None or main.find(("footer", "nav"), class_=("nb-footer", "nb-toc")):
        page = _html(soup)  # report.html leaves out parts of <main>: cut from a new parse
        return RenderedChapter(page, pagetree.page_parts(page))
    page, parts = pagetree.serialise(soup, entries, raw)
    return RenderedChapter(page, parts)


def render_notebook(nb: Any, title: str | None = None) -> str:
    """An executed notebook as a reviewer's chapter page (``render_chapter``'s page)."""
    return render_chapter(nb, title).html


# ----------------------------------------------------------------------------- pieces


def _pieces() -> Any:
    return environment().get_template("report/pieces.html.j2").module


_html = pagetree.html
_parse = pagetree.parse
_fragment = pagetree.parse
_text = pagetree.text
toc_entries = pagetree.toc_entries


def clean_figures(soup: BeautifulSoup) -> None:
    """Drop the ``title`` attribute of figures: the styled derivation replaces the browser's
    tooltip (kept in notebooks, where JupyterLab shows it)."""
    for span in soup.find_all("span", class_=("nb-num", "nb-missing")):
        span.attrs.pop("title", None)


def font_face(url: str) -> str:
    """@font-face for the shipped CJK subset, so Chinese renders without a system CJK font."""
    return str(_pieces().font_face(FONT_FAMILY, url))


def font_data_uri() -> str:
    return "data:font/otf;base64," + base64.b64encode(FONT_FILE.read_bytes()).decode("ascii")


def toc_html(content: Tag | str, back_link: str | None = None, title: str = "目录") -> str:
    """A table of contents from the headings (h1–h3 with ids) and the 图/表 captions."""
    tree = _parse(content) if isinstance(content, str) else content
    headings, figures = toc_entries(tree)
    return str(_pieces().toc(headings, figures, back_link, title))


def chapter_title(nb: Any) -> str | None:
    """The chapter's title: the first Markdown ``#`` heading, else the first <h1> output."""
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            for line in source.splitlines():
                m = re.match(r"^#\s+(.+?)\s*#*\s*$", line)
                if m:
                    return m.group(1).strip()
    for cell in nb.cells:
        for out in cell.get("outputs", []) or []:
            text = (out.get("data") or {}).get("text/html")
            if isinstance(text, list):
                text = "".join(text)
            for h1 in _fragment(text or "").find_all("h1"):
                if "nb-title-main" not in (h1.get("class") or ()) and _text(h1):
                    return _text(h1)
    return None


def built_date(built_at: str | None = None) -> str:
    """``2026年11月28日``: the day in 北京时间 of an ISO timestamp (now when None; a naive
    timestamp is this machine's time)."""
    when = datetime.fromisoformat(built_at) if built_at else datetime.now(fmt.BEIJING)
    return markup.chinese_date(when.astimezone(fmt.BEIJING).date())


# ----------------------------------------------------------------------------- stale chapters

# inline, so that the notice shows even on a page whose stylesheet predates it
_STALE_STYLE = (
    "border-left: 4px solid #9a6700; background: #fff8e5; color: #1f2328; "
    "padding: .6rem .9rem; margin: 1rem 0; text-indent: 0; font-size: 15px; line-height: 1.6;"
)
_STALE_MARKS = ("NB-STALE", "/NB-STALE")


def stale_text(kept_since: str | None) -> str:
    """What a reader is told about a chapter kept from an earlier build."""
    when = f" {fmt.beijing_time(kept_since)}" if kept_since else "此前"
    return f"本章沿用{when}生成的版本，最新构建失败，本章内容可能不是依据最新数据生成的。"


def _notice(text: str, role: str = "note") -> str:
    return str(_pieces().stale_notice(text, role, _STALE_STYLE))


def _unmark(soup: BeautifulSoup) -> None:
    for div in soup.find_all("div", class_="nb-stale"):
        div.decompose()
    for c in soup.find_all(string=lambda s: isinstance(s, Comment) and s in _STALE_MARKS):
        c.extract()


def unmark_stale(page: str) -> str:
    """The page without any stale-chapter notice (unparsed when it holds none: most pages)."""
    if "nb-stale" not in page and not any(m in page for m in _STALE_MARKS):
        return page
    soup = _parse(page)
    _unmark(soup)
    return _html(soup)


def mark_stale(page: str, kept_since: str | None) -> str:
    """The chapter page with the stale-chapter notice under its title (so that in print it
    stays on the chapter's first page), or at the top of its content."""
    soup = _parse(page)
    _unmark(soup)
    notice = _fragment(_notice(stale_text(kept_since)))
    main = soup.find("main") or soup
    h1 = next(
        (h for h in main.find_all("h1") if "nb-title-main" not in (h.get("class") or ())), None
    )
    if h1 is not None:
        h1.insert_after(notice)
    else:
        main.insert(0, notice)
    return _html(soup)


# ----------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class ChapterPage:
    """A rendered chapter: its notebook stem, title and HTML page (None if never built).

    ``stale``: the page was kept from an earlier build because the latest one failed;
    ``kept_since``: when that earlier version was built (ISO timestamp, None if unknown).
    """

    stem: str
    title: str
    html: str | None
    stale: bool = False
    kept_since: str | None = None
    parts: pagetree.PageParts | None = field(default=None, compare=False, repr=False)

    @property
    def empty(self) -> bool:
        """The chapter shows nothing but its headings (a year whose data does not cover it):
        left out of report.html, as an empty section is left out of its chapter. A chapter
        kept from an earlier build stays, with its notice."""
        return not self.stale and self.parts is not None and self.parts.shows_nothing


def with_parts(pages: Sequence[ChapterPage]) -> list[ChapterPage]:
    """The pages with their parts (``PageParts``): a page that comes without is parsed, once."""
    return [
        replace(p, parts=pagetree.page_parts(p.html)) if p.html and p.parts is None else p
        for p in pages
    ]


def _page(
    head: str,
    title: str,
    toc: str,
    body: str,
    footer: str,
    font_url: str,
    print_style: str = "",
    script: str = "",
) -> str:
    template = environment().get_template("report/page.html.j2")
    return template.render(
        head=Markup(head),
        title=title,
        toc=Markup(toc),
        body=Markup(body),
        footer=footer,
        font_family=FONT_FAMILY,
        font_url=font_url,
        print_style=Markup(print_style),
        script=Markup(script),
    )


def css_string(text: str) -> str:
    """``text`` as a CSS string literal that is safe inside a <style> element."""
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def print_style(school_name: str, title: str) -> str:
    """The running header (school, report title) and page numbers of every printed page after
    the cover (@page margin boxes)."""
    return str(
        _pieces().print_style(
            Markup(css_string(school_name)),
            Markup(css_string(title)),
            Markup(css_string(FONT_FAMILY)),
        )
    )


@lru_cache(maxsize=1)
def page_script() -> str:
    """The page script (tooltips inside the viewport, the folding contents), inline."""
    code = (TEMPLATES_DIR / CUSTOM_TEMPLATE / "static" / "report.js").read_text(encoding="utf-8")
    return str(_pieces().script(Markup(code)))


PRINT_TOC_LEVELS = 3


def print_toc(headings: Sequence[tuple[int, str, str]], pages: dict[str, int] | None = None) -> str:
    """The printed table of contents: chapters and sections with their numbers (and their page
    numbers, when a first printing supplied them: helpers.build.pdf)."""
    pages = pages or {}
    entries = [
        (level, anchor, text, pages.get(anchor))
        for level, anchor, text in headings
        if level <= PRINT_TOC_LEVELS
    ]
    return str(_pieces().print_toc(entries))


def _css_head(pages: Sequence[ChapterPage]) -> str:
    """The template's <head> of a rendered chapter, minus its title and font face."""
    for p in pages:
        if p.parts is not None and p.parts.head is not None:
            return p.parts.head
    return ""


def _cover(school_name: str, year: int, title: str, built_at: str | None) -> str:
    return str(_pieces().cover(school_name, title, fmt.school_year(year), built_date(built_at)))


def combine(
    chapters: Sequence[ChapterPage],
    *,
    school_name: str,
    year: int,
    footer: str,
    title: str | None = None,
    built_at: str | None = None,
) -> str:
    """One self-contained page: every chapter in order, a full table of contents, the footer.

    The first chapter (the preface) carries the title page; the build date is added to it.
    Images are data URIs already, and the CJK font is embedded, so the file works offline.
    Made of the chapters' parts (``ChapterPage.parts``; a page without is parsed once).
    """
    title = title or report_title(year)
    chapters = with_parts(chapters)
    shown = [c for c in chapters if c.html and c.parts is not None and not c.empty]
    headings: list[tuple[int, str, str]] = []
    figures: list[tuple[str, str]] = []
    for c in shown:
        h = list(c.parts.headings)  # type: ignore[union-attr]
        if not h:  # e.g. a chapter whose title is an un-anchored <h1>
            h = [(1, f"ch-{c.stem}", c.title)]
        headings += h
        figures += c.parts.figures  # type: ignore[union-attr]
    contents = print_toc(headings)
    with_cover = next((c for c in shown if c.parts.cover), None)  # type: ignore[union-attr]
    sections_html = []
    for c in shown:
        parts: pagetree.PageParts = c.parts  # type: ignore[assignment]
        (start, end), text = parts.body, parts.source
        if c is with_cover and parts.cover:
            a, b = parts.cover
            cover = _stamped(_dated(text[a:b], parts.cover_dated, built_at), footer)
            body_html = text[start:a] + cover + _html(_fragment(contents)) + text[b:end]
        else:
            body_html = text[start:end]
        sections_html.append(str(_pieces().chapter_section(c.stem, Markup(body_html))))
    body = "\n".join(sections_html)
    if with_cover is None:
        body = _stamped(_cover(school_name, year, title, built_at), footer) + contents + body
    body = _stale_summary(chapters) + body
    return _page(
        _css_head(chapters),
        f"{school_name} {title}",
        str(_pieces().toc(headings, figures)),
        body,
        footer,
        font_data_uri(),
        print_style(school_name, title),
        page_script(),
    )


def _stamped(cover: str, footer: str) -> str:
    """The title block with the footer's build stamp, which only print shows (report.css): at
    the end of a printed report it was a page of its own, and a version belongs on the cover."""
    end = "</header>"
    if not footer or not cover.endswith(end):
        return cover
    return cover[: -len(end)] + str(_pieces().cover_stamp(footer)) + end


def _dated(cover: str, dated: bool, built_at: str | None) -> str:
    """The title block with its 编制日期: the one the year's meta.yaml states (already on the
    preface's title page), else the build date."""
    end = "</header>"
    if dated or not cover.endswith(end):
        return cover
    date = _html(_fragment(str(_pieces().build_date(built_date(built_at)))))
    return cover[: -len(end)] + date + end


def _title_block(pages: Sequence[ChapterPage], built_at: str | None) -> str | None:
    """The title block report.html opens with (the preface's title page, dated), or None."""
    for p in pages:
        if p.html and p.parts is not None and p.parts.title is not None:
            return _dated(p.parts.piece(p.parts.title), p.parts.title_dated, built_at)
    return None


def _stale_summary(chapters: Sequence[ChapterPage]) -> str:
    """A notice at the top of the one-file report: the chapters kept from earlier builds, and
    those missing because their build failed and none succeeded before."""
    kept = [c for c in chapters if c.stale and c.html]
    lost = [c for c in chapters if c.stale and not c.html]
    parts = []
    if kept:
        items = "；".join(
            f"{c.title}（{fmt.beijing_time(c.kept_since, zone=False)} 生成）"
            if c.kept_since
            else c.title
            for c in kept
        )
        zone = "时间为北京时间；" if any(c.kept_since for c in kept) else ""
        parts.append(
            f"本报告有 {len(kept)} 章沿用此前生成的版本（最新构建失败），内容可能不是依据最新数据"
            f"生成的：{items}。{zone}各章开头另有说明。"
        )
    if lost:
        parts.append(
            f"本报告缺少 {len(lost)} 章（构建失败，尚无可用的版本）：{'；'.join(c.title for c in lost)}。"
        )
    return _notice("注意：" + "".join(parts), role="alert") if parts else ""


NOT_COVERED = "（本年度数据未涉及本章）"


@dataclass(frozen=True)
class _IndexEntry:
    href: str | None
    label: str
    body_suffix: str = ""  # after the entry in the page's list
    notice: str | None = None  # a stale-chapter notice under the entry


def index_page(
    chapters: Sequence[tuple[str | None, str]],
    *,
    school_name: str,
    year: int,
    footer: str,
    report_href: str = "report.html",
    title: str | None = None,
    built_at: str | None = None,
    pages: Sequence[ChapterPage] = (),
) -> str:
    """The title page: school, report title, year, date, chapter links, the one-file report.

    ``pages`` (the chapters as rendered) supply the stylesheet and mark the entries of chapters
    kept from an earlier build (``ChapterPage.stale``; matched by their page ``<stem>.html``).
    """
    title = title or report_title(year)
    pages = with_parts(pages)
    stale = {f"{p.stem}.html": p for p in pages if p.stale and p.html}  # by chapter page
    lost = {p.title for p in pages if p.stale and not p.html}
    empty = {f"{p.stem}.html" for p in pages if p.html and p.empty}
    entries = []
    for href, label in chapters:
        if href in empty:  # left out of report.html too
            entries.append(_IndexEntry(None, label, NOT_COVERED))
            continue
        if href is None:
            why = "（最新构建失败，尚未生成）" if label in lost else "（尚未生成）"
            entries.append(_IndexEntry(None, label, why))
            continue
        kept = stale.get(href)
        notice = stale_text(kept.kept_since) if kept else None
        entries.append(_IndexEntry(href, label, notice=notice))
    pieces = _pieces()
    cover = _title_block(pages, built_at) or _cover(school_name, year, title, built_at)
    body = pieces.index_body(Markup(cover), entries, report_href, _STALE_STYLE)
    return _page(  # one table of contents: the page's list (no sidebar)
        _css_head(pages),
        f"{school_name} {title}",
        "",
        str(body),
        footer,
        FONT_ASSET,
        print_style(school_name, title),
    )


@dataclass(frozen=True)
class OverviewEntry:
    """One built school-year report, for the overview page."""

    href: str
    school: str
    year: int
    built_at: str
    audit: dict[str, int]


def overview_page(entries: Sequence[OverviewEntry]) -> str:
    """``reports/index.html``: every school-year report in the folder, with its audit counts."""
    rows = sorted(entries, key=lambda e: (e.school, -e.year))
    css = (TEMPLATES_DIR / CUSTOM_TEMPLATE / "static" / "report.css").read_text(encoding="utf-8")
    css += ".nb-main { margin: 0 auto; }"  # no sidebar on this page
    # the font ships with each report folder; borrow the first one's
    font = f"{entries[0].href.rsplit('/', 1)[0]}/{FONT_ASSET}" if entries else ""
    head = str(_pieces().style(css))
    return _page(head, "质量年度报告一览", "", str(_pieces().overview_body(rows)), "", font)
