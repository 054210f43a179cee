"""The pages of a printed report, read back with poppler, for the print checks of
tests/test_browser.py: the running header and page number of each page (the text in its top
and bottom margins), and pages that hold nothing but a caption or a heading.

``pdftotext -bbox`` gives every word with its position, so header, body and footer are told
apart by where they are on the page, not by the order the text comes out in.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("pdftotext", "pdfimages", "pdftoppm")
PT_PER_CM = 72 / 2.54
TOP_MARGIN = 2.2 * PT_PER_CM - 1  # report.css: @page margin 2.2cm 1.8cm 2cm
BOTTOM_MARGIN = 1.9 * PT_PER_CM
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def squeeze(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    header: str  # text in the top margin, whitespace removed
    footer: str  # text in the bottom margin, whitespace removed
    lines: tuple[str, ...]  # the body's lines, top to bottom, whitespace removed
    images: int  # raster images drawn on the page (charts, photos)


def _lines(words: list[tuple[float, float, str]]) -> tuple[str, ...]:
    """Words (y, x, text) grouped into lines by their vertical position."""
    out: list[tuple[float, list[tuple[float, str]]]] = []
    for y, x, text in sorted(words):
        if out and abs(out[-1][0] - y) < 3:
            out[-1][1].append((x, text))
        else:
            out.append((y, [(x, text)]))
    return tuple("".join(t for _, t in sorted(ws)) for _, ws in out)


def pages(pdf: Path) -> list[Page]:
    """Every page of the PDF: header, footer, body lines and image count."""
    raw = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    images: dict[int, int] = {}
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    for row in listing.splitlines()[2:]:
        cols = row.split()
        if len(cols) > 2 and cols[0].isdigit() and cols[2] == "image":
            images[int(cols[0])] = images.get(int(cols[0]), 0) + 1
    out = []
    for i, (_w, h, body) in enumerate(_PAGE.findall(raw)):
        height = float(h)
        top, bottom, middle = [], [], []
        for x0, y0, _x1, y1, text in _WORD.findall(body):
            word = (float(y0), float(x0), html.unescape(text))
            if float(y1) <= TOP_MARGIN:
                top.append(word)
            elif float(y0) >= height - BOTTOM_MARGIN:
                bottom.append(word)
            else:
                middle.append(word)
        out.append(
            Page(
                i + 1,
                "".join(_lines(top)),
                "".join(_lines(bottom)),
                _lines(middle),
                images.get(i + 1, 0),
            )
        )
    return out


def page_number(page: Page) -> int | None:
    """The number printed at the foot of the page (``— 12 —``)."""
    m = re.fullmatch(r"—(\d+)—", page.footer)
    return int(m.group(1)) if m else None


def only_captions_or_headings(page: Page, labels: set[str]) -> bool:
    """True when the page shows nothing but captions or headings: every body line is (a piece
    of) one of ``labels`` and no image is drawn on it."""
    if page.images or not page.lines:
        return False
    known = {squeeze(t) for t in labels}
    return all(any(line in t for t in known) for line in page.lines)


def save_png(pdf: Path, page: int, target: Path, dpi: int = 80) -> Path:
    """One page as a PNG (pdftoppm)."""
    stem = target.with_suffix("")
    cmd = ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile"]
    subprocess.run([*cmd, str(pdf), str(stem)], check=True, capture_output=True)
    return stem.with_suffix(".png")
