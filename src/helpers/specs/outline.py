"""The report outline (specs/report.yaml): the report title and the chapters in order.

Everything a chapter shows is in its notebook (helpers.report.notebooks reads them).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from helpers.specs.cache import cached
from helpers.specs.dictionary import SPECS


@dataclass(frozen=True)
class Chapter:
    id: str
    notebook: str
    title: str

    @property
    def heading(self) -> str:
        return f"{self.id}. {self.title}" if self.id.isdigit() and self.id != "0" else self.title


@cached
def outline() -> tuple[Chapter, ...]:
    raw = yaml.safe_load((SPECS / "report.yaml").read_text(encoding="utf-8"))
    return tuple(Chapter(str(c["id"]), c["notebook"], c["title"]) for c in raw["chapters"])


@cached
def _title() -> str:
    return str(yaml.safe_load((SPECS / "report.yaml").read_text(encoding="utf-8"))["title"])


def report_title(year: int | None = None) -> str:
    """The report's name from specs/report.yaml, with ``（2024年度）`` when a year is given."""
    title = _title()
    return title if year is None else f"{title}（{int(year)}年度）"


def chapter(key: str) -> Chapter:
    """A chapter by id (``"1"``) or notebook stem (``"01_talent"``)."""
    for c in outline():
        if key in (c.id, c.notebook):
            return c
    raise KeyError(f"没有章节 {key!r}；可用：{', '.join(c.notebook for c in outline())}")
