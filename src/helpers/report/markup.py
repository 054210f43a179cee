"""HTML pieces of the report. Every piece of data text placed into HTML is escaped here.

Computed figures are wrapped in ``<span class="nb-num">`` carrying their derivation (formula,
inputs with values, source) in ``data-derivation`` and ``title``, so a reviewer sees it on
hover or keyboard focus; missing values are ``<span class="nb-missing">未填报</span>``.
"""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path

from helpers import fmt


def esc(text: object) -> str:
    """Escape text for HTML content and attributes."""
    return escape(str(text), quote=True)


def num(text: str, derivation: str, missing: bool = False) -> str:
    """A figure with its derivation attached."""
    if missing:
        return (
            f'<span class="nb-missing" tabindex="0" title="{esc(derivation)}" '
            f'data-derivation="{esc(derivation)}">{esc(fmt.MISSING)}</span>'
        )
    return (
        f'<span class="nb-num" tabindex="0" title="{esc(derivation)}" '
        f'data-derivation="{esc(derivation)}">{esc(text)}</span>'
    )


def disclosure(notes: tuple[str, ...] | list[str]) -> str:
    """What the reader is told beside a figure that differs from the school's printed one."""
    if not notes:
        return ""
    return f'<span class="nb-disclosure">（{esc("；".join(notes))}）</span>'


FOOTNOTE_MARKS = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def footnote_mark(n: int) -> str:
    """The mark of a table's n-th note (1-based): ①, ②, …"""
    mark = FOOTNOTE_MARKS[n - 1] if n <= len(FOOTNOTE_MARKS) else f"[{n}]"
    return f'<sup class="nb-fn">{mark}</sup>'


def slug(number: str) -> str:
    """Anchor id for a section number: ``1.1.2`` → ``s-1-1-2``."""
    return "s-" + re.sub(r"[^0-9A-Za-z]+", "-", number).strip("-")


def heading(level: int, text: str, anchor: str | None = None, cls: str = "") -> str:
    attrs = f' id="{esc(anchor)}"' if anchor else ""
    attrs += f' class="{esc(cls)}"' if cls else ""
    return f"<h{level}{attrs}>{esc(text)}</h{level}>"


def para(inner_html: str, cls: str = "") -> str:
    return f'<p class="{esc(cls)}">{inner_html}</p>' if cls else f"<p>{inner_html}</p>"


def figure_png(png: bytes, number: int, title: str, alt: str, note: str = "") -> str:
    """A chart embedded as a PNG data URI with its caption 图N."""
    data = base64.b64encode(png).decode("ascii")
    note_html = f'<div class="nb-note">{esc(note)}</div>' if note else ""
    return (
        f'<figure class="nb-figure" id="fig-{number}">'
        f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>图{number} {esc(title)}</figcaption>{note_html}</figure>"
    )


PHOTO_NOT_INCLUDED = "原报告配图（本报告未收录图片）："
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def photo(caption: str, path: Path | None = None) -> str:
    """A photo of the source report: the image (embedded) with its caption, or, when no file
    is supplied, the caption alone marked 原报告配图（本报告未收录图片）. Never numbered 图N:
    图N are the report's own charts."""
    if path is None:
        return (
            f'<p class="nb-photo-missing"><span class="nb-photo-label">{PHOTO_NOT_INCLUDED}</span>'
            f"{esc(caption)}</p>"
        )
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure class="nb-photo"><img src="data:{mime};base64,{data}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def table(
    number: int | None,
    title: str,
    header: list[str],
    rows: list[list[str]],
    numeric: list[bool] | None = None,
    note: str = "",
    anchor: str | None = None,
) -> str:
    """A table with its caption (表N above it). Cells are already-escaped HTML."""
    numeric = numeric or [False] * len(header)
    caption = f"表{number} {esc(title)}" if number is not None else esc(title)
    head = "".join(
        f'<th scope="col" class="{"nb-n" if n else ""}">{esc(h)}</th>'
        for h, n in zip(header, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"nb-n" if n else ""}">{c}</td>' for c, n in zip(r, numeric, strict=True)
        )
        + "</tr>"
        for r in rows
    )
    anchor = anchor or (f"tab-{number}" if number is not None else None)
    id_attr = f' id="{esc(anchor)}"' if anchor else ""
    note_html = f'<div class="nb-note">{esc(note)}</div>' if note else ""
    return (
        f'<figure class="nb-table"{id_attr}>'
        f"<figcaption>{caption}</figcaption>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note_html}</figure>"
    )
