"""Tried as a new user would, following docs/填报说明.md: a blank workbook for a new school,
filled by a script with plausible values, imported, built into a report."""

from __future__ import annotations

import openpyxl
import pytest
from typer.testing import CliRunner

from helpers.cli import app

SCHOOL, YEAR, NAME = "xinyuan", 2025, "新元职业技术学校"
FACTS = {  # 中文名称 → value; every one cites section 1.1 of the school's own draft
    "全日制在校生数": 1200,
    "男生人数": 640,
    "女生人数": 560,
    "住校生人数": 700,
    "走读生人数": 500,
    "招生人数": 420,
    "毕业生数": 380,
    "专任教师数": 85,
    "教职工数": 100,
    "“双师型”教师数": 40,
    "纸质图书藏量": 50000,
}
AWARDS = [
    ("赣州市中等职业学校技能大赛", "市级", "一等奖", 3),
    ("江西省职业院校技能大赛", "省级", "三等奖", 1),
]


def fill(path) -> None:
    wb = openpyxl.load_workbook(path)
    info = wb["基本信息"]
    for r in range(2, info.max_row + 1):
        if info.cell(r, 2).value == "学校名称":
            info.cell(r, 3).value = NAME
    ws = wb["基础数据"]
    rows = {ws.cell(r, 2).value: r for r in range(ws.max_row, 1, -1) if ws.cell(r, 2).value}
    for label, value in FACTS.items():
        ws.cell(rows[label], 5).value = value
        ws.cell(rows[label], 7).value = "1.1"
        ws.cell(rows[label], 8).value = f"{YEAR - 1}-{YEAR}学年"
    awards = wb["技能大赛获奖"]
    for i, row in enumerate(AWARDS, start=2):
        for j, value in enumerate([*row, "1.2.5"], start=1):
            awards.cell(i, j).value = value
    wb.save(path)


@pytest.mark.slow
def test_new_school_from_blank_workbook_to_report(tmp_path):
    from helpers.build.core import build

    raw = tmp_path / "raw"
    raw.mkdir()
    book = tmp_path / f"{SCHOOL}-{YEAR}.xlsx"
    runner = CliRunner()
    common = ["--school", SCHOOL, "--year", str(YEAR), "--data-dir", str(raw)]
    made = runner.invoke(app, ["export-xlsx", *common, "-o", str(book), "--blank"])
    assert made.exit_code == 0, made.output
    fill(book)
    done = runner.invoke(app, ["import-xlsx", str(book), *common])
    assert done.exit_code == 0, done.output
    assert (raw / SCHOOL / "school.yaml").read_text(encoding="utf-8").count(NAME) == 1
    out = tmp_path / "reports"
    built = build(schools=[SCHOOL], years=[YEAR], data_dir=raw, out_dir=out, jobs=2)
    assert built.ok, [c.error for c in built.failed]
    folder = out / SCHOOL / str(YEAR)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert NAME in html and "1200" in html and "未填报" in html  # no thousands separators
    sheet = openpyxl.load_workbook(folder / "report.xlsx")["附表2 教学资源表"]
    values = {r[1]: r[4] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["fulltime_teachers"] == 85
    assert values["student_teacher_ratio"] == pytest.approx(1200 / 85, rel=1e-12)
