"""An interrupt must not be lost in a finalizer.

Ctrl-C (KeyboardInterrupt) in the build's main process and SIGTERM (SystemExit) in a worker
are raised by signal handlers wherever the process happens to be. When that is a finalizer
(a weakref callback, ``__del__``), Python cannot propagate the exception: it prints
"Exception ignored … Traceback" and carries on, so the interrupt is lost and the reader sees
a traceback. :func:`redeliver_interrupts` installs an ``sys.unraisablehook`` that drops such
an exception silently and delivers the signal again a moment later, from a timer thread, so
that it is raised in the main thread after the finalizer has returned.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

DELAY = 0.05  # seconds: long enough for the finalizer and the hook to return


def redeliver_interrupts(
    handlers: dict[int, Callable[[int, Any], None]],
) -> Callable[[], None]:
    """Install the hook; ``handlers`` maps each signal to the Python handler that raises the
    interrupt (put back before the signal is delivered again, as a handler may have set
    itself to SIG_IGN). Returns the function that restores the previous hook."""
    old_hook = sys.unraisablehook
    kinds = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: SystemExit}

    def hook(u: Any) -> None:
        for signum, kind in kinds.items():
            if signum in handlers and u.exc_type is not None and issubclass(u.exc_type, kind):
                if threading.current_thread() is threading.main_thread():
                    signal.signal(signum, handlers[signum])
                timer = threading.Timer(DELAY, _thread.interrupt_main, args=(signum,))
                timer.daemon = True
                timer.start()
                return
        old_hook(u)

    sys.unraisablehook = hook

    def restore() -> None:
        sys.unraisablehook = old_hook

    return restore
