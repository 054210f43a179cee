"""The ``nianbao`` command: build reports, validate data, and the chores around them.

    nianbao build                 # the bundled school's latest year → reports/<school>/<year>/
    nianbao validate              # load + audit, findings as a table
    nianbao list                  # schools and years with data
    nianbao process               # validated tables → data/processed
    nianbao dictionary [--check]  # docs/data-dictionary.md
    nianbao clean                 # remove reports/ and the build cache

Exit codes: 0 fine, 1 a chapter failed (or ``build --strict`` did not write a report because
a chapter is stale, or audit errors in ``validate``, or ``dictionary --check`` found the file
out of date), 2 bad arguments or invalid data, 130 interrupted.
"""

from __future__ import annotations

import shutil
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from helpers import paths

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


class Figures(StrEnum):
    """The disclosure policy of helpers.indicators.disclose (kept here so the CLI loads no pandas)."""

    recomputed = "recomputed"
    published = "published"


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]错误：[/]{escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def _targets(
    school: list[str] | None, year: list[int] | None, data_dir: Path | None
) -> list[tuple[str, int]]:
    from helpers.build.core import BuildError, resolve_targets

    try:
        return resolve_targets(school, year, data_dir)
    except BuildError as e:
        raise _fail(str(e)) from None


# ----------------------------------------------------------------------------- build


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
        f"（{result.jobs} 个并行进程{'，内核复用' if result.kernel_reuse else ''}）。"
    )


@app.command()
def build(
    school: SchoolOpt = None,
    year: YearOpt = None,
    chapters: Annotated[
        list[str] | None,
        typer.Option("--chapters", "-c", help="只构建这些章节（笔记本文件名或前缀，可逗号分隔）"),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="并行进程数；默认：CPU 核数")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="全部重新执行")] = False,
    allow_audit_errors: Annotated[
        bool, typer.Option("--allow-audit-errors", help="审核发现错误时仍继续构建")
    ] = False,
    data_dir: DataOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="报告目录；默认：reports")] = None,
    notebooks: Annotated[
        Path | None, typer.Option("--notebooks", help="章节笔记本目录；默认：notebooks")
    ] = None,
    fresh_kernels: Annotated[
        bool,
        typer.Option("--fresh-kernels", help="每章使用一个新内核（较慢；默认复用预热的内核）"),
    ] = False,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="另用无界面 Chromium 将 report.html 打印为 report.pdf")
    ] = False,
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
) -> None:
    """校验 → 审核 → 执行章节笔记本 → 生成 HTML 报告（只重建有变化的章节）。"""
    from helpers.build.core import BuildError
    from helpers.build.core import build as run_build

    try:
        with _Progress() as progress:
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
            )
    except BuildError as e:
        raise _fail(str(e)) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]已中断[/]：内核与工作进程已停止，已有的报告文件保持不变。")
        raise typer.Exit(130) from None
    _summary(result)
    for sy in result.school_years:
        console.print(f"报告{'（未更新）' if sy.withheld else ''}：{sy.index}")
    if pdf:
        _print_pdfs(result)
    if result.failed or result.withheld:
        raise typer.Exit(1)


def _print_pdfs(result) -> None:
    from helpers.build.pdf import PdfUnavailable, page_count, print_pdf

    for sy in result.school_years:
        if sy.withheld:  # strict mode wrote no new report.html
            continue
        target = sy.report.with_suffix(".pdf")
        try:
            print_pdf(sy.report, target)
        except PdfUnavailable as e:
            raise _fail(str(e)) from None
        except (RuntimeError, OSError) as e:
            raise _fail(f"PDF 生成失败：{e}") from None
        console.print(f"PDF：{target}（{page_count(target)} 页）")


# ----------------------------------------------------------------------------- data


def _findings_table(rows: list[tuple[str, str, str]], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("级别", no_wrap=True)
    table.add_column("规则", no_wrap=True)
    table.add_column("说明", overflow="fold")
    colors = {"error": "red", "warning": "yellow", "info": "cyan"}
    for severity, rule, message in rows:
        table.add_row(f"[{colors.get(severity, 'white')}]{severity}[/]", rule, escape(message))
    return table


@app.command()
def validate(
    school: SchoolOpt = None,
    year: YearOpt = None,
    data_dir: DataOpt = None,
    notebooks: Annotated[
        Path | None, typer.Option("--notebooks", help="章节笔记本目录；默认：notebooks")
    ] = None,
) -> None:
    """校验规格文件、章节笔记本和数据，并审核数据，列出发现的问题（有错误时退出码非零），
    并写出处理后的数据。"""
    from helpers.build.core import BuildError, default_notebooks_dir, discover_chapters
    from helpers.build.preflight import problems as preflight
    from helpers.errors import DataValidationError
    from helpers.indicators.audit import report_findings as run_audit
    from helpers.indicators.processed import write as write_processed
    from helpers.ingest.load import load_school_year

    try:
        found = preflight(discover_chapters(notebooks or default_notebooks_dir()))
    except BuildError as e:
        raise _fail(str(e)) from None
    if found:  # one line each, never wrapped: file, cell and line stay readable
        err_console.print(f"[bold red]规格文件或章节笔记本有 {len(found)} 处错误：[/]")
        for p in found:
            err_console.print(f"  - {escape(str(p))}", soft_wrap=True)
        raise typer.Exit(2)
    code = 0
    for s, y in _targets(school, year, data_dir):
        try:
            sy = load_school_year(s, y, data_dir)
        except DataValidationError as e:
            err_console.print(f"[bold red]{escape(str(e))}[/]")
            code = 2
            continue
        try:
            folder = write_processed(sy)  # what the chapter kernels then load
        except OSError as e:
            raise _fail(f"无法写出处理后的数据（{e.filename or ''}）：{e.strerror or e}") from None
        findings = run_audit(sy)
        rows = [(p.severity, p.rule, str(p)) for p in sy.warnings]
        rows += [(f.severity, f.rule, f.message) for f in findings]
        console.print(_findings_table(rows, f"{s}（{sy.school_name}）{y} 年度：数据审核"))
        n = {k: sum(r[0] == k for r in rows) for k in ("error", "warning", "info")}
        console.print(f"错误 {n['error']} · 警告 {n['warning']} · 提示 {n['info']}")
        console.print(f"处理后的数据：{folder}")
        if n["error"] and code == 0:
            code = 1
    if code:
        raise typer.Exit(code)


app.command("audit", help="validate 的别名。")(validate)


@app.command("list")
def list_(data_dir: DataOpt = None) -> None:
    """列出有数据的学校与年度。"""
    import yaml

    schools = paths.list_schools(data_dir)
    if not schools:
        raise _fail(f"{paths.raw_root(data_dir)} 下没有任何学校的数据")
    table = Table(title="学校与年度")
    table.add_column("编号")
    table.add_column("名称")
    table.add_column("年度")
    for s in schools:
        try:
            doc = yaml.safe_load((paths.school_dir(s, data_dir) / "school.yaml").read_text("utf-8"))
            name = str((doc or {}).get("name", "")) if isinstance(doc, dict) else ""
        except (OSError, yaml.YAMLError):
            name = ""
        table.add_row(s, escape(name), ", ".join(map(str, paths.list_years(s, data_dir))))
    console.print(table)


@app.command()
def process(
    school: SchoolOpt = None,
    year: YearOpt = None,
    data_dir: DataOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="输出目录；默认：原始数据目录旁（data/processed）"),
    ] = None,
) -> None:
    """把校验后的数据写成 data/processed/<学校>/<年度>/*.parquet。"""
    from helpers.errors import DataValidationError
    from helpers.indicators.processed import process as run_process

    for s, y in _targets(school, year, data_dir):
        try:
            folder = run_process(s, y, data_dir, out_dir)
        except DataValidationError as e:
            raise _fail(str(e)) from None
        console.print(f"{s} {y} → {folder}")


@app.command()
def dictionary(
    check: Annotated[
        bool, typer.Option("--check", help="只检查文件是否最新（不是则退出码 1）")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="默认：docs/data-dictionary.md")
    ] = None,
) -> None:
    """由 specs/fields.yaml 生成数据字典 docs/data-dictionary.md。"""
    from helpers.atomic import write_text
    from helpers.specs.dictionary import render_markdown

    target = output or paths.repo_root() / "docs" / "data-dictionary.md"
    text = render_markdown()
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        if current != text:
            err_console.print(
                f"{target} 不是最新的（或不存在）；运行 `nianbao dictionary` 重新生成。"
            )
            raise typer.Exit(1)
        console.print(f"{target} 是最新的。")
        return
    if current == text:
        console.print(f"{target} 已是最新，未改动。")
        return
    write_text(target, text)
    console.print(f"已写出 {target}")


@app.command()
def schema(
    check: Annotated[
        bool, typer.Option("--check", help="只检查文件是否最新（不是则退出码 1）")
    ] = False,
) -> None:
    """由规格模型生成 src/helpers/specs/schema/*.json（编辑器据此补全和检查 YAML）。"""
    from helpers.atomic import write_text
    from helpers.specs.schema import rendered

    stale = [
        (path, text)
        for path, text in rendered().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if check:
        for path, _ in stale:
            err_console.print(f"{path} 不是最新的（或不存在）；运行 `nianbao schema` 重新生成。")
        if stale:
            raise typer.Exit(1)
        console.print("JSON Schema 均为最新。")
        return
    for path, text in stale:
        write_text(path, text)
        console.print(f"已写出 {path}")
    if not stale:
        console.print("JSON Schema 均为最新，未改动。")


@app.command()
def clean(
    out: Annotated[Path | None, typer.Option("--out", help="报告目录；默认：reports")] = None,
) -> None:
    """删除生成的报告目录（含构建缓存）。"""
    from helpers.build.core import LOCK_FILE, default_out_dir

    target = (out or default_out_dir()).resolve()
    removed = []
    if target.is_dir():
        if target == default_out_dir().resolve() or (target / LOCK_FILE).exists():
            shutil.rmtree(target)
            removed.append(target)
        elif any(target.iterdir()):
            raise _fail(f"{target} 看起来不是 nianbao 的报告目录（没有 {LOCK_FILE}），未删除")
        else:
            target.rmdir()
            removed.append(target)
    legacy = paths.repo_root() / ".nianbao-cache"
    if legacy.is_dir():
        shutil.rmtree(legacy)
        removed.append(legacy)
    if removed:
        for p in removed:
            console.print(f"已删除 {p}")
    else:
        console.print("没有需要删除的内容。")


# export-xlsx, import-xlsx, import-docx (helpers/exchange)
__import__("helpers.exchange.commands", fromlist=["register"]).register(app)

if __name__ == "__main__":
    app()
