"""The papermill engine of a build: a notebook's code cells sent to the kernel in one execute
request (:mod:`helpers.build.cellrun` runs them there) instead of one request per cell.

papermill still parameterises the notebook, keeps its metadata (start and end times,
durations, status of every cell) and raises on a failed cell; the kernel is the worker's own
(started, reset and closed by :mod:`helpers.build.kernel`), kept running between notebooks.
The cells see a kernel exactly as under nbclient: one ``run_cell`` each, numbered 1, 2, …
after the kernel's reset, figures displayed by the inline backend after each cell. What
changes is the traffic: one request and one message of outputs per chapter, instead of a
request, a reply, status and input messages and one message per output for every cell.

While waiting, the engine checks that the kernel is alive and that the chapter has not run
longer than its deadline (the kernel is then interrupted, and killed if it does not answer).
"""

from __future__ import annotations

import json
import queue
import time
from typing import Any

from helpers.build.cellrun import MIME

ENGINE_NAME = "nianbao"
CHAPTER_TIMEOUT = 3600  # seconds for one chapter notebook, then it is interrupted
POLL = 1.0  # seconds between checks that the kernel lives
_ENGINE: Any = None


class KernelDiedError(RuntimeError):
    pass


class ChapterTimeoutError(TimeoutError):
    pass


def _code_cells(nb: Any) -> list[dict[str, Any]]:
    """The cells a notebook client executes: code cells with source, not tagged to skip."""
    cells = []
    for index, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", []) or []
        if cell.cell_type == "code" and cell.source.strip() and "skip-execution" not in tags:
            cells.append({"index": index, "source": cell.source})
    return cells


def request_code(cells: list[dict[str, Any]]) -> str:
    """The execute request's code: an import and a call with the cells as one JSON string
    literal (a single line, so IPython's input transformers see no cell magic in it)."""
    payload = json.dumps(cells, ensure_ascii=True)
    return f"__import__('helpers.build.cellrun', fromlist=['run']).run({payload!r})"


def _recv(kc: Any, channel: str, timeout: float) -> dict[str, Any] | None:
    from jupyter_core.utils import run_sync

    get = kc.get_iopub_msg if channel == "iopub" else kc.get_shell_msg
    try:
        return run_sync(get)(timeout=timeout)
    except queue.Empty:
        return None


def _alive(km: Any) -> bool:
    from jupyter_core.utils import run_sync

    try:
        return bool(run_sync(km.is_alive)())
    except Exception:
        return False


def run_cells(km: Any, kc: Any, cells: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Execute ``cells`` on the kernel; returns ``{"cells": [...], "error": output | None,
    "stray": [stream outputs], "timed_out": bool}`` (``timed_out``: interrupted at the
    deadline, the cells run so far returned). Raises KernelDiedError, or ChapterTimeoutError
    when the kernel does not answer the interrupt either."""
    msg_id = kc.execute(request_code(cells), silent=True, store_history=False)
    deadline = time.monotonic() + timeout
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    stray: list[dict[str, Any]] = []
    interrupted = False
    while True:
        msg = _recv(kc, "iopub", POLL)
        if msg is None:
            if not _alive(km):
                raise KernelDiedError("内核意外退出（Kernel died）")
            if time.monotonic() > deadline:
                if interrupted:  # and the interrupt was not answered either
                    raise ChapterTimeoutError(f"本章执行超过 {timeout:.0f} 秒，内核无响应")
                from jupyter_core.utils import run_sync

                run_sync(km.interrupt_kernel)()  # the running cell fails with KeyboardInterrupt
                interrupted, deadline = True, time.monotonic() + 30
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "display_data" and MIME in content.get("data", {}):
            result = json.loads(content["data"][MIME])
        elif kind == "error":  # the request itself failed (not a cell: cells' are captured)
            error = {"output_type": "error", **{k: content.get(k) for k in ("ename", "evalue")}}
            error["traceback"] = content.get("traceback", [])
        elif kind == "stream":  # written past sys.stdout (e.g. by C code to the fd)
            stray.append(
                {"output_type": "stream", "name": content["name"], "text": content["text"]}
            )
        elif kind == "status" and content.get("execution_state") == "idle":
            break
    while (reply := _recv(kc, "shell", 5)) is not None:  # take the request's reply
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            break
    cells_run = (result or {}).get("cells", [])
    return {"cells": cells_run, "error": error, "stray": stray, "timed_out": interrupted}


def language_info(kc: Any, timeout: float = 30) -> dict[str, Any]:
    """The kernel's ``language_info`` (papermill stores it in the notebook's metadata)."""
    msg_id = kc.kernel_info()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = _recv(kc, "shell", 1)
        if reply is not None and reply.get("parent_header", {}).get("msg_id") == msg_id:
            return dict(reply["content"].get("language_info", {}))
    return {}


def engine() -> Any:
    """The papermill engine (registered once per process as :data:`ENGINE_NAME`)."""
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    import nbformat
    from papermill.engines import Engine, papermill_engines

    class BatchEngine(Engine):
        last_nb: Any = None

        @classmethod
        def execute_managed_notebook(
            cls, nb_man: Any, kernel_name: str, *, kernel: Any, **kwargs: Any
        ) -> Any:
            nb = cls.last_nb = nb_man.nb
            timeout = kwargs.get("execution_timeout") or CHAPTER_TIMEOUT
            if kernel.language_info is None:
                kernel.language_info = language_info(kernel.kc)
            out = run_cells(kernel.km, kernel.kc, _code_cells(nb), timeout)
            ran = {c["index"]: c for c in out["cells"]}
            last = max(ran, default=-1)
            for index, cell in enumerate(nb.cells):
                if index > last:
                    break
                nb_man.cell_start(cell, index)
                res = ran.get(index)
                if res is not None:
                    cell.execution_count = res["execution_count"]
                    cell.outputs = [nbformat.from_dict(o) for o in res["outputs"]]
                    if index == last and out["stray"]:
                        cell.outputs.extend(nbformat.from_dict(o) for o in out["stray"])
                    if res["failed"]:
                        nb_man.cell_exception(cell, index)
                nb_man.cell_complete(cell, index)
                if res is not None:  # the times the cell really ran, in the kernel
                    pm = cell.metadata.papermill
                    pm["start_time"], pm["end_time"] = res["start_time"], res["end_time"]
                    pm["duration"] = _seconds(res["start_time"], res["end_time"])
            if out["timed_out"]:
                raise ChapterTimeoutError(f"本章执行超过 {timeout:.0f} 秒，已中断")
            if out["error"] is not None and not any(c["failed"] for c in out["cells"]):
                raise RuntimeError(f"{out['error']['ename']}: {out['error']['evalue']}")
            nb.metadata["language_info"] = kernel.language_info
            return nb

    papermill_engines.register(ENGINE_NAME, BatchEngine)
    _skip_discarded_write()
    _ENGINE = BatchEngine
    return _ENGINE


def _skip_discarded_write() -> None:
    """papermill ends ``execute_notebook`` with ``write_ipynb(nb, output_path)``, which for an
    output path of None (a build's: the notebook comes back as an object) serialises and
    validates the whole executed notebook and then discards the text (≈3% of a worker's
    time). The write is skipped for None and done as before for any path."""
    import papermill.execute as pm_execute

    write = pm_execute.write_ipynb
    if getattr(write, "skips_discarded", False):
        return

    def write_ipynb(nb: Any, path: Any) -> None:
        if path is not None:
            write(nb, path)

    write_ipynb.skips_discarded = True  # type: ignore[attr-defined]
    pm_execute.write_ipynb = write_ipynb


def _seconds(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
