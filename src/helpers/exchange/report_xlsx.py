"""``report.xlsx`` beside ``report.html``: the 附表 tables and the year's indicators, one sheet
each, with units, the way bureaus collect them.

The figures are the report's (each computed from the raw counts by its one definition in
specs/indicators.yaml): a number cell holds the unrounded value shown at the indicator's
decimals, a figure the data does not give says 未填报 (never 0), one that does not apply says
不适用 with the reason. Where the school printed another figure, the 原报告印出 column says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from helpers.atomic import atomic_path
from helpers.indicators.evaluate import IndicatorValue, compute, value_of
from helpers.indicators.standards import check
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.processed import load_fresh
from helpers.specs.check import read_spec

HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
INDICATORS_SHEET = "主要指标"


def _unit(iv: IndicatorValue) -> str:
    return "比值（1:x）" if iv.spec.unit == "ratio" else iv.spec.unit


def _cell(ws: Worksheet, row: int, col: int, iv: IndicatorValue | None) -> None:
    """A figure: the number at the indicator's decimals, or why there is none."""
    cell = ws.cell(row=row, column=col)
    if iv is None:
        cell.value = "无上年数据"
        return
    if iv.value is None:
        cell.value = f"不适用（{iv.reason}）" if iv.not_applicable and iv.reason else iv.text
        return
    cell.value = iv.value
    decimals = max(iv.spec.decimals, 0)
    cell.number_format = "#,##0" + ("." + "0" * decimals if decimals else "")
    cell.alignment = Alignment(horizontal="right")


def _printed(iv: IndicatorValue) -> str:
    return "；".join(str(r["printed"]) for r in iv.corrections)


def _sheet(wb: Workbook, title: str, headers: list[str], widths: list[int]) -> Worksheet:
    ws = wb.create_sheet(title[:31])
    for i, (h, w) in enumerate(zip(headers, widths, strict=True), start=1):
        c = ws.cell(row=1, column=i, value=h)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    return ws


def _appendix(wb: Workbook, sy: SchoolYear, layout: dict) -> None:
    headers = ["指标", "指标编号", "单位", f"{sy.year - 1} 年", f"{sy.year} 年"]
    headers += ["国家标准", "达标情况", "原报告印出"]
    ws = _sheet(wb, layout["title"], headers, [34, 30, 12, 14, 14, 30, 16, 30])
    for r, row in enumerate(layout["rows"], start=2):
        iid = row if isinstance(row, str) else row["id"]
        cur = value_of(sy, iid)
        prev = value_of(sy.previous, iid) if sy.previous else None
        name = cur.spec.name if isinstance(row, str) else row.get("label", cur.spec.name)
        results = check(sy, iid)
        ws.cell(row=r, column=1, value=name)
        ws.cell(row=r, column=2, value=iid)
        ws.cell(row=r, column=3, value=_unit(cur))
        _cell(ws, r, 4, prev)
        _cell(ws, r, 5, cur)
        ws.cell(row=r, column=6, value="；".join(x.standard["text"] for x in results) or "—")
        ws.cell(row=r, column=7, value="；".join(x.verdict for x in results) or "—")
        ws.cell(row=r, column=8, value=_printed(cur) or None)
    if layout.get("note"):
        ws.cell(row=len(layout["rows"]) + 3, column=1, value=f"注：{layout['note']}")


def _indicators(wb: Workbook, sy: SchoolYear) -> None:
    headers = ["指标", "指标编号", "单位", f"{sy.year} 年", "状态", "计算方法", "原报告印出"]
    ws = _sheet(wb, INDICATORS_SHEET, headers, [34, 30, 12, 14, 10, 50, 30])
    status = {"computed": "由原始数据计算", "reported": "学校填报值", "missing": "未填报"}
    for r, iv in enumerate(compute(sy).values(), start=2):
        ws.cell(row=r, column=1, value=iv.spec.name)
        ws.cell(row=r, column=2, value=iv.id)
        ws.cell(row=r, column=3, value=_unit(iv))
        _cell(ws, r, 4, iv)
        ws.cell(row=r, column=5, value=status.get(iv.status, iv.status))
        ws.cell(row=r, column=6, value=iv.formula_text)
        ws.cell(row=r, column=7, value=_printed(iv) or None)


def report_workbook(sy: SchoolYear) -> Workbook:
    """附表1–5 (specs/appendix_tables.yaml) and every indicator of the year, one sheet each."""
    wb = Workbook()
    wb.remove(wb.active)
    for layout in read_spec("appendix_tables.yaml")["tables"]:
        _appendix(wb, sy, layout)
    _indicators(wb, sy)
    return wb


def report_xlsx_bytes(sy: SchoolYear) -> bytes:
    """``report.xlsx`` of a loaded school-year, as bytes. The build makes it right after
    validating the school-year, from the loaded data whose indicators the validation computed,
    and writes it with the pages (about 0.06 s per school-year less than reading the processed
    data again and computing them again)."""
    import io

    buf = io.BytesIO()
    report_workbook(sy).save(buf)
    return buf.getvalue()


def write_report_xlsx(
    school_id: str,
    year: int,
    data_dir: str | os.PathLike[str] | None,
    target: str | os.PathLike[str],
) -> Path:
    """Write ``report.xlsx`` for a school-year (atomically); returns its path."""
    # the data as the build validated it (processed, stamp checked), else the raw files
    sy = load_fresh(school_id, year, data_dir) or load_school_year(school_id, year, data_dir)
    wb = report_workbook(sy)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return Path(target)
