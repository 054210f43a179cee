"""Running the chapters: a pool of spawned worker processes, longest chapter first, and the
signal handling and lock that keep an interrupted build clean."""

from __future__ import annotations

import contextlib
import queue
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from helpers.build import manifest as mf
from helpers.build.execute import _worker_main
from helpers.build.kernel import _kill_kernel_pid
from helpers.build.plan import BuildError, Event, _Plan, _task_id
from helpers.build.results import _chapter_result

LOCK_FILE = ".nianbao.lock"


def _run(
    pool: _Pool, tasks: list[dict[str, Any]], plans: list[_Plan], emit: Event
) -> dict[str, dict[str, Any]]:
    """Hand the tasks to the pool (longest first) and collect the results."""
    owners = {_task_id(p, c): (p, c) for p in plans for c in p.chapters}
    for t in sorted(tasks, key=lambda t: -t["expected"]):
        pool.tasks.put(t)
    for _ in pool.procs:
        pool.tasks.put(None)
    done: dict[str, dict[str, Any]] = {}
    running: dict[int, str] = {}

    def handle(msg: tuple[str, int, Any]) -> None:
        kind, wid, payload = msg
        if kind == "kernel":
            pool.kernel_pids.add(int(payload))
        elif kind == "start":
            running[wid] = payload
            plan, c = owners[payload]
            emit(
                "chapter_start", {"school_id": plan.school_id, "year": plan.year, "chapter": c.stem}
            )
        elif kind == "done":
            running.pop(wid, None)
            plan, c = owners[payload["id"]]
            if payload["status"] == "ok":
                mf.write_json(
                    plan.cache / f"{c.stem}.json",
                    {
                        "chapter": c.stem,
                        "key": c.key,
                        "components": c.components,
                        "inputs": c.inputs,
                        "title": payload["title"],
                        "html_sha256": payload["html_sha256"],
                        "seconds": round(payload["seconds"], 3),
                        "executed_at": mf.now_iso(),
                    },
                )
            done[payload["id"]] = payload
            emit("chapter_done", {"result": _chapter_result(plan, c, payload)})

    while len(done) < len(tasks):
        try:
            handle(pool.results.get(timeout=0.5))
            continue
        except queue.Empty:
            pass
        dead = [i for i, p in enumerate(pool.procs) if not p.is_alive()]
        if not dead:
            continue
        while True:  # a worker's last messages may still be in the queue
            try:
                handle(pool.results.get(timeout=0.2))
            except queue.Empty:
                break
        for wid in dead:
            tid = running.pop(wid, None)
            if tid is not None and tid not in done:
                code = pool.procs[wid].exitcode
                done[tid] = {
                    "id": tid,
                    "status": "failed",
                    "error": f"工作进程意外退出（exit code {code}）",
                }
        if len(dead) == len(pool.procs):
            for t in tasks:
                done.setdefault(
                    t["id"],
                    {"id": t["id"], "status": "failed", "error": "工作进程全部退出，未执行"},
                )
    return done


class _Pool:
    """Worker processes (spawned, so nothing of the main process leaks into them)."""

    def __init__(self, n: int, kernel_reuse: bool):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.log_dir = Path(tempfile.mkdtemp(prefix="nianbao-kernels-"))
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.kernel_pids: set[int] = set()
        self.procs = [
            ctx.Process(
                target=_worker_main,
                args=(i, self.tasks, self.results, kernel_reuse, str(self.log_dir)),
                name=f"nianbao-worker-{i}",
                daemon=True,
            )
            for i in range(n)
        ]

    def start(self) -> None:
        for p in self.procs:
            p.start()

    def close(self, graceful: bool) -> None:
        deadline = time.monotonic() + (30 if graceful else 0)
        for p in self.procs:
            if p.pid is not None:
                p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: the worker shuts its kernel down
        deadline = time.monotonic() + 10
        for p in self.procs:
            if p.pid is not None:
                p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(5)
        while True:
            try:
                kind, _, payload = self.results.get_nowait()
            except (queue.Empty, OSError, ValueError, EOFError):
                break
            if kind == "kernel":
                self.kernel_pids.add(int(payload))
        for pid in self.kernel_pids:
            _kill_kernel_pid(pid)
        for q in (self.tasks, self.results):
            q.cancel_join_thread()
            q.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)


@contextlib.contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(out_dir / LOCK_FILE, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BuildError(f"另一个 nianbao build 正在写 {out_dir}，请等它结束") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt) while building."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, handler)
    old_int = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Cleanup must not be interrupted by a second Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
