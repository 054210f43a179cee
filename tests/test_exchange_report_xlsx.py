"""report.xlsx for the bureau: the 附表 and the indicators, one sheet each, with units; figures
recomputed from the counts, 未填报 where the data gives none."""

from __future__ import annotations

import openpyxl
import pytest

from helpers.exchange.report_xlsx import report_workbook, write_report_xlsx
from helpers.ingest.load import load_school_year
from tests.factories import BUNDLED


def rows_by_id(ws) -> dict[str, tuple]:
    return {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[1]}


def test_appendix_sheets_with_units_and_recomputed_figures(raw_copy, tmp_path):
    sy = load_school_year(BUNDLED, 2024, raw_copy)
    path = write_report_xlsx(BUNDLED, 2024, raw_copy, tmp_path / "report.xlsx")
    assert not list(tmp_path.glob(".*.tmp"))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "附表1 人才培养质量积分卡",
        "附表2 教学资源表",
        "附表3 服务贡献表",
        "附表4 国际影响表",
        "附表5 落实政策表",
        "主要指标",
    ]
    ws = wb["附表2 教学资源表"]
    assert [c.value for c in ws[1]][:5] == ["指标", "指标编号", "单位", "2023 年", "2024 年"]
    rows = rows_by_id(ws)
    # 专任教师 203 (§1.1.1 and §1.1.3); 2023's report states no teacher count
    assert rows["fulltime_teachers"][2:5] == ("人", "未填报", 203)
    assert rows["fulltime_teachers"][5:7] == ("专任教师不少于 60 人", "达标")
    # 生师比 3088 ÷ 203, where the school printed 1:15.44
    ratio = rows["student_teacher_ratio"]
    assert ratio[4] == pytest.approx(3088 / 203, rel=1e-12) and ratio[7] == "师生比 1:15.44"
    assert ws.cell(list(rows).index("student_teacher_ratio") + 2, 5).number_format == "#,##0.00"
    indicators = rows_by_id(wb["主要指标"])
    assert indicators["boarding_share"][3] == pytest.approx(1950 / 3088 * 100, rel=1e-12)
    assert indicators["boarding_share"][2] == "%"
    texts = [str(v) for s in wb for r in s.iter_rows(values_only=True) for v in r if v is not None]
    assert not [t for t in texts if t.lower() in {"nan", "none", "<na>"}]
    assert report_workbook(sy).sheetnames == wb.sheetnames


def sheets(source) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(source)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


@pytest.mark.slow
@pytest.mark.xdist_group("browser")  # shares the session's built reports
def test_the_build_writes_the_workbook_made_when_it_validated(built_reports, raw_copy, tmp_path):
    """A build makes report.xlsx from the school-year it has just validated (its indicators
    already computed) and writes it with the pages; the workbook is the one made from the
    same raw files' processed data, cell for cell."""
    again = write_report_xlsx(BUNDLED, 2024, raw_copy, tmp_path / "report.xlsx")
    built = sheets(built_reports / "2024" / "report.xlsx")
    assert built == sheets(again)
    assert rows_by_id_of(built["附表2 教学资源表"])["fulltime_teachers"][4] == 203


def rows_by_id_of(rows: list[tuple]) -> dict[str, tuple]:
    return {r[1]: r for r in rows[1:] if r[1]}


def test_report_xlsx_bytes_is_the_workbook_of_the_school_year(raw_copy, tmp_path):
    import io

    from helpers.exchange.report_xlsx import report_xlsx_bytes

    sy = load_school_year(BUNDLED, 2024, raw_copy)
    made = sheets(io.BytesIO(report_xlsx_bytes(sy)))
    written = sheets(write_report_xlsx(BUNDLED, 2024, raw_copy, tmp_path / "report.xlsx"))
    assert made == written and len(made) == 6
