"""The school staff's commands (export-xlsx, import-xlsx, import-docx): workbooks and Word
drafts in and out (helpers.exchange). Nothing heavy is imported until a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from helpers.cli.common import DataOpt, app, console, err_console, fail

School = Annotated[str, typer.Option("--school", "-s", help="学校编号，如 huichang")]
Year = Annotated[int, typer.Option("--year", "-y", help="报告年度，如 2024")]
Yes = Annotated[bool, typer.Option("--yes", help="确认覆盖已有数据中改变的数值")]


def _lines(title: str, items: list, style: str, out: Console) -> None:
    if items:
        out.print(f"[bold {style}]{escape(title)}[/]")
        for item in items:
            out.print(f"  - {escape(str(item))}", soft_wrap=True)


def _stop_unless_clean(result: Any, problems: str, changes: str) -> None:
    """The two ways an import writes nothing: errors (exit 2), or changes to files already on
    file without ``--yes`` (exit 1)."""
    if result.problems:
        _lines(problems, result.problems, "red", err_console)
        raise typer.Exit(2)
    if result.needs_yes:
        _lines(changes, result.changes, "yellow", err_console)
        err_console.print("未写入任何文件。确认无误后加上 --yes 重新运行。")
        raise typer.Exit(1)


def export_xlsx(
    school: School,
    year: Year,
    output: Annotated[Path, typer.Option("--output", "-o", help="写出的 .xlsx 文件")],
    blank: Annotated[
        bool, typer.Option("--blank", help="空白工作簿（只有上年数值作参考）")
    ] = False,
    data_dir: DataOpt = None,
) -> None:
    """导出学校某年度的填报工作簿（.xlsx），已有数据预先填好；--blank 或无数据的年度只列上年数值作参考。"""
    from helpers.errors import DataValidationError
    from helpers.exchange.export_xlsx import export_xlsx as run

    try:
        path = run(school, year, output, data_dir, blank)
    except (DataValidationError, ValueError) as e:
        raise fail(str(e)) from None
    console.print(f"已写出 {path}")


def import_xlsx(
    file: Annotated[Path, typer.Argument(help="填好的工作簿 .xlsx")],
    school: School,
    year: Year,
    data_dir: DataOpt = None,
    yes: Yes = False,
) -> None:
    """导入填好的工作簿：整本校验通过才写入 data/raw/<学校>/<年度>/，错误逐条指出工作表和单元格。"""
    from helpers.exchange.apply import import_xlsx as run

    if not file.is_file():
        raise fail(f"找不到文件 {file}")
    try:
        result = run(file, school, year, data_dir, yes)
    except ValueError as e:
        raise fail(str(e)) from None
    _lines("提示：", result.notes, "cyan", console)
    _stop_unless_clean(
        result,
        f"工作簿未通过校验，共 {len(result.problems)} 个错误（未写入任何文件）：",
        "导入将改变已有数据（旧 → 新）：",
    )
    _lines("已改变的数据（旧 → 新）：", result.changes, "yellow", console)
    console.print(f"已写入：{'、'.join(result.written) or '（无）'}")
    if result.removed:
        console.print(f"已删除（工作表中没有数据行）：{'、'.join(result.removed)}")
    if result.unchanged:
        console.print(f"内容未变、保持原样：{'、'.join(result.unchanged)}")


def import_docx(
    file: Annotated[Path, typer.Argument(help="报告的 Word 稿 .docx")],
    school: School,
    year: Year,
    data_dir: DataOpt = None,
    yes: Yes = False,
) -> None:
    """按带编号的标题（1.1.1 学校概况、案例N、挑战N）把 Word 稿拆分为该年度的 text/*.md，图片存入 images/。"""
    from helpers.exchange.import_docx import import_docx as run

    if not file.is_file():
        raise fail(f"找不到文件 {file}")
    result = run(file, school, year, data_dir, yes)
    _lines("数字已改为占位符：", result.placeholders, "cyan", console)
    _lines("与数据不符的数字（请核对）：", result.contradictions, "yellow", console)
    _lines("无法识别的标题（未导入）：", result.unknown, "yellow", console)
    _lines("Word 稿中没有的章节：", result.missing, "yellow", console)
    _stop_unless_clean(result, "未通过校验（未写入任何文件）：", "将改写已有的文件：")
    console.print(f"已写入：{'、'.join(result.written + result.images) or '（无）'}")


app.command("export-xlsx")(export_xlsx)
app.command("import-xlsx")(import_xlsx)
app.command("import-docx")(import_docx)
