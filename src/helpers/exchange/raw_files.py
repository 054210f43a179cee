"""The records read from a workbook as the raw files of a year (facts.yaml, meta.yaml, the
CSV tables), with the line of every value so a problem found in a file is traced back to its
cell."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import yaml

from helpers.exchange.import_xlsx import ObsRecord, Workbook
from helpers.specs.dictionary import Dictionary, load_dictionary

FACTS_HEADER = """\
# Scalar facts of the {year} report year, imported from the workbook {workbook}
# (nianbao import-xlsx). Each observation: value, source (section of the source document),
# optional period / qualifier / use / doc / note, and cell: the workbook cell the value was
# read from. A fact the source does not state is absent, never 0. Field meanings, units and
# ranges: docs/data-dictionary.md.
"""


@dataclass
class RawFiles:
    """File name → text (None: the year has no such file), and where each value stands."""

    files: dict[str, str | None] = field(default_factory=dict)
    fact_lines: dict[int, ObsRecord] = field(default_factory=dict)
    table_lines: dict[str, dict[int, int]] = field(default_factory=dict)  # csv line → sheet row
    meta_lines: dict[int, str] = field(default_factory=dict)


def _flow(mapping: dict[str, Any]) -> str:
    return yaml.safe_dump(
        mapping, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**9
    ).strip()


def cell_of(wb: Workbook, o: ObsRecord, column: str = "value") -> str:
    """``[book.xlsx]基础数据!E14``: Excel's own notation of a cell in another workbook."""
    from openpyxl.utils import get_column_letter

    from helpers.exchange.workbook_layout import FACTS_SHEET

    col = get_column_letter(wb.fact_columns.get(column, 1))
    return f"{FACTS_SHEET}!{col}{o.row}"


def observation(wb: Workbook, o: ObsRecord, d: Dictionary) -> dict[str, Any]:
    spec = d.facts[o.field]
    value: Any = o.value
    if isinstance(value, float) and value.is_integer() and spec.type == "integer":
        value = int(value)
    item: dict[str, Any] = {"value": value, "source": o.source}
    for key in ("period", "qualifier"):
        if getattr(o, key):
            item[key] = getattr(o, key)
    if o.use:
        item["use"] = True
    if o.doc:
        item["doc"] = o.doc
    if o.note:
        item["note"] = o.note
    item["cell"] = f"[{wb.name}]{cell_of(wb, o)}"
    return item


def facts_yaml(wb: Workbook, year: int, out: RawFiles, d: Dictionary) -> str:
    grouped: dict[str, list[ObsRecord]] = {}
    for o in wb.observations:
        grouped.setdefault(o.field, []).append(o)
    lines = FACTS_HEADER.format(year=year, workbook=wb.name).splitlines()
    for name, obs in grouped.items():
        if len(obs) == 1:
            lines.append(f"{name}: {_flow(observation(wb, obs[0], d))}")
            out.fact_lines[len(lines)] = obs[0]
            continue
        lines.append(f"{name}:")
        for o in obs:
            lines.append(f"  - {_flow(observation(wb, o, d))}")
            out.fact_lines[len(lines)] = o
    return "\n".join(lines) + "\n"


def meta_yaml(wb: Workbook, year: int, out: RawFiles, d: Dictionary) -> str:
    lines = [f"# Report-year metadata, imported from the workbook {wb.name}."]
    spec = d.files.get("meta.yaml")
    for key in spec.keys if spec else ("year", "school_year", "default_document"):
        value = wb.meta.get(key, year if key == "year" else None)
        if value is None:
            continue
        lines.append(yaml.safe_dump({key: value}, allow_unicode=True, width=10**9).strip())
        out.meta_lines[len(lines)] = key
    return "\n".join(lines) + "\n"


def table_csv(wb: Workbook, name: str, out: RawFiles) -> str | None:
    record = wb.tables.get(name)
    if record is None or not record.rows:
        return None
    keys = list(record.spec.columns)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(keys)
    lines: dict[int, int] = {}
    line = 2
    for sheet_row, row in record.rows:
        before = buf.tell()
        writer.writerow(["" if row.get(k) is None else row[k] for k in keys])
        lines[line] = sheet_row
        line += buf.getvalue()[before:].count("\n")
    out.table_lines[name] = lines
    return buf.getvalue()


CELLS_FILE = "imported_cells.csv"  # where each table row of the year came from


def cells_csv(wb: Workbook, out: RawFiles) -> str | None:
    """Provenance of the table rows: ``file,line,cells`` with the workbook range each CSV line
    was read from (``[book.xlsx]技能大赛获奖!A3:F3``), as facts.yaml's ``cell`` key is for
    facts. The loader accepts the file and reads no data from it."""
    from openpyxl.utils import get_column_letter

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "line", "cells"])
    rows = 0
    for name, lines in out.table_lines.items():
        record = wb.tables[name]
        first = get_column_letter(min(record.columns.values()))
        last = get_column_letter(max(record.columns.values()))
        for line, sheet_row in lines.items():
            cells = f"[{wb.name}]{record.sheet}!{first}{sheet_row}:{last}{sheet_row}"
            writer.writerow([record.spec.file, line, cells])
            rows += 1
    return buf.getvalue() if rows else None


def render(wb: Workbook, year: int, d: Dictionary | None = None) -> RawFiles:
    """The raw files of the year as the workbook states it."""
    d = d or load_dictionary()
    out = RawFiles()
    out.files["meta.yaml"] = meta_yaml(wb, year, out, d)
    out.files["facts.yaml"] = facts_yaml(wb, year, out, d)
    for spec in d.tables.values():
        out.files[spec.file] = table_csv(wb, spec.name, out)
    out.files[CELLS_FILE] = cells_csv(wb, out)
    return out


def school_yaml(school_id: str, name: str) -> str:
    """A new school's school.yaml: its id and name (the rest is optional)."""
    return yaml.safe_dump(
        {"school_id": school_id, "name": name}, allow_unicode=True, sort_keys=False
    )
