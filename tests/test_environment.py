"""environment.yml lists the same dependencies as the pip install (pyproject.toml)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins(reqs: list[str]) -> dict[str, str]:
    return {_name(r): r[len(_name(r)) :].strip() for r in reqs}


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = _pins(
        [
            d
            for d in env["dependencies"]
            # the interpreter and pip themselves, not packages named python-… (python-docx)
            if isinstance(d, str) and _name(d) not in {"python", "pip"}
        ]
    )
    assert conda == pip
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert pip_section == ["-e ."]


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and ci.strip().splitlines()[-1] == "make test"
    assert "make report" in readme


def test_every_third_party_import_of_src_is_declared():
    """A module src/ imports (anywhere: top level or inside a function) comes from a
    distribution listed in pyproject.toml ``dependencies``; the test extra does not count."""
    import ast
    import sys
    from importlib.metadata import packages_distributions

    declared = {
        _name(r)
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "dependencies"
        ]
    }
    dists = packages_distributions()
    imported: dict[str, str] = {}
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "helpers":
                    imported.setdefault(top, str(path.relative_to(ROOT)))
    assert {"pandas", "yaml", "pydantic", "markdown_it"} <= set(imported)  # the scan works
    undeclared = {
        top: where
        for top, where in imported.items()
        if not {_name(d) for d in dists.get(top, [top])} & declared
    }
    assert undeclared == {}, f"imported by src/ but not in pyproject dependencies: {undeclared}"


@pytest.mark.slow
def test_pre_commit_strips_notebook_outputs(tmp_path):
    """The pre-commit hook is the installed nbstripout (hook repositories cannot be fetched),
    the config is valid, and that tool clears a notebook's outputs."""
    import shutil
    import subprocess
    import sys

    import nbformat

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for r in config["repos"] if r["repo"] == "local" for h in r["hooks"]]
    assert [(h["id"], h["entry"], h["language"]) for h in hooks] == [
        ("nbstripout", "nbstripout", "system")
    ]
    bin_dir = Path(sys.executable).parent
    tool = shutil.which("pre-commit", path=str(bin_dir)) or shutil.which("pre-commit")
    check = subprocess.run(
        [tool, "validate-config", str(ROOT / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells = [cell]
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    strip = shutil.which("nbstripout", path=str(bin_dir)) or shutil.which("nbstripout")
    subprocess.run([strip, str(path)], check=True)
    cleared = nbformat.read(path, as_version=4).cells[0]
    assert cleared.outputs == [] and cleared.execution_count is None
    assert cleared.source == "print(1)"
