"""``nianbao build`` and ``nianbao summary``: the progress bar and the build summary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from helpers.cli.common import (
    DataOpt,
    Figures,
    ForceOpt,
    JobsOpt,
    NotebooksOpt,
    OutOpt,
    PdfOpt,
    SchoolOpt,
    SummaryNotebooksOpt,
    SummaryOutOpt,
    YearOpt,
    app,
    console,
    err_console,
    fail,
)

# ----------------------------------------------------------------------------- build


@contextlib.contextmanager
def _stopping() -> Iterator[None]:
    """How ``build`` and ``summary`` stop: a BuildError exits 2 with its message, Ctrl-C /
    SIGTERM exits 130 saying that nothing was left half-written."""
    from helpers.build.plan import BuildError

    try:
        yield
    except BuildError as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]已中断[/]：内核与工作进程已停止，已有的报告文件保持不变。")
        raise typer.Exit(130) from None


def _print_pdf(report: Path) -> None:
    """``report.pdf`` next to ``report.html`` (headless Chromium), or exit 2 saying why not."""
    from helpers.build.pdf import PdfUnavailable, page_count, print_pdf

    target = report.with_suffix(".pdf")
    try:
        print_pdf(report, target)
    except PdfUnavailable as e:
        raise fail(str(e)) from None
    except (RuntimeError, OSError) as e:
        raise fail(f"PDF 生成失败：{e}") from None
    console.print(f"PDF：{target}（{page_count(target)} 页）")


class _Progress:
    """The rich progress bar fed by build events."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: Any = None
        self.running: list[str] = []

    def __enter__(self) -> _Progress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def _describe(self, fallback: str = "执行章节") -> str:
        return "执行 " + "、".join(self.running[-3:]) if self.running else fallback

    def __call__(self, kind: str, info: dict[str, Any]) -> None:
        if kind == "plan":
            self.task = self.progress.add_task("准备", total=max(info["total"], 1))
            if info["total"] == 0:
                self.progress.update(self.task, completed=1, description="全部为最新")
        elif self.task is None:
            return
        elif kind == "phase":
            self.progress.update(self.task, description=info["text"])
        elif kind == "chapter_start":
            self.running.append(info["chapter"])
            self.progress.update(self.task, description=self._describe())
        elif kind == "chapter_done":
            r = info["result"]
            if r.chapter in self.running:
                self.running.remove(r.chapter)
            mark = "[green]✓[/]" if r.status == "executed" else "[red]✗[/]"
            self.progress.console.print(
                f"  {mark} {escape(r.label)}（{r.seconds:.1f} s）"
                + (f" [red]{escape(r.error or '')}[/]" if r.status == "failed" else "")
            )
            self.progress.update(self.task, advance=1, description=self._describe("收尾"))


def _summary(result: Any) -> None:
    table = Table(title="构建摘要", show_lines=False)
    for col in ("学校", "年度", "已执行", "跳过（最新）", "失败", "报告"):
        table.add_column(col, overflow="fold")
    for sy in result.school_years:
        mine = [c for c in result.chapters if (c.school_id, c.year) == (sy.school_id, sy.year)]
        count = {s: sum(c.status == s for c in mine) for s in ("executed", "skipped", "failed")}
        table.add_row(
            f"{sy.school_id}（{sy.school_name}）",
            str(sy.year),
            str(count["executed"]),
            str(count["skipped"]),
            f"[red]{count['failed']}[/]" if count["failed"] else "0",
            str(sy.report),
        )
    console.print(table)
    warnings = [
        (sy, f) for sy in result.school_years for f in sy.findings if f["severity"] == "warning"
    ]
    if warnings:
        console.print(
            f"[yellow]数据审核警告 {len(warnings)} 条[/]（不影响构建；全文见报告附录“数据核验”"
            "或 nianbao validate）："
        )
        by_rule: dict[tuple[str, str], list[str]] = {}
        for sy, f in warnings:
            by_rule.setdefault((f"{sy.school_id} {sy.year}", f["rule"]), []).append(f["message"])
        for (where, rule), messages in by_rule.items():
            first = messages[0] if len(messages[0]) <= 70 else messages[0][:70] + "…"
            more = f"（另 {len(messages) - 1} 条）" if len(messages) > 1 else ""
            console.print(f"  [yellow]⚠[/] {escape(f'{where} [{rule}] {first}{more}')}")
    noisy = [c for c in result.chapters if c.warnings]
    if noisy:
        total = sum(len(c.warnings) for c in noisy)
        console.print(f"[yellow]章节运行时的警告 {total} 条[/]（stderr 输出；报告中不显示）：")
        for c in noisy:
            for count, text in c.warning_groups:
                console.print(f"  [yellow]⚠[/] {escape(f'{c.label}：{count} 条 {text}')}")
    for c in result.failed:
        console.print(f"[bold red]✗ 失败[/] {escape(c.label)}：{escape(c.error or '')}")
        if c.failed_notebook:
            console.print(f"    执行后的笔记本（供检查）：{c.failed_notebook}")
        if c.html:
            console.print(f"    保留了上一次成功生成的 {c.html.name}")
    for sy in result.school_years:
        for st in sy.stale:
            console.print(
                f"[yellow]⚠ 沿用旧版本[/] {escape(f'{sy.school_id} {sy.year} {st.chapter}')}"
                f"（{escape(st.title)}）：{escape(st.text)}"
            )
        if sy.withheld:
            console.print(
                f"[bold red]✗ 严格模式：未写出 {sy.report.name} 和 {sy.index.name}[/]"
                f"（{escape(f'{sy.school_id} {sy.year}')}），上一次生成的报告保持不变。"
                f"原因：{escape(sy.withheld)}。"
            )
    if result.up_to_date:
        console.print("[green]全部为最新（up to date）[/]，没有章节需要重新执行。")
    console.print(
        f"已执行 {len(result.executed)} 章，跳过 {len(result.skipped)} 章（最新），"
        f"失败 {len(result.failed)} 章；用时 {result.seconds:.1f} 秒"
        f"（{result.where or f'本机，{result.jobs} 个进程'}"
        f"{'，内核复用' if result.kernel_reuse else ''}）。"
    )


@app.command()
def build(
    school: SchoolOpt = None,
    year: YearOpt = None,
    chapters: Annotated[
        list[str] | None,
        typer.Option("--chapters", "-c", help="只构建这些章节（笔记本文件名或前缀，可逗号分隔）"),
    ] = None,
    jobs: JobsOpt = None,
    force: ForceOpt = False,
    allow_audit_errors: Annotated[
        bool, typer.Option("--allow-audit-errors", help="审核发现错误时仍继续构建")
    ] = False,
    data_dir: DataOpt = None,
    out: OutOpt = None,
    notebooks: NotebooksOpt = None,
    fresh_kernels: Annotated[
        bool,
        typer.Option("--fresh-kernels", help="每章使用一个新内核（较慢；默认复用预热的内核）"),
    ] = False,
    pdf: PdfOpt = False,
    figures: Annotated[
        Figures,
        typer.Option(
            "--figures",
            help="recomputed：按原始数据复算并在旁注明学校原印数值（默认）；"
            "published：按学校原印数值列示并标注，旁注复算值",
        ),
    ] = Figures.recomputed,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="有章节最新构建失败（只能沿用旧版本）时不写出 report.html 和 index.html，退出码 1",
        ),
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="在已有的 Dask 集群上执行章节：调度器地址 tcp://主机:端口"
            "（local：在本机启动 --jobs 个工作进程的 LocalCluster）",
        ),
    ] = None,
) -> None:
    """校验 → 审核 → 执行章节笔记本 → 生成 HTML 报告（只重建有变化的章节）。"""
    from helpers.build.core import build as run_build

    with _stopping(), _Progress() as progress:
        result = run_build(
            schools=school,
            years=year,
            chapters=chapters,
            jobs=jobs,
            force=force,
            allow_audit_errors=allow_audit_errors,
            data_dir=data_dir,
            out_dir=out,
            notebooks_dir=notebooks,
            kernel_reuse=not fresh_kernels,
            on_event=progress,
            figures=Figures(figures).value,
            strict=strict,
            scheduler=scheduler,
        )
    _summary(result)
    for sy in result.school_years:
        console.print(f"报告{'（未更新）' if sy.withheld else ''}：{sy.index}")
    if pdf:
        _print_pdfs(result)
    if result.failed or result.withheld:
        raise typer.Exit(1)


def _print_pdfs(result: Any) -> None:
    for sy in result.school_years:
        if not sy.withheld:  # strict mode wrote no new report.html
            _print_pdf(sy.report)


@app.command()
def summary(
    year: Annotated[int, typer.Option("--year", "-y", help="年度")],
    school: SchoolOpt = None,
    data_dir: DataOpt = None,
    out: SummaryOutOpt = None,
    notebooks: SummaryNotebooksOpt = None,
    jobs: JobsOpt = None,
    force: ForceOpt = False,
    pdf: PdfOpt = False,
) -> None:
    """区域汇总报告：各校主要指标、分布、达标情况、离群值与数据核验（只重建有变化的部分）。"""
    from helpers.build.summary import build_summary

    with _stopping(), _Progress() as progress:
        result = build_summary(
            year,
            schools=school,
            data_dir=data_dir,
            out_dir=out,
            notebooks_dir=notebooks,
            jobs=jobs,
            force=force,
            on_event=progress,
        )
    for c in result.failed:
        console.print(f"[bold red]✗ 失败[/] {escape(c.label)}：{escape(c.error or '')}")
    if result.audit_errors:
        listed = "、".join(f"{s}（{n} 个）" for s, n in result.audit_errors.items())
        console.print(
            f"[yellow]⚠ 以下学校的数据审核有错误[/]（汇总照常生成，见各校核验条数）：{escape(listed)}"
        )
    state = "已更新" if result.regenerated else "全部为最新，未改动"
    console.print(
        f"汇总 {len(result.schools)} 所学校，执行 {len(result.executed)} 个笔记本，"
        f"失败 {len(result.failed)} 个；用时 {result.seconds:.1f} 秒（{state}）。"
    )
    console.print(f"汇总报告：{result.index}")
    if pdf and result.report.is_file():
        _print_pdf(result.report)
    if result.failed:
        raise typer.Exit(1)
