"""One Jupyter kernel of a worker: started (retried once), optionally warmed up and reset
between notebooks (:mod:`helpers.build.reset` runs inside it), and shut down."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.build.reset import RESET_CODE, install_code

START_TIMEOUT = 60  # seconds for a kernel to answer
# Modules a warm kernel imports before its first notebook; helpers' subpackages (but WARM_SKIP)
# are imported too and kept, their state put back before every notebook (helpers.build.modstate).
WARM_MODULES = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "pandera",
    "yaml",
    "IPython.display",
    "helpers.build.cellrun",  # runs the notebooks' cells (helpers.build.batch)
    "helpers.report.api",  # what the chapters import (helpers.report loads it on first use)
)
WARM_SKIP = ("build", "cli")  # build machinery, not used by notebooks


class KernelStartError(RuntimeError):
    pass


class _Kernel:
    """One kernel of a worker: started (retried once: a fresh port race can kill a kernel at
    start-up), optionally warmed up and reset between notebooks, and shut down."""

    def __init__(self, name: str, log_path: Path, announce: Callable[[int], None]):
        self.name = name
        self.log_path = log_path
        self.announce = announce
        self.km: Any = None
        self.kc: Any = None
        self.pid: int | None = None
        self.warm = False
        self.used = False
        self.language_info: dict[str, Any] | None = None  # asked once, for papermill

    def start(self, warm: bool) -> None:
        """Launch and wait until the kernel answers."""
        self.launch(warm)
        self.ready()

    def launch(self, warm: bool) -> None:
        """Start the kernel process and, for a warm kernel, queue the prelude (it runs as soon
        as the kernel is up, while the worker goes on importing papermill and nbconvert)."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.warm = warm
        km = AsyncKernelManager(kernel_name=self.name)
        with open(self.log_path, "ab") as log:
            run_sync(km.start_kernel)(
                extra_arguments=["--HistoryManager.hist_file=:memory:"], stdout=log, stderr=log
            )
        self.km = km
        self.pid = _provisioner_pid(km)
        if self.pid:
            self.announce(self.pid)
        # One client for the kernel's life: papermill's client is handed this one, so there
        # is no connection handshake per notebook.
        self.kc = km.client()
        self.kc.start_channels()
        self.kc.allow_stdin = False
        if warm:
            code = install_code(WARM_MODULES, WARM_SKIP)
            self.kc.execute(code, silent=True, store_history=False)

    def ready(self) -> None:
        """Wait for the kernel; a kernel that dies at start-up (e.g. two kernels given the
        same free port at once) is replaced once. Raises KernelStartError."""
        from jupyter_core.utils import run_sync

        errors = []
        for attempt in range(2):
            try:
                if attempt:
                    self.launch(self.warm)
                run_sync(self.kc.wait_for_ready)(timeout=START_TIMEOUT)
                return
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}")
                self.close()
        tail = ""
        with contextlib.suppress(OSError):
            tail = self.log_path.read_text(errors="replace")[-2000:]
        raise KernelStartError(
            f"内核 {self.name} 启动失败（已重试一次）：{'; '.join(errors)}\n{tail}".rstrip()
        )

    def reset(self) -> None:
        """Put the kernel back into its state after the warm-up (raises if that fails)."""
        from jupyter_core.utils import run_sync

        reply = run_sync(self.kc.execute_interactive)(
            RESET_CODE,
            silent=True,
            store_history=False,
            timeout=START_TIMEOUT * 5,
            output_hook=lambda msg: None,
        )
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(self.km is not None and run_sync(self.km.is_alive)())
        except Exception:
            return False

    def close(self) -> None:
        from jupyter_core.utils import run_sync

        kc, km, pid = self.kc, self.km, self.pid
        self.kc = self.km = self.pid = None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
            with contextlib.suppress(Exception):
                km.cleanup_connection_file()
        if pid:
            _kill_kernel_pid(pid)
            with contextlib.suppress(OSError):
                os.waitpid(pid, os.WNOHANG)


def _provisioner_pid(km: Any) -> int | None:
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(proc, "pid", None)


def _kill_kernel_pid(pid: int) -> None:
    """Kill a kernel (and its process group) if it is still running."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = None
    if cmdline is not None and b"ipykernel" not in cmdline:
        return  # the pid was reused by something else
    for kill in (getattr(os, "killpg", None), os.kill):
        if kill is not None:
            with contextlib.suppress(OSError):
                kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
