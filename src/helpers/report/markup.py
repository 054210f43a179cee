"""HTML pieces of the report, rendered by the macros of ``templates/report/markup.html.j2``.

The templates autoescape: every text argument is escaped there. An argument that is HTML
(``inner_html``, table cells) is HTML these functions built, and is marked as such (Markup)
here, in one place. The functions return ``str`` so that callers may join them freely.

Computed figures are wrapped in ``<span class="nb-num">`` carrying their derivation (formula,
inputs with values, source) in ``data-derivation`` and ``title``, so a reviewer sees it on
hover or keyboard focus; missing values are ``<span class="nb-missing">未填报</span>``.
"""

from __future__ import annotations

import base64
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from helpers import fmt

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


# Made at import, not on first use: a warm kernel keeps helpers imported across notebooks and
# puts its module state back before each (helpers.build.modstate); an environment held by the
# module is part of that state, so the templates it compiled (it re-reads a changed file) serve
# every notebook instead of being compiled again for each.
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def environment() -> Environment:
    """The autoescaping environment of the report's HTML templates (``src/helpers/templates``)."""
    return _ENVIRONMENT


@lru_cache(maxsize=1)
def _macros() -> Any:
    return environment().get_template("report/markup.html.j2").module


def html(text: str) -> Markup:
    """Mark HTML built by these functions (or by nbconvert) as safe to place unescaped."""
    return Markup(text)


def esc(text: object) -> str:
    """Escape text for HTML content and attributes (for the few callers still building HTML
    by hand; the templates escape on their own)."""
    return str(escape(str(text)))


def num(text: str, derivation: str, missing: bool = False) -> str:
    """A figure with its derivation attached."""
    return str(_macros().num(text, derivation, missing, fmt.MISSING))


def disclosure(notes: tuple[str, ...] | list[str]) -> str:
    """What the reader is told beside a figure that differs from the school's printed one."""
    return str(_macros().disclosure(list(notes)))


FOOTNOTE_MARKS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def footnote_symbol(n: int) -> str:
    """The symbol of a table's n-th note (1-based): ①, ②, … (then [21], [22], …)."""
    return FOOTNOTE_MARKS[n - 1] if n <= len(FOOTNOTE_MARKS) else f"[{n}]"


def footnote_mark(n: int) -> str:
    """The mark of a table's n-th note beside its cell."""
    return str(_macros().footnote_mark(footnote_symbol(n)))


def slug(number: str) -> str:
    """Anchor id for a section number: ``1.1.2`` → ``s-1-1-2``."""
    return "s-" + re.sub(r"[^0-9A-Za-z]+", "-", number).strip("-")


def heading(level: int, text: str, anchor: str | None = None, cls: str = "") -> str:
    return str(_macros().heading(int(level), text, anchor, cls))


def para(inner_html: str, cls: str = "") -> str:
    """A paragraph around HTML built by these functions (``inner_html`` is not escaped)."""
    return str(_macros().para(html(inner_html), cls))


PIXEL_RATIO = 2  # charts and photos are stored at twice the size they are shown at


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of PNG bytes (from the IHDR chunk)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        raise ValueError("不是 PNG 图片")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _shown_size(png: bytes) -> tuple[int, int]:
    w, h = png_size(png)
    return max(1, round(w / PIXEL_RATIO)), max(1, round(h / PIXEL_RATIO))


def figure_png(
    png: bytes,
    number: int,
    title: str,
    alt: str,
    note: str = "",
    compact: bytes | None = None,
) -> str:
    """A chart embedded as a PNG data URI with its caption 图N, shown at half its pixel size
    (sharp in print); ``compact``, the chart drawn for narrow screens, replaces it there."""
    data = base64.b64encode(png).decode("ascii")
    small = base64.b64encode(compact).decode("ascii") if compact else ""
    size = _shown_size(png)
    small_size = _shown_size(compact) if compact else (0, 0)
    return str(_macros().figure_png(data, number, title, alt, note, size, small, small_size))


PHOTO_NOT_INCLUDED = "原报告配图（本报告未收录图片）："


def photo(caption: str, path: Path | None = None, number: int | None = None) -> str:
    """A photo of the year's prose: the image (scaled down and embedded, helpers.report.photos)
    with its caption 图N, numbered with the charts; or, when no file is supplied, the caption
    alone marked 原报告配图（本报告未收录图片）."""
    if path is None:
        return str(_macros().photo_missing(PHOTO_NOT_INCLUDED, caption))
    from helpers.report.photos import prepare

    p = prepare(path)
    data = base64.b64encode(p.data).decode("ascii")
    return str(_macros().photo(p.mime, data, caption, number, (p.width, p.height)))


def table(
    number: int | None,
    title: str,
    header: list[str],
    rows: list[list[str]],
    numeric: list[bool] | None = None,
    note: str = "",
    anchor: str | None = None,
    classes: list[str] | None = None,
) -> str:
    """A table with its caption (表N above it). Header, title and note are text; cells are
    HTML built by these functions (use :func:`esc` for a plain-text cell). ``classes`` names
    a class per column (widths, e.g. ``nb-col-kind``)."""
    numeric = numeric or [False] * len(header)
    if len(numeric) != len(header) or any(len(r) != len(header) for r in rows):
        raise ValueError(f"表 {title}：列数不一致（表头 {len(header)} 列）")
    caption = f"表{number} {title}" if number is not None else title
    anchor = anchor or (f"tab-{number}" if number is not None else None)
    cells = [[html(c) for c in r] for r in rows]
    cols = [
        " ".join(c for c in ("nb-n" if n else "", k) if c)
        for n, k in zip(numeric, classes or [""] * len(header), strict=True)
    ]
    return str(_macros().table(caption, header, cells, cols, note, anchor))


def strong(text: str) -> str:
    return str(_macros().strong(text))


def span(text: str, cls: str) -> str:
    """Inline text with a class (e.g. the severity badge of the audit table)."""
    return str(_macros().span(text, cls))


def lines(texts: list[str]) -> str:
    """Text lines in one cell, separated by line breaks."""
    return str(_macros().lines(list(texts)))


def chinese_date(d: date) -> str:
    """``2025年1月15日``."""
    return f"{d.year}年{d.month}月{d.day}日"


def title_page(
    school_name: str, title: str, school_year: str, report_date: date | None = None
) -> str:
    """The report's title block (school, title, 学年, and the 编制日期 when the year's meta.yaml
    states one), as the preface chapter opens."""
    when = chinese_date(report_date) if report_date is not None else ""
    return str(_macros().title_page(school_name, title, school_year, when))
