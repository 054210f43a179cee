"""The report outline (specs/report.yaml): chapters, sections, blocks, numbering, inputs.

Figure and table numbers run in order across the whole report. They are assigned from the
outline and from which figures have data for the school-year, before anything is drawn, so
chapters executed in parallel processes agree on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from helpers import paths
from helpers.ingest.narrative import PLACEHOLDER
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


def _section_of(narrative_section: str, c: Chapter) -> bool:
    numbers = {s.number for s in c.sections}
    return narrative_section in numbers


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of a folder's files: a cache key that changes with any edit."""
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()))


@lru_cache(maxsize=16)
def _narratives(folder: Path, signature: tuple) -> tuple:
    """The year's narrative files, parsed once per build for all chapters (keyed by signature)."""
    from helpers.ingest.narrative import load_narratives

    return tuple(load_narratives(folder, str, check=False)[0])


def chapter_inputs(
    chapter_key: str, school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """The raw files a chapter's output depends on (for incremental builds).

    Every chapter depends on school.yaml and the year's meta.yaml, and on the Markdown files of
    its own sections. A chapter that shows any figure (a template, table, chart, generated
    paragraph, or a placeholder in its prose) also depends on the structured data —
    facts.yaml, published.csv and the CSV tables — of this and the earlier years (year-over-
    year phrases, histories and multi-year charts read them; figure numbers depend on which
    charts have data anywhere in the report).
    """
    c = chapter(chapter_key)
    school = paths.school_dir(school_id, data_dir)
    folder = paths.year_dir(school_id, year, data_dir)
    files = [school / "school.yaml", folder / "meta.yaml"]
    narratives = _narratives(folder, _signature(folder / "text"))
    case_numbers = {b["case"] for s in c.sections for b in s.blocks if "case" in b}
    wants_challenges = any("challenges" in b for s in c.sections for b in s.blocks)
    own = [
        n
        for n in narratives
        if (n.kind == "case" and n.number in case_numbers)
        or (n.kind == "challenge" and wants_challenges)
        or (n.kind in ("section", "preface") and _section_of(n.section, c))
    ]
    files += [Path(n.file) for n in own]
    data_blocks = any(
        set(b) - {"narrative", "case", "challenges", "heading"}
        for s in c.sections
        for b in s.blocks
    )
    if data_blocks or any(PLACEHOLDER.search(n.body) for n in own):
        for y in paths.list_years(school_id, data_dir):
            if y > year:
                continue
            yf = school / str(y)
            files += sorted(
                p for p in yf.iterdir() if p.is_file() and p.suffix in (".yaml", ".csv")
            )
    return sorted(set(files))
