"""Checks made before anything runs: the YAML specs (typed models and cross-checks), the
blocks of specs/report.yaml, and the ``rep.…`` calls of the chapter notebooks. ``nianbao
validate`` lists the problems; ``build()`` refuses to start while there is one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from helpers.errors import Problem
from helpers.report.nbcheck import check_notebooks
from helpers.specs.check import check_specs


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


def notebook_errors(notebooks: Sequence[Path]) -> str:
    """The message that stops a build because of the notebooks' ``rep.…`` calls; call it
    once :func:`spec_errors` found nothing (the notebooks are checked against the specs)."""
    return _message(check_notebooks(list(notebooks)))


def _message(found: list[Problem]) -> str:
    bad = [p for p in found if p.severity == "error"]
    if not bad:
        return ""
    lines = [f"规格文件或章节笔记本有 {len(bad)} 处错误，构建未开始："]
    return "\n".join([*lines, *(f"  - {p}" for p in bad)])
