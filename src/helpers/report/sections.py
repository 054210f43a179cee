"""The reader's view of a chapter notebook's sections: a section whose cells show nothing is
left out, and numbered headings get stable anchors.

A chapter notebook holds a section heading (a Markdown cell, ``### 1.1.2 学生情况``) and the
cells that show its blocks. For a year whose data does not cover a section, those cells show
nothing: the heading is then dropped too, so a partial year reads as what it has, not as a
list of empty headings. A heading that has sub-sections stays while any of them shows
something.
"""

from __future__ import annotations

import html
import re
from typing import Any

from helpers.report.markup import slug
from helpers.report.notebooks import cell_source as _source
from helpers.report.notebooks import keep_shown

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_NUMBER = re.compile(r"^(\d+(?:\.\d+)*)\s")


_CHAPTER = re.compile(r'^\s*<h1\b[^>]*class="nb-chapter"[^>]*>[^<]*</h1>\s*$')
_STYLE = re.compile(r"<style\b.*?</style>", re.S)


def _chapter_heading(cell: Any) -> bool:
    """A code cell whose only output is the chapter heading (``rep.chapter("2")``; the title
    page of chapter 0 is more than a heading and is never dropped)."""
    outs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
    if len(outs) != 1 or outs[0].get("output_type") not in ("display_data", "execute_result"):
        return False
    rich = outs[0].get("data", {}).get("text/html")
    if rich is None:
        return False
    text = "".join(rich) if isinstance(rich, list) else str(rich)
    return bool(_CHAPTER.match(_STYLE.sub("", text)))


def heading_level(cell: Any) -> int | None:
    """The level of a Markdown cell that is only a heading (``## 1.1 …`` → 2), or 1 for the
    chapter heading a code cell shows (a chapter with nothing under it is left out too);
    else None."""
    if cell.get("cell_type") == "code":
        return 1 if _chapter_heading(cell) else None
    if cell.get("cell_type") != "markdown":
        return None
    lines = [ln for ln in _source(cell).strip().splitlines() if ln.strip()]
    if len(lines) != 1:
        return None
    m = _HEADING.match(lines[0].strip())
    return len(m.group(1)) if m else None


def shows_something(cell: Any) -> bool:
    """True when a cell puts anything on the page: Markdown text, or a non-empty output."""
    if cell.get("cell_type") == "markdown":
        return bool(_source(cell).strip())
    if cell.get("cell_type") != "code":
        return False
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout" and str(out.get("text", "")).strip():
            return True
        if kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            if any(k.startswith("image/") for k in data):
                return True
            rich = data.get("text/html")
            if rich is not None:
                text = "".join(rich) if isinstance(rich, list) else str(rich)
                if text.strip():
                    return True
            elif str(data.get("text/plain", "")).strip():
                return True
    return False


def _draws_nothing(cell: Any) -> bool:
    """A code cell that puts nothing on the page: no output but (blank) HTML or text. Left
    on the page as an empty block, it comes between a heading and its section's text, and a
    printed page can then break right after the heading."""
    if cell.get("cell_type") != "code" or shows_something(cell):
        return False
    shown = {"text/html", "text/plain"}
    return all(set(o.get("data", {})) <= shown for o in cell.get("outputs", []))


def drop_empty(cells: list[Any]) -> list[Any]:
    """The cells without those that draw nothing and without the headings of sections that
    show nothing."""
    return [c for c in keep_shown(cells, heading_level, shows_something) if not _draws_nothing(c)]


def anchor_headings(cells: list[Any]) -> list[Any]:
    """Section headings as HTML headings with stable anchors — ``#s-1-1-2`` for a numbered
    one, ``#s-数据核验`` for an unnumbered one — the same in every build and year."""
    for cell in cells:
        level = heading_level(cell)
        if level is None or cell.get("cell_type") != "markdown":
            continue
        text = _HEADING.match(_source(cell).strip()).group(2)  # type: ignore[union-attr]
        m = _NUMBER.match(text)
        anchor = slug(m.group(1)) if m else f"s-{text}"
        cell["source"] = f'<h{level} id="{html.escape(anchor)}">{html.escape(text)}</h{level}>'
    return cells
