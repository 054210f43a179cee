"""The data commands: validate, list, process, dictionary, schema, demo-data, clean."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from helpers import paths
from helpers.cli.common import (
    DataOpt,
    NotebooksOpt,
    OutOpt,
    SchoolOpt,
    YearOpt,
    app,
    console,
    err_console,
    fail,
    targets,
)

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
    notebooks: NotebooksOpt = None,
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
        raise fail(str(e)) from None
    if found:  # one line each, never wrapped: file, cell and line stay readable
        err_console.print(f"[bold red]规格文件或章节笔记本有 {len(found)} 处错误：[/]")
        for p in found:
            err_console.print(f"  - {escape(str(p))}", soft_wrap=True)
        raise typer.Exit(2)
    code = 0
    for s, y in targets(school, year, data_dir):
        try:
            sy = load_school_year(s, y, data_dir)
        except DataValidationError as e:
            err_console.print(f"[bold red]{escape(str(e))}[/]")
            code = 2
            continue
        try:
            folder = write_processed(sy)  # what the chapter kernels then load
        except OSError as e:
            raise fail(f"无法写出处理后的数据（{e.filename or ''}）：{e.strerror or e}") from None
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
        raise fail(f"{paths.raw_root(data_dir)} 下没有任何学校的数据")
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

    for s, y in targets(school, year, data_dir):
        try:
            folder = run_process(s, y, data_dir, out_dir)
        except DataValidationError as e:
            raise fail(str(e)) from None
        console.print(f"{s} {y} → {folder}")


CheckOpt = Annotated[bool, typer.Option("--check", help="只检查文件是否最新（不是则退出码 1）")]


@app.command()
def dictionary(
    check: CheckOpt = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="默认：docs/data-dictionary.md")
    ] = None,
) -> None:
    """由 specs/fields.yaml 生成数据字典 docs/data-dictionary.md。"""
    from helpers.specs.dictionary import render_markdown

    target = output or paths.repo_root() / "docs" / "data-dictionary.md"
    _regenerate({target: render_markdown()}, check, "dictionary", "数据字典")


@app.command()
def schema(
    check: CheckOpt = False,
) -> None:
    """由规格模型生成 src/helpers/specs/schema/*.json（编辑器据此补全和检查 YAML）。"""
    from helpers.specs.schema import rendered

    _regenerate(rendered(), check, "schema", "JSON Schema 均")


def _regenerate(files: dict[Path, str], check: bool, command: str, what: str) -> None:
    """Write the generated ``files`` that differ from what is on disk (atomically), or with
    ``check`` only say which differ (exit code 1)."""
    from helpers.atomic import write_text

    stale = [
        (path, text)
        for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if check:
        for path, _ in stale:
            err_console.print(f"{path} 不是最新的（或不存在）；运行 `nianbao {command}` 重新生成。")
        if stale:
            raise typer.Exit(1)
        console.print(f"{what}是最新的。")
        return
    for path, text in stale:
        write_text(path, text)
        console.print(f"已写出 {path}")
    if not stale:
        console.print(f"{what}已是最新，未改动。")


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="写入的原始数据目录（之后作 --data-dir）")],
    schools: Annotated[int, typer.Option("--schools", "-n", min=1, help="学校数")] = 3,
    years: Annotated[
        str, typer.Option("--years", help="年度，如 2022-2024 或 2023,2024")
    ] = "2022-2024",
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子生成相同文件）")] = 0,
) -> None:
    """生成虚拟学校的原始数据（供测试与基准测试；不是真实数据，不要提交）。"""
    from helpers.demo import generate, parse_years

    try:
        made = generate(out, schools, parse_years(years), seed)
    except (ValueError, FileExistsError) as e:
        raise fail(str(e)) from None
    for s in made:
        partial = f"；部分年度 {', '.join(map(str, s.partial_years))}" if s.partial_years else ""
        years_text = ", ".join(map(str, s.years))
        console.print(f"{s.school_id}（{escape(s.name)}）{years_text}{partial}", soft_wrap=True)
    console.print(
        f"已生成 {len(made)} 所学校：{out.resolve()}（nianbao build --data-dir {out}）",
        soft_wrap=True,
    )


@app.command()
def clean(
    out: OutOpt = None,
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
            raise fail(f"{target} 看起来不是 nianbao 的报告目录（没有 {LOCK_FILE}），未删除")
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
