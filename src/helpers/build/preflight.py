"""Checks made before anything runs: the YAML specs (typed models and cross-checks), the
blocks of specs/report.yaml, and the ``rep.…`` calls of the chapter notebooks. ``nianbao
validate`` lists the problems; ``build()`` refuses to start while there is one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from helpers.build import manifest as mf
from helpers.errors import Problem
from helpers.report.nbcheck import check_notebooks
from helpers.specs.check import check_specs

# In a build's output folder: the notebooks that passed the check, with the code that checked
# them (a rebuild with neither changed checks nothing again, nor imports the report layer)
CHECKED = ".nianbao-notebooks-checked.json"


def problems(notebooks: Sequence[Path]) -> list[Problem]:
    """Every problem of the specs and of these notebooks, each naming file and line.

    When a spec file itself is wrong, only the spec problems are given: the notebooks are
    checked against the specs, which cannot be read then.
    """
    found = check_specs()
    if found:
        return found
    return check_notebooks(list(notebooks))


def spec_errors() -> str:
    """The message that stops a build because of the specs ("" when they are right)."""
    return _message(check_specs())


def notebook_errors(notebooks: Sequence[Path], record: Path | None = None, code: str = "") -> str:
    """The message that stops a build because of the notebooks' ``rep.…`` calls; call it
    once :func:`spec_errors` found nothing (the notebooks are checked against the specs).

    ``record`` (a file, :data:`CHECKED` in the output folder) remembers that these notebooks,
    as they are now, passed with this code (``code``: :func:`helpers.build.manifest.code_hash`,
    which covers the specs too): the same notebooks and code are not checked again."""
    key = None
    if record is not None and code:
        try:
            hashes = {str(p): mf.notebook_hash(p) for p in notebooks}
            key = mf.sha256_json({"code": code, "notebooks": hashes})
        except (OSError, ValueError):  # e.g. a file that is not a notebook: the check says so
            key = None
        if key is not None and (mf.read_json(record) or {}).get("key") == key:
            return ""
    message = _message(check_notebooks(list(notebooks)))
    if not message and key is not None:  # (a key only with a record)
        mf.write_json(record, {"key": key})
    return message


def _message(found: list[Problem]) -> str:
    bad = [p for p in found if p.severity == "error"]
    if not bad:
        return ""
    lines = [f"规格文件或章节笔记本有 {len(bad)} 处错误，构建未开始："]
    return "\n".join([*lines, *(f"  - {p}" for p in bad)])
