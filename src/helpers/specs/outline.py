"""The report outline (specs/report.yaml): chapters, sections, blocks, numbering.

Figure and table numbers run in order across the whole report. They are assigned from the
outline and from which figures have data for the school-year, before anything is drawn, so
chapters executed in parallel processes agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from helpers.specs.dictionary import SPECS


@dataclass(frozen=True)
class Section:
    chapter: str
    number: str
    title: str
    blocks: tuple[dict[str, Any], ...]

    @property
    def depth(self) -> int:
        return self.number.count(".") + 1 if self.number[0].isdigit() else 1


@dataclass(frozen=True)
class Chapter:
    id: str
    notebook: str
    title: str
    sections: tuple[Section, ...]

    @property
    def heading(self) -> str:
        return f"{self.id}. {self.title}" if self.id.isdigit() and self.id != "0" else self.title


@lru_cache(maxsize=1)
def outline() -> tuple[Chapter, ...]:
    raw = yaml.safe_load((SPECS / "report.yaml").read_text(encoding="utf-8"))
    chapters = []
    for c in raw["chapters"]:
        sections = tuple(
            Section(str(c["id"]), str(s["number"]), s.get("title", ""), tuple(s.get("blocks", [])))
            for s in c["sections"]
        )
        chapters.append(Chapter(str(c["id"]), c["notebook"], c["title"], sections))
    return tuple(chapters)


def report_title(year: int | None = None) -> str:
    """The report's name from specs/report.yaml, with ``（2024年度）`` when a year is given."""
    title = yaml.safe_load((SPECS / "report.yaml").read_text(encoding="utf-8"))["title"]
    return title if year is None else f"{title}（{int(year)}年度）"


def chapter(key: str) -> Chapter:
    """A chapter by id (``"1"``) or notebook stem (``"01_talent"``)."""
    for c in outline():
        if key in (c.id, c.notebook):
            return c
    raise KeyError(f"没有章节 {key!r}；可用：{', '.join(c.notebook for c in outline())}")


def numbering(available: dict[tuple[str, str], bool]) -> dict[tuple[str, str], int]:
    """图N / 表N for every (kind, id) block in outline order whose data is available."""
    out: dict[tuple[str, str], int] = {}
    counters = {"figure": 0, "table": 0}
    for c in outline():
        for s in c.sections:
            for b in s.blocks:
                for kind in ("figure", "table"):
                    if kind in b and available.get((kind, b[kind]), False):
                        counters[kind] += 1
                        out[(kind, b[kind])] = counters[kind]
    return out
