"""What each process of a build imports at start-up (issue 14: start-up is the cost that keeps
a build of ten school-years from the floor).

A worker turns executed notebooks into pages: it must not import the report API (pandas,
pandera, matplotlib: ~2 s of CPU per worker). A kernel imports the report API once, in its
warm-up: after a reset, a chapter's ``from helpers.report import open_report`` imports
nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts a Python process

HEAVY = ["pandas", "pandera", "matplotlib", "seaborn", "helpers.report.api"]


def run(code: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_worker_renders_pages_without_the_report_api():
    found = run(
        f"""
import json, sys
from helpers.build.execute import prepare_process, engine
prepare_process()
import nbformat, papermill
from helpers.report import render
engine()
render._exporter(render.template_name())
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""
    )
    assert found == []


def test_the_package_still_offers_open_report():
    found = run(
        """
import json
import helpers.report as r
from helpers.report import Report, open_report
from helpers.report.api import Report as R, open_report as o
print(json.dumps([Report is R, open_report is o, hasattr(r, "nothing_such")]))
"""
    )
    assert found == [True, True, False]


def test_a_reset_kernel_imports_nothing_for_open_report():
    """The warm-up (WARM_MODULES) holds the report API, so the chapters do not import it
    again after every reset (~0.3 s each when it was missing)."""
    found = run(
        """
import json, sys
import helpers.build.reset as r
from helpers.build.reset import WARM_MODULES, WARM_SKIP
r.install(WARM_MODULES, WARM_SKIP)
new = []
for _ in range(2):
    r.reset()
    before = set(sys.modules)
    from helpers.report import open_report
    new.append(sorted(set(sys.modules) - before))
    del open_report
print(json.dumps(new))
""",
        env={"MPLBACKEND": "Agg", "NIANBAO_BUILD": "1"},
    )
    assert found == [[], []]


def test_the_notebook_check_does_not_import_the_charts():
    """The build's main process checks the chapters' ``rep.…`` calls (figure ids included)
    before any chapter runs; it draws no chart, so it does not import matplotlib or seaborn
    (≈0.5 s of its start-up). The check still knows every figure id."""
    found = run(
        """
import json, sys
from pathlib import Path
from helpers import paths
from helpers.report.nbcheck import check_notebooks
from helpers.report.figures import FIGURES
nbs = sorted((paths.repo_root() / "notebooks").glob("[0-9]*.ipynb"))
bad = [str(p) for p in check_notebooks(nbs) if p.severity == "error"]
heavy = sorted(m for m in ("matplotlib", "seaborn", "helpers.report.charts") if m in sys.modules)
print(json.dumps([len(nbs) > 0, bad, heavy, "enrollment_graduates" in FIGURES]))
"""
    )
    assert found == [True, [], [], True]


def test_a_failing_preload_leaves_the_fork_server_alive():
    """multiprocessing's fork server survives only an ImportError of its preload: any other
    failure would fail every worker with an unclear message. The preload prints it instead,
    and the workers import (and report) what they need themselves."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json\n"
            "from helpers.report import render\n"
            "def broken(*a, **k):\n"
            "    raise RuntimeError('template missing')\n"
            "render._exporter = broken\n"
            "import helpers.build.preload\n"
            "print(json.dumps('alive'))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.strip() == '"alive"', out.stderr[-2000:]
    assert "RuntimeError: template missing" in out.stderr
