"""Ctrl-C during a build always stops it, cleanly: also when the signal lands in a finalizer
(a weakref callback or ``__del__``), where Python can only print "Exception ignored …
Traceback" and carry on (found by tests/test_build.py's interrupt test, now and then)."""

from __future__ import annotations

import signal
import sys
import time

import pytest

from helpers.build.pool import _signals_raise
from helpers.build.signals import redeliver_interrupts


class _Finalized:
    def __del__(self) -> None:
        raise KeyboardInterrupt  # as if Ctrl-C arrived while this finalizer ran


def test_ctrl_c_in_a_finalizer_still_stops_the_build(capsys):
    with pytest.raises(KeyboardInterrupt), _signals_raise():
        obj = _Finalized()
        del obj  # the interrupt is "unraisable" here
        for _ in range(200):  # the build goes on working
            time.sleep(0.005)
        pytest.fail("the interrupt was lost")
    assert "Exception ignored" not in capsys.readouterr().err


def test_other_unraisable_errors_are_still_reported(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))

    class Broken:
        def __del__(self) -> None:
            raise ValueError("a finalizer's own bug")

    with _signals_raise():
        obj = Broken()
        del obj
    assert seen == [ValueError]


def test_sigterm_in_a_workers_finalizer_still_ends_the_worker():
    """A pool worker's SIGTERM handler raises SystemExit and ignores further SIGTERMs; when
    it ran inside a finalizer, the hook puts it back and delivers SIGTERM again."""

    def on_term(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    class Terminated:
        def __del__(self) -> None:
            on_term(signal.SIGTERM, None)  # as if SIGTERM arrived while this finalizer ran

    old = signal.signal(signal.SIGTERM, on_term)
    restore = redeliver_interrupts({signal.SIGTERM: on_term})
    try:
        with pytest.raises(SystemExit) as stopped:
            obj = Terminated()
            del obj
            for _ in range(200):
                time.sleep(0.005)
            pytest.fail("SIGTERM was lost")
        assert stopped.value.code == 128 + signal.SIGTERM
    finally:
        restore()
        signal.signal(signal.SIGTERM, old)
