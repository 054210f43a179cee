"""HTML for readers: executed chapter notebooks → chapter pages, title page and one-file report.

``render_notebook`` exports an executed notebook with nbconvert's HTMLExporter and shows only
what a reader should see: no code, no prompts, no stderr or warning streams, and nothing of
the ``parameters`` / ``injected-parameters`` cells. ``combine`` joins rendered chapters into
one self-contained page (images are already embedded as data URIs) and ``index_page`` writes
the title page with the table of contents.

The template is ``TEMPLATE`` ("lab") unless a custom template folder
``src/helpers/templates/nianbao`` exists, in which case that one is used.

nbconvert is imported only when a notebook is rendered: combining pages and writing the
title page are plain string work, so the build's main process never pays for the import.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATE = "lab"
CUSTOM_TEMPLATE = "nianbao"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REMOVE_TAGS = ("injected-parameters", "parameters", "papermill-error-cell-tag")
REPORT_TITLE = "中等职业教育质量年度报告（{year}年度）"


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
    """A copy of the notebook without parameter cells, stderr streams and error outputs."""
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
    nb.cells = cells
    return nb


def render_notebook(nb: Any, title: str | None = None) -> str:
    """An executed notebook (``nbformat.NotebookNode``) as a reader's HTML page."""
    exporter = _exporter(template_name())
    resources = {"metadata": {"name": title or "中等职业教育质量年度报告"}}
    body, _ = exporter.from_notebook_node(reader_view(nb), resources=resources)
    return body


_TAG = re.compile(r"<[^>]+>")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S | re.I)


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment)).replace("¶", "").strip()


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
            m = _H1.search(text or "")
            if m and _text(m.group(1)):
                return _text(m.group(1))
    return None


# ----------------------------------------------------------------------------- pages

_HEAD = re.compile(r"<head[^>]*>(.*?)</head>", re.S | re.I)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.I)
_BODY = re.compile(r"<body\b[^>]*>(.*)</body>", re.S | re.I)
_MAIN = re.compile(r"<main\b[^>]*>(.*)</main>", re.S | re.I)
_TITLE = re.compile(r"<title>.*?</title>", re.S | re.I)

PAGE_CSS = """
.nianbao-cover { text-align: center; padding: 4em 1em 2em; }
.nianbao-cover .school { font-size: 1.6em; margin: 0.2em 0; }
.nianbao-cover h1 { font-size: 2em; margin: 0.4em 0; }
.nianbao-toc { max-width: 46em; margin: 1em auto 2em; padding: 0 1em; }
.nianbao-toc ul { line-height: 1.9; list-style: none; padding-left: 0; }
.nianbao-footer { color: #666; font-size: 0.85em; text-align: center; border-top: 1px solid #ddd;
  margin-top: 3em; padding: 1em; }
.nianbao-chapter { margin-top: 2em; }
.nianbao-missing { color: #a00; }
@media print { .nianbao-chapter { break-before: page; } .nianbao-toc { break-after: page; } }
"""


@dataclass(frozen=True)
class ChapterPage:
    """A rendered chapter: its notebook stem, title and HTML page (None if never built)."""

    stem: str
    title: str
    html: str | None


def _cover(school_name: str, year: int, title: str) -> str:
    return (
        '<header class="nianbao-cover">'
        f'<p class="school">{html.escape(school_name)}</p>'
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="year">{int(year)} 年度</p>'
        "</header>"
    )


def _toc(items: Sequence[tuple[str | None, str]]) -> str:
    lis = []
    for href, label in items:
        if href is None:
            lis.append(f'<li class="nianbao-missing">{html.escape(label)}（尚未生成）</li>')
        else:
            lis.append(f'<li><a href="{html.escape(href)}">{html.escape(label)}</a></li>')
    return f'<nav class="nianbao-toc"><h2>目录</h2><ul>{"".join(lis)}</ul></nav>'


def _footer(text: str) -> str:
    return f'<footer class="nianbao-footer">{html.escape(text)}</footer>'


def combine(
    chapters: Sequence[ChapterPage],
    *,
    school_name: str,
    year: int,
    footer: str,
    title: str | None = None,
    cover: bool | None = None,
) -> str:
    """One self-contained page: cover, table of contents, every chapter in order, footer.

    The page's <head> (the template's CSS) is taken from the first rendered chapter; each
    chapter contributes the content of its <main> (or <body>), wrapped in a <section> the
    table of contents links to. Images stay embedded as data URIs, so the file can be sent
    on its own.

    ``cover=None`` (default) adds a cover unless the first chapter already shows the report
    title (a preface that renders its own title block); the table of contents then follows
    that first chapter (封面 → 前言 → 目录 → 正文).
    """
    title = title or REPORT_TITLE.format(year=year)
    built = [c for c in chapters if c.html]
    head, body_open = "", "<body>"
    if built:
        m = _HEAD.search(built[0].html or "")
        head = _TITLE.sub("", m.group(1)) if m else ""
        b = _BODY_OPEN.search(built[0].html or "")
        body_open = b.group(0) if b else body_open
    if cover is None:
        cover = not (built and chapters[0].html and html.escape(title) in chapters[0].html)
    sections = []
    for c in chapters:
        if not c.html:
            continue
        m = _MAIN.search(c.html) or _BODY.search(c.html)
        inner = m.group(1) if m else c.html
        sections.append(
            f'<section class="nianbao-chapter" id="ch-{html.escape(c.stem)}">{inner}</section>'
        )
    toc = _toc([(f"#ch-{c.stem}" if c.html else None, c.title) for c in chapters])
    parts = (
        [_cover(school_name, year, title), toc, *sections]
        if cover
        else [*sections[:1], toc, *sections[1:]]
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8"/>\n'
        f"<title>{html.escape(school_name)} {html.escape(title)}</title>\n{head}\n"
        f"<style>{PAGE_CSS}</style>\n</head>\n{body_open}\n<main>\n"
        + "\n".join(parts)
        + f"\n{_footer(footer)}\n</main>\n</body>\n</html>\n"
    )


def index_page(
    chapters: Sequence[tuple[str | None, str]],
    *,
    school_name: str,
    year: int,
    footer: str,
    report_href: str = "report.html",
    title: str | None = None,
) -> str:
    """The title page: school, report title, year, links to the chapter pages, footer.

    ``chapters`` are ``(href or None if not built, title)`` in order.
    """
    title = title or REPORT_TITLE.format(year=year)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>{html.escape(school_name)} {html.escape(title)}</title>\n"
        "<style>body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', "
        "sans-serif; margin: 0 auto; max-width: 60em; color: #222; } a { color: #1a5fb4; }"
        f"{PAGE_CSS}</style>\n</head>\n<body>\n"
        f"{_cover(school_name, year, title)}\n{_toc(chapters)}\n"
        f'<p class="nianbao-toc">完整报告（单个文件，可直接发送）：'
        f'<a href="{html.escape(report_href)}">{html.escape(report_href)}</a></p>\n'
        f"{_footer(footer)}\n</body>\n</html>\n"
    )
