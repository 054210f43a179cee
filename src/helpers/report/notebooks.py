"""The chapter notebooks read as source: which blocks each chapter shows, in order.

A chapter notebook is the chapter: Markdown heading cells, and code cells that call the
report (``rep.figure("awards")``, ``rep.text("…")``, ``rep.figure_from(fig, title="…")``).
Reading the cells statically (with :mod:`ast`, nothing executed) lets every chapter number
its 图N and 表N in report order without running the chapters before it, lets the build know
which raw files a chapter reads, and lets ``nianbao validate`` check every id before anything
runs.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from helpers import paths
from helpers.specs.outline import outline

HEADING = re.compile(r"^(#{1,6})\s+(\S+)\s*(.*)$")
SECTION_NUMBER = re.compile(r"^\d+(\.\d+)*$")
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


def scan_cells(cells: list[dict[str, Any]], name: str) -> tuple[Call, ...]:
    """Every ``rep.x(...)`` call of the cells, in order, with the section it stands in."""
    out: list[Call] = []
    section: str | None = None
    for index, cell in enumerate(cells):
        text = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            for line in text.splitlines():
                key = section_key(line)
                if key is not None:
                    section = key
            continue
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue  # reported by the checks; the build shows the kernel's error
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
                )
            )
    return tuple(out)


def section_key(line: str) -> str | None:
    """The section a Markdown heading line opens: its number (``### 1.1.2 学生情况`` →
    ``1.1.2``), or for an unnumbered heading its text (``## 数据核验``); None for other lines."""
    m = HEADING.match(line.strip())
    if not m:
        return None
    return m.group(2) if SECTION_NUMBER.match(m.group(2)) else f"{m.group(2)} {m.group(3)}".strip()


def _signature(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


@lru_cache(maxsize=64)
def _scan_file(path: Path, signature: tuple[int, int]) -> tuple[Call, ...]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return scan_cells(nb.get("cells", []), path.name)


def scan(path: str | os.PathLike[str]) -> tuple[Call, ...]:
    """The calls of one notebook file (cached until the file changes)."""
    p = Path(path).resolve()
    return _scan_file(p, _signature(p))


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
