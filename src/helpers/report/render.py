"""HTML for reviewers: executed chapter notebooks → chapter pages, title page, one-file report.

``render_notebook`` exports an executed notebook with nbconvert and the project's template
(``templates/nianbao``, extending ``lab``): no code, no prompts, no stderr or warning streams,
nothing of the ``parameters`` / ``injected-parameters`` cells, no remote scripts. The page then
gets a table of contents built from its headings and captions (a sidebar on wide screens, on
top on narrow ones), reading typography, traceable figures (the derivation shows on hover or
keyboard focus) and a print stylesheet.

``combine`` joins the chapters into one self-contained ``report.html`` (images and the CJK font
embedded, so it works offline on any machine); ``index_page`` writes the title page.

A chapter kept from an earlier build because its latest build failed is marked on every page
that shows it (``mark_stale``): its own page, its section of ``report.html`` (plus a notice at
the top of the report) and its entry in ``index.html`` say when the kept version was built.

nbconvert is imported only when a notebook is rendered, so the build's main process never
pays for the import.
"""

from __future__ import annotations

import base64
import copy
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from helpers.report import sections
from helpers.report.fonts import FONT_FAMILY, FONT_FILE
from helpers.specs.outline import report_title

TEMPLATE = "lab"
CUSTOM_TEMPLATE = "nianbao"
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
REMOVE_TAGS = ("injected-parameters", "parameters", "papermill-error-cell-tag")
FONT_ASSET = f"assets/{FONT_FILE.name}"


def template_name() -> str:
    """``CUSTOM_TEMPLATE`` when src/helpers/templates/nianbao exists, else ``TEMPLATE``."""
    return CUSTOM_TEMPLATE if (TEMPLATES_DIR / CUSTOM_TEMPLATE).is_dir() else TEMPLATE


@lru_cache(maxsize=2)
def _exporter(template: str) -> Any:
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_TAGS)
    config.CSSHTMLHeaderPreprocessor.enabled = False  # no code, so no pygments CSS
    extra = [str(TEMPLATES_DIR)] if TEMPLATES_DIR.is_dir() else []
    return HTMLExporter(
        config=config,
        template_name=template,
        extra_template_basedirs=extra,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def reader_view(nb: Any) -> Any:
    """A copy of the notebook without parameter cells, stderr streams and error outputs, and
    without the headings of sections that show nothing (helpers.report.sections)."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if tags & set(REMOVE_TAGS):
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
            ]
        cells.append(cell)
    nb.cells = sections.anchor_headings(sections.drop_empty(cells))
    return nb


def render_notebook(nb: Any, title: str | None = None) -> str:
    """An executed notebook (``nbformat.NotebookNode``) as a reviewer's chapter page."""
    exporter = _exporter(template_name())
    resources = {"metadata": {"name": title or report_title()}}
    page, _ = exporter.from_notebook_node(reader_view(nb), resources=resources)
    page = re.sub(r'<html lang="[^"]*">', '<html lang="zh-CN">', clean_figures(page), count=1)
    m = _MAIN.search(page)
    toc = toc_html(m.group(1) if m else page, back_link="index.html")
    return _fill(page, toc=toc, font=font_face(FONT_ASSET), footer="")


# ----------------------------------------------------------------------------- pieces

_TAG = re.compile(r"<[^>]+>")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S | re.I)
_HEADING = re.compile(r'<h([1-3])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S | re.I)
_CAPTION = re.compile(
    r'<figure class="nb-(figure|table)"[^>]*\bid="([^"]+)"[^>]*>.*?<figcaption>(.*?)</figcaption>',
    re.S | re.I,
)
_NUM_TITLE = re.compile(r'(<span class="nb-(?:num|missing)"[^>]*?) title="[^"]*"')
_HEAD = re.compile(r"<head[^>]*>(.*?)</head>", re.S | re.I)
_MAIN = re.compile(r"<main\b[^>]*>(.*)</main>", re.S | re.I)
_TITLE = re.compile(r"<title>.*?</title>", re.S | re.I)
_TITLE_YEAR = re.compile(r'(<div class="nb-title-year">.*?</div>)', re.S)


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment)).replace("¶", "").strip()


def clean_figures(page: str) -> str:
    """Drop the ``title`` attribute of figures: the styled derivation replaces the browser's
    tooltip (kept in notebooks, where JupyterLab shows it)."""
    return _NUM_TITLE.sub(r"\1", page)


def font_face(url: str) -> str:
    """@font-face for the shipped CJK subset, so Chinese renders without a system CJK font."""
    return (
        f'<style>@font-face {{ font-family: "{FONT_FAMILY}"; font-display: swap; '
        f'src: url("{url}") format("opentype"); }}</style>'
    )


def font_data_uri() -> str:
    return "data:font/otf;base64," + base64.b64encode(FONT_FILE.read_bytes()).decode("ascii")


def toc_html(content: str, back_link: str | None = None, title: str = "目录") -> str:
    """A table of contents from the headings (h1–h3 with ids) and the 图/表 captions."""
    items = []
    for level, anchor, inner in _HEADING.findall(content):
        text = _text(inner)
        if text:
            items.append(
                f'<li class="nb-toc-{level}"><a href="#{html.escape(anchor)}">{html.escape(text)}</a></li>'
            )
    figs = [
        f'<li class="nb-toc-figs"><a href="#{html.escape(anchor)}">{html.escape(_text(cap))}</a></li>'
        for _, anchor, cap in _CAPTION.findall(content)
    ]
    back = (
        f'<p class="nb-toc-back"><a href="{html.escape(back_link)}">← 返回报告首页</a></p>'
        if back_link
        else ""
    )
    figs_html = (
        f'<details class="nb-toc-figlist"><summary>图表目录（{len(figs)}）</summary><ol>{"".join(figs)}</ol></details>'
        if figs
        else ""
    )
    return (
        f'<nav class="nb-toc" aria-label="目录">{back}<p class="nb-toc-title">{html.escape(title)}</p>'
        f"<ol>{''.join(items)}</ol>{figs_html}</nav>"
    )


def _fill(page: str, *, toc: str, font: str, footer: str) -> str:
    footer_html = (
        f'<footer class="nb-footer"><p>{html.escape(footer)}</p></footer>' if footer else ""
    )
    return (
        page.replace("<!--NB-TOC-->", toc, 1)
        .replace("<!--NB-FONT-->", font, 1)
        .replace("<!--NB-FOOTER-->", footer_html, 1)
    )


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
            for m in _H1.finditer(text or ""):
                if "nb-title-main" not in m.group(0) and _text(m.group(1)):
                    return _text(m.group(1))
    return None


def built_date(built_at: str | None = None) -> str:
    """``2026年11月28日`` from an ISO timestamp (today when None)."""
    d = date.fromisoformat(built_at[:10]) if built_at else date.today()
    return f"{d.year}年{d.month}月{d.day}日"


# ----------------------------------------------------------------------------- stale chapters

BEIJING = timezone(timedelta(hours=8))  # China Standard Time, no daylight saving
_STALE_BLOCK = re.compile(r"<!--NB-STALE-->.*?<!--/NB-STALE-->", re.S)
_MAIN_OPEN = re.compile(r"<main\b[^>]*>", re.I)
_CHAPTER_H1 = re.compile(r"<h1\b(?![^>]*nb-title-main)[^>]*>.*?</h1>", re.S | re.I)
# inline, so that the notice shows even on a page whose stylesheet predates it
_STALE_STYLE = (
    "border-left: 4px solid #9a6700; background: #fff8e5; color: #1f2328; "
    "padding: .6rem .9rem; margin: 1rem 0; text-indent: 0; font-size: 15px; line-height: 1.6;"
)


def beijing_time(iso: str, zone: bool = True) -> str:
    """``2026年12月1日 10:32（北京时间）`` from an ISO timestamp (naive = this machine's zone);
    without ``zone``, the time alone."""
    d = datetime.fromisoformat(iso).astimezone(BEIJING)
    return f"{d.year}年{d.month}月{d.day}日 {d:%H:%M}" + ("（北京时间）" if zone else "")


def stale_text(kept_since: str | None) -> str:
    """What a reader is told about a chapter kept from an earlier build."""
    when = f" {beijing_time(kept_since)}" if kept_since else "此前"
    return f"本章沿用{when}生成的版本，最新构建失败，本章内容可能不是依据最新数据生成的。"


def _notice(text: str, role: str = "note") -> str:
    return (
        f'<!--NB-STALE--><div class="nb-stale" role="{role}" style="{_STALE_STYLE}">'
        f"{html.escape(text)}</div><!--/NB-STALE-->"
    )


def unmark_stale(page: str) -> str:
    """The page without any stale-chapter notice."""
    return _STALE_BLOCK.sub("", page)


def mark_stale(page: str, kept_since: str | None) -> str:
    """The chapter page with the stale-chapter notice under its title (so that in print it
    stays on the chapter's first page), or at the top of its content."""
    page = unmark_stale(page)
    notice = _notice(stale_text(kept_since))
    main = _MAIN_OPEN.search(page)
    start = main.end() if main else 0
    h1 = _CHAPTER_H1.search(page, start)
    at = h1.end() if h1 else start
    return page[:at] + notice + page[at:]


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


def _page(head: str, title: str, toc: str, body: str, footer: str, font: str) -> str:
    footer_html = (
        f'<footer class="nb-footer"><p>{html.escape(footer)}</p></footer>' if footer else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{html.escape(title)}</title>\n{head}\n{font}\n</head>\n"
        f'<body class="nb-report">\n<a class="nb-skip" href="#nb-main">跳到正文</a>\n{toc}\n'
        f'<main id="nb-main" class="nb-main">\n{body}\n{footer_html}\n</main>\n</body>\n</html>\n'
    )


def _css_head(pages: Sequence[ChapterPage]) -> str:
    """The template's <style> blocks, taken from a rendered chapter (minus its font link)."""
    for p in pages:
        if p.html:
            m = _HEAD.search(p.html)
            if m:
                head = _TITLE.sub("", m.group(1))
                return re.sub(r"<style>@font-face.*?</style>", "", head, flags=re.S)
    return ""


def _cover(school_name: str, year: int, title: str, built_at: str | None) -> str:
    return (
        '<header class="nb-title">'
        f'<div class="nb-title-school">{html.escape(school_name)}</div>'
        f'<h1 class="nb-title-main">{html.escape(title)}</h1>'
        f'<div class="nb-title-year">{int(year)} 年度</div>'
        f'<div class="nb-title-date">编制日期：{built_date(built_at)}</div></header>'
    )


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
    """
    title = title or report_title(year)
    sections = []
    for c in chapters:
        if not c.html:
            continue
        m = _MAIN.search(c.html)
        inner = m.group(1) if m else c.html
        inner = re.sub(r'<footer class="nb-footer">.*?</footer>', "", inner, flags=re.S)
        inner = re.sub(r'<nav class="nb-toc".*?</nav>', "", inner, flags=re.S)
        sections.append(
            f'<section class="nb-chapter-page" id="ch-{html.escape(c.stem)}">{inner}</section>'
        )
    body = "\n".join(sections)
    date_html = f'<div class="nb-title-date">编制日期：{built_date(built_at)}</div>'
    if _TITLE_YEAR.search(body):
        body = _TITLE_YEAR.sub(lambda m: m.group(1) + date_html, body, count=1)
    else:
        body = _cover(school_name, year, title, built_at) + body
    body = _stale_summary(chapters) + body
    return _page(
        _css_head(chapters),
        f"{school_name} {title}",
        toc_html(_chapter_links(chapters, body)),
        body,
        footer,
        font_face(font_data_uri()),
    )


def _stale_summary(chapters: Sequence[ChapterPage]) -> str:
    """A notice at the top of the one-file report: the chapters kept from earlier builds, and
    those missing because their build failed and none succeeded before."""
    kept = [c for c in chapters if c.stale and c.html]
    lost = [c for c in chapters if c.stale and not c.html]
    parts = []
    if kept:
        items = "；".join(
            f"{c.title}（{beijing_time(c.kept_since, zone=False)} 生成）"
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


def _chapter_links(chapters: Sequence[ChapterPage], body: str) -> str:
    """What the TOC lists: each chapter's headings, or its title when it has no anchored one."""
    out = []
    for c in chapters:
        if not c.html:
            continue
        anchor = f"ch-{html.escape(c.stem)}"
        start = body.find(f'id="{anchor}"')
        end = body.find('<section class="nb-chapter-page"', start + 1)
        part = body[start : end if end > 0 else len(body)]
        if not _HEADING.search(part):  # e.g. a chapter whose title is an un-anchored <h1>
            out.append(f'<h1 id="{anchor}">{html.escape(c.title)}</h1>')
        out.append(part)
    return "".join(out)


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
    stale = {f"{p.stem}.html": p for p in pages if p.stale and p.html}  # by chapter page
    items, entries = [], []
    lost = {p.title for p in pages if p.stale and not p.html}
    for href, label in chapters:
        if href is None:
            why = "（最新构建失败，尚未生成）" if label in lost else "（尚未生成）"
            item = f'<li class="nb-toc-1">{html.escape(label)}{why}</li>'
            items.append(item)
            entries.append(item)
            continue
        link = f'<a href="{html.escape(href)}">{html.escape(label)}</a>'
        kept = stale.get(href)
        items.append(f'<li class="nb-toc-1">{link}{"（沿用旧版本）" if kept else ""}</li>')
        notice = _notice(stale_text(kept.kept_since)) if kept else ""
        entries.append(f'<li class="nb-toc-1">{link}{notice}</li>')
    toc = (
        '<nav class="nb-toc" aria-label="目录"><p class="nb-toc-title">目录</p>'
        f"<ol>{''.join(items)}</ol></nav>"
    )
    body = (
        _cover(school_name, year, title, built_at)
        + f'<h2 id="contents">目录</h2><ol class="nb-index">{"".join(entries)}</ol>'
        + f'<p class="nb-note">完整报告（单个文件，含全部图表，可离线打开、直接发送）：'
        f'<a href="{html.escape(report_href)}">{html.escape(report_href)}</a></p>'
    )
    return _page(
        _css_head(pages), f"{school_name} {title}", toc, body, footer, font_face(FONT_ASSET)
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
    rows = "".join(
        f'<tr><td>{html.escape(e.school)}</td><td class="nb-n">{e.year}</td>'
        f'<td><a href="{html.escape(e.href)}">打开报告</a></td>'
        f'<td class="nb-n">{e.audit.get("error", 0)}</td><td class="nb-n">{e.audit.get("warning", 0)}</td>'
        f"<td>{html.escape(e.built_at)}</td></tr>"
        for e in sorted(entries, key=lambda e: (e.school, -e.year))
    )
    css = (TEMPLATES_DIR / CUSTOM_TEMPLATE / "static" / "report.css").read_text(encoding="utf-8")
    body = (
        '<h1 class="nb-chapter">质量年度报告一览</h1>'
        '<figure class="nb-table"><table><thead><tr><th>学校</th><th class="nb-n">年度</th>'
        '<th>报告</th><th class="nb-n">核验错误</th><th class="nb-n">核验警告</th><th>生成时间</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></figure>"
    )
    # the font ships with each report folder; borrow the first one's
    font = font_face(f"{entries[0].href.rsplit('/', 1)[0]}/{FONT_ASSET}") if entries else ""
    css += ".nb-main { margin: 0 auto; }"  # no sidebar on this page
    return _page(f"<style>{css}</style>", "质量年度报告一览", "", body, "", font)
