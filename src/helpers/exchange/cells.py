"""Reading one workbook cell the way staff type it (Excel habits), naming it as Excel does.

Numbers go through the same parser as CSV cells and YAML values
(:func:`helpers.ingest.numbers.parse_number`): numbers stored as text, thousands separators,
full-width digits, a ``%`` sign in a percent field. Excel's own habits come on top: a
percent-formatted cell holds 0.9373 for 93.73 %, a date is a datetime or a bare serial number
(45536 = 2024-09-01), a text column may hold a number Excel converted (``7`` for section
"7").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from helpers.errors import Problem
from helpers.ingest.numbers import parse_number
from helpers.specs.dictionary import FieldSpec

# Excel serial numbers of the dates 1954-10-03 .. 2119-01-08: a bare number in a date column
SERIAL_RANGE = (20000, 80000)


def ref(sheet: str, row: int, column: int) -> str:
    """A cell as Excel shows it: ``基础数据!E14``."""
    from openpyxl.utils import get_column_letter

    return f"{sheet}!{get_column_letter(column)}{row}"


def problem(
    where: str,
    rule: str,
    message: str,
    *,
    label: str | None = None,
    value: Any = None,
    hint: str | None = None,
    severity: str = "error",
) -> Problem:
    """A problem of a workbook cell: the cell (``基础数据!E14``) stands where a file would."""
    return Problem(where, rule, message, column=label, value=value, severity=severity, hint=hint)


@dataclass(frozen=True)
class Read:
    """What one cell holds: a value (None = empty), or the problem that stops it, and a note
    when an Excel habit was normalised."""

    value: Any = None
    problem: Problem | None = None
    note: Problem | None = None


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


def read_number(raw: Any, number_format: str, spec: FieldSpec, where: str, label: str) -> Read:
    """A numeric cell of field ``spec``; range rules are left to the data validation."""
    if is_empty(raw):
        return Read()
    if isinstance(raw, bool | dt.date | dt.time | dt.timedelta):
        return Read(
            problem=problem(
                where,
                "not_a_number",
                "此格应为数字，却是日期或逻辑值",
                label=label,
                value=str(raw),
                hint="请把单元格格式设为“常规”或“数值”后重新填写",
            )
        )
    if isinstance(raw, int | float):
        value: float = float(raw)
        if spec.type == "percent" and "%" in (number_format or ""):
            # Excel stores 93.73 % as 0.9373; the data dictionary's percent is 0–100
            value = round(value * 100, 10)
            note = problem(
                where,
                "number_format",
                f"单元格为百分比格式，读作 {value:g}（%）",
                label=label,
                value=raw,
                severity="info",
            )
            read = _check_integer(value, spec, where, label, raw)
            return Read(read.value, read.problem, note)
        return _check_integer(value, spec, where, label, raw)
    parsed = parse_number(str(raw), spec.type, percent_ok=spec.type == "percent", noun="此格")
    if not parsed.ok:
        return Read(
            problem=problem(
                where, parsed.rule or "not_a_number", parsed.message or "", label=label, value=raw
            )
        )
    note = None
    if parsed.habits:
        note = problem(
            where, "number_format", parsed.note(), label=label, value=raw, severity="info"
        )
    return Read(_plain(parsed.value), note=note)


def _check_integer(value: float, spec: FieldSpec, where: str, label: str, raw: Any) -> Read:
    if spec.type == "integer" and not value.is_integer():
        return Read(
            problem=problem(
                where,
                "not_an_integer",
                "此格应为整数（计数），却填写了小数",
                label=label,
                value=raw,
            )
        )
    return Read(_plain(value))


def read_text(raw: Any, where: str, label: str, *, date: bool = False) -> Read:
    """A text cell: stripped; a number Excel converted is written back as typed (7, 1.5);
    in a date column (``date``) a datetime or a serial number becomes an ISO date."""
    if is_empty(raw):
        return Read()
    if isinstance(raw, dt.datetime | dt.date):
        day = raw.date() if isinstance(raw, dt.datetime) else raw
        return Read(day.isoformat())
    if isinstance(raw, bool):
        return Read("是" if raw else "否")
    if isinstance(raw, int | float):
        if date and float(raw).is_integer() and SERIAL_RANGE[0] <= raw <= SERIAL_RANGE[1]:
            from openpyxl.utils.datetime import from_excel

            day = from_excel(raw).date().isoformat()
            return Read(
                day,
                note=problem(
                    where,
                    "date_serial",
                    f"日期写成了 Excel 序列号，读作 {day}",
                    label=label,
                    value=raw,
                    severity="info",
                ),
            )
        return Read(str(_plain(float(raw))))
    return Read(str(raw).strip())


def read_use(raw: Any, where: str, label: str) -> Read:
    """The 采用 mark: 是 / 否 (also TRUE/FALSE, 1/0, √); empty is 否."""
    if is_empty(raw):
        return Read(False)
    if isinstance(raw, bool):
        return Read(raw)
    text = str(raw).strip().lower()
    if text in {"是", "true", "1", "√", "y", "yes", "采用"}:
        return Read(True)
    if text in {"否", "false", "0", "n", "no"}:
        return Read(False)
    return Read(
        problem=problem(
            where, "allowed_values", "“采用”只能填“是”或“否”（或留空）", label=label, value=raw
        )
    )
