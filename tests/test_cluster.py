"""Issue 14: ``nianbao build --scheduler`` on a real Dask cluster — a ``dask scheduler`` and
two ``dask worker --nworkers 1 --nthreads 1`` processes started here on 127.0.0.1 — gives
the same executed notebooks as the local build, survives a worker killed mid-chapter, stops
cleanly on Ctrl-C mid-chapter, and fails at once, clearly, when no scheduler answers."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from helpers.build.core import build
from helpers.cli import app
from tests.factories import BUNDLED, cli_command, notebook, process_gone

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]
DASK = str(Path(sys.executable).parent / "dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):  # workers first (their nannies stop the kernels), then scheduler
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory) -> Iterator[str]:
    """A scheduler and two single-threaded workers on free ports; their address."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [DASK, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port))
        for i in range(2):
            start(
                f"worker{i}",
                "worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            )
        deadline = time.monotonic() + 120
        while True:  # the scheduler takes a moment to listen
            try:
                with Client(address, timeout=5, set_as_default=False) as client:
                    client.wait_for_workers(2, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        _stop(procs)


def outputs(path: Path) -> list:
    """A notebook's cells with their outputs, without timing metadata and object addresses."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for c in nb["cells"]:
        outs = [
            re.sub(r" at 0x[0-9a-f]+", "", json.dumps(o.get("data") or o.get("text") or o))
            for o in c.get("outputs", [])
        ]
        cells.append((c["cell_type"], c["source"], c.get("execution_count"), outs))
    return cells


def test_cluster_build_gives_the_local_build_notebooks(raw_copy, tmp_path, dask_cluster):
    chapters = ["01", "07"]  # the longest real chapter (figures) and a short one
    local = build(chapters=chapters, data_dir=raw_copy, out_dir=tmp_path / "local", jobs=2)
    dist = build(
        chapters=chapters, data_dir=raw_copy, out_dir=tmp_path / "dist", scheduler=dask_cluster
    )
    assert local.ok and dist.ok, [c.error for c in local.failed + dist.failed]
    assert sorted(c.chapter for c in dist.executed) == ["01_talent", "07_challenges"]
    assert local.where == "本机，2 个进程"
    assert dist.where.startswith(f"Dask 调度器 {dask_cluster}，2 个工作节点")
    for stem in ("01_talent", "07_challenges"):
        ours = tmp_path / "dist" / BUNDLED / "2024" / "notebooks" / f"{stem}.ipynb"
        theirs = tmp_path / "local" / BUNDLED / "2024" / "notebooks" / f"{stem}.ipynb"
        assert outputs(ours) == outputs(theirs), stem
        assert any("image/png" in json.dumps(o) for o in outputs(ours)[-1][3]) or stem != "01"
        page = ours.parent.parent / f"{stem}.html"
        assert page.read_text(encoding="utf-8") == (theirs.parent.parent / page.name).read_text(
            encoding="utf-8"
        )
    report = tmp_path / "dist" / BUNDLED / "2024" / "report.html"
    assert "会昌中等专业学校" in report.read_text(encoding="utf-8")
    # the same incremental cache: nothing to do the second time
    again = build(
        chapters=chapters, data_dir=raw_copy, out_dir=tmp_path / "dist", scheduler=dask_cluster
    )
    assert again.up_to_date and len(again.skipped) == 2


def chapter(path: Path, *cells: str) -> Path:
    return notebook(path, list(cells), title=path.stem)


def test_killing_a_worker_mid_chapter_still_finishes_the_build(raw_copy, tmp_path, dask_cluster):
    """01_block records which worker runs it and blocks until the test has killed that
    worker (SIGKILL); Dask runs it again on a live worker, and the build completes."""
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    chapter(
        nbs / "01_block.ipynb",
        "import os, pathlib, time\n"
        f"ctl = pathlib.Path({str(ctl)!r})\n"
        "(ctl / f'ran-{os.getppid()}').write_text('')  # the kernel's parent: the worker\n"
        "deadline = time.monotonic() + 300\n"
        "while not (ctl / 'killed').exists():\n"
        "    assert time.monotonic() < deadline, 'the test never killed the worker'\n"
        "    time.sleep(0.05)\n"
        "print('甲章完成', school_id)",
    )
    for stem in ("02_beta", "03_gamma"):
        chapter(nbs / f"{stem}.ipynb", f"print('{stem} 完成')")
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = build(
                data_dir=raw_copy,
                notebooks_dir=nbs,
                out_dir=tmp_path / "out",
                scheduler=dask_cluster,
            )
        except BaseException as e:
            box["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 240
    while not (ran := sorted(ctl.glob("ran-*"))) and thread.is_alive():
        assert time.monotonic() < deadline, "01_block never started"
        time.sleep(0.1)
    assert ran, box.get("error")
    victim = int(ran[0].name.removeprefix("ran-"))
    os.kill(victim, signal.SIGKILL)
    while Path(f"/proc/{victim}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (ctl / "killed").write_text("")
    thread.join(300)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    result = box["result"]
    assert result.ok, [c.error for c in result.failed]
    assert sorted(c.chapter for c in result.executed) == ["01_block", "02_beta", "03_gamma"]
    runs = {int(p.name.removeprefix("ran-")) for p in ctl.glob("ran-*")}
    assert victim in runs and len(runs) == 2  # ran again, on another worker process
    nb = nbformat.read(tmp_path / "out" / BUNDLED / "2024" / "notebooks" / "01_block.ipynb", 4)
    assert "甲章完成 huichang" in nb.cells[-1].outputs[0]["text"]


def test_no_scheduler_at_the_address_fails_at_once(raw_copy, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    args = ["build", "--data-dir", str(raw_copy), "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(app, [*args, "--chapters", "07", "--scheduler", address])
    assert res.exit_code == 2, res.output
    assert time.monotonic() - t0 < 20
    text = " ".join(res.output.split())
    assert f"无法连接 Dask 调度器 {address}" in text and "dask scheduler" in text
    assert "Traceback" not in res.output
    assert not (tmp_path / "out" / BUNDLED / "2024" / "07_challenges.html").exists()


def _cluster_state(address: str) -> tuple[list[str], dict[str, int]]:
    """The scheduler's nianbao tasks (any client) and how many tasks each worker executes."""
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        keys = client.run_on_scheduler(
            lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks]
        )
        busy = client.run(lambda dask_worker: dask_worker.state.executing_count)
    return [k for k in keys if k.startswith("nianbao-")], busy


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find processes")
def test_ctrl_c_on_a_cluster_build_cancels_its_tasks_and_keeps_finished_chapters(
    raw_copy, tmp_path, dask_cluster
):
    """``nianbao build --scheduler``: 01_quick finishes, 02_block blocks on a worker until a
    file appears that the test creates only afterwards; Ctrl-C then stops the build as the
    local build's Ctrl-C does (exit 130, 已中断, no traceback, no partial file), the blocked
    notebook is interrupted, its task cancelled and the workers idle; a rebuild runs
    02_block only."""
    from distributed import Client

    with Client(dask_cluster, timeout=10, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=120)  # one per chapter (a killed one restarts)
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    chapter(nbs / "01_quick.ipynb", "print('甲章完成', school_id)")
    chapter(
        nbs / "02_block.ipynb",
        "import json, os, pathlib, time\n"
        f"ctl = pathlib.Path({str(ctl)!r})\n"
        "(ctl / 'kernel.part').write_text(json.dumps([os.getpid(), os.getppid()]))\n"
        "os.replace(ctl / 'kernel.part', ctl / 'kernel.json')\n"
        "deadline = time.monotonic() + 300\n"
        "try:\n"
        "    while not (ctl / 'release').exists():\n"
        "        assert time.monotonic() < deadline, 'the test never released the chapter'\n"
        "        time.sleep(0.05)\n"
        "except KeyboardInterrupt:\n"
        "    (ctl / 'interrupted').write_text('')\n"
        "    raise\n"
        "print('乙章完成', school_id)",
    )
    out = tmp_path / "out"
    folder = out / BUNDLED / "2024"
    args = ["--data-dir", str(raw_copy), "--notebooks", str(nbs), "--out", str(out)]
    proc = subprocess.Popen(
        [*cli_command(), "build", *args, "--scheduler", dask_cluster],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, like a terminal job
    )
    try:
        deadline = time.monotonic() + 240
        while not ((ctl / "kernel.json").exists() and (folder / "01_quick.html").exists()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the chapters never started"
            time.sleep(0.1)
        kernel, worker = json.loads((ctl / "kernel.json").read_text())
        time.sleep(0.5)  # 02_block is in its loop now
        assert proc.poll() is None and not (ctl / "interrupted").exists()
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        stdout, stderr = (s.decode() for s in proc.communicate(timeout=60))
        stopped = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (stdout, stderr)
    assert stopped < 20, f"took {stopped:.1f} s to stop"
    assert "Traceback" not in stderr + stdout, stderr
    assert "已中断" in stderr and "已有的报告文件保持不变" in stderr, stderr
    # what was finished is kept, whole; the interrupted chapter and the pages are not written
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert "甲章完成 huichang" in (folder / "notebooks" / "01_quick.ipynb").read_text("utf-8")
    assert "甲章完成 huichang" in (folder / "01_quick.html").read_text("utf-8")
    assert json.loads((folder / ".build" / "01_quick.json").read_text("utf-8"))["key"]
    for name in ("02_block.html", "notebooks/02_block.ipynb", ".build/02_block.json"):
        assert not (folder / name).exists(), name
    for name in ("index.html", "report.html", "manifest.json"):
        assert not (folder / name).exists(), name
    # on the cluster: the notebook was interrupted, its task is gone, the workers idle
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tasks, busy = _cluster_state(dask_cluster)
        if not tasks and not any(busy.values()) and process_gone(kernel):
            break
        time.sleep(0.5)
    assert (ctl / "interrupted").exists(), "the blocked notebook was not interrupted"
    assert tasks == [] and len(busy) == 2 and not any(busy.values()), (tasks, busy)
    assert process_gone(kernel), "the chapter's kernel survived the interrupt"
    assert not process_gone(worker), "the Dask worker itself must stay"
    # a rebuild completes, running only what the interrupt stopped
    (ctl / "release").write_text("")
    again = build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=out, scheduler=dask_cluster)
    assert again.ok, [c.error for c in again.failed]
    assert [c.chapter for c in again.executed] == ["02_block"]
    assert [c.chapter for c in again.skipped] == ["01_quick"]
    assert "乙章完成 huichang" in (folder / "02_block.html").read_text("utf-8")
    assert (folder / "index.html").is_file() and (folder / "report.html").is_file()
