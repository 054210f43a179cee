"""Static checks of the chapter notebooks, before anything runs.

Every ``rep.<method>(…)`` call that :func:`helpers.report.notebooks.scan_notebook` finds (with
:mod:`ast`, nothing is executed) is checked: the method exists on
:class:`helpers.report.api.Report`, a figure / table id is one of FIGURES / TABLES, every
``{{ id }}`` of a ``rep.text`` template is a fact, an indicator or a meta name,
``rep.standards`` names indicators that have a standard, and a section number given to
``rep.narrative`` / ``rep.section`` is a Markdown heading (``### 5.1 …``) of some notebook or
a chapter-level section. Each problem names the id, the notebook file, the cell and the line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from helpers.errors import Problem
from helpers.ingest.narrative import EMBED_KINDS
from helpers.report.notebooks import Call, NotebookReadError, scan_notebook
from helpers.specs.check import shown, suggest
from helpers.specs.dictionary import SPECS, load_dictionary
from helpers.specs.registry import registry
from helpers.specs.sentences import FILTERS, META_NAMES, TemplateError, placeholders

# Sections of the report that are not numbered headings (the preface's prose, and the
# non-numbered sections of specs/report.yaml's chapters).
UNNUMBERED = {"preface"}


def report_methods() -> set[str]:
    """The public names of Report (the notebook API)."""
    from helpers.report.api import Report

    return {n for n in dir(Report) if not n.startswith("_")}


def headings(notebooks: Iterable[Path]) -> set[str]:
    """Section numbers of the Markdown headings of these notebooks (``### 5.1 …`` → 5.1)."""
    return {s for nb in notebooks for s in scan_notebook(nb).numbered}


def _where(path: Path, cell: int) -> str:
    return f"{shown(path)} cells[{cell}]"


def calls(path: Path) -> tuple[list[Call], list[Problem]]:
    """Every ``rep.<method>(…)`` call of the notebook's code cells, and its syntax errors."""
    found = scan_notebook(path)
    problems = [
        Problem(_where(path, e.cell), "nb_syntax", f"代码无法解析：{e.message}", row=e.line)
        for e in found.syntax_errors
    ]
    return list(found.calls), problems


def _str_arg(node: ast.Call) -> ast.Constant | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0]
    return None


def known_placeholder(name: str) -> bool:
    """A ``{{ name }}`` a template may use (as helpers.ingest.narrative reads them)."""
    from helpers.report.figures import FIGURES
    from helpers.report.tables import TABLES

    kind, _, ident = name.partition(".")
    if kind in EMBED_KINDS and ident:
        return ident in (FIGURES if kind == "figure" else TABLES)
    base = re.sub(r"^(prev|y\d{4})\.", "", name)
    return base in load_dictionary().facts or base in registry().indicators or name in META_NAMES


def _chapters() -> tuple[set[str], set[str]]:
    """(chapter ids and notebook stems, section numbers) of specs/report.yaml."""
    import yaml

    raw = yaml.safe_load((SPECS / "report.yaml").read_text(encoding="utf-8"))
    ids = {str(c["id"]) for c in raw["chapters"]} | {c["notebook"] for c in raw["chapters"]}
    sections = {str(s["number"]) for c in raw["chapters"] for s in c.get("sections") or []}
    return ids, sections


def check_notebooks(notebooks: Sequence[Path], methods: set[str] | None = None) -> list[Problem]:
    """Every problem of the ``rep.…`` calls of these notebooks (see the module docstring)."""
    from helpers.report.figures import FIGURES
    from helpers.report.tables import TABLES

    problems: list[Problem] = []
    readable = []
    for nb in notebooks:  # a file that is not a notebook is one problem; the rest is checked
        try:
            scan_notebook(nb)
            readable.append(nb)
        except NotebookReadError as e:
            problems.append(Problem(shown(nb), "notebook_file", e.reason, row=e.line))
    notebooks = readable
    methods = report_methods() if methods is None else methods
    chapter_ids, outline_sections = _chapters()
    sections = headings(notebooks) | UNNUMBERED | {c for c in chapter_ids if c.isdigit()}
    sections |= outline_sections
    standards = {s["indicator"] for s in registry().standards}

    where = ""  # the notebook and cell of the call being checked

    def bad(
        c: Call,
        rule: str,
        message: str,
        value: str,
        choices: Iterable[str],
        line: int | None = None,
    ) -> None:
        problems.append(
            Problem(
                where, rule, message, row=line or c.line, value=value, hint=suggest(value, choices)
            )
        )

    for nb in notebooks:
        found, errs = calls(nb)
        problems += errs
        for c in found:
            where = _where(nb, c.cell)
            if c.method not in methods:
                bad(c, "nb_unknown_method", f"Report 没有方法 rep.{c.method}", c.method, methods)
            arg = _str_arg(c.node)
            if c.method == "figure" and arg and arg.value not in FIGURES:
                bad(
                    c,
                    "nb_unknown_figure",
                    "图表 id 不在 helpers/report/figures.py 的 FIGURES 中",
                    arg.value,
                    FIGURES,
                )
            elif c.method == "table" and arg and arg.value not in TABLES:
                bad(
                    c,
                    "nb_unknown_table",
                    "表格 id 不在 helpers/report/tables.py 的 TABLES 中",
                    arg.value,
                    TABLES,
                )
            elif c.method in ("narrative", "section") and arg and arg.value not in sections:
                bad(
                    c,
                    "nb_unknown_section",
                    "没有这一节：任何笔记本中都没有这个编号的 Markdown 标题（如 “### 5.1 …”）",
                    arg.value,
                    sections,
                )
            elif c.method == "chapter" and arg and arg.value not in chapter_ids:
                bad(
                    c,
                    "nb_unknown_chapter",
                    "specs/report.yaml 中没有这一章",
                    arg.value,
                    chapter_ids,
                )
            elif c.method == "text" and arg:
                problems += _template(c, arg, where)
            elif (
                c.method == "standards"
                and c.node.args
                and isinstance(c.node.args[0], (ast.List, ast.Tuple))
            ):
                for el in c.node.args[0].elts:
                    if (
                        isinstance(el, ast.Constant)
                        and isinstance(el.value, str)
                        and el.value not in standards
                    ):
                        bad(
                            c,
                            "nb_unknown_standard",
                            "该指标在 specs/thresholds.yaml 中没有国家标准",
                            el.value,
                            standards,
                            el.lineno,
                        )
    return problems


def _template(c: Call, arg: ast.Constant, where: str) -> list[Problem]:
    out = []
    ids = set(load_dictionary().facts) | set(registry().indicators) | META_NAMES
    try:
        found = placeholders(arg.value)
    except TemplateError as e:
        return [Problem(where, "nb_bad_template", str(e), row=c.line, value=arg.value[:40])]
    for p in found:
        line = c.line_of(arg, p.name)
        if not known_placeholder(p.name):
            base = re.sub(r"^(prev|y\d{4})\.", "", p.name)
            out.append(
                Problem(
                    where,
                    "nb_unknown_placeholder",
                    "占位符不是已定义的事实、指标或 year / prev_year / school_year / school_name",
                    row=line,
                    value=p.name,
                    hint=suggest(base, ids),
                )
            )
        if p.filter and p.filter not in FILTERS:
            out.append(
                Problem(
                    where,
                    "nb_unknown_filter",
                    f"占位符过滤器只能是 {'、'.join(sorted(FILTERS))}",
                    row=line,
                    value=p.filter,
                    hint=suggest(p.filter, FILTERS),
                )
            )
    return out
