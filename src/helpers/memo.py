"""Memos that live as long as the process, kept across a warm kernel's resets.

A build's kernel runs many chapters and is reset before each one
(:mod:`helpers.build.modstate` puts every dict of ``helpers`` back as it was), so a module's
cache would be emptied nine times per school-year. What a chapter asks again and again does
not change between chapters: the digest of a file that has not changed, the versions of the
packages already imported, the processed school-year of an unchanged folder. A
:class:`ProcessMemo` holds such values and the reset leaves it alone.

Only for values keyed by everything that determines them and never handed out to be
changed (strings, tuples, bytes to unpickle): what one notebook did cannot reach the next.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

# A file changed within this many seconds may change again within the same tick of the file
# system's clock, keeping its size and times: it is hashed every time, not memoised (git's
# "racily clean" entries).
RACY_SECONDS = 2.0


class ProcessMemo(dict):
    """A dict a kernel reset keeps (see the module doc), of at most ``limit`` entries (the
    oldest dropped first)."""

    def __init__(self, limit: int = 4096) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Hashable, value: Any) -> Any:
        while len(self) >= self.limit:
            del self[next(iter(self))]
        self[key] = value
        return value


def identity(path: str | os.PathLike[str]) -> tuple[Any, ...] | None:
    """What changes whenever the file's content may have: its inode, size and times; None
    when it changed too recently to tell (:data:`RACY_SECONDS`)."""
    st = os.stat(path)
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    if time.time_ns() - changed < RACY_SECONDS * 1e9:
        return None
    return (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


_DIGESTS = ProcessMemo()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, read again only when the file may have changed."""
    key = identity(path)
    if key is not None and key in _DIGESTS:
        return _DIGESTS[key]
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return _DIGESTS.put(key, digest) if key is not None else digest


# ------------------------------------------------------------------ caches a reset keeps
_ATOMS = (type(None), bool, int, float, complex, str, bytes, range, type(Ellipsis))


def immutable(value: Any, depth: int = 0) -> bool:
    """Whether nothing reachable from ``value`` can be changed, not even with
    ``object.__setattr__``: atoms (str, int, …), code objects, and tuples and frozensets of
    such values."""
    import types

    if depth > 64:
        return False
    if isinstance(value, (*_ATOMS, types.CodeType)):
        return True
    if type(value) in (tuple, frozenset):
        return all(immutable(v, depth + 1) for v in value)
    return False


def _pickled(value: Any) -> bytes:
    import pickle

    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class KeptCache:
    """A memo of a function of its arguments (and of files a reset would notice changing),
    which a warm kernel's reset keeps instead of emptying (``helpers.build.modstate``).

    A ``functools`` cache is emptied before every notebook, since a notebook may have changed
    a value it handed out; refilling the parsed specs, prose scans and compiled sentences cost
    a chapter kernel about 0.2–0.3 s per school-year. This one keeps its values and still lets
    no notebook's change reach the next:

    - an :func:`immutable` value (strings, tuples of them, code objects) is kept as it is;
    - any other value is kept with its pickle, and :meth:`verify` (called by the reset) drops
      every value whose pickle is no longer the same. A pickle holds every item, key and
      attribute all the way down (an attribute added to a frozen dataclass with
      ``object.__setattr__`` too), and making one is C code: verifying the parsed specs after
      a notebook takes about a millisecond. A value that cannot be pickled is refused when it
      is made (``TypeError``: use ``functools.lru_cache``).
    """

    def __init__(self, fn: Any, limit: int = 4096) -> None:
        import functools

        functools.update_wrapper(self, fn)
        self.fn = fn
        self.entries = ProcessMemo(limit)  # key → (value, its pickle or None if immutable)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        hit = self.entries.get(key)
        if hit is not None:
            return hit[0]
        value = self.fn(*args, **kwargs)
        self.entries.put(key, (value, None if immutable(value) else self._pickle(value)))
        return value

    def _pickle(self, value: Any) -> bytes:
        try:
            return _pickled(value)
        except Exception as e:
            raise TypeError(
                f"{self.fn.__module__}.{self.fn.__qualname__}: its value "
                f"({type(value).__name__}) cannot be pickled ({e}), so a change to it could "
                "not be told; use functools.lru_cache"
            ) from None

    def verify(self) -> list[str]:
        """Drop every value whose pickle changed since it was made; returns what was dropped."""
        dropped = []
        for key, (value, snapshot) in list(self.entries.items()):
            if snapshot is not None and _pickled(value) != snapshot:
                del self.entries[key]
                dropped.append(f"{self.fn.__qualname__}{key!r}")
        return dropped

    def cache_clear(self) -> None:
        self.entries.clear()


def kept_cache(limit: int = 4096) -> Any:
    """Decorator: :class:`KeptCache` of at most ``limit`` values."""

    def wrap(fn: Any) -> KeptCache:
        return KeptCache(fn, limit)

    return wrap
