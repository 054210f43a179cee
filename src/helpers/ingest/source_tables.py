"""The source document's own tables as printed (``source_tables.csv``): titles and headers.

The values in the source's tables are facts (facts.yaml). This module reads how each table was
printed (its number, title, section and column headers) so that the audit can check a table
against itself:

- :func:`missing_measures`: a title that lists measures (``就业人数、就业率、对口就业率``) names
  one that no column gives;
- :func:`repeated_headers`: the same header printed over more than one column;
- :func:`inconsistencies`: rows of one table that disagree on its title or section (a
  transcription slip).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

TABLE = "source_tables"
# a unit printed after a header: 就业人数（人）, 就业率（%）, 金额(元)
_UNIT = re.compile(r"[（(][^（）()]*[）)]$")
_SPACE = re.compile(r"\s+")
# the list separator of a title's measures; the last item may be joined by 和 / 与 / 及
_ITEM = "、"
_LAST = re.compile(r"(?<=[^\s])(?:和|与|及)(?=[^\s])")


@dataclass(frozen=True)
class Column:
    """One printed column of a source table."""

    position: int
    header: str
    group: str  # the spanning header above it ("" when none)
    line: int  # line in source_tables.csv

    @property
    def shown(self) -> str:
        """The header as a reader finds it: ``第一产业 / 就业人数（人）``."""
        return f"{self.group} / {self.header}" if self.group else self.header


@dataclass(frozen=True)
class SourceTable:
    """A table of the source document: number, title, section and columns in order."""

    number: int
    title: str
    section: str
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        return f"表{self.number}"


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else _SPACE.sub(" ", str(value)).strip()


def normalize(text: str) -> str:
    """A header or measure compared without spaces or a trailing unit in brackets."""
    return _UNIT.sub("", _SPACE.sub("", text))


def read(df: pd.DataFrame | None) -> list[SourceTable]:
    """The validated ``source_tables`` frame (index = CSV line) as tables, by table number.

    A table's title and section are those of its first row (see :func:`inconsistencies`).
    """
    if df is None or df.empty:
        return []
    out = []
    for number, rows in df.groupby("table", sort=True):
        rows = rows.sort_values("position")
        first = rows.iloc[0]
        columns = tuple(
            Column(int(r["position"]), _text(r["header"]), _text(r.get("group")), int(line))
            for line, r in rows.iterrows()
        )
        out.append(SourceTable(int(number), _text(first["title"]), _text(first["source"]), columns))
    return out


def inconsistencies(df: pd.DataFrame | None) -> list[tuple[int, str, str, str, int]]:
    """Rows whose title or section differs from the first row of their table:
    ``(line, table name, field label, value, first line)``."""
    if df is None or df.empty:
        return []
    out = []
    for number, rows in df.groupby("table", sort=True):
        first_line = int(rows.index.min())
        for column, word in (("title", "表题"), ("source", "章节")):
            expected = _text(rows.loc[first_line, column])
            for line, value in rows[column].items():
                if _text(value) != expected:
                    out.append((int(line), f"表{int(number)}", word, _text(value), first_line))
    return sorted(out)


def title_measures(title: str) -> list[str]:
    """The measures a title lists, split at ``、`` (``就业人数、就业率、对口就业率`` → three), or
    [] when the title is one phrase rather than a list (``毕业生就业分布``)."""
    items = [i for i in _SPACE.sub("", title).split(_ITEM) if i]
    return items if len(items) >= 2 else []


def missing_measures(table: SourceTable) -> list[str]:
    """Measures the title lists that match no column header (nor a spanning header), compared
    without spaces and units. The last item may join two measures with 和 / 与 / 及
    (``就业率和对口就业率``); it is split only when it matches no header as a whole."""
    given = set()
    for c in table.columns:
        given |= {normalize(c.header), normalize(c.group), normalize(c.group + c.header)}
    given.discard("")
    items = title_measures(table.title)
    if items and normalize(items[-1]) not in given:
        items[-1:] = [i for i in _LAST.split(items[-1]) if i]
    return [m for m in items if normalize(m) not in given]


def repeated_headers(table: SourceTable) -> list[tuple[str, list[Column]]]:
    """Headers printed over more than one column (under the same spanning header)."""
    seen: dict[tuple[str, str], list[Column]] = {}
    for c in table.columns:
        if c.header:
            seen.setdefault((c.group, _SPACE.sub("", c.header)), []).append(c)
    return [(cols[0].shown, cols) for cols in seen.values() if len(cols) > 1]
