"""The build's papermill engine (helpers.build.batch / cellrun): a notebook's cells in one
execute request give the notebook nbclient gives, cell for cell and output for output; a
kernel that dies or a chapter that hangs is reported, not waited for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from helpers.build import batch
from helpers.build.kernel import _Kernel
from tests.factories import write_notebook

pytestmark = pytest.mark.slow

CELLS = [
    ("code", "print('a')\nprint('b')\nimport sys\nprint('to stderr', file=sys.stderr)\nprint('c')"),
    ("markdown", "# 标题"),
    (
        "code",
        "from IPython.display import HTML, Markdown, clear_output, display\n"
        "display(HTML('<b>粗体</b>'))\nprint('between')\ndisplay(Markdown('*x*'))\n1 + 1",
    ),
    ("code", "h = display('first', display_id='d')\nh.update('second')\n'result'"),
    ("code", "print('gone')\nclear_output()\nprint('kept')"),
    ("code", "print('gone too')\nclear_output(wait=True)\nprint('after the wait')"),
    ("code", ""),
    (
        "code",
        "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(2, 1))\nax.plot([1, 2, 3])",
    ),
    ("code", "import warnings\nwarnings.warn('小心', UserWarning)\nx = 5"),
    ("code", "for i in range(3):\n    print(i, end=' ')\nget_ipython().execution_count"),
    ("code", "def f():\n    return 1 / 0\nf()"),
    ("code", "print('never run')"),
]


def _notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    return write_notebook(path, nb)


ADDRESS = re.compile(r"0x[0-9a-f]+|ipykernel_[0-9]+")  # objects' and the kernel's temp files


def _shown(nb: nbformat.NotebookNode) -> list[tuple]:
    """Each cell's type, source, count, papermill status and outputs (object addresses and
    the kernel process's id in its cells' file names aside)."""
    shown = []
    for c in nb.cells:
        outs = [ADDRESS.sub("#", json.dumps(o, sort_keys=True)) for o in c.get("outputs", [])]
        status = c.metadata.get("papermill", {}).get("status")
        shown.append((c.cell_type, c.source, c.get("execution_count"), status, outs))
    return shown


@pytest.fixture
def kernel(tmp_path):
    k = _Kernel("python3", tmp_path / "kernel.log", lambda pid: None)
    k.start(warm=False)
    yield k
    k.close()


def _run(path: Path, out: Path, **kw) -> nbformat.NotebookNode:
    with pytest.raises(PapermillExecutionError):
        papermill.execute_notebook(path, out, progress_bar=False, kernel_name="python3", **kw)
    return nbformat.read(out, as_version=4)


def test_one_request_gives_the_notebook_nbclient_gives(tmp_path, kernel):
    path = _notebook(tmp_path / "nb.ipynb", CELLS)
    reference = _run(path, tmp_path / "nbclient.ipynb")  # papermill's own engine, nbclient
    batch.engine()
    ours = _run(path, tmp_path / "batch.ipynb", engine_name=batch.ENGINE_NAME, kernel=kernel)
    assert _shown(ours) == _shown(reference)
    assert "papermill-error-cell-tag" in ours.cells[0].metadata.tags  # papermill's, at the top
    # the comparison has teeth: streams, displays, an update, a figure, a warning, the error
    kinds = [o["output_type"] for c in ours.cells for o in c.get("outputs", [])]
    assert kinds.count("error") == 1 and "image/png" in json.dumps(ours.cells[8].outputs)
    assert [o["text"] for o in ours.cells[1].outputs] == ["a\nb\nc\n", "to stderr\n"]
    assert ours.cells[4].outputs[0]["data"]["text/plain"] == "'second'"
    assert [o.get("text") for o in ours.cells[5].outputs] == ["kept\n"]
    assert ours.cells[10].execution_count == 8  # numbered 1, 2, … in this notebook
    assert ours.cells[10].outputs[-1]["data"]["text/plain"] == "9"  # the shell's, as nbclient's
    status = {c.source: c.metadata.papermill.status for c in ours.cells if c.cell_type == "code"}
    assert status["def f():\n    return 1 / 0\nf()"] == "failed"
    assert status["print('never run')"] == "pending"  # after the failure
    assert ours.metadata.language_info == reference.metadata.language_info
    # the kernel's own times: start before end, in order
    times = [c.metadata.papermill for c in ours.cells if c.cell_type == "code" and c.source]
    assert all(t.start_time <= t.end_time for t in times[:-1])


def test_a_kernel_that_dies_is_reported(tmp_path, kernel):
    cells = [{"index": 0, "source": "print('x')"}, {"index": 1, "source": "import os; os._exit(3)"}]
    with pytest.raises(batch.KernelDiedError):
        batch.run_cells(kernel.km, kernel.kc, cells, timeout=60)


def test_a_hanging_chapter_is_interrupted_at_its_deadline(tmp_path, kernel):
    path = _notebook(
        tmp_path / "nb.ipynb",
        [("code", "print('before')"), ("code", "import time\ntime.sleep(120)"), ("code", "1")],
    )
    engine = batch.engine()
    with pytest.raises(batch.ChapterTimeoutError, match="超过 2 秒"):
        papermill.execute_notebook(
            path,
            None,
            progress_bar=False,
            kernel_name="python3",
            engine_name=batch.ENGINE_NAME,
            kernel=kernel,
            execution_timeout=2,
        )
    nb = engine.last_nb
    assert nb.cells[0].outputs[0]["text"] == "before\n"  # what ran is kept, for inspection
    assert nb.cells[1].outputs[-1]["ename"] == "KeyboardInterrupt"
    assert kernel.alive()  # interrupted, not killed
    again = batch.run_cells(kernel.km, kernel.kc, [{"index": 0, "source": "2 + 2"}], timeout=30)
    assert again["cells"][0]["outputs"][0]["data"]["text/plain"] == "4"


def test_a_worker_reports_where_a_timed_out_chapter_stopped(tmp_path, monkeypatch):
    """The worker's error names the timeout and the cell it interrupted; the notebook with the
    cells run so far is kept for inspection, and the kernel is not reused."""
    import queue

    from helpers.build import execute

    path = _notebook(
        tmp_path / "03_slow.ipynb",
        [("code", "x = 1"), ("code", "import time\ntime.sleep(120)")],
    )
    monkeypatch.setattr(execute, "CHAPTER_TIMEOUT", 2)
    runner = execute._Runner(0, queue.Queue(), False, str(tmp_path))
    task = {
        "id": "t",
        "chapter": "03_slow",
        "notebook": str(path),
        "kernel_name": "python3",
        "parameters": {},
        "folder": str(tmp_path / "out"),
    }
    try:
        out = runner.execute(task)
    finally:
        runner.close()
    assert out["status"] == "failed"
    assert out["error"].startswith("ChapterTimeoutError: 本章执行超过 2 秒，已中断（cell 1")
    assert out["error"].endswith("`import time`: KeyboardInterrupt: ）")
    nb = nbformat.reads(out["notebook"], as_version=4)
    assert nb.cells[-1].outputs[-1]["ename"] == "KeyboardInterrupt"
    assert runner.kernel is None


def test_papermills_discarded_final_write_is_skipped(tmp_path, monkeypatch):
    """papermill's last step writes the executed notebook to the output path; for None (a
    build's) it used to serialise and validate it for nothing. After ``engine()`` that call
    serialises nothing for None, and still writes a real path."""
    import papermill.execute as pm_execute

    batch.engine()
    batch.engine()  # registered once: the write is wrapped once
    serialised = []
    real_writes = nbformat.writes
    monkeypatch.setattr(
        nbformat, "writes", lambda nb, *a, **k: serialised.append(1) or real_writes(nb, *a, **k)
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    pm_execute.write_ipynb(nb, None)
    assert serialised == []
    pm_execute.write_ipynb(nb, str(tmp_path / "out.ipynb"))
    assert serialised == [1]
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[0].source == "1"
