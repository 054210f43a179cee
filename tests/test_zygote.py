"""Warm kernels forked from a zygote (helpers.build.zygote): a forked kernel is the kernel
``python -m ipykernel_launcher`` would have started, only with its modules already imported;
it is interrupted, seen to die and stopped like a launched one; and a build's workers fork
theirs from the modules the fork server imported once (helpers.build.preload)."""

from __future__ import annotations

import json
import os
import queue
import signal
import time
from pathlib import Path

import nbformat
import pytest

from helpers.build import zygote
from helpers.build.core import build
from helpers.build.kernel import _Kernel, wait_for_ready
from tests.factories import notebook, process_gone

pytestmark = pytest.mark.slow

PROBE = (
    "import json, os, sys\n"
    "print(json.dumps({\n"
    "    'argv0': os.path.basename(sys.argv[0]),\n"
    "    'ppid': os.getppid(),\n"
    "    'parent_env': os.environ.get('JPY_PARENT_PID'),\n"
    "    'own_session': os.getsid(0) == os.getpid(),\n"
    "    'path0_is_cwd': sys.path[1] == os.getcwd(),\n"  # sys.path[0] is ipykernel's ''
    "    'backend': __import__('matplotlib').get_backend(),\n"
    "    'rfc_stub': 'rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is None,\n"
    "    'mpl_env': os.environ.get('MPLBACKEND'),\n"
    "}))"
)


def _stdout(k: _Kernel, code: str) -> str:
    from jupyter_core.utils import run_sync

    text: list[str] = []

    def hook(msg: dict) -> None:
        if msg["header"]["msg_type"] == "stream":
            text.append(msg["content"]["text"])

    reply = run_sync(k.kc.execute_interactive)(code, timeout=60, output_hook=hook)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(text)


@pytest.fixture
def zyg(tmp_path):
    z = zygote.start(str(tmp_path / "z.sock"))
    assert z is not None
    yield z
    z.close()


@pytest.fixture
def forked(tmp_path, zyg):
    k = _Kernel("python3", tmp_path / "kernel.log", lambda pid: None, zyg.address)
    k.start(warm=True)
    yield k
    k.close()


def test_a_forked_kernel_is_the_kernel_a_launch_gives(tmp_path, zyg, forked):
    launched = _Kernel("python3", tmp_path / "launched.log", lambda pid: None)
    launched.start(warm=True)
    try:
        theirs = json.loads(_stdout(launched, PROBE))
    finally:
        launched.close()
    ours = json.loads(_stdout(forked, PROBE))
    # the zygote is its parent, and the kernel knows it (it stops when the zygote does)
    assert ours["ppid"] == zyg.pid and ours["parent_env"] == str(zyg.pid)
    assert theirs["ppid"] != zyg.pid and theirs["parent_env"] == str(theirs["ppid"])
    for probe in (ours, theirs):
        del probe["ppid"], probe["parent_env"]
    assert ours == theirs
    assert ours["argv0"] == "ipykernel_launcher.py" and ours["own_session"]
    assert ours["backend"] == "module://matplotlib_inline.backend_inline"
    assert forked.pid is not None and forked.pid != zyg.pid


def test_a_forked_kernel_starts_with_the_modules_imported(tmp_path, zyg, forked):
    # the zygote imported them: the kernel's own warm-up found them there
    out = _stdout(
        forked, "import sys\nprint(sorted({'pandas', 'seaborn', 'pandera'} - set(sys.modules)))"
    )
    assert out.strip() == "[]"
    # a second kernel from the same zygote is a new process, with nothing of the first
    _stdout(forked, "import helpers\nhelpers.LEAK = 1\nLEFT = 2")
    other = _Kernel("python3", tmp_path / "other.log", lambda pid: None, zyg.address)
    other.start(warm=True)
    try:
        assert other.pid != forked.pid
        out = _stdout(other, "import helpers\nprint(hasattr(helpers, 'LEAK'), 'LEFT' in globals())")
        assert out.split() == ["False", "False"]
    finally:
        other.close()


def test_a_forked_kernel_is_interrupted_and_its_death_is_seen(tmp_path, forked):
    from jupyter_core.utils import run_sync

    started = tmp_path / "started"
    msg_id = forked.kc.execute(
        f"import pathlib, time\npathlib.Path({str(started)!r}).write_text('')\ntime.sleep(120)"
    )
    deadline = time.monotonic() + 60
    while not started.exists():  # the cell runs (an interrupt before it would be a no-op)
        assert time.monotonic() < deadline, "the cell never started"
        time.sleep(0.05)
    run_sync(forked.km.interrupt_kernel)()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = run_sync(forked.kc.get_shell_msg)(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    assert (
        reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    )
    assert forked.alive()
    # After an error reply ipykernel aborts the execute requests that reach it until a marker
    # message has gone through its queue: under load the exit can land in that window and come
    # back "aborted" (seen once in a full parallel run). It is then sent again.
    exit_code = "import os\nos._exit(3)"
    exit_id = forked.kc.execute(exit_code)
    deadline = time.monotonic() + 30
    while forked.alive() and time.monotonic() < deadline:
        try:
            reply = run_sync(forked.kc.get_shell_msg)(timeout=0.2)
        except queue.Empty:
            continue
        aborted = reply["content"].get("status") == "aborted"
        if aborted and reply["parent_header"].get("msg_id") == exit_id:
            exit_id = forked.kc.execute(exit_code)
    assert not forked.alive()  # reaped by the zygote, seen through the provisioner


def test_kernels_stop_when_their_zygote_is_gone(zyg, forked):
    pid = forked.pid
    assert pid is not None and not process_gone(pid)
    os.kill(zyg.pid, signal.SIGKILL)  # no chance to tidy up
    deadline = time.monotonic() + 30
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(pid)


def test_a_broken_zygote_falls_back_to_a_launched_kernel(tmp_path):
    k = _Kernel("python3", tmp_path / "kernel.log", lambda pid: None, str(tmp_path / "none.sock"))
    k.start(warm=True)  # nothing listens there: the retry starts a kernel of its own
    try:
        assert k.zygote is None
        assert _stdout(k, "print(6 * 7)").strip() == "42"
    finally:
        k.close()


def test_wait_for_ready_names_a_kernel_that_died(tmp_path):
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    km = AsyncKernelManager(kernel_name="python3")
    with open(tmp_path / "k.log", "ab") as log:
        run_sync(km.start_kernel)(stdout=log, stderr=log)
    kc = km.client()
    kc.start_channels()
    try:
        wait_for_ready(km, kc, 60)
        kc.execute("import os\nos._exit(1)")
        with pytest.raises(RuntimeError, match="died"):
            wait_for_ready(km, kc, 60)
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)


CHECK = (
    "import os, sys\n"
    "print('papermill' in sys.modules, os.environ['JPY_PARENT_PID'] == str(os.getppid()))"
)


def _shown(out: Path) -> list[str]:
    nb = nbformat.read(out / "huichang/2024/notebooks/01_probe.ipynb", as_version=4)
    return [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]


def test_a_builds_kernels_come_from_the_fork_servers_modules(raw_copy, tmp_path):
    """papermill is imported by the workers, not by kernels: a kernel that has it before any
    notebook asked was forked from a worker of the fork server (its zygote); a fresh kernel
    (kernel_reuse=False, the reference) is launched and has not."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(nbs / "01_probe.ipynb", [CHECK])
    notebook(nbs / "02_probe.ipynb", [CHECK])
    warm = build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=tmp_path / "warm", jobs=2)
    fresh = build(
        data_dir=raw_copy, notebooks_dir=nbs, out_dir=tmp_path / "fresh", jobs=2, kernel_reuse=False
    )
    assert warm.ok and fresh.ok
    assert _shown(tmp_path / "warm") == ["True True\n"]
    assert _shown(tmp_path / "fresh") == ["False True\n"]
