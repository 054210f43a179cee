"""The client side of a build on a Dask cluster (``nianbao build --scheduler tcp://HOST:PORT``).

The client (the machine running ``nianbao build``) plans, validates and audits as for a
local build; :class:`DaskExecutor` connects to the scheduler, waits for its workers, registers
:class:`helpers.build.plugin.KernelPlugin` (warm kernels on every worker) and submits one
task per stale chapter (:func:`helpers.build.plugin.run_chapter`), the longest first (Dask
priority = the chapter's last duration). Results come back as the executed notebook, its
page and its stderr; :func:`helpers.build.pool._collect` writes them atomically, exactly as
for the local pool. A worker lost mid-chapter makes Dask run the chapter again elsewhere;
a chapter whose workers keep dying (``distributed.KilledWorker``) fails alone, naming it.

``--scheduler local`` starts a ``distributed.LocalCluster`` of ``--jobs`` single-threaded
worker processes on this machine instead (used to compare with the local pool).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import uuid
from collections.abc import Iterator
from typing import Any

from helpers.build.plan import BuildError

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler
WORKERS_TIMEOUT = 60.0  # seconds for the cluster to have a worker


def _no_scheduler(address: str) -> str | None:
    """Why nothing answers at a ``tcp://HOST:PORT`` address (checked at once, before the
    Dask client's own connection retries), or None."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return "地址格式不对"
    if parts.scheme != "tcp" or not host or not port:
        return "地址应形如 tcp://主机:端口" if parts.scheme in ("tcp", "") else None
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT / 2):
            return None
    except OSError as e:
        return f"{host}:{port} 无法连接（{e.strerror or type(e).__name__}）"


def _connect(address: str, jobs: int, kernel_reuse: bool) -> tuple[Any, Any]:
    import distributed

    if address != "local" and (why := _no_scheduler(address)):
        raise BuildError(
            f"无法连接 Dask 调度器 {address}：{why}。请确认已在该地址运行 `dask scheduler`，"
            "且本机能访问它；地址形如 tcp://主机:8786。"
        )

    for name in ("distributed", "distributed.client", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    local = None
    if address == "local":
        local = distributed.LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        address = local.scheduler_address
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as e:  # OSError / TimeoutError / ValueError (bad address)
        raise BuildError(
            f"无法连接 Dask 调度器 {address}（{CONNECT_TIMEOUT:g} 秒内没有响应：{type(e).__name__}）。"
            f"请确认已在该地址运行 `dask scheduler`，且本机能访问它；地址形如 tcp://主机:8786。"
        ) from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except Exception:
        client.close()
        raise BuildError(
            f"Dask 调度器 {address} 在 {WORKERS_TIMEOUT:g} 秒内没有可用的工作节点："
            f"请在各节点运行 `dask worker {address} --nthreads 1`。"
        ) from None
    return client, local


class DaskExecutor:
    """Chapters as Dask tasks; the same interface as :class:`helpers.build.pool._Pool`."""

    def __init__(self, address: str, jobs: int, kernel_reuse: bool):
        self.address = address
        self.jobs = jobs
        self.kernel_reuse = kernel_reuse
        self.client: Any = None
        self.local: Any = None
        self.futures: dict[str, Any] = {}
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.token = uuid.uuid4().hex[:8]
        self.where = f"Dask 调度器 {address}"

    def start(self) -> None:
        from helpers.build.plugin import START_TOPIC, KernelPlugin

        self.client, self.local = _connect(self.address, self.jobs, self.kernel_reuse)
        self.client.register_plugin(KernelPlugin(self.kernel_reuse))
        self.client.subscribe_topic(START_TOPIC, lambda event: self.inbox.put(("start", event)))
        self.where = self.describe()

    def describe(self) -> str:
        """The scheduler's address and its workers, for the build summary."""
        info = self.client.scheduler_info(n_workers=-1) if self.client else {}
        workers = (info or {}).get("workers", {})
        threads = sum(int(w.get("nthreads", 0)) for w in workers.values())
        hosts = sorted({str(w.get("host", "?")) for w in workers.values()})
        address = "本机 LocalCluster" if self.local is not None else self.address
        return (
            f"Dask 调度器 {address}，{len(workers)} 个工作节点（{threads} 线程；"
            f"主机 {'、'.join(hosts)}）"
        )

    def submit(self, tasks: list[dict[str, Any]]) -> None:
        from helpers.build.plugin import run_chapter

        for t in sorted(tasks, key=lambda t: -t["expected"]):
            fut = self.client.submit(
                run_chapter,
                t,
                key=f"nianbao-{t['id']}-{self.token}",
                priority=int(t["expected"] * 1000),
                pure=False,
            )
            fut.add_done_callback(lambda f, tid=t["id"]: self.inbox.put(("future", (tid, f))))
            self.futures[t["id"]] = fut

    def seal(self) -> None:
        """No more tasks (nothing to do: the futures are the queue)."""

    def messages(self, total: int) -> Iterator[tuple[str, Any]]:
        """("start", task id) and ("done", result) until ``total`` results are in."""
        finished = 0
        while finished < total:
            try:
                kind, payload = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if kind == "start":
                msg = payload[1] if isinstance(payload, tuple) else payload  # (time, msg)
                yield "start", msg["id"]
                continue
            tid, fut = payload
            finished += 1
            yield "done", _outcome(tid, fut)

    def close(self, graceful: bool) -> None:
        from helpers.build.plugin import PLUGIN_NAME, interrupt_kernels

        if self.client is None:
            if self.local is not None:
                self.local.close()
            return
        client = self.client
        with contextlib.suppress(Exception):
            if not graceful:
                client.cancel(list(self.futures.values()), force=True)
                client.run(interrupt_kernels, wait=True)
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(PLUGIN_NAME)  # the workers' kernels stop
        with contextlib.suppress(Exception):
            client.close(timeout=10)
        if self.local is not None:
            with contextlib.suppress(Exception):
                self.local.close(timeout=20)


def _outcome(tid: str, fut: Any) -> dict[str, Any]:
    """A finished future as a chapter result (a lost or failed task: a failed chapter)."""
    if fut.status == "finished":
        return dict(fut.result())
    if fut.status == "cancelled":
        return {"id": tid, "status": "failed", "error": "任务被取消（集群中止或构建被中断）"}
    try:
        exc = fut.exception()
    except Exception as e:  # the scheduler is gone
        exc = e
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        error = (
            f"执行本章的 Dask 工作节点多次意外退出（distributed.KilledWorker），本章未完成；{exc}"
        )
    else:
        error = f"Dask 任务失败：{type(exc).__name__}: {exc}"
    return {"id": tid, "status": "failed", "error": error}
