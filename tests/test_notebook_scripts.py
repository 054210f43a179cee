"""Issue 11: a chapter notebook is plain Python. Its code cells, with the default parameters,
run as one script in a fresh interpreter (no IPython, no magics, no kernel), on the data
folder of a fixture copy, as an analyst's ``python chapter.py`` would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.factories import BUNDLED, ROOT, edit

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
pytestmark = pytest.mark.slow  # one interpreter per chapter


def script(notebook: Path, data_dir: Path) -> str:
    """The notebook's code cells in order, with ``data_dir`` set right after the parameters
    cell (where papermill would inject it)."""
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", [])]
    assert params, f"{notebook.name} has no cell tagged parameters"
    sources = [c.source for c in code]
    for source in sources:
        for line in source.splitlines():
            assert not line.lstrip().startswith(("%", "!")), f"{notebook.name}: magic {line!r}"
    sources.insert(params[0] + 1, f"data_dir = {str(data_dir)!r}")
    return "\n\n".join(sources) + "\n"


def run_script(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("JPY_PARENT_PID", None)
    return subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_chapter_notebook_is_found():
    assert len(NOTEBOOKS) >= 9 and NOTEBOOKS[0].name.startswith("00_")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_runs_as_a_plain_python_script(notebook, raw_copy, tmp_path):
    path = tmp_path / f"{notebook.stem}.py"
    path.write_text(script(notebook, raw_copy), encoding="utf-8")
    proc = run_script(path, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_the_script_reads_the_fixture_data_folder(raw_copy, tmp_path):
    """Broken data in the fixture copy stops the script with the data error: the script
    really reads data_dir (and would fail if a chapter did not)."""
    edit(raw_copy / BUNDLED / "2024" / "meta.yaml", "year: 2024", "year: 2023")
    notebook = next(p for p in NOTEBOOKS if p.stem.startswith("01_"))
    path = tmp_path / "chapter.py"
    path.write_text(script(notebook, raw_copy), encoding="utf-8")
    proc = run_script(path, tmp_path)
    assert proc.returncode != 0
    assert "DataValidationError" in proc.stderr and "year_mismatch" in proc.stderr
