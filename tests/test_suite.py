"""The test suite's own rules: a test file imports shared helpers from helper modules
(tests/factories.py, report_text.py, …), never from another test file or from conftest.py
(fixtures reach tests through pytest)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(("." * node.level) + node.module)
    return out


def test_no_test_file_imports_another_test_file_or_conftest():
    bad = {}
    for path in sorted(TESTS.glob("*.py")):
        wrong = {
            m
            for m in imported_modules(path)
            if m.split(".")[-1].startswith("test_") or m.split(".")[-1] == "conftest"
        }
        if wrong:
            bad[path.name] = sorted(wrong)
    assert bad == {}


def test_the_check_sees_such_an_import(tmp_path):
    sample = tmp_path / "test_x.py"
    sample.write_text("from tests.test_numbers import visible\nimport tests.conftest\n")
    assert imported_modules(sample) == {"tests.test_numbers", "tests.conftest"}
