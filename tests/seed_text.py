"""The seed report's body (前言 to 面临挑战) as a sequence of units a reader would compare.

The seed is text extracted from the school's PDF: lines wrap mid-sentence, pages end with
footers (``— 25 —``), the cover title repeats after the preface, and tables come out one
cell or row per line. :func:`units` turns it into headings, photo or chart captions (图N),
tables (their caption 表N) and sentences (prose lines joined, then split after 。！？；).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tests.factories import SEED

CN_DIGITS = "一二三四五六七八九十"
# headings the PDF does not number (the only one: the run-in title of 3.3)
UNNUMBERED_HEADINGS = {"以“和合”理念为核心，构建四个文化教育区育人环境"}
_HEADING = [
    re.compile(r"^前言$"),
    re.compile(rf"^[{CN_DIGITS}]+、[^，。；：]{{2,15}}$"),
    re.compile(rf"^（[{CN_DIGITS}]+）[^，。；：]{{2,15}}$"),
    re.compile(r"^（\d）[^，。；：]{2,10}$"),
    re.compile(r"^[1-7](?:\.\d){0,2}\.?\s*[\u4e00-\u9fff]{2,20}$"),
    re.compile(r"^案例\s*\d+\s+\S.*$"),
    re.compile(r"^挑战\s*\d+：$"),
]
_CAPTION = re.compile(r"^图\s*(\d+)\s*(.+)$")
_TABLE_CAPTION = re.compile(r"^表\s*(\d+)\s*(.+)$")
_FOOTER = re.compile(r"^—\s*\d+\s*—$")
_COVER = ("会昌中等专业学校中等职业教育质量年度", "报告（2024 年度）")
_SECTION = re.compile(r"^(\d(?:\.\d)*)\.?\s*[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Unit:
    """One thing of the source to find in the report, with where it is in the seed."""

    kind: str  # heading | sentence | caption | table
    text: str
    line: int
    section: str
    number: int | None = None  # 图N / 表N of a caption or table
    body: str = ""  # a table's rows as the PDF gives them

    def __str__(self) -> str:
        return f"seed 第 {self.line} 行（§{self.section}，{self.kind}）：{self.text}"


@lru_cache(maxsize=1)
def units() -> tuple[Unit, ...]:
    """Every unit of the body in source order."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = next(i for i, x in enumerate(lines) if x.strip() == "前言")
    end = next(i for i, x in enumerate(lines) if x.strip() == "附表" and i > start)
    out: list[Unit] = []
    prose: list[tuple[int, str]] = []
    section = "前言"
    in_table: list[str] | None = None

    def flush() -> None:
        if not prose:
            return
        text = "".join(t for _, t in prose)
        first = prose[0][0]
        for m in re.finditer(r"[^。！？；]+[。！？；]?", text):
            s = m.group(0).strip()
            if re.search(r"[\u4e00-\u9fffA-Za-z0-9]", s):
                out.append(Unit("sentence", s, first, section))
        prose.clear()

    for i in range(start, end):
        line = lines[i].strip()
        no = i + 1
        if not line or _FOOTER.match(line) or line in _COVER:
            continue
        if in_table is not None:
            m = _TABLE_CAPTION.match(line)
            if m:
                body = "\n".join(in_table)
                out.append(Unit("table", m.group(2).strip(), no, section, int(m.group(1)), body))
                in_table = None
            else:
                in_table.append(line)
            continue
        if line.startswith("年度"):
            flush()
            in_table = [line]
            continue
        m = _CAPTION.match(line)
        if m:
            flush()
            out.append(Unit("caption", m.group(2).strip(), no, section, int(m.group(1))))
            continue
        if line in UNNUMBERED_HEADINGS or any(p.match(line) for p in _HEADING):
            flush()
            sm = _SECTION.match(line)
            if sm:
                section = sm.group(1)
            elif cm := re.match(r"(案例|挑战)\s*(\d+)", line):
                section = f"{section.split(' ')[0]} {cm.group(1)}{cm.group(2)}"
            out.append(Unit("heading", line, no, section))
            continue
        prose.append((no, line))
    flush()
    return tuple(out)
