"""One Jupyter kernel of a worker: started (retried once), optionally warmed up and reset
between notebooks (:mod:`helpers.build.reset` runs inside it), and shut down."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers.build.reset import RESET_CODE, WARM_MODULES, WARM_SKIP, install_code

START_TIMEOUT = 60  # seconds for a kernel to answer


# what a kernel's command line holds: launched (ipykernel_launcher), or forked from a zygote
# (helpers.build.zygote) started as a program or forked in a worker of the fork server
KERNEL_MARKS = (b"ipykernel", b"helpers.build.zygote", b"multiprocessing.forkserver")


class KernelStartError(RuntimeError):
    pass


class _Kernel:
    """One kernel of a worker: started (retried once: a fresh port race can kill a kernel at
    start-up), optionally warmed up and reset between notebooks, and shut down."""

    def __init__(
        self,
        name: str,
        log_path: Path,
        announce: Callable[[int], None],
        zygote: str | None = None,
    ):
        self.name = name
        self.log_path = log_path
        self.announce = announce
        self.zygote = zygote  # address of a zygote (helpers.build.zygote) for warm kernels
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
        if warm and self.zygote:  # forked from the zygote, its modules already imported
            from helpers.build.zygote import ZygoteProvisioner

            km.kernel_id = str(uuid.uuid4())
            km.provisioner = ZygoteProvisioner(
                kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km, address=self.zygote
            )
        with open(self.log_path, "ab") as log:
            run_sync(km.start_kernel)(
                extra_arguments=["--HistoryManager.hist_file=:memory:"], stdout=log, stderr=log
            )
        self.km = km
        self.pid = None
        self._announce_pid(wait=False)
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

        errors = []
        for attempt in range(2):
            try:
                if attempt:
                    self.launch(self.warm)
                wait_for_ready(self.km, self.kc, START_TIMEOUT)
                self._announce_pid(wait=True)
                return
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}")
                self.close()
                self.zygote = None  # the retry starts a kernel of its own
        tail = ""
        with contextlib.suppress(OSError):
            tail = self.log_path.read_text(errors="replace")[-2000:]
        raise KernelStartError(
            f"内核 {self.name} 启动失败（已重试一次）：{'; '.join(errors)}\n{tail}".rstrip()
        )

    def _announce_pid(self, wait: bool) -> None:
        """Tell the pool the kernel's pid (it kills what is left after Ctrl-C) once known: at
        once for a launched kernel, when the zygote answered for a forked one."""
        if self.pid is None and self.km is not None:
            self.pid = _provisioner_pid(self.km, wait)
            if self.pid:
                self.announce(self.pid)

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


def wait_for_ready(km: Any, kc: Any, timeout: float) -> None:
    """Wait until the kernel answers ``kernel_info`` on its shell channel and its IOPub
    messages reach the client (those sent before the subscription connects are lost).

    jupyter_client's ``wait_for_ready`` does the same but polls the shell channel with a
    1-second timeout and starts over after a warm-up's ``execute_reply``, which kept a
    kernel that answered in 0.2 s waiting about 1.4 s; here the channel is polled every
    50 ms. Raises RuntimeError when the kernel dies or does not answer in ``timeout`` s."""
    from jupyter_core.utils import run_sync

    deadline = time.monotonic() + timeout
    get_shell, get_iopub = run_sync(kc.get_shell_msg), run_sync(kc.get_iopub_msg)
    while True:
        msg_id = kc.kernel_info()
        ask_again = time.monotonic() + 1.0
        while time.monotonic() < ask_again:
            try:
                msg = get_shell(timeout=0.05)
            except queue.Empty:
                if not run_sync(km.is_alive)():
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue  # e.g. the warm-up's execute_reply
            try:  # the reply's status messages show that IOPub is connected
                get_iopub(timeout=0.2)
            except queue.Empty:
                break  # not yet: ask again
            with contextlib.suppress(Exception):
                kc._handle_kernel_info_reply(msg)  # protocol version, as jupyter_client does
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


def _provisioner_pid(km: Any, wait: bool = True) -> int | None:
    """The kernel's pid; ``wait=False``: None rather than wait for a zygote's answer."""
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    if not wait and hasattr(proc, "known_pid"):
        return proc.known_pid
    return getattr(proc, "pid", None)


def _kill_kernel_pid(pid: int) -> None:
    """Kill a kernel (and its process group) if it is still running."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = None
    if cmdline is not None and not any(m in cmdline for m in KERNEL_MARKS):
        return  # the pid was reused by something else
    for kill in (getattr(os, "killpg", None), os.kill):
        if kill is not None:
            with contextlib.suppress(OSError):
                kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
