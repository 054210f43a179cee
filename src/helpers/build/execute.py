"""A worker process: executes chapter notebooks with papermill on its kernel (one request per
notebook, :mod:`helpers.build.batch`) and renders them to HTML (:mod:`helpers.report.render`),
one after another."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from helpers.build import manifest as mf
from helpers.build import stderr
from helpers.build.batch import CHAPTER_TIMEOUT, ENGINE_NAME, engine
from helpers.build.kernel import START_TIMEOUT, _Kernel
from helpers.build.pages import save_parts
from helpers.build.plan import FAILED_SUFFIX
from helpers.build.signals import redeliver_interrupts


def _chapter_title(stem: str, nb: Any) -> str:
    """The outline's heading for the chapter, else the notebook's first heading, else stem."""
    from helpers.report import render

    try:
        from helpers.specs.outline import chapter

        return str(chapter(stem).heading)
    except Exception:  # no outline (yet), or a notebook the outline does not list
        return render.chapter_title(nb) or stem


def _first_line(source: Any) -> str:
    text = "".join(source) if isinstance(source, list) else str(source or "")
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 80 else line[:77] + "..."
    return ""


def _find_error(nb: Any) -> dict[str, Any] | None:
    """The first error output: cell index in the source notebook (0-based), its first line of
    source, execution count, ename and evalue."""
    index = -1
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", []) or []
        if "papermill-error-cell-tag" in tags:
            continue
        injected = "injected-parameters" in tags
        if not injected:
            index += 1
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                return {
                    "cell": "injected-parameters" if injected else index,
                    "source": _first_line(cell.get("source")),
                    "execution_count": cell.get("execution_count"),
                    "ename": out.get("ename", "Error"),
                    "evalue": out.get("evalue", ""),
                }
    return None


def _describe(err: dict[str, Any]) -> str:
    where = (
        "参数单元格（injected-parameters）"
        if err.get("cell") == "injected-parameters"
        else f"cell {err.get('cell')}"
    )
    count = f" [In {err['execution_count']}]" if err.get("execution_count") else ""
    source = f" `{err['source']}`" if err.get("source") else ""
    return f"{where}{count}{source}: {err.get('ename')}: {err.get('evalue')}"


def write_outputs(task: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """Write what :meth:`_Runner.execute` returned into the chapter's output folder, each
    file atomically: the executed notebook and page, or the failed notebook for inspection.
    Returns the result without the contents (``html_sha256`` and ``failed_notebook`` added)."""
    folder = Path(task["folder"])
    stem = task["chapter"]
    res = {k: v for k, v in out.items() if k not in ("notebook", "page", "parts")}
    failed = folder / "notebooks" / f"{stem}{FAILED_SUFFIX}"
    if out.get("status") != "ok":
        if out.get("notebook") is not None:
            mf.write_text(failed, out["notebook"])
            res["failed_notebook"] = str(failed)
        return res
    page = out["page"]
    mf.write_text(folder / "notebooks" / f"{stem}.ipynb", out["notebook"])
    mf.write_text(folder / f"{stem}.html", page)
    if out.get("parts") is not None:  # what index.html and report.html take of the page
        save_parts(folder, stem, out["parts"])
    failed.unlink(missing_ok=True)
    res["html_sha256"] = mf.sha256_bytes(page.encode("utf-8"))
    return res


def prepare_process(quiet_logs: bool = True) -> None:
    """Settings of a process that runs chapters (a pool worker or a Dask worker); the fork
    server's preload leaves the loggers alone (its kernels must not inherit that)."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # kernels started here run for a build: no interactive styling in their outputs
    os.environ["NIANBAO_BUILD"] = "1"
    # jsonschema (imported by nbformat) loads rfc3987_syntax when installed, which builds a
    # grammar at import time (~1 s). Its IRI format checks are never used by nbformat, so this
    # process does without it.
    if "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    if not quiet_logs:
        return
    import logging

    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)


class _Runner:
    """A worker's state: its kernel, and how it executes and renders one chapter."""

    def __init__(
        self, wid: int, results: Any, reuse: bool, log_dir: str, zygote: str | None = None
    ):
        self.wid = wid
        self.results = results
        self.reuse = reuse
        self.zygote = zygote  # where warm kernels are forked (helpers.build.zygote), if any
        self.log_path = Path(log_dir) / f"worker-{wid}-{os.getpid()}.log"
        self.kernel: _Kernel | None = None
        self.warm_broken = False

    def _announce(self, pid: int) -> None:
        self.results.put(("kernel", self.wid, pid))

    def new_kernel(self, name: str, warm: bool) -> _Kernel:
        kernel = _Kernel(name, self.log_path, self._announce, self.zygote if warm else None)
        self.kernel = kernel
        kernel.start(warm)
        return kernel

    def prepare(self) -> None:
        """Warm up: launch the kernel, import papermill/nbconvert meanwhile, then wait."""
        if self.reuse:
            self.kernel = _Kernel("python3", self.log_path, self._announce, self.zygote)
            self.kernel.launch(warm=True)
        import nbformat  # noqa: F401
        import papermill  # noqa: F401

        from helpers.report import render

        engine()
        render._exporter(render.template_name())
        if self.kernel is not None:
            self.kernel.ready()

    def kernel_for(self, name: str) -> _Kernel:
        """A kernel for the next notebook: the warm one, reset, when kernels are reused;
        else (or if the reset fails) a new one. A kernel that was not warmed up (and reset)
        never runs a second notebook."""
        k = self.kernel
        if k is not None:
            reusable = k.name == name and (not k.used or k.warm) and k.alive()
            if not reusable:
                k.close()
                k = self.kernel = None
        if k is None:
            k = self.new_kernel(name, warm=self.reuse and not self.warm_broken)
        if k.warm:
            try:
                k.reset()  # also waits for the prelude to finish
            except Exception:  # never run a notebook on a kernel in an unknown state
                if not k.used:
                    self.warm_broken = True  # the prelude itself fails: stop warming
                k.close()
                k = self.new_kernel(name, warm=False)
        k.used = True
        return k

    def run(self, task: dict[str, Any]) -> dict[str, Any]:
        """Execute and render one chapter and write its outputs (the local pool's workers
        share the output folder)."""
        return write_outputs(task, self.execute(task))

    def execute(self, task: dict[str, Any]) -> dict[str, Any]:
        """Execute and render one chapter; the result carries the executed notebook
        (``notebook``, nbformat JSON) and its page (``page``) instead of writing them, so
        that a Dask worker can hand them to the client (:mod:`helpers.build.cluster`)."""
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        from helpers.report import render

        t0 = time.monotonic()
        stem = task["chapter"]
        out: dict[str, Any] = {"id": task["id"], "status": "failed", "seconds": 0.0}
        nb = None
        error: dict[str, Any] | None = None
        batch = engine()
        batch.last_nb = None
        kernel: _Kernel | None = None
        try:
            kernel = self.kernel_for(task["kernel_name"])
            nb = papermill.execute_notebook(
                task["notebook"],
                None,
                parameters=task["parameters"],
                engine_name=ENGINE_NAME,
                kernel_name=task["kernel_name"],
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=START_TIMEOUT,
                execution_timeout=CHAPTER_TIMEOUT,
                kernel=kernel,
            )
        except PapermillExecutionError:
            nb = batch.last_nb
        except Exception as e:
            nb = batch.last_nb
            error = {"cell": None, "ename": type(e).__name__, "evalue": str(e).strip()}
        cell_error = _find_error(nb) if nb is not None else None
        if error is not None and cell_error is not None:  # e.g. a timeout: where it stopped
            error["evalue"] += f"（{_describe(cell_error)}）"
        else:
            error = cell_error or error
        out["warnings"] = stderr.collect(nb) if nb is not None else []
        if error is not None and kernel is not None:
            kernel.close()  # after a failure, never reuse the kernel
            self.kernel = None
        elif not self.reuse and kernel is not None:
            kernel.close()
            self.kernel = None
        if error is None:
            try:
                title = _chapter_title(stem, nb)
                rendered = render.render_chapter(nb, title=title)
            except Exception as e:
                error = {"cell": None, "ename": f"渲染失败 {type(e).__name__}", "evalue": str(e)}
        out["seconds"] = time.monotonic() - t0
        if nb is not None:
            out["notebook"] = nbformat.writes(nb)
        if error is not None:
            if error.get("cell") is None:
                out["error"] = f"{error['ename']}: {error['evalue']}"
            else:
                out["error"] = _describe(error)
            return out
        page, parts = rendered.html, rendered.parts.to_json()
        out.update(status="ok", title=title, page=page, parts=parts, seconds=time.monotonic() - t0)
        return out

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def _fork_zygote(wid: int, log_dir: str) -> Any:
    """The worker's zygote (helpers.build.zygote), forked before anything else happens in
    the worker, when the fork server preloaded the kernels' modules; else None."""
    if "helpers.build.preload" not in sys.modules:
        return None
    from helpers.build import zygote

    try:
        return zygote.fork(str(Path(log_dir) / f"zygote-{wid}.sock"))
    except Exception:  # kernels are then started the usual way
        return None


def _worker_main(wid: int, tasks: Any, results: Any, reuse: bool, log_dir: str) -> None:
    """A worker process: one kernel, chapters one after another until the None sentinel."""
    zygote = _fork_zygote(wid, log_dir) if reuse else None
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's business
    signal.signal(signal.SIGTERM, _on_sigterm)
    redeliver_interrupts({signal.SIGTERM: _on_sigterm})  # not lost in a finalizer
    prepare_process()
    import logging

    runner = _Runner(wid, results, reuse, log_dir, zygote.address if zygote else None)
    try:
        try:
            runner.prepare()
        except Exception:  # e.g. the kernel does not start: reported per chapter below
            runner.close()
        while True:
            task = tasks.get()
            if task is None:
                break
            results.put(("start", wid, task["id"]))
            try:
                res = runner.execute(task)  # the main process writes the outputs
            except Exception as e:  # never lose a task
                res = {"id": task["id"], "status": "failed", "error": f"{type(e).__name__}: {e}"}
            results.put(("done", wid, res))
    except (KeyboardInterrupt, SystemExit):
        results.cancel_join_thread()
        # the interrupted notebook's pending asyncio tasks would print tracebacks at exit
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    finally:
        runner.close()
        if zygote is not None:
            zygote.close()
    sys.exit(0)
