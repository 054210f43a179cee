"""The package's layers import only downward, no module imports in a cycle, no module is
huge, and no program is kept in a string.

raw → ingest → indicators → report → build → cli is the data flow a newcomer should see in
``src/helpers``. Every import of a ``helpers`` module counts, wherever it stands (top level,
inside a function, under ``TYPE_CHECKING``): an import hidden in a function is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "helpers"
# lowest first; a module may import its own layer and the layers before it
LAYERS: list[tuple[str, ...]] = [
    (
        "helpers",
        "helpers.paths",
        "helpers.errors",
        "helpers.fmt",
        "helpers.atomic",
        "helpers.memo",
    ),
    ("helpers.specs",),
    ("helpers.model",),
    ("helpers.ingest",),
    ("helpers.demo",),  # writes raw data in the formats ingest reads
    ("helpers.indicators",),
    ("helpers.exchange",),
    ("helpers.report",),
    ("helpers.summary",),  # the regional summary: every school's indicators, pages like a report's
    ("helpers.build",),
    ("helpers.cli",),
]
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    best = None
    for i, names in enumerate(LAYERS):
        for name in names:
            if module == name or (name != "helpers" and module.startswith(name + ".")):
                best = i
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The helpers modules a module imports (``from helpers.x import y`` counts helpers.x.y
    when that is a module, else helpers.x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "helpers"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "helpers":
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != module}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports(m, p, known) for m, p in mods.items()}


def test_layers_import_only_downward():
    wrong = [
        f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
        for m, targets in graph().items()
        for t in sorted(targets)
        if layer(t) > layer(m)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    g = graph()
    # a package's __init__ re-exporting its own modules is not a cycle of the modules
    g = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in g.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(g[m]):
            if state.get(t) == 1:
                cycles.append([*stack[stack.index(t) :], t] if t in stack else [m, t])
            elif t not in state:
                visit(t, [*stack, t])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_no_module_is_huge():
    big = {
        m: n
        for m, p in modules().items()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not big, big


def test_the_checker_sees_a_hidden_upward_import(tmp_path):
    """The rule can fail: an import inside a function is an import."""
    fake = PACKAGE / "ingest" / "load.py"
    code = "def f():\n    from helpers.report import api\n"
    tree_imports = imports("helpers.ingest.load", _write(tmp_path, code), set(modules()))
    assert "helpers.report.api" in tree_imports and layer("helpers.report.api") > layer(
        module_name(fake)
    )


def _write(tmp: Path, code: str) -> Path:
    p = tmp / "load.py"
    p.write_text(code, encoding="utf-8")
    return p
