"""The chapter notebooks read as source: the one static scanner of their cells.

A chapter notebook is the chapter: Markdown heading cells, and code cells that call the
report (``rep.figure("awards")``, ``rep.text("…")``, ``rep.figure_from(fig, title="…")``).
Reading the cells statically (with :mod:`ast`, nothing executed) lets every chapter number
its 图N and 表N in report order without running the chapters before it, lets the build know
which raw files a chapter reads, and lets ``nianbao validate`` check every id before anything
runs (:mod:`helpers.report.nbcheck` checks what :func:`scan_notebook` finds).
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from helpers import paths
from helpers.memo import kept_cache
from helpers.specs.outline import outline

HEADING = re.compile(r"^(#{1,6})\s+(\S+)\s*(.*)$")
SECTION_NUMBER = re.compile(r"^\d+(\.\d+)*$")
_MAGIC = re.compile(r"^\s*[%!]")
NUMBERED = {"figure": "figure", "figure_from": "figure", "table": "table", "table_from": "table"}


@dataclass(frozen=True)
class Call:
    """One ``rep.<method>(…)`` call in a chapter notebook."""

    notebook: str  # file name
    cell: int  # index of the cell in the notebook
    line: int  # line in the cell, 1-based
    method: str
    args: tuple[Any, ...]  # literal positional arguments (None where not a literal)
    kwargs: dict[str, Any]
    section: str | None  # the number of the Markdown heading above it ("1.1.2"), if any
    node: ast.Call = field(compare=False, repr=False)  # for checks that need the syntax
    source: str = field(compare=False, repr=False)  # the cell's code, as parsed

    @property
    def block(self) -> tuple[str, str] | None:
        """(kind, id) of a numbered figure or table this call shows."""
        kind = NUMBERED.get(self.method)
        if kind is None:
            return None
        if self.method in ("figure", "table"):
            ident = self.args[0] if self.args else self.kwargs.get("id")
        else:
            ident = self.kwargs.get("id") or self.kwargs.get("title")
        return (kind, str(ident)) if isinstance(ident, str) else None

    @property
    def where(self) -> str:
        return f"{self.notebook} 第 {self.cell + 1} 个单元格第 {self.line} 行"

    def line_of(self, node: ast.expr, needle: str) -> int:
        """The line of the cell, within ``node``, where ``needle`` (a placeholder) is written."""
        lines = self.source.splitlines()
        for n in range(node.lineno, (node.end_lineno or node.lineno) + 1):
            if n <= len(lines) and needle in lines[n - 1]:
                return n
        return node.lineno


@dataclass(frozen=True)
class SyntaxProblem:
    """A code cell that does not parse (the checks report it; the build shows the kernel's
    error)."""

    cell: int
    line: int | None
    message: str


@dataclass(frozen=True)
class Scan:
    """What one notebook holds, read statically: its ``rep.…`` calls in order, its code cells
    that do not parse, and the sections its Markdown headings open."""

    calls: tuple[Call, ...]
    syntax_errors: tuple[SyntaxProblem, ...]
    sections: tuple[str, ...]  # section_key of every heading line, in order

    @property
    def numbered(self) -> frozenset[str]:
        """The section numbers of the headings (``### 5.1 …`` → ``5.1``)."""
        return frozenset(s for s in self.sections if SECTION_NUMBER.match(s))


def default_dir() -> Path:
    """The chapter notebooks in use: $NIANBAO_NOTEBOOKS (set by the build), else the working
    folder when it holds chapter notebooks (JupyterLab runs a notebook in its folder), else
    the repository's ``notebooks/``."""
    env = os.environ.get("NIANBAO_NOTEBOOKS")
    if env:
        return Path(env)
    cwd = Path.cwd()
    if any((cwd / f"{c.notebook}.ipynb").is_file() for c in outline()):
        return cwd
    return paths.repo_root() / "notebooks"


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _code(text: str) -> str:
    """A cell's code with IPython magics and shell escapes blanked (lines keep their numbers)."""
    return "\n".join("" if _MAGIC.match(ln) else ln for ln in text.splitlines())


def scan_notebook_cells(cells: list[dict[str, Any]], name: str) -> Scan:
    """Every ``rep.x(...)`` call of the cells, in order, with the section it stands in; the
    cells that do not parse; the sections the headings open."""
    out: list[Call] = []
    errors: list[SyntaxProblem] = []
    sections: list[str] = []
    section: str | None = None
    for index, cell in enumerate(cells):
        text = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            for line in text.splitlines():
                key = section_key(line)
                if key is not None:
                    section = key
                    sections.append(key)
            continue
        if cell.get("cell_type") != "code":
            continue
        code = _code(text)
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            errors.append(SyntaxProblem(index, exc.lineno, exc.msg))
            continue
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "rep"
        ]
        for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
            out.append(
                Call(
                    name,
                    index,
                    node.lineno,
                    node.func.attr,  # type: ignore[union-attr]
                    tuple(_literal(a) for a in node.args),
                    {k.arg: _literal(k.value) for k in node.keywords if k.arg},
                    section,
                    node,
                    code,
                )
            )
    return Scan(tuple(out), tuple(errors), tuple(sections))


def scan_cells(cells: list[dict[str, Any]], name: str) -> tuple[Call, ...]:
    """Every ``rep.x(...)`` call of the cells, in order (see :func:`scan_notebook_cells`)."""
    return scan_notebook_cells(cells, name).calls


def section_key(line: str) -> str | None:
    """The section a Markdown heading line opens: its number (``### 1.1.2 学生情况`` →
    ``1.1.2``), or for an unnumbered heading its text (``## 数据核验``); None for other lines."""
    m = HEADING.match(line.strip())
    if not m:
        return None
    return m.group(2) if SECTION_NUMBER.match(m.group(2)) else f"{m.group(2)} {m.group(3)}".strip()


class NotebookReadError(ValueError):
    """A notebook file that is not a notebook (not UTF-8 JSON with a list of cells)."""

    def __init__(self, path: Path, line: int | None, reason: str):
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}" + (f"，第 {line} 行" if line is not None else "")
        super().__init__(f"{where}：不是有效的笔记本文件（{reason}）")


@kept_cache(64)
def _scan_text(data: bytes, name: str) -> Scan:
    nb = json.loads(data.decode("utf-8"))
    cells = nb.get("cells", []) if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise TypeError("cells 应为列表")
    return scan_notebook_cells(cells, name)


def scan_notebook(path: str | os.PathLike[str]) -> Scan:
    """One notebook file read statically (cached by its content: reading the bytes is cheap,
    parsing the JSON and the cells' code is not). Raises NotebookReadError naming the file
    (and the line) when it is not a notebook."""
    p = Path(path)
    try:
        return _scan_text(p.read_bytes(), p.name)
    except json.JSONDecodeError as e:
        raise NotebookReadError(p, e.lineno, f"JSON 格式错误：{e.msg}") from None
    except UnicodeDecodeError:
        raise NotebookReadError(p, None, "不是 UTF-8 编码") from None
    except TypeError as e:
        raise NotebookReadError(p, None, str(e)) from None


def scan(path: str | os.PathLike[str]) -> tuple[Call, ...]:
    """The ``rep.…`` calls of one notebook file, in order (cached until the file changes)."""
    return scan_notebook(path).calls


def chapter_paths(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """The chapter notebooks of the outline, in report order, that exist in the folder."""
    root = Path(folder) if folder is not None else default_dir()
    return [p for c in outline() if (p := root / f"{c.notebook}.ipynb").is_file()]


def report_calls(folder: str | os.PathLike[str] | None = None) -> tuple[Call, ...]:
    """Every call of every chapter notebook, in report order."""
    return tuple(call for p in chapter_paths(folder) for call in scan(p))


def block_order(folder: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """The numbered blocks (kind, id) of the whole report in order, each once."""
    return list(dict.fromkeys(b for c in report_calls(folder) if (b := c.block) is not None))


def _in_section(section: str | None, number: str) -> bool:
    return section is not None and (section == number or section.startswith(number + "."))


def render_section(rep: Any, number: str, folder: str | os.PathLike[str] | None = None) -> str:
    """A section as its chapter notebook shows it, run here in this process.

    ``number`` is a section number (``1.1`` with its sub-sections), an unnumbered heading's
    text (``数据核验``) or a chapter id (``4``, ``A``: the whole chapter). The section's
    Markdown headings and the values of its code cells (each evaluated with ``rep`` bound),
    in notebook order; a heading whose section shows nothing is left out, as on the page. The
    cell that opens the report (``open_report``) is not run.
    """
    from helpers.report import markup

    chapters = {c.notebook: c.id for c in outline()}
    for path in chapter_paths(folder):
        whole = chapters.get(path.stem) == number
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        parts: list[tuple[int | None, str]] = []  # (heading level or None, html)
        section: str | None = None
        found = whole
        for cell in cells[1:]:  # the parameters cell comes first
            text = cell_source(cell)
            if cell.get("cell_type") == "markdown":
                lines = text.strip().splitlines()
                key = section_key(lines[0]) if len(lines) == 1 else None
                if key is not None:
                    section = key
                    if whole or _in_section(section, number):
                        found = True
                        m = HEADING.match(lines[0].strip())
                        level = len(m.group(1))  # type: ignore[union-attr]
                        title = f"{m.group(2)} {m.group(3)}".strip()  # type: ignore[union-attr]
                        anchor = markup.slug(key) if SECTION_NUMBER.match(key) else None
                        parts.append((level, markup.heading(level, title, anchor)))
                continue
            if cell.get("cell_type") != "code" or "open_report(" in text:
                continue
            if whole or _in_section(section, number):
                parts.append((None, _run(text, rep)))
        if found:
            shown = keep_shown(parts, lambda p: p[0], lambda p: bool(p[1].strip()))
            return "".join(html for level, html in shown if level is not None or html.strip())
    raise KeyError(f"章节笔记本中没有第 {number} 节（应有 Markdown 标题“### {number} …”）")


def _run(source: str, rep: Any) -> str:
    """The displayed value of a cell (its last expression), evaluated with ``rep``."""
    tree = ast.parse(source)
    scope: dict[str, Any] = {"rep": rep}
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<cell>", "exec"), scope)
    if last is None:
        return ""
    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope)
    html = getattr(value, "_repr_html_", None)
    return html() if callable(html) else ""


T = TypeVar("T")


def keep_shown(
    items: list[T], level: Callable[[T], int | None], shows: Callable[[T], bool]
) -> list[T]:
    """The items without the headings of sections that show nothing: a heading (``level`` not
    None) stays only when some non-heading item before the next heading of the same or a
    higher level shows something. One rule for the page and for ``rep.section``."""
    keep = []
    for i, item in enumerate(items):
        lv = level(item)
        if lv is None:
            keep.append(True)
            continue
        shown = False
        for later in items[i + 1 :]:
            other = level(later)
            if other is not None and other <= lv:
                break
            if other is None and shows(later):
                shown = True
                break
        keep.append(shown)
    return [x for x, k in zip(items, keep, strict=True) if k]
