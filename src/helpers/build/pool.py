"""Running the chapters: a pool of worker processes (forked by a fork server that imported
their modules once), longest chapter first, and the signal handling and lock that keep an
interrupted build clean. :func:`running_pool` is the one place that starts a pool (local or
Dask), closes it and sweeps after Ctrl-C."""

from __future__ import annotations

import contextlib
import queue
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from helpers.build import manifest as mf
from helpers.build.execute import _worker_main, write_outputs
from helpers.build.kernel import _kill_kernel_pid
from helpers.build.pages import _sweep_tmp
from helpers.build.plan import BuildError, Event, _Chapter, _Plan, _task_id
from helpers.build.results import _chapter_result
from helpers.build.signals import redeliver_interrupts

LOCK_FILE = ".nianbao.lock"


@contextlib.contextmanager
def running_pool(
    n_tasks: int,
    jobs: int,
    kernel_reuse: bool,
    folders: Sequence[Path],
    scheduler: str | None = None,
) -> Iterator[Any]:
    """Start the executor for ``n_tasks`` chapters — a local :class:`_Pool` of at most
    ``jobs`` workers, or :class:`helpers.build.cluster.DaskExecutor` when ``scheduler`` is
    given — and yield it (None when there is nothing to run). On leaving, it is closed:
    gracefully (the workers finish and shut their kernels down) when the block completed,
    at once otherwise. On Ctrl-C / SIGTERM the temporary files in ``folders`` are swept
    too, so an interrupted build leaves no partial file; neither step can be interrupted."""
    pool: Any = None
    completed = interrupted = False
    try:
        if n_tasks:
            if scheduler:
                from helpers.build.cluster import DaskExecutor

                pool = DaskExecutor(scheduler, jobs, kernel_reuse)
            else:
                pool = _Pool(min(jobs, n_tasks), kernel_reuse)
            pool.start()  # kernels warm up while the caller validates the data
        yield pool
        completed = True
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if pool is not None:
            with _signals_ignored():
                pool.close(graceful=completed)  # else: stop the workers right away
        if interrupted:
            with _signals_ignored():
                _sweep_tmp(folders)


def _collect(
    executor: Any,
    tasks: list[dict[str, Any]],
    plans: list[_Plan],
    emit: Event,
    on_plan_done: Callable[[_Plan, dict[str, dict[str, Any]]], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Take the results as they come (from the local pool or a Dask cluster), write each
    chapter's outputs atomically (:func:`helpers.build.execute.write_outputs`) and its cache
    record, and report progress. Called once the data of every school-year passed.

    ``on_plan_done(plan, results)`` is called as soon as the last chapter of a school-year
    that had chapters to run returned, so that its pages are written while the workers run
    the other school-years' chapters (not all at the end)."""
    owners = {_task_id(p, c): (p, c) for p in plans for c in p.chapters}
    by_id = {t["id"]: t for t in tasks}
    waiting = Counter(id(owners[t["id"]][0]) for t in tasks)  # id(plan) -> chapters to come
    done: dict[str, dict[str, Any]] = {}
    for kind, payload in executor.messages(len(tasks)):
        if kind == "start":
            plan, c = owners[payload]
            emit(
                "chapter_start", {"school_id": plan.school_id, "year": plan.year, "chapter": c.stem}
            )
            continue
        if payload["id"] in done:  # e.g. a worker's result after it was declared lost
            continue
        plan, c = owners[payload["id"]]
        res = write_outputs(by_id[payload["id"]], payload)
        record_done(plan, c, res)
        done[res["id"]] = res
        emit("chapter_done", {"result": _chapter_result(plan, c, res)})
        waiting[id(plan)] -= 1
        if not waiting[id(plan)] and on_plan_done is not None:
            on_plan_done(plan, done)
    return done


def record_done(plan: _Plan, c: _Chapter, payload: dict[str, Any]) -> None:
    """A chapter that built: its cache record (key, inputs, title, page digest, seconds)."""
    if payload["status"] != "ok":
        return
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


def expected_seconds(tasks: list[dict[str, Any]]) -> None:
    """Fill in the expected duration of chapters never built in their folder with the mean
    of the same chapter's last durations in the other folders (longest first needs them)."""
    known: dict[str, list[float]] = {}
    for t in tasks:
        if t["expected"] > 0:
            known.setdefault(t["chapter"], []).append(t["expected"])
    for t in tasks:
        if t["expected"] <= 0 and known.get(t["chapter"]):
            t["expected"] = sum(known[t["chapter"]]) / len(known[t["chapter"]])


PRELOAD = ["helpers.build.preload"]  # what the fork server imports once for every worker


def _context() -> Any:
    """Where workers come from: a fork server that imported the workers' and the kernels'
    modules once (:mod:`helpers.build.preload`), a clean process (nothing of the main process
    leaks into the workers); "spawn" where there is no fork server."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _stop_fork_server(ctx: Any) -> None:
    """Stop the fork server after the build (the next one starts it with the code then on
    disk, and its CPU time is its parent's to account for). Private API of multiprocessing,
    present since Python 3.8; without it the server lives until this process ends."""
    if ctx.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    with contextlib.suppress(Exception):
        forkserver._forkserver._stop()


@contextlib.contextmanager
def fork_server(early: bool) -> Iterator[None]:
    """The build's fork server: started at once when ``early`` (a build sure to run chapters:
    the server's imports, the longest step before the first chapter, then overlap the
    planning and the notebook check), and stopped when the build ends."""
    ctx = _context()
    if early and ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with contextlib.suppress(Exception):
            forkserver.ensure_running()
    try:
        yield
    finally:
        _stop_fork_server(ctx)


class _Pool:
    """Worker processes, forked by a clean fork server (:func:`_context`)."""

    def __init__(self, n: int, kernel_reuse: bool):
        ctx = _context()
        self.log_dir = Path(tempfile.mkdtemp(prefix="nianbao-kernels-"))
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.kernel_pids: set[int] = set()
        self.pending: set[str] = set()
        self.ctx = ctx
        self.procs = [
            ctx.Process(
                target=_worker_main,
                args=(i, self.tasks, self.results, kernel_reuse, str(self.log_dir)),
                name=f"nianbao-worker-{i}",
                daemon=True,
            )
            for i in range(n)
        ]
        self.where = f"本机，{n} 个进程"
        self.running: dict[int, str] = {}
        self.starter: threading.Thread | None = None
        self.start_error = ""

    def start(self) -> None:
        """Start the workers in the background: the first start waits for the fork server's
        imports (about 2 s), which the caller spends checking the notebooks and validating."""
        self.starter = threading.Thread(target=self._start_all, name="nianbao-pool-start")
        self.starter.start()

    def _start_all(self) -> None:
        for p in self.procs:
            try:
                p.start()
            except Exception as e:  # e.g. no fork server: the worker counts as dead
                self.start_error = f"{type(e).__name__}: {e}"

    def _started(self) -> None:
        if self.starter is not None:
            self.starter.join()

    def submit(self, tasks: list[dict[str, Any]]) -> None:
        """Queue chapters, the longest first (they start as soon as a worker is free)."""
        for t in sorted(tasks, key=lambda t: -t["expected"]):
            self.tasks.put(t)
            self.pending.add(t["id"])

    def seal(self) -> None:
        """No more tasks: each worker stops after the last one."""
        for _ in self.procs:
            self.tasks.put(None)

    def messages(self, total: int) -> Iterator[tuple[str, Any]]:
        """("start", task id) and ("done", result) until ``total`` results are in; a
        worker that dies fails its chapter (and, when none is left, every chapter)."""
        self._started()
        finished = 0
        while finished < total:
            try:
                msg = self.results.get(timeout=0.5)
            except queue.Empty:
                msg = None
            if msg is not None:
                for out in self._handle(msg):
                    finished += out[0] == "done"
                    yield out
                continue
            dead = [i for i, p in enumerate(self.procs) if not p.is_alive()]
            if not dead:
                continue
            while True:  # a worker's last messages may still be in the queue
                try:
                    msg = self.results.get(timeout=0.2)
                except queue.Empty:
                    break
                for out in self._handle(msg):
                    finished += out[0] == "done"
                    yield out
            lost = []
            for wid in dead:
                tid = self.running.pop(wid, None)
                if tid is not None and tid in self.pending:
                    code = self.procs[wid].exitcode
                    lost.append((tid, f"工作进程意外退出（exit code {code}）"))
            if len(dead) == len(self.procs):
                why = f"工作进程全部退出，未执行{f'（{self.start_error}）' if self.start_error else ''}"
                lost += [(tid, why) for tid in sorted(self.pending)]
            for tid, error in lost:
                if tid in self.pending:
                    self.pending.discard(tid)
                    finished += 1
                    yield "done", {"id": tid, "status": "failed", "error": error}

    def _handle(self, msg: tuple[str, int, Any]) -> list[tuple[str, Any]]:
        kind, wid, payload = msg
        if kind == "kernel":
            self.kernel_pids.add(int(payload))
        elif kind == "start":
            self.running[wid] = payload
            return [("start", payload)]
        elif kind == "done" and payload["id"] in self.pending:
            self.running.pop(wid, None)
            self.pending.discard(payload["id"])
            return [("done", payload)]
        return []

    def close(self, graceful: bool) -> None:
        self._started()
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
        _stop_fork_server(self.ctx)
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
    restore_hook = redeliver_interrupts({signal.SIGINT: handler, signal.SIGTERM: handler})
    try:
        yield
    finally:
        restore_hook()
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
