"""Warm kernels forked from one process that imported their modules once (a "zygote").

A warm kernel used to start as its own Python process and import pandas, matplotlib, seaborn,
pandera, IPython and ``helpers`` before its first notebook: about 2 s of CPU per kernel, paid
by every kernel of a build at the same time, while the workers and the main process start
too. A zygote is a process that has them imported — forked by each worker of the local pool
from the fork server's preload (:func:`fork`), or started as its own program (:func:`start`) —
and forks a kernel for each request: the child sets up the kernel's session, standard streams,
signals, environment and arguments as ``python -m ipykernel_launcher`` would have them and
runs ``IPKernelApp`` there. What the child shares with the zygote is modules imported and
not yet used; nothing a notebook did can be in it, since the zygote runs none.

Server: ``python -m helpers.build.zygote SOCKET`` (started by :func:`start`) binds the Unix
socket at once, imports :data:`helpers.build.reset.WARM_MODULES`, then answers one JSON
request per connection — ``{"args", "env", "cwd", "log"}`` — with ``{"pid": N}`` of the
forked kernel (or ``{"error": "..."}``). It reaps its children as they exit and stops when
its standard input closes (the process that started it is gone) or on SIGTERM.

Client: :class:`ZygoteProvisioner` is a ``jupyter_client`` provisioner; a
``KernelManager`` given it starts kernels through the zygote and manages them as ever
(signals to the kernel's process group, liveness, kill). A kernel command that is not
``... -m ipykernel_launcher ARGS`` is launched the usual way.

Fork safety: the zygote runs no threads of its own, holds no ZeroMQ context and no event
loop, and is single-purpose; the kernel creates all of those after the fork.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Unicode

LAUNCHER = "ipykernel_launcher"
REPLY_TIMEOUT = 120.0  # seconds: the zygote answers once its imports are done
CONNECT_TIMEOUT = 10.0  # seconds for a started zygote's socket to appear


def split_command(cmd: list[str]) -> tuple[list[str], list[str]] | None:
    """A kernel command ``[python, -X…, -m, ipykernel_launcher, ARGS…]`` (the python3
    kernelspec's) as its interpreter part (to start a zygote with the same interpreter and
    flags) and ARGS (what the forked kernel parses); None for any other command."""
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == LAUNCHER:
            return cmd[:i], cmd[i + 2 :]
    return None


# ---------------------------------------------------------------------------------- server


def _reap(signum: int = 0, frame: Any = None) -> None:
    """Collect every child that has exited (a dead kernel must not linger as a zombie: its
    worker tells that it died by its pid being gone)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _child(request: dict[str, Any], keep_out: list[socket.socket]) -> None:
    """In the forked child: become the kernel ``python -m ipykernel_launcher ARGS`` would
    have been, run it, and leave without running the zygote's cleanup."""
    code = 1
    try:
        for s in keep_out:
            s.close()
        os.setsid()  # its own process group, as jupyter_client's launcher makes it
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(request.get("log") or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        os.chdir(request.get("cwd") or os.getcwd())
        env = dict(request["env"])
        env["JPY_PARENT_PID"] = str(os.getppid())  # the kernel stops when the zygote is gone
        os.environ.clear()
        os.environ.update(env)
        if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]  # a worker's stub (prepare_process), not a kernel's
        if sys.path[:1] != [os.getcwd()]:
            sys.path.insert(0, os.getcwd())  # as `python -m ipykernel_launcher` run here has it
        import ipykernel_launcher  # noqa: F401  (what sys.argv[0] names)
        from ipykernel.kernelapp import IPKernelApp

        # IPKernelApp reads JPY_PARENT_PID into a class default at import, here before the
        # fork: name the parent (the zygote) explicitly, so the kernel stops when it is gone
        args = [*request["args"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [sys.modules[LAUNCHER].__file__ or LAUNCHER, *args]
        IPKernelApp.launch_instance(argv=args)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else int(e.code is not None)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            import atexit

            atexit._run_exitfuncs()  # the kernel's own (IPython's), as at a normal exit
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def warm() -> None:
    """Import what a warm kernel imports before its first notebook (no IPython shell yet:
    the kernel's own warm-up, :func:`helpers.build.reset.install`, finishes the job)."""
    import ipykernel.ipkernel
    import ipykernel.kernelapp  # noqa: F401

    from helpers.build.reset import WARM_MODULES, WARM_SKIP, import_modules

    # ipykernel sets this before a kernel's first import of matplotlib; here it comes first
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import_modules(WARM_MODULES, WARM_SKIP)


def _handle(conn: socket.socket, listener: socket.socket) -> None:
    with conn:
        conn.settimeout(10)
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        try:
            request = json.loads(data)
            pid = os.fork()
        except Exception as e:
            conn.sendall(json.dumps({"error": f"{type(e).__name__}: {e}"}).encode() + b"\n")
            return
        if pid == 0:
            _child(request, [conn, listener])  # never returns
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def serve(listener: socket.socket, alive: int, imports: bool) -> None:
    """Fork a kernel per request on ``listener`` until ``alive`` (a pipe or stdin) reaches
    its end (whoever started the zygote is gone) or SIGTERM; ``imports``: import the
    kernels' modules first (a zygote started as its own program)."""
    import gc
    import selectors

    stop = False

    def on_term(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's business
    if imports:
        warm()
        gc.collect()
        gc.freeze()  # shared with every kernel, never scanned again
    signal.signal(signal.SIGCHLD, _reap)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(alive, selectors.EVENT_READ, "alive")
    while not stop:
        for key, _ in sel.select(timeout=1.0):
            if key.data == "alive":
                if not os.read(alive, 4096):
                    stop = True
                continue
            conn, _ = listener.accept()
            with contextlib.suppress(OSError):
                _handle(conn, listener)
        _reap()


def _listen(address: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)  # clients may connect (and wait) while the zygote imports
    return listener


# ---------------------------------------------------------------------------------- client


class Zygote:
    """A zygote started by this process (:func:`fork` or :func:`start`); :meth:`close`."""

    def __init__(self, pid: int, address: str, alive: int | None, proc: Any = None):
        self.pid = pid
        self.address = address
        self.alive = alive  # the write end of the pipe whose end stops a forked zygote
        self.proc = proc  # the Popen of a started one (its stdin plays that part)

    def close(self) -> None:
        """Stop the zygote (its kernels stop by themselves once it is gone)."""
        if self.alive is not None:
            with contextlib.suppress(OSError):
                os.close(self.alive)
            self.alive = None
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.02)
        else:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.unlink(self.address)


def kernel_python(kernel_name: str = "python3") -> list[str] | None:
    """The interpreter (and its flags) of ``kernel_name``'s kernels when they are
    ipykernel kernels, else None."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except Exception:
        return None
    parts = split_command(argv)
    return parts[0] if parts else None


def fork(address: str, kernel_name: str = "python3") -> Zygote | None:
    """Fork a zygote from this process, which must have the kernels' modules imported
    (:func:`warm`, e.g. in a fork server's preload) and run no other thread yet. None when
    the kernels run another interpreter than this one (their zygote could not stand for
    them) or are not ipykernel kernels."""
    python = kernel_python(kernel_name)
    if not python or os.path.abspath(python[0]) != os.path.abspath(sys.executable):
        return None
    listener = _listen(address)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the zygote
        code = 0
        try:
            os.close(w)
            serve(listener, r, imports=False)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(r)
    listener.close()
    return Zygote(pid, address, w)


def start(address: str, kernel_name: str = "python3") -> Zygote | None:
    """Start a zygote as its own program (``python -m helpers.build.zygote``) with the
    kernels' interpreter, listening at ``address``; it imports in the background and
    requests wait for it. None when the kernels are not ipykernel kernels."""
    python = kernel_python(kernel_name)
    if not python:
        return None
    log = open(Path(address).with_suffix(".log"), "ab")  # noqa: SIM115  (the child's)
    with log:
        proc = subprocess.Popen(
            [*python, "-m", "helpers.build.zygote", address],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
        )
    return Zygote(proc.pid, address, None, proc)


def request(address: str, payload: dict[str, Any], timeout: float = REPLY_TIMEOUT) -> int:
    """Ask the zygote at ``address`` for a kernel; its pid. Raises OSError / RuntimeError."""
    deadline = time.monotonic() + timeout
    connect_by = time.monotonic() + CONNECT_TIMEOUT
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        while True:  # a started zygote's socket appears as soon as Python runs it
            try:
                s.connect(address)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > connect_by:
                    raise
                time.sleep(0.05)
        s.sendall(json.dumps(payload).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            s.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("内核预加载进程未应答（已退出）")
            data += chunk
    reply = json.loads(data)
    if "pid" not in reply:
        raise RuntimeError(f"内核预加载进程未能启动内核：{reply.get('error')}")
    return int(reply["pid"])


class _ForkedKernel:
    """A ``Popen``-like handle on a kernel forked by the zygote (not this process's child):
    the request is sent at once and its answer, the pid, read when first needed, so that
    the worker goes on importing while the zygote finishes its own imports."""

    stdin = stdout = stderr = None

    def __init__(self, address: str, payload: dict[str, Any]):
        self.address = address
        self.payload = payload
        self._pid: int | None = None
        self._error: BaseException | None = None
        self.returncode: int | None = None

    @property
    def known_pid(self) -> int | None:
        """The pid if the zygote has answered, without waiting."""
        return self._pid

    @property
    def pid(self) -> int | None:
        if self._pid is None and self._error is None:
            try:
                self._pid = request(self.address, self.payload)
            except Exception as e:
                self._error = e
        return self._pid

    def poll(self) -> int | None:
        if self.returncode is None:
            pid = self.pid
            if pid is None:
                self.returncode = 1
            else:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    self.returncode = 1  # the zygote reaped it; its exit code is not known here
                except PermissionError:
                    pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.05)
        return code

    def send_signal(self, signum: int) -> None:
        if self.pid is not None and self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client's local provisioner, launching through a zygote (``address``)."""

    address = Unicode("")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        parts = split_command(cmd)
        if not self.address or parts is None:
            return await super().launch_kernel(cmd, **kwargs)
        args = parts[1]
        log = kwargs.get("stdout")
        payload = {
            "args": args,
            "env": dict(kwargs.get("env") or os.environ),
            "cwd": str(kwargs.get("cwd") or os.getcwd()),
            "log": getattr(log, "name", None) if log is not None else None,
        }
        self.process = _ForkedKernel(self.address, payload)
        self.pid = None  # known once the zygote answered (``process.pid``)
        self.pgid = None  # signals go to the kernel's own session (setsid) through the pid
        self.cwd = payload["cwd"]
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        process = self.process
        if isinstance(process, _ForkedKernel):
            pid = process.pid
            if pid is not None and process.poll() is None:
                try:
                    os.killpg(pid, signum)  # the kernel and what it started
                except ProcessLookupError:  # not yet its own group (setsid) a moment after fork
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signum)
            return
        await super().send_signal(signum)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m helpers.build.zygote SOCKET")
    listener = _listen(sys.argv[1])
    try:
        serve(listener, sys.stdin.fileno(), imports=True)
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(sys.argv[1])


if __name__ == "__main__":
    main()
