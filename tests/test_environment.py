"""environment.yml lists the same dependencies as the pip install (pyproject.toml)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
            if isinstance(d, str) and not d.startswith(("python", "pip"))
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
