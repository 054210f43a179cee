"""Reading a school workbook back: sheets, headers and cells into plain records, each with the
cell it came from. Nothing here writes files; :mod:`helpers.exchange.apply` validates the
records as raw data and writes them.

Excel habits: headers are found by their text in the first rows (a merged title or a second
header row above them is fine; a header merged down two rows counts for its column), merged
data cells (a competition merged over several rows) give their value to every row they span,
trailing empty rows and columns are ignored, numbers stored as text, thousands separators,
full-width digits, ``%`` and dates as serial numbers are read (:mod:`helpers.exchange.cells`).
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.errors import Problem
from helpers.exchange import cells
from helpers.exchange import workbook_layout as layout
from helpers.ingest.numbers import parse_number
from helpers.specs.dictionary import Dictionary, TableSpec, load_dictionary

HEADER_SCAN_ROWS = 10


@dataclass
class ObsRecord:
    """One row of 基础数据 with a value."""

    field: str
    row: int
    value: int | float
    source: str | None = None
    period: str | None = None
    qualifier: str | None = None
    use: bool = False
    note: str | None = None
    doc: str | None = None


@dataclass
class TableRecord:
    """A table sheet: its rows as the CSV text of each column, with their sheet rows."""

    spec: TableSpec
    sheet: str
    columns: dict[str, int]  # column key → sheet column (1-based)
    rows: list[tuple[int, dict[str, str | None]]] = field(default_factory=list)


@dataclass
class Workbook:
    """Everything an import reads from a workbook, and what was wrong with it."""

    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    meta_rows: dict[str, int] = field(default_factory=dict)  # key → row of 基本信息
    observations: list[ObsRecord] = field(default_factory=list)
    fact_columns: dict[str, int] = field(default_factory=dict)
    tables: dict[str, TableRecord] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class _Sheet:
    """Cell values of a sheet with vertical merges filled in (the top cell's value)."""

    def __init__(self, ws: Any):
        self.ws = ws
        self.title = ws.title
        self._merged: dict[tuple[int, int], tuple[int, int]] = {}
        for rng in ws.merged_cells.ranges:
            for r in range(rng.min_row, rng.max_row + 1):
                self._merged[(r, rng.min_col)] = (rng.min_row, rng.min_col)

    def value(self, row: int, col: int) -> Any:
        r, c = self._merged.get((row, col), (row, col))
        return self.ws.cell(row=r, column=c).value

    def number_format(self, row: int, col: int) -> str:
        r, c = self._merged.get((row, col), (row, col))
        return self.ws.cell(row=r, column=c).number_format or ""

    @property
    def max_row(self) -> int:
        return self.ws.max_row

    @property
    def max_col(self) -> int:
        return self.ws.max_column


def _norm(text: Any) -> str:
    s = re.sub(r"\s+", "", str(text or "")).strip("*＊")
    return re.sub(r"[（(][^）)]*[）)]$", "", s)


def _find_header(
    sheet: _Sheet, names: dict[str, set[str]]
) -> tuple[int | None, dict[str, int], list[int]]:
    """The header row (the one among the first rows naming most known columns), the column of
    each key, and the columns whose header is not known."""
    best: tuple[int, int | None] = (0, None)
    for r in range(1, min(sheet.max_row, HEADER_SCAN_ROWS) + 1):
        found = sum(
            any(_norm(sheet.value(r, c)) in ns for ns in names.values())
            for c in range(1, sheet.max_col + 1)
        )
        if found > best[0]:
            best = (found, r)
    row = best[1]
    if row is None:
        return None, {}, []
    columns: dict[str, int] = {}
    unknown = []
    for c in range(1, sheet.max_col + 1):
        text = _norm(sheet.value(row, c))
        if not text:
            continue
        key = next((k for k, ns in names.items() if text in ns), None)
        if key is None or key in columns:
            unknown.append(c)
        else:
            columns[key] = c
    return row, columns, unknown


def _unknown_columns(sheet: _Sheet, header_row: int, unknown: list[int]) -> list[Problem]:
    """A column the sheet does not define is an error only when it holds data."""
    out = []
    for c in unknown:
        filled = [
            r
            for r in range(header_row + 1, sheet.max_row + 1)
            if not cells.is_empty(sheet.value(r, c))
        ]
        if filled:
            out.append(
                cells.problem(
                    cells.ref(sheet.title, header_row, c),
                    "unknown_column",
                    "无法识别的列（表头不是本表的列名，或列名重复），其中填有数据",
                    value=sheet.value(header_row, c),
                    hint="请使用导出的工作簿的列，不要新增或改名",
                )
            )
    return out


def _missing_columns(sheet: str, row: int | None, keys: list[str], labels: dict[str, str]):
    return [
        cells.problem(
            f"{sheet}!{row or 1}:{row or 1}",
            "missing_column",
            f"表头中缺少必需的列“{labels[k]}”",
            hint="请使用导出的工作簿，不要删除或改名列",
        )
        for k in keys
    ]


def _read_meta(sheet: _Sheet, out: Workbook, d: Dictionary) -> None:
    names = {c.key: {_norm(c.header), c.key} for c in layout.META_COLUMNS}
    header_row, columns, _ = _find_header(sheet, names)
    missing = [k for k in ("value",) if k not in columns] + (
        [] if "key" in columns or "label" in columns else ["key"]
    )
    if header_row is None or missing:
        labels = {c.key: c.header for c in layout.META_COLUMNS}
        out.problems += _missing_columns(sheet.title, header_row, missing or ["value"], labels)
        return
    by_label = {_norm(label): key for key, label, _, _ in layout.meta_rows(d)}
    known = {key for key, *_ in layout.meta_rows(d)}
    for r in range(header_row + 1, sheet.max_row + 1):
        key = sheet.value(r, columns["key"]) if "key" in columns else None
        if key not in known and "label" in columns:
            key = by_label.get(_norm(sheet.value(r, columns["label"])), key)
        raw = sheet.value(r, columns["value"])
        where = cells.ref(sheet.title, r, columns["value"])
        if key not in known:
            if not cells.is_empty(raw):
                out.problems.append(
                    cells.problem(where, "unknown_key", "无法识别的项目", value=raw)
                )
            continue
        read = cells.read_text(raw, where, str(key))
        if read.value is None:
            continue
        value: Any = read.value
        if key == "year":
            try:
                value = int(float(str(value)))
            except ValueError:
                out.problems.append(
                    cells.problem(where, "not_a_number", "年度应为四位数字", value=raw)
                )
                continue
        out.meta[str(key)] = value
        out.meta_rows[str(key)] = r


def _read_facts(sheet: _Sheet, out: Workbook, d: Dictionary) -> None:
    names = {c.key: {_norm(c.header), c.key} for c in layout.FACT_COLUMNS}
    header_row, columns, unknown = _find_header(sheet, names)
    need = ["value", "source"]
    missing = [k for k in need if k not in columns]
    if "field" not in columns and "label" not in columns:
        missing.append("label")
    if header_row is None or missing:
        labels = {c.key: c.header for c in layout.FACT_COLUMNS}
        out.problems += _missing_columns(sheet.title, header_row, missing or need, labels)
        return
    out.fact_columns = columns
    out.problems += _unknown_columns(sheet, header_row, unknown)
    by_label = {_norm(s.label): n for n, s in d.facts.items()}
    for r in range(header_row + 1, sheet.max_row + 1):

        def get(key: str, row: int = r) -> Any:
            return sheet.value(row, columns[key]) if key in columns else None

        raw = get("value")
        if cells.is_empty(raw):
            continue
        name = get("field")
        if name not in d.facts:
            name = by_label.get(_norm(get("label")))
        where = cells.ref(sheet.title, r, columns["value"])
        if name is None:
            out.problems.append(
                cells.problem(
                    cells.ref(sheet.title, r, columns.get("label", columns.get("field", 1))),
                    "unknown_field",
                    "这一行填了数值，但“中文名称”不是数据字典中的数据项",
                    value=get("label") or get("field"),
                    hint="请照抄本表上方同一数据项的中文名称（见 docs/data-dictionary.md）",
                )
            )
            continue
        spec = d.facts[name]
        read = cells.read_number(
            raw, sheet.number_format(r, columns["value"]), spec, where, spec.label
        )
        texts: dict[str, str | None] = {}
        problems = [read.problem, read.note]
        for key in ("source", "period", "qualifier", "note", "doc"):
            if key not in columns:
                continue
            t = cells.read_text(
                get(key), cells.ref(sheet.title, r, columns[key]), spec.label, date=key == "period"
            )
            texts[key] = t.value
            problems += [t.problem, t.note]
        use = cells.read_use(
            get("use"), cells.ref(sheet.title, r, columns.get("use", 1)), spec.label
        )
        problems.append(use.problem)
        out.problems += [p for p in problems if p is not None]
        if read.value is None or use.problem is not None:
            continue
        out.observations.append(ObsRecord(name, r, read.value, use=bool(use.value), **texts))


def _csv_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decimals(number_format: str) -> int | None:
    m = re.fullmatch(r"0(?:\.(0+))?", number_format or "")
    return None if m is None else len(m.group(1) or "")


def _read_table(sheet: _Sheet, spec: TableSpec, out: Workbook) -> None:
    names = {k: {_norm(layout.header(c)), _norm(c.label), k} for k, c in spec.columns.items()}
    header_row, columns, unknown = _find_header(sheet, names)
    required = [k for k, c in spec.columns.items() if c.required]
    missing = [k for k in required if k not in columns]
    if header_row is None or missing:
        labels = {k: c.label for k, c in spec.columns.items()}
        out.problems += _missing_columns(sheet.title, header_row, missing or required, labels)
        return
    out.problems += _unknown_columns(sheet, header_row, unknown)
    record = TableRecord(spec, sheet.title, columns)
    for r in range(header_row + 1, sheet.max_row + 1):
        raws = {k: sheet.value(r, c) for k, c in columns.items()}
        if all(cells.is_empty(v) for v in raws.values()):
            continue
        row: dict[str, str | None] = {}
        for key, raw in raws.items():
            col = spec.columns[key]
            where = cells.ref(sheet.title, r, columns[key])
            label = layout.header(col)
            if col.numeric:
                fmt = sheet.number_format(r, columns[key])
                read = cells.read_number(raw, fmt, col, where, label)
                text = _csv_text(read.value)
                places = _decimals(fmt)
                if col.type == "decimal" and isinstance(raw, int | float) and places:
                    text = f"{float(raw):.{places}f}"
                elif col.type == "decimal" and isinstance(raw, str) and read.value is not None:
                    text = parse_number(raw, "decimal", percent_ok=True).text
            else:
                read = cells.read_text(raw, where, label)
                text = read.value
            out.problems += [p for p in (read.problem, read.note) if p is not None]
            row[key] = text
        record.rows.append((r, row))
    out.tables[spec.name] = record


def read_workbook(path: str | os.PathLike[str], d: Dictionary | None = None) -> Workbook:
    """Read a workbook into records; every problem names the sheet and cell."""
    from openpyxl import load_workbook

    d = d or load_dictionary()
    path = Path(path)
    out = Workbook(path.name)
    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        out.problems.append(
            Problem(
                path.name,
                "not_xlsx",
                f"无法作为 Excel 工作簿（.xlsx）打开：{e}",
                hint="请在 Excel 中“另存为 → Excel 工作簿 (*.xlsx)”",
            )
        )
        return out
    present = {ws.title.strip(): ws for ws in wb.worksheets}
    expected = set(layout.required_sheets(d)) | {layout.GUIDE_SHEET}
    for title in present:
        if title not in expected:
            out.problems.append(
                Problem(
                    f"{title}!",
                    "unknown_sheet",
                    "工作簿中有无法识别的工作表（其数据不会被读取）",
                    value=title,
                    hint=f"可用的工作表：{'、'.join(layout.required_sheets(d))}",
                )
            )
    for title in layout.required_sheets(d):
        if title not in present:
            out.problems.append(
                Problem(
                    path.name,
                    "missing_sheet",
                    f"工作簿缺少必需的工作表“{title}”",
                    value=title,
                    hint="请使用 nianbao export-xlsx 导出的工作簿，不要删除或改名工作表；没有数据的表保留表头即可",
                )
            )
    if (meta := present.get(layout.META_SHEET)) is not None:
        _read_meta(_Sheet(meta), out, d)
    if (facts := present.get(layout.FACTS_SHEET)) is not None:
        _read_facts(_Sheet(facts), out, d)
    for title, spec in layout.table_sheets(d).items():
        if title in present:
            _read_table(_Sheet(present[title]), spec, out)
    return out
