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
