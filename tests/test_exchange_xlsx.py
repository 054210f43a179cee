"""The school workbook: export-xlsx writes what staff can fill, import-xlsx reads it back
losslessly with Excel's habits, names every bad cell, and writes all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from helpers.cli import app
from helpers.exchange.apply import import_xlsx
from helpers.exchange.export_xlsx import export_xlsx
from helpers.ingest.load import load_school_year
from tests.factories import BUNDLED

YEAR_FILES = ("facts.yaml", "meta.yaml", "*.csv")


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder: "byte-identical" made checkable."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def strip_year(raw: Path, year: int = 2024) -> Path:
    """Remove the year's facts, tables and meta (its text/ stays)."""
    folder = raw / BUNDLED / str(year)
    for pattern in YEAR_FILES:
        for p in folder.glob(pattern):
            p.unlink()
    return folder


def rows_of(ws, field: str) -> list[int]:
    return [r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == field]


def obs_keys(sy) -> list[tuple]:
    return [
        (o.field, o.value, o.source, o.period, o.qualifier, o.use, o.doc, o.note)
        for o in sy.observations
    ]


def test_export_sheets_headers_protection_and_validation(raw_copy, tmp_path):
    path = export_xlsx(BUNDLED, 2024, tmp_path / "h.xlsx", raw_copy)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "基本信息",
        "基础数据",
        "技能大赛获奖",
        "承办赛项",
        "专业设置",
        "原文公布的派生数值",
        "原文表格的表题与表头",
        "填报说明",
    ]
    ws = wb["基础数据"]
    assert [c.value for c in ws[1]][:6] == [
        "字段编号",
        "中文名称",
        "单位",
        "统计口径",
        "本年数值",
        "上年数值（参考）",
    ]
    assert ws.freeze_panes == "C2" and ws.column_dimensions["A"].hidden
    assert ws.protection.sheet and not ws.protection.password
    # 全日制在校生数 is stated twice in 2024: two rows, values 3527 (§1.1.1) and 3088 (§1.1.2)
    rows = rows_of(ws, "students_full_time")
    assert [(ws.cell(r, 5).value, ws.cell(r, 7).value) for r in rows] == [
        (3527, "1.1.1"),
        (3088, "1.1.2"),
    ]
    assert ws.cell(rows[0], 2).value == "全日制在校生数" and ws.cell(rows[0], 3).value == "人"
    assert ws.cell(rows[0], 2).protection.locked and not ws.cell(rows[0], 5).protection.locked
    # 2023 states 毕业生数 911: the reference column of 2024
    grad = rows_of(ws, "graduates")[0]
    assert ws.cell(grad, 5).value == 1340 and ws.cell(grad, 6).value == 911
    checks = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    e = next(dv for ref, dv in checks.items() if f"E{grad}" in ref.split())
    assert (e.type, e.formula1) == ("whole", "0")
    awards = wb["技能大赛获奖"]
    assert [c.value for c in awards[1]] == ["赛事", "级别", "奖项", "获奖数（项）", "来源", "备注"]
    level = next(
        dv for dv in awards.data_validations.dataValidation if str(dv.sqref).startswith("B2")
    )
    assert level.type == "list" and level.formula1 == '"国家级,省级,市级,县级,校级"'


def test_blank_export_shows_only_last_years_values(raw_copy, tmp_path):
    wb = openpyxl.load_workbook(
        export_xlsx(BUNDLED, 2024, tmp_path / "b.xlsx", raw_copy, blank=True)
    )
    ws = wb["基础数据"]
    assert all(ws.cell(r, 5).value is None for r in range(2, ws.max_row + 1))
    grad = rows_of(ws, "graduates")[0]
    assert ws.cell(grad, 6).value == 911
    assert wb["技能大赛获奖"].cell(2, 1).value is None
    meta = {
        ws2.cell(r, 1).value: ws2.cell(r, 3).value for ws2 in [wb["基本信息"]] for r in range(2, 7)
    }
    assert meta["year"] == 2024 and meta["school_year"] == "2023-2024学年"


def test_round_trip_is_lossless(raw_copy, tmp_path):
    original = load_school_year(BUNDLED, 2024, raw_copy, with_previous=False)
    path = export_xlsx(BUNDLED, 2024, tmp_path / "h.xlsx", raw_copy)
    folder = strip_year(raw_copy)
    result = import_xlsx(path, BUNDLED, 2024, raw_copy)
    assert result.ok, result.problems
    back = load_school_year(BUNDLED, 2024, raw_copy, with_previous=False)
    assert obs_keys(back) == obs_keys(original)
    assert back.meta == original.meta
    for name, df in original.tables.items():
        assert back.tables[name].reset_index(drop=True).equals(df.reset_index(drop=True)), name
    assert back.published.reset_index(drop=True).equals(original.published.reset_index(drop=True))
    # provenance: the workbook and cell, beside the source section the report cites
    facts = yaml.safe_load((folder / "facts.yaml").read_text(encoding="utf-8"))
    first, second = facts["students_full_time"]
    assert first["source"] == "1.1.1" and first["cell"].startswith("[h.xlsx]基础数据!E")
    ws = openpyxl.load_workbook(path)["基础数据"]
    row = int(second["cell"].rsplit("E", 1)[1])
    assert ws.cell(row, 5).value == 3088 and ws.cell(row, 1).value == "students_full_time"
    assert back.facts["students_full_time"].chosen.cell == second["cell"]
    # and every table row: the sheet range each CSV line came from
    cells = list(csv.DictReader((folder / "imported_cells.csv").open(encoding="utf-8")))
    awards_rows = [c for c in cells if c["file"] == "awards.csv"]
    assert len(awards_rows) == len(original.tables["awards"])
    book = openpyxl.load_workbook(path)
    for c in awards_rows:
        sheet, _, rng = c["cells"].removeprefix("[h.xlsx]").partition("!")
        row = int(rng.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        line = (folder / "awards.csv").read_text(encoding="utf-8").splitlines()[int(c["line"]) - 1]
        assert str(book[sheet].cell(row, 1).value) == line.split(",")[0], c
    assert (folder / "text" / "s1_1_1.md").is_file()


def habits_workbook(raw: Path, path: Path) -> Path:
    """The 2024 workbook retyped with Excel's habits."""
    export_xlsx(BUNDLED, 2024, path, raw)
    wb = openpyxl.load_workbook(path)
    ws = wb["基础数据"]

    def at(field: str, i: int = 0) -> int:
        return rows_of(ws, field)[i]

    ws.cell(at("students_male"), 5).value = "1679"  # a number stored as text
    ws.cell(at("students_female"), 5).value = "1,409"  # thousands separator
    ws.cell(at("students_boarding"), 5).value = "１９５０"  # full-width digits
    ws.cell(at("satisfaction_overall_pct"), 5).value = "93.73%"  # % typed in a text cell
    pct = ws.cell(at("satisfaction_classroom_pct"), 5)
    pct.value, pct.number_format = 0.9684, "0.00%"  # what Excel stores for 96.84 %
    ws.cell(at("books_print"), 8).value = 45536  # a date as a serial number
    ws.cell(at("ebooks_new"), 8).value = dt.datetime(2024, 8, 31)  # a date cell
    ws.cell(ws.max_row + 30, 20).value = "  "  # trailing empty rows and columns
    awards = wb["技能大赛获奖"]
    awards.insert_rows(1)  # a merged title row above the header
    awards.cell(1, 1).value = "表：技能大赛获奖（单位：项）"
    awards.merge_cells("A1:F1")
    # the competition of rows 3-5 typed once and merged down (the first three awards rows)
    assert awards.cell(3, 1).value == awards.cell(5, 1).value
    awards.cell(4, 1).value = awards.cell(5, 1).value = None
    awards.merge_cells("A3:A5")
    awards.cell(3, 4).value = "１２"
    wb.save(path)
    return path


def test_excel_habits_import_correctly(raw_copy, tmp_path):
    original = load_school_year(BUNDLED, 2024, raw_copy, with_previous=False)
    path = habits_workbook(raw_copy, tmp_path / "habits.xlsx")
    strip_year(raw_copy)
    result = import_xlsx(path, BUNDLED, 2024, raw_copy)
    assert result.ok, result.problems
    back = load_school_year(BUNDLED, 2024, raw_copy, with_previous=False)
    for name, value in {
        "students_male": 1679,
        "students_female": 1409,
        "students_boarding": 1950,
        "satisfaction_overall_pct": 93.73,
        "satisfaction_classroom_pct": 96.84,
    }.items():
        assert back.facts[name].value == value, name
    assert back.facts["books_print"].chosen.period == "2024-09-01"
    assert back.facts["ebooks_new"].chosen.period == "2024-08-31"
    notes = {(p.file, p.rule) for p in result.notes}
    assert any(f.startswith("基础数据!E") and r == "number_format" for f, r in notes)
    assert ("基础数据!H" + str(rows_of_book(path, "books_print")), "date_serial") in notes
    changed = {"books_print", "ebooks_new"}
    assert [k for k in obs_keys(back) if k[0] not in changed] == [
        k for k in obs_keys(original) if k[0] not in changed
    ]
    assert (
        back.tables["awards"]
        .reset_index(drop=True)
        .equals(original.tables["awards"].reset_index(drop=True))
    )


def rows_of_book(path: Path, field: str) -> int:
    return rows_of(openpyxl.load_workbook(path)["基础数据"], field)[0]


def errors_workbook(raw: Path, path: Path) -> tuple[Path, dict[str, int]]:
    export_xlsx(BUNDLED, 2024, path, raw)
    wb = openpyxl.load_workbook(path)
    ws = wb["基础数据"]
    names = ("graduates", "enrollment", "dual_qualified_teachers", "fulltime_teachers")
    at = {f: rows_of(ws, f) for f in names}
    ws.cell(at["graduates"][0], 5).value = "一千三百四十"  # text in a number cell
    ws.cell(at["enrollment"][0], 5).value = -5  # a negative count
    for r in at["dual_qualified_teachers"]:  # 双师型 > 专任教师 (203)
        ws.cell(r, 5).value = 250
    del wb["专业设置"]  # a missing required sheet
    wb.create_sheet("Sheet1").cell(1, 1).value = "草稿"  # an unknown sheet
    wb.save(path)
    return path, {k: v[0] for k, v in at.items()}


def test_real_errors_name_sheet_cell_value_rule_and_write_nothing(raw_copy, tmp_path):
    path, at = errors_workbook(raw_copy, tmp_path / "bad.xlsx")
    before = snapshot(raw_copy)
    result = import_xlsx(path, BUNDLED, 2024, raw_copy, yes=True)
    assert not result.ok and not result.written
    assert snapshot(raw_copy) == before
    found = {(p.file, p.rule): p for p in result.problems}
    text = found[(f"基础数据!E{at['graduates']}", "not_a_number")]
    assert text.value == "一千三百四十" and "应为数字" in text.message
    negative = found[(f"基础数据!E{at['enrollment']}", "not_negative")]
    assert negative.value == -5 and negative.column == "招生人数"
    # named at 专任教师数 (the whole), with the cells of 双师型 (the part)
    dual = found[(f"基础数据!E{at['fulltime_teachers']}", "parts_at_most")]
    assert "分项之和超过总数" in dual.message
    assert dual.value == "“双师型”教师数 250 = 250 > 专任教师数 203"
    assert dual.column.startswith(f"专任教师数 基础数据!E{at['fulltime_teachers']}")
    assert f"“双师型”教师数 基础数据!E{at['dual_qualified_teachers']}" in dual.column
    assert found[("bad.xlsx", "missing_sheet")].value == "专业设置"
    assert found[("Sheet1!", "unknown_sheet")].value == "Sheet1"
    shown = "\n".join(map(str, result.problems))
    assert f"基础数据!E{at['enrollment']}" in shown and "[规则 not_negative]" in shown
    assert "raw/" not in shown.replace("raw_copy", "")  # no staged paths in messages


def test_changed_values_need_yes(raw_copy, tmp_path):
    path = export_xlsx(BUNDLED, 2024, tmp_path / "h.xlsx", raw_copy)
    wb = openpyxl.load_workbook(path)
    ws = wb["基础数据"]
    ws.cell(rows_of(ws, "books_print")[0], 5).value = 128331
    wb.save(path)
    before = snapshot(raw_copy)
    result = import_xlsx(path, BUNDLED, 2024, raw_copy)
    assert result.needs_yes and snapshot(raw_copy) == before
    assert result.changes == [
        "基础数据 纸质图书藏量（books_print）：128330（§1.1.4） → 128331（§1.1.4）"
    ]
    runner = CliRunner()
    args = ["import-xlsx", str(path), "--school", BUNDLED, "--year", "2024"]
    args += ["--data-dir", str(raw_copy)]
    denied = runner.invoke(app, args)
    assert denied.exit_code == 1 and snapshot(raw_copy) == before
    assert "128330（§1.1.4） → 128331" in denied.output
    done = runner.invoke(app, [*args, "--yes"])
    assert done.exit_code == 0, done.output
    after = load_school_year(BUNDLED, 2024, raw_copy, with_previous=False)
    assert after.facts["books_print"].value == 128331
    # the other files did not change: kept as they were, comments and all
    folder = raw_copy / BUNDLED / "2024"
    assert (folder / "meta.yaml").read_text(encoding="utf-8").startswith("# Report-year")
    assert "awards.csv" in result.unchanged


def test_import_of_an_invalid_workbook_file(raw_copy, tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    before = snapshot(raw_copy)
    result = import_xlsx(bad, BUNDLED, 2024, raw_copy)
    assert [p.rule for p in result.problems] == ["not_xlsx"]
    assert snapshot(raw_copy) == before


@pytest.mark.parametrize("value", ["12人", "#DIV/0!", "1,67"])
def test_rejected_habits_name_the_cell(raw_copy, tmp_path, value):
    path = export_xlsx(BUNDLED, 2024, tmp_path / "h.xlsx", raw_copy)
    wb = openpyxl.load_workbook(path)
    ws = wb["基础数据"]
    row = rows_of(ws, "books_print")[0]
    ws.cell(row, 5).value = value
    wb.save(path)
    result = import_xlsx(path, BUNDLED, 2024, raw_copy, yes=True)
    assert [(p.file, p.value) for p in result.problems] == [(f"基础数据!E{row}", value)]


def test_table_errors_name_the_cell_under_a_moved_header(raw_copy, tmp_path):
    path = export_xlsx(BUNDLED, 2024, tmp_path / "h.xlsx", raw_copy)
    wb = openpyxl.load_workbook(path)
    awards = wb["技能大赛获奖"]
    awards.insert_rows(1, 2)  # two title rows: the header is now row 3, the first award row 4
    awards.cell(4, 2).value = "国际级"
    awards.cell(5, 4).value = "七"
    wb.save(path)
    result = import_xlsx(path, BUNDLED, 2024, raw_copy, yes=True)
    found = {(p.file, p.rule, p.value) for p in result.problems}
    assert ("技能大赛获奖!B4", "allowed_values", "国际级") in found
    assert ("技能大赛获奖!D5", "not_a_number", "七") in found
    assert len(found) == 2
