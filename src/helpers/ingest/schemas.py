"""pandera schemas for the CSV tables, built from the data dictionary.

Tables are read as text and coerced here, so that a count written as ``十二`` or ``12人`` is
reported as a failure at its row and column rather than becoming NaN. Validation is lazy: all
failures of a file are reported at once.
"""

from __future__ import annotations

import dataclasses
import difflib
import warnings

import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pandera.pandas as pa
from pandera.errors import SchemaErrors

from helpers.errors import Problem
from helpers.ingest import numbers
from helpers.memo import ProcessMemo
from helpers.specs.dictionary import FieldSpec, TableSpec

_DTYPES = {"integer": "Int64", "number": "Float64", "percent": "Float64", "decimal": "Float64"}


def _checks(spec: FieldSpec) -> list[pa.Check]:
    checks = []
    if spec.numeric:
        if spec.lower is not None:
            checks.append(
                pa.Check.ge(spec.lower, name="not_negative" if spec.lower == 0 else "min")
            )
        if spec.upper is not None:
            name = "percent_range" if spec.type == "percent" else "max"
            checks.append(pa.Check.le(spec.upper, name=name))
    if spec.allowed:
        checks.append(pa.Check.isin(list(spec.allowed), name="allowed_values"))
    return checks


_SCHEMAS: dict[int, tuple[TableSpec, pa.DataFrameSchema]] = {}


def table_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """The pandera schema of one table: types, ranges, allowed values, no unknown columns
    (built once per spec object: a spec edit gives a new object, see helpers.specs.cache)."""
    hit = _SCHEMAS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    schema = _table_schema(spec)
    _SCHEMAS[id(spec)] = (spec, schema)
    return schema


def _table_schema(spec: TableSpec) -> pa.DataFrameSchema:
    columns = {
        name: pa.Column(
            _DTYPES.get(col.type, "string"),
            checks=_checks(col),
            nullable=not (col.required and name in spec.key),
            required=col.required,
            coerce=True,
        )
        for name, col in spec.columns.items()
    }
    return pa.DataFrameSchema(columns, strict=True, coerce=True, name=spec.name)


_MESSAGES = {
    "not_negative": "数值不能为负数",
    "min": "数值小于允许的最小值",
    "max": "数值超出允许的最大值",
    "percent_range": "百分比应在 0 到 100 之间",
    "allowed_values": "不是允许的取值",
}


def _check_rule(check: str, col: FieldSpec | None) -> str:
    """Map pandera's built-in check names to this project's rule ids."""
    if col is None:
        return check
    if check.startswith("greater_than_or_equal_to"):
        return "not_negative" if col.lower == 0 else "min"
    if check.startswith("less_than_or_equal_to"):
        return "percent_range" if col.type == "percent" else "max"
    if check.startswith("isin"):
        return "allowed_values"
    return check


_MEMO_SIZE = 256  # tables
# kept across a warm kernel's resets (helpers.memo): it hands out copies only
_MEMO: ProcessMemo = ProcessMemo(_MEMO_SIZE)
_MEMO_ROWS = 2000  # larger tables are validated every time


def _memo_key(df: pd.DataFrame, spec: TableSpec, percent_ok: pd.Series | None) -> tuple | None:
    if len(df) > _MEMO_ROWS:
        return None
    cells = tuple(
        tuple(None if isinstance(v, float) and v != v else v for v in row)
        for row in df.itertuples(index=True, name=None)
    )
    flags = None if percent_ok is None else tuple(bool(x) for x in percent_ok)
    return (id(spec), tuple(df.columns), cells, flags)


def validate_table(
    df: pd.DataFrame, spec: TableSpec, shown: str, percent_ok: pd.Series | None = None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Validate and coerce a table read as text; returns the typed frame or None with problems.

    ``percent_ok`` (a boolean per row, same index) says where a ``%`` sign may follow a number
    (``published.csv`` rows of a percent indicator); by default only in ``percent`` columns.
    The same cells under the same spec are validated once per process (re-running
    ``open_report`` after an edit to one file re-validates that file only); the result is a
    copy each time.
    """
    key = _memo_key(df, spec, percent_ok)
    hit = _MEMO.get(key) if key is not None else None
    if hit is None or hit[0] is not spec:
        typed, problems = _validate_table(df, spec, "", percent_ok)
        if key is not None:
            _MEMO.put(key, (spec, typed, problems))
    else:
        typed, problems = hit[1], hit[2]
    return (
        None if typed is None else typed.copy(),
        [dataclasses.replace(p, file=shown) for p in problems],
    )


def _validate_table(
    df: pd.DataFrame, spec: TableSpec, shown: str, percent_ok: pd.Series | None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    problems: list[Problem] = []
    for col in df.columns:
        if col not in spec.columns:
            guess = difflib.get_close_matches(col, list(spec.columns), n=1, cutoff=0.6)
            problems.append(
                Problem(
                    shown,
                    "unknown_column",
                    "表头中有数据字典未定义的列",
                    row=1,
                    column=col,
                    hint=f"是否应为 {guess[0]!r}？"
                    if guess
                    else f"允许的列：{', '.join(spec.columns)}",
                )
            )
    for name, col in spec.columns.items():
        if col.required and name not in df.columns:
            problems.append(
                Problem(
                    shown,
                    "missing_column",
                    f"缺少必需的列（{col.label}）",
                    row=1,
                    column=name,
                )
            )
    if problems:
        return None, problems
    problems += _duplicate_rows(df, spec, shown)
    df, probs = _to_numbers(df, spec, shown, percent_ok)
    problems += probs
    try:
        typed = table_schema(spec).validate(df, lazy=True)
    except SchemaErrors as exc:
        for fc in exc.failure_cases.itertuples(index=False):
            column = None if pd.isna(fc.column) else str(fc.column)
            row = None if pd.isna(fc.index) else int(fc.index)
            value = None if pd.isna(fc.failure_case) else fc.failure_case
            if hasattr(value, "item"):
                value = value.item()  # numpy scalar -> plain Python for messages
            col_spec = spec.columns.get(column) if column else None
            check = _check_rule(str(fc.check), col_spec)
            if check == "not_nullable":
                rule, msg = "required_value", "必填单元格为空"
            elif check in _MESSAGES:
                rule, msg = check, _MESSAGES[check]
                if check == "allowed_values" and col_spec is not None:
                    msg += f"（允许：{'、'.join(col_spec.allowed)}）"
                if check == "max" and col_spec is not None:
                    msg += f"（{col_spec.upper:g}）"
            else:
                rule, msg = "schema", f"不符合规则 {check}"
            problems.append(Problem(shown, rule, msg, row=row, column=column, value=value))
        return None, problems
    if any(p.severity == "error" for p in problems):
        return None, problems
    return typed, problems


def _to_numbers(
    df: pd.DataFrame, spec: TableSpec, shown: str, percent_ok: pd.Series | None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse numeric columns cell by cell (helpers.ingest.numbers): Excel habits are normalised with a
    note, anything else (text, nan, an empty required number) is reported, never NaN'd."""
    problems: list[Problem] = []
    out = df.copy()
    for name, col in spec.columns.items():
        if not col.numeric or name not in df.columns:
            continue
        values: list[float | None] = []
        for row, raw in df[name].items():
            parsed = (
                (numbers.empty() if col.required else None)
                if pd.isna(raw)
                else numbers.parse_number(
                    raw,
                    col.type,
                    percent_ok=col.type == "percent"
                    or (percent_ok is not None and bool(percent_ok.get(row, False))),
                )
            )
            if parsed is not None and not parsed.ok:
                problems.append(
                    Problem(
                        shown,
                        parsed.rule,
                        parsed.message,
                        row=int(row),
                        column=name,
                        value=None if pd.isna(raw) else raw,
                        hint=parsed.hint,
                    )
                )
            elif parsed is not None and parsed.habits:
                problems.append(
                    Problem(
                        shown,
                        "number_format",
                        parsed.note(),
                        row=int(row),
                        column=name,
                        value=raw,
                        severity=parsed.severity,
                        hint=f"请写作 {parsed.text}",
                    )
                )
            values.append(parsed.value if parsed is not None else None)
        out[name] = pd.array(values, dtype="Float64")
    return out, problems


def _duplicate_rows(df: pd.DataFrame, spec: TableSpec, shown: str) -> list[Problem]:
    key = [k for k in spec.key if k in df.columns] or list(df.columns)
    keyed = df.dropna(subset=key)  # a row with an empty key cell is reported as such, once
    dup = keyed[keyed.duplicated(subset=key, keep=False)]
    if dup.empty:  # the usual case: no groupby
        return []
    problems = []
    for _, group in dup.groupby(key, dropna=False, sort=False):
        rows = list(group.index)
        for row in rows[1:]:
            problems.append(
                Problem(
                    shown,
                    "duplicate_row",
                    f"与第 {rows[0]} 行重复（{'、'.join(key)} 相同）",
                    row=int(row),
                    column=",".join(key),
                    value=" / ".join(str(v) for v in group.loc[row, key]),
                )
            )
    return problems
