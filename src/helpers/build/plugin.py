"""The worker side of a build on a Dask cluster (``nianbao build --scheduler``).

:class:`KernelPlugin` is a ``distributed.WorkerPlugin``: on every worker of the cluster
(also those that join or are restarted later) its ``setup`` starts one warm-kernel runner
(:class:`helpers.build.execute._Runner`, the same as a local pool worker's) per worker
thread, warming up in the background; ``teardown`` shuts the kernels down. :func:`run_chapter`
is the task: it takes a free runner, executes and renders one chapter and returns the
executed notebook, its page and what it wrote to stderr. The worker writes nothing: the client
writes the outputs (:mod:`helpers.build.cluster`).

The worker must see the notebooks and the data folder at the same paths as the client (a
shared folder) and run the same nianbao code; a chapter whose worker does not is failed with
a message saying so.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from helpers.build import manifest as mf
from helpers.build.execute import _Runner, prepare_process

PLUGIN_NAME = "nianbao-kernels"
START_TOPIC = "nianbao-chapter-start"  # a chapter began on a worker (for the progress bar)


class _Kernels:
    """Where a runner announces its kernel's pid (the local pool sends it to the parent)."""

    def __init__(self) -> None:
        self.pids: set[int] = set()

    def put(self, msg: tuple[str, int, Any]) -> None:
        if msg[0] == "kernel":
            self.pids.add(int(msg[2]))


class _Lane:
    """One runner and the one thread that owns it: its kernel, client sockets and event
    loop are only ever used from that thread (they are not thread-safe), whichever worker
    thread runs the Dask task."""

    def __init__(self, runner: _Runner):
        self.runner = runner
        self.inbox: queue.Queue[tuple[dict[str, Any], Future[dict[str, Any]]] | None] = (
            queue.Queue()
        )
        self.thread = threading.Thread(target=self._loop, daemon=True, name="nianbao-kernel")
        self.thread.start()

    def _loop(self) -> None:
        with contextlib.suppress(Exception):  # a kernel that does not start: per chapter
            self.runner.prepare()
        while (item := self.inbox.get()) is not None:
            task, fut = item
            try:
                fut.set_result(self.runner.execute(task))
            except BaseException as e:  # never lose a task
                fut.set_result(
                    {"id": task["id"], "status": "failed", "error": f"{type(e).__name__}: {e}"}
                )
        self.runner.close()

    def execute(self, task: dict[str, Any]) -> dict[str, Any]:
        fut: Future[dict[str, Any]] = Future()
        self.inbox.put((task, fut))
        return fut.result()

    def close(self, timeout: float = 30) -> None:
        self.inbox.put(None)
        self.thread.join(timeout)


class KernelPlugin(WorkerPlugin):
    """Warm kernels on a Dask worker: one runner per worker thread, started at setup."""

    name = PLUGIN_NAME

    def __init__(self, kernel_reuse: bool = True):
        self.kernel_reuse = kernel_reuse
        self.lanes: queue.Queue[_Lane] = queue.Queue()
        self.all: list[_Lane] = []
        self.kernels = _Kernels()
        self.code = ""
        self.log_dir = ""
        self.ready = threading.Event()

    def __getstate__(self) -> dict[str, Any]:  # sent to the workers: only the settings
        return {"kernel_reuse": self.kernel_reuse}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["kernel_reuse"])

    def setup(self, worker: Any) -> None:
        prepare_process()
        self.log_dir = tempfile.mkdtemp(prefix="nianbao-kernels-")
        for i in range(max(1, int(getattr(worker, "nthreads", 1) or 1))):
            lane = _Lane(_Runner(i, self.kernels, self.kernel_reuse, self.log_dir))
            self.all.append(lane)
            self.lanes.put(lane)
        threading.Thread(target=self._code_hash, daemon=True).start()

    def _code_hash(self) -> None:
        try:
            self.code = mf.code_hash()
        finally:
            self.ready.set()

    def teardown(self, worker: Any) -> None:
        for lane in self.all:
            with contextlib.suppress(Exception):
                lane.close()
        from helpers.build.kernel import _kill_kernel_pid

        for pid in self.kernels.pids:
            _kill_kernel_pid(pid)
        shutil.rmtree(self.log_dir, ignore_errors=True)

    def interrupt(self) -> int:
        """Interrupt the notebooks running now (the client was stopped); the kernels stay."""
        n = 0
        for lane in self.all:
            kernel = lane.runner.kernel
            if kernel is not None and kernel.pid:
                with contextlib.suppress(OSError):
                    os.kill(kernel.pid, signal.SIGINT)  # what a kernel's interrupt sends
                    n += 1
        return n


def _where(worker: Any) -> str:
    return f"{socket.gethostname()} {worker.address}"


def _missing(task: dict[str, Any]) -> str | None:
    """What this worker cannot see of the chapter's inputs (the same paths as the client)."""
    data = Path(task["parameters"]["data_dir"])
    for path, what in (
        (Path(task["notebook"]), "章节笔记本"),
        (data / task["school_id"] / str(task["year"]), "数据目录"),
    ):
        if not path.exists():
            return f"{what} {path}"
    return None


def run_chapter(task: dict[str, Any]) -> dict[str, Any]:
    """The Dask task: execute and render one chapter on a warm kernel of this worker.

    Returns :meth:`_Runner.execute`'s result (with ``notebook`` and ``page``) plus
    ``worker``; a chapter that cannot run here is a failure naming the worker and why."""
    worker = get_worker()
    plugin: KernelPlugin = worker.plugins[PLUGIN_NAME]
    where = _where(worker)
    failed = {"id": task["id"], "status": "failed", "seconds": 0.0, "worker": where}
    plugin.ready.wait()
    if plugin.code != task["code"]:
        return failed | {
            "error": f"工作节点 {where} 上的 nianbao 代码与发起构建的机器不同"
            f"（代码哈希 {plugin.code[:12]} ≠ {task['code'][:12]}）：请在每个节点安装同一版本"
        }
    if missing := _missing(task):
        return failed | {
            "error": f"工作节点 {where} 上找不到{missing}：各节点须以相同路径访问数据目录和"
            "章节笔记本目录（共享文件夹，见 README“在 Dask 集群上构建”）"
        }
    with contextlib.suppress(Exception):
        worker.log_event(START_TOPIC, {"id": task["id"], "worker": where})
    lane = plugin.lanes.get()
    try:
        out = lane.execute(task)
    finally:
        plugin.lanes.put(lane)
    out["worker"] = where
    return out


def interrupt_kernels(dask_worker: Any = None) -> int:
    """Run on every worker when the client is interrupted (``Client.run``)."""
    worker = dask_worker or get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    return plugin.interrupt() if plugin is not None else 0
