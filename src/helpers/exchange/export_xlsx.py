"""``nianbao export-xlsx``: the workbook a school fills in, pre-filled with a year's data.

Sheets as :mod:`helpers.exchange.workbook_layout` describes them. Headers are frozen, columns
sized, units visible; Excel's data validation guards numbers, ranges and fixed choices (级别,
奖项, 限定, 采用); every cell staff must not edit is locked (sheet protection without a
password), the cells to fill are unlocked and shaded. Written atomically.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from helpers.atomic import atomic_path
from helpers.exchange import workbook_layout as layout
from helpers.exchange.guide import guide_lines
from helpers.exchange.year_data import YearData, read_year
from helpers.ingest.facts import QUALIFIERS
from helpers.specs.dictionary import Dictionary, FieldSpec, load_dictionary

HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
EDIT_FILL = PatternFill("solid", fgColor="FFF9E5")
BOLD = Font(bold=True)
UNLOCKED = Protection(locked=False)


def _protect(ws: Worksheet) -> None:
    """Sheet protection without a password: locked cells cannot be edited, columns and rows can
    still be resized and filtered."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = False


def _header(ws: Worksheet, headers: list[str], widths: list[float]) -> None:
    for i, (text, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=i, value=text)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.row_dimensions[1].height = 30


def _width(values: list[object], floor: float, cap: float = 60) -> float:
    """A column width that fits its widest value (CJK characters count double)."""
    best = floor
    for v in values:
        if v is None:
            continue
        text = str(v)
        best = max(best, sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2)
    return min(best, cap)


def _number_validation(spec: FieldSpec) -> DataValidation | None:
    """Excel's check of a numeric cell: whole or decimal, within the field's range."""
    if not spec.numeric:
        return None
    kind = "whole" if spec.type == "integer" else "decimal"
    lo, hi = spec.lower, spec.upper
    if lo is not None and hi is not None:
        dv = DataValidation(type=kind, operator="between", formula1=f"{lo:g}", formula2=f"{hi:g}")
        rule = f"{lo:g} 到 {hi:g} 之间的{'整数' if kind == 'whole' else '数'}"
    elif lo is not None:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{lo:g}")
        rule = f"不小于 {lo:g} 的{'整数' if kind == 'whole' else '数'}"
    else:
        dv = DataValidation(type=kind, operator="between", formula1="-1E+15", formula2="1E+15")
        rule = "数字"
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.errorTitle = "数值不符合要求"
    dv.error = f"此格应填{rule}；原文未给出的数请留空（不记 0）。"
    return dv


def _choice_validation(choices: tuple[str, ...] | list[str], what: str) -> DataValidation:
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    dv.showErrorMessage = True
    dv.errorTitle = f"{what}只能从列表中选择"
    dv.error = f"{what}只能是：{'、'.join(choices)}"
    return dv


def _meta_sheet(wb: Workbook, data: YearData, d: Dictionary) -> None:
    ws = wb.create_sheet(layout.META_SHEET)
    cols = layout.META_COLUMNS
    _header(ws, [c.header for c in cols], [c.width for c in cols])
    values = {
        "school_id": data.school_id,
        layout.SCHOOL_NAME_KEY: data.school_name,
        **data.meta,
        "year": data.year,
    }
    for r, (key, label, description, editable) in enumerate(layout.meta_rows(d), start=2):
        editable = editable and not (key == layout.SCHOOL_NAME_KEY and data.school_name)
        ws.cell(row=r, column=1, value=key)
        ws.cell(row=r, column=2, value=label).font = BOLD
        cell = ws.cell(row=r, column=3, value=values.get(key))
        cell.number_format = "@"
        cell.fill = EDIT_FILL if editable else LOCKED_FILL
        if editable:
            cell.protection = UNLOCKED
        ws.cell(row=r, column=4, value=description).alignment = Alignment(wrap_text=True)
    ws.column_dimensions["A"].hidden = True
    ws.freeze_panes = "A2"
    _protect(ws)


def _fact_rows(data: YearData, d: Dictionary) -> list[tuple[str, dict[str, object]]]:
    """(field, cells) of 基础数据: every observation of the year in the order of its
    facts.yaml (the order the audit lists them in), then one empty row for every fact the year
    does not state, in the data dictionary's order."""
    by_field: dict[str, list] = {}
    for o in data.observations:
        by_field.setdefault(o.field, []).append(o)
    default_doc = data.meta.get("default_document")
    rows = []
    for name in [*by_field, *(n for n in d.facts if n not in by_field)]:
        spec = d.facts[name]
        observations = by_field.get(name) or [None]
        for o in observations:
            cells: dict[str, object] = {}
            if o is not None:
                cells = {
                    "value": int(o.value)
                    if spec.type == "integer" and float(o.value).is_integer()
                    else o.value,
                    "source": o.source,
                    "period": o.period,
                    "qualifier": o.qualifier,
                    "use": "是" if o.use else None,
                    "note": o.note,
                    "doc": o.doc if o.doc and o.doc != default_doc else None,
                }
            rows.append((name, cells))
    return rows


def _facts_sheet(wb: Workbook, data: YearData, d: Dictionary) -> None:
    ws = wb.create_sheet(layout.FACTS_SHEET)
    cols = layout.FACT_COLUMNS
    rows = _fact_rows(data, d)
    widths = [
        _width([d.facts[f].label for f, _ in rows], c.width) if c.key == "label" else c.width
        for c in cols
    ]
    _header(ws, [c.header for c in cols], widths)
    col = {c.key: i for i, c in enumerate(cols, start=1)}
    validations: dict[tuple, DataValidation] = {}
    qualifier = _choice_validation(sorted(QUALIFIERS), "限定")
    use = _choice_validation(layout.USE_CHOICES, "采用")
    for r, (name, cells) in enumerate(rows, start=2):
        spec = d.facts[name]
        fixed = {
            "field": name,
            "label": spec.label,
            "unit": spec.unit,
            "ref": spec.ref,
            "previous": data.previous.get(name),
        }
        for c in cols:
            cell = ws.cell(row=r, column=col[c.key], value={**fixed, **cells}.get(c.key))
            if c.editable:
                cell.protection = UNLOCKED
                cell.fill = EDIT_FILL
                if c.key != "value":
                    cell.number_format = "@"
            else:
                cell.fill = LOCKED_FILL
        value_cell = ws.cell(row=r, column=col["value"])
        value_cell.number_format = _format(spec)
        prev_cell = ws.cell(row=r, column=col["previous"])
        prev_cell.number_format = _format(spec)
        key = (spec.type, spec.lower, spec.upper)
        if key not in validations and (dv := _number_validation(spec)) is not None:
            validations[key] = dv
        if key in validations:
            validations[key].add(value_cell)
        ws.cell(row=r, column=col["label"]).comment = Comment(
            _clip(f"{spec.label}：{spec.description}"), "nianbao"
        )
    first_spare = len(rows) + 2
    for r in range(first_spare, first_spare + layout.SPARE_FACT_ROWS):
        for c in cols:
            cell = ws.cell(row=r, column=col[c.key])
            if c.key != "previous":
                cell.protection = UNLOCKED
                cell.fill = EDIT_FILL
    last = first_spare + layout.SPARE_FACT_ROWS - 1
    for key, dv in (("qualifier", qualifier), ("use", use)):
        letter = get_column_letter(col[key])
        dv.add(f"{letter}2:{letter}{last}")
    for dv in [*validations.values(), qualifier, use]:
        ws.add_data_validation(dv)
    ws.column_dimensions["A"].hidden = True
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(rows) + 1}"
    _protect(ws)


def _format(spec: FieldSpec) -> str:
    if spec.type == "integer":
        return "#,##0"
    return "General"


def _clip(text: str, limit: int = 250) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decimal_format(text: str | None) -> str:
    """The number format that shows a decimal as it was typed (``97.60`` → ``0.00``)."""
    m = re.fullmatch(r"[-+]?\d+\.(\d+)", (text or "").strip())
    return "0." + "0" * len(m.group(1)) if m else "General"


def _table_cell(text: str | None, spec: FieldSpec) -> object:
    """A table value as the sheet holds it: numbers as numbers when the CSV held a plain
    number, anything else as typed."""
    if text is None or not spec.numeric:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def _table_sheet(wb: Workbook, title: str, table, rows: list[dict[str, str | None]]) -> None:
    ws = wb.create_sheet(title)
    specs = list(table.columns.values())
    headers = [layout.header(c) for c in specs]
    widths = [
        _width([h, *(row.get(c.name) for row in rows)], 10)
        for h, c in zip(headers, specs, strict=True)
    ]
    _header(ws, headers, widths)
    for i, c in enumerate(specs, start=1):
        ws.cell(row=1, column=i).comment = Comment(
            _clip(f"{c.label}{'（必填）' if c.required else '（选填）'}：{c.description}"),
            "nianbao",
        )
    last = len(rows) + 1 + layout.SPARE_TABLE_ROWS
    for r in range(2, last + 1):
        row = rows[r - 2] if r - 2 < len(rows) else {}
        for i, c in enumerate(specs, start=1):
            cell = ws.cell(row=r, column=i, value=_table_cell(row.get(c.name), c))
            cell.protection = UNLOCKED
            if c.type == "decimal":
                cell.number_format = _decimal_format(row.get(c.name))
            elif c.type == "integer":
                cell.number_format = "0"
            elif not c.numeric:
                cell.number_format = "@"
    for i, c in enumerate(specs, start=1):
        letter = get_column_letter(i)
        dv = _choice_validation(c.allowed, c.label) if c.allowed else _number_validation(c)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    _protect(ws)


def _guide_sheet(wb: Workbook, data: YearData) -> None:
    ws = wb.create_sheet(layout.GUIDE_SHEET)
    ws.column_dimensions["A"].width = 110
    for r, line in enumerate(guide_lines(data.school_id, data.year), start=1):
        cell = ws.cell(row=r, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if r == 1 or line.startswith("【"):
            cell.font = BOLD
    _protect(ws)


def build_workbook(data: YearData, d: Dictionary | None = None) -> Workbook:
    """The workbook of one school-year (see the module docstring)."""
    d = d or load_dictionary()
    wb = Workbook()
    wb.remove(wb.active)
    _meta_sheet(wb, data, d)
    _facts_sheet(wb, data, d)
    for title, table in layout.table_sheets(d).items():
        _table_sheet(wb, title, table, data.tables.get(table.name, []))
    _guide_sheet(wb, data)
    wb.active = 1
    return wb


def export_xlsx(
    school_id: str,
    year: int,
    target: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    blank: bool = False,
) -> Path:
    """Write the school-year's workbook to ``target`` (atomically); returns the path."""
    wb = build_workbook(read_year(school_id, int(year), data_dir, blank))
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return Path(target)
