r"""Parsed specs are cached; an edit to a spec file is picked up by the next ``open_report``.

Functions that parse a spec use :func:`cached` instead of ``functools.lru_cache``;
:func:`refresh` clears them all when any file of ``helpers/specs`` changed since the last
call, so an analyst who edits ``indicators.yaml`` and re-runs ``open_report`` in a running
JupyterLab kernel sees the change without restarting it. They are
:class:`helpers.memo.KeptCache`\ s, so a build's warm kernel parses the specs once, not once
per chapter.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from helpers.memo import KeptCache

F = TypeVar("F", bound=Callable[..., Any])
SPECS = Path(__file__).resolve().parent
_CACHED: list[Any] = []
_seen: tuple | None = None


def cached(fn: F) -> F:
    """A cache (kept across a warm kernel's resets) that :func:`refresh` clears when a spec
    file changes."""
    wrapped = KeptCache(fn)
    _CACHED.append(wrapped)
    return wrapped  # type: ignore[return-value]


def _signature() -> tuple:
    return tuple(
        sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in SPECS.glob("*.yaml"))
    )


def refresh() -> bool:
    """Clear every parsed spec if a spec file changed since the last call; True if it did."""
    global _seen
    now = _signature()
    changed = _seen is not None and now != _seen
    if changed:
        for fn in _CACHED:
            fn.cache_clear()
    _seen = now
    return changed
