"""Inside a kernel: run a notebook's code cells in one execute request.

nbclient sends one execute request per cell, and the kernel answers each with its status,
input and outputs as separate messages; for a chapter of a dozen short cells that protocol
costs more than the cells. :func:`run` executes the cells one after another in the kernel's
own shell (``run_cell``, so execution counts, input transformers, the inline backend's
figures and IPython's hooks are those of a cell run by nbclient), collects each cell's
outputs in nbformat's shape and publishes them all as one display message of type
:data:`MIME`, which :mod:`helpers.build.batch` reads on the other side.

Outputs are taken where the kernel produces them, through ipykernel's public output hooks
(``display_pub.register_hook``, ``displayhook.register_hook``: display data, updates,
``clear_output`` and results), ``sys.stdout``/``sys.stderr`` (stream text), and the shell's
traceback display (errors). Execution stops at the first cell that fails, as papermill's
does. Without a kernel (plain IPython) there are no hooks and only streams and errors are
collected: the module is meant for a kernel.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import UTC, datetime
from typing import Any

MIME = "application/vnd.nianbao.cells+json"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _Cell:
    """The outputs of one cell as nbclient would store them."""

    def __init__(self, index: int, count: int):
        self.index = index
        self.count = count
        self.outputs: list[dict[str, Any]] = []
        self.pending: dict[str, str] = {}  # stream text not yet flushed
        self.clear_pending = False
        self.display_ids: dict[str, list[int]] = {}
        self.start = _now()
        self.end = ""
        self.failed = False

    def _add(self, out: dict[str, Any], display_id: str | None = None) -> None:
        if self.clear_pending:  # clear_output(wait=True): cleared by the next output
            self.outputs.clear()
            self.display_ids.clear()
            self.clear_pending = False
        if display_id:
            self.display_ids.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(out)

    def stream(self, name: str, text: str) -> None:
        """Text written to sys.stdout / sys.stderr: buffered per stream, as ipykernel does,
        and flushed (stdout first) before any other output and at the end of the cell."""
        self.pending[name] = self.pending.get(name, "") + text

    def flush(self) -> None:
        for name in ("stdout", "stderr"):
            text = self.pending.pop(name, "")
            if not text:
                continue
            last = self.outputs[-1] if self.outputs and not self.clear_pending else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += text
            else:
                self._add({"output_type": "stream", "name": name, "text": text})

    def message(self, msg: dict[str, Any]) -> None:
        """An output message the kernel was about to send (it is not sent)."""
        self.flush()
        kind, content = msg["header"]["msg_type"], msg["content"]
        transient = content.get("transient") or {}
        display_id = transient.get("display_id")
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_pending = True
            else:
                self.outputs.clear()
                self.display_ids.clear()
            return
        data = {"data": content.get("data", {}), "metadata": content.get("metadata", {})}
        if kind == "update_display_data":
            for i in self.display_ids.get(display_id or "", []):
                self.outputs[i].update(data)
            return
        if kind == "execute_result":
            out = {"output_type": "execute_result", "execution_count": self.count, **data}
        else:
            out = {"output_type": "display_data", **data}
        self._add(out, display_id)

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.flush()
        self._add(
            {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}
        )
        self.failed = True

    def to_json(self) -> dict[str, Any]:
        self.flush()
        return {
            "index": self.index,
            "execution_count": self.count,
            "outputs": self.outputs,
            "start_time": self.start,
            "end_time": self.end,
            "failed": self.failed,
        }


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr while a cell runs: text goes to the cell's outputs."""

    def __init__(self, name: str, sink: Any, original: Any):
        self.name_ = name
        self.sink = sink
        self.original = original

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        cell = self.sink()
        if cell is not None and text:
            cell.stream(self.name_, text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.original.fileno()


class _Session:
    """Where outputs go while :func:`run` runs; undone on leaving."""

    def __init__(self, ip: Any):
        self.ip = ip
        self.cell: _Cell | None = None

    def _hook(self, msg: dict[str, Any]) -> None:
        if self.cell is not None:
            self.cell.message(msg)
        return None  # captured: not sent

    def _traceback(self, etype: Any, evalue: Any, stb: list[str]) -> None:
        if self.cell is not None:
            self.cell.error(str(etype.__name__), str(evalue), list(stb))

    @contextlib.contextmanager
    def capturing(self) -> Any:
        ip, hooks = self.ip, []
        for target in (getattr(ip, "display_pub", None), getattr(ip, "displayhook", None)):
            if hasattr(target, "register_hook"):
                target.register_hook(self._hook)
                hooks.append(target)
        saved = sys.stdout, sys.stderr
        sys.stdout = _Stream("stdout", lambda: self.cell, saved[0])
        sys.stderr = _Stream("stderr", lambda: self.cell, saved[1])
        # the shell's traceback display (ZMQInteractiveShell overrides the same method)
        ip._showtraceback = self._traceback
        try:
            yield self
        finally:
            del ip._showtraceback
            sys.stdout, sys.stderr = saved
            for target in hooks:
                target.unregister_hook(self._hook)


def execute(ip: Any, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``cells`` (``{"index", "source"}``) in ``ip`` until one fails; their outputs."""
    session = _Session(ip)
    done: list[dict[str, Any]] = []
    with session.capturing():
        for spec in cells:
            cell = session.cell = _Cell(spec["index"], ip.execution_count)
            try:
                result = ip.run_cell(spec["source"], store_history=True)
            finally:
                cell.end = _now()
                session.cell = None
            if not result.success and not cell.failed:  # e.g. an error before execution
                err = result.error_before_exec or result.error_in_exec
                cell.error(type(err).__name__, str(err), [])
            done.append(cell.to_json())
            if cell.failed:
                break
    return done


def run(payload: str) -> None:
    """The execute request's code calls this with the cells as JSON; the outputs are
    published as one ``display_data`` message of type :data:`MIME`."""
    from IPython import get_ipython

    ip = get_ipython()
    result = {"cells": execute(ip, json.loads(payload))}
    # one JSON string: the kernel's message cleaning does not walk every output again
    ip.display_pub.publish({MIME: json.dumps(result)}, {})
