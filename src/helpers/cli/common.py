"""What every nianbao command shares: the Typer app, the consoles, the common options and
the error exit."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    name="nianbao",
    help="中等职业学校质量年度报告：校验数据、执行章节笔记本、生成 HTML 报告。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

SchoolOpt = Annotated[
    list[str] | None,
    typer.Option("--school", "-s", help="学校编号（可重复）；默认：所有有数据的学校"),
]
YearOpt = Annotated[
    list[int] | None, typer.Option("--year", "-y", help="年度（可重复）；默认：最近一年")
]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="原始数据目录；默认：data/raw")]

# the options of ``nianbao build`` and ``nianbao summary`` (tests/test_cli.py compares them)
OUT_HELP = "报告目录；默认：reports"
OutOpt = Annotated[Path | None, typer.Option("--out", help=OUT_HELP)]
SummaryOutOpt = Annotated[
    Path | None, typer.Option("--out", help=f"{OUT_HELP}（写入 <目录>/summary/<年度>/）")
]
NotebooksOpt = Annotated[
    Path | None, typer.Option("--notebooks", help="章节笔记本目录；默认：notebooks")
]
SummaryNotebooksOpt = Annotated[
    Path | None, typer.Option("--notebooks", help="汇总笔记本目录；默认：notebooks/summary")
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="并行进程数；默认：CPU 核数")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="全部重新执行")]
PdfOpt = Annotated[
    bool, typer.Option("--pdf", help="另用无界面 Chromium 将 report.html 打印为 report.pdf")
]


class Figures(StrEnum):
    """The disclosure policy of helpers.indicators.disclose (kept here so the CLI loads no pandas)."""

    recomputed = "recomputed"
    published = "published"


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]错误：[/]{escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def targets(
    school: list[str] | None, year: list[int] | None, data_dir: Path | None
) -> list[tuple[str, int]]:
    from helpers.build.core import BuildError, resolve_targets

    try:
        return resolve_targets(school, year, data_dir)
    except BuildError as e:
        raise fail(str(e)) from None
