"""The state of an imported package, recorded and put back: how a warm kernel keeps
``helpers`` imported across notebooks without one notebook's changes reaching the next.

Importing ``helpers`` again for every notebook (as the kernel reset did before) cost about
0.1–0.2 s of CPU per chapter: modules compiled or unmarshalled, 50 pydantic models built,
Jinja templates compiled again. Instead :class:`PackageState` records, once, everything of
the package a notebook's code can change, and :meth:`PackageState.restore` puts it back:

- ``sys.modules``: the package's modules (re-registered if removed or replaced); modules of
  the package imported after the snapshot are dropped (the next import loads them fresh);
- every module's namespace (names rebound, added or deleted, e.g. ``helpers.fmt.X = …``);
- the namespace of every class defined in the package (``Report.chapter = …``) and of every
  module-level object that has one (shallow: rebound attributes);
- the contents of every module- and class-level ``dict``/``list``/``set``, nested ones
  included (compared with a copy of the containers taken at the snapshot, restored in place
  so that every reference sees it; the objects inside are compared by identity);
- every ``functools`` cache in the package is emptied, since a notebook may have changed a
  value it returned (the caches are keyed by content, so they refill with the same values);
  a :class:`helpers.memo.ProcessMemo` is kept (immutable values keyed by file identity), and
  so is a :class:`helpers.memo.KeptCache`, after dropping every value a notebook changed.

When a source file of the package changes on disk (a kernel that lives across builds, e.g.
on a Dask worker), restoring is not enough: :meth:`PackageState.code_changed` says so and the
caller drops the package and imports it again.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.memo import KeptCache, ProcessMemo

_CONTAINERS = (dict, list, set, bytearray)  # includes OrderedDict, defaultdict, Counter
_ATOMIC = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    type,
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    tuple,
    frozenset,
    range,
)


def _in_package(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_cache(value: Any) -> bool:
    return callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info")


def _code_signature(folders: list[str]) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file of the package (no ``__pycache__``)."""
    out = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                p = os.path.join(root, name)
                with contextlib.suppress(OSError):
                    st = os.stat(p)
                    out.append((p, st.st_size, st.st_mtime_ns))
    return tuple(out)


_DEPTH = 32  # nesting below which containers are compared and copied by identity only


def _copy(value: Any, depth: int = 0) -> Any:
    """A copy of the containers (dict, list, set, tuple, nested) holding the same leaves: a
    notebook changing a container shows; the objects inside are the package's own, not
    copies (a deep copy would make every object without ``__eq__`` look changed)."""
    if depth > _DEPTH:
        return value
    if isinstance(value, dict):
        new = copy.copy(value)  # keeps the type (OrderedDict, defaultdict's factory, …)
        for k in new:
            new[k] = _copy(value[k], depth + 1)
        return new
    if isinstance(value, list):
        return [_copy(v, depth + 1) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_copy(v, depth + 1) for v in value)
    if isinstance(value, set | bytearray):
        return copy.copy(value)
    return value


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether ``a`` (now) is still what ``b`` (its copy by :func:`_copy`) recorded."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if depth > _DEPTH:
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if isinstance(a, set | bytearray | int | float | complex | str | bytes):
        return bool(a == b)
    return False


def _put_back_container(target: Any, saved: Any) -> None:
    fresh = _copy(saved)
    if isinstance(target, dict):
        target.clear()
        target.update(fresh)
    elif isinstance(target, list | bytearray):
        target[:] = fresh
    else:  # set
        target.clear()
        target.update(fresh)


@dataclass
class PackageState:
    """Everything of an imported package that a notebook can change (see the module doc)."""

    prefix: str
    modules: dict[str, types.ModuleType] = field(default_factory=dict)
    namespaces: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    containers: list[tuple[Any, Any]] = field(default_factory=list)
    caches: list[Any] = field(default_factory=list)
    kept: list[Any] = field(default_factory=list)  # helpers.memo.KeptCache: verified, not emptied
    folders: list[str] = field(default_factory=list)
    signature: tuple[tuple[str, int, int], ...] = ()

    @classmethod
    def take(cls, prefix: str, own: Iterable[str] = ()) -> PackageState:
        """Record the package ``prefix`` as it is now in ``sys.modules``; the modules ``own``
        (the caller's, which holds this state) are kept registered but not recorded."""
        st = cls(prefix=prefix)
        st.modules = {n: m for n, m in list(sys.modules.items()) if _in_package(n, prefix)}
        seen: set[int] = set()
        pkg = st.modules.get(prefix)
        st.folders = [str(Path(p)) for p in getattr(pkg, "__path__", [])]
        for name, mod in st.modules.items():
            if name not in own:
                st._record(mod, seen, recurse=True)
        st.signature = _code_signature(st.folders)
        return st

    def _record(self, holder: Any, seen: set[int], recurse: bool) -> None:
        """Snapshot ``holder``'s namespace, its containers and caches; for a module, also the
        classes it defines and the objects it holds (one level down)."""
        if id(holder) in seen:
            return
        seen.add(id(holder))
        try:
            ns = dict(vars(holder))
        except TypeError:  # no __dict__ (slots)
            return
        self.namespaces.append((holder, ns))
        for key, value in ns.items():
            if key.startswith("__") and key.endswith("__"):
                continue  # the machinery (a module's __builtins__, pydantic's fields, …)
            if isinstance(value, ProcessMemo):
                continue  # kept across resets by design (helpers.memo)
            if isinstance(value, KeptCache):
                if id(value) not in seen:
                    seen.add(id(value))
                    self.kept.append(value)
                continue
            if _is_cache(value):
                if id(value) not in seen:
                    seen.add(id(value))
                    self.caches.append(value)
            elif isinstance(value, _CONTAINERS):
                if id(value) not in seen:
                    seen.add(id(value))
                    self.containers.append((value, _copy(value)))
            elif recurse and isinstance(value, type):
                if _in_package(getattr(value, "__module__", "") or "", self.prefix):
                    self._record(value, seen, recurse=False)
            elif recurse and not isinstance(value, _ATOMIC) and not callable(value):
                self._record(value, seen, recurse=False)  # e.g. a Jinja environment

    def code_changed(self) -> bool:
        """True when a file of the package changed on disk since the snapshot."""
        return _code_signature(self.folders) != self.signature

    def restore(self) -> list[str]:
        """Put the recorded state back; returns what had changed (for tests and logs)."""
        changed: list[str] = []
        for name in [n for n in sys.modules if _in_package(n, self.prefix)]:
            if name not in self.modules:
                del sys.modules[name]
                changed.append(f"import {name}")
        for name, mod in self.modules.items():
            if sys.modules.get(name) is not mod:
                sys.modules[name] = mod
                changed.append(f"sys.modules[{name!r}]")
        for holder, saved in self.namespaces:
            changed += _restore_namespace(holder, saved)
        for target, saved in self.containers:
            if not _same(target, saved):
                _put_back_container(target, saved)
                changed.append(f"contents of {type(target).__name__} {id(target):#x}")
        for fn in self.caches:
            fn.cache_clear()
        for cache in self.kept:
            changed += [f"cached value {d}" for d in cache.verify()]
        return changed


def _restore_namespace(holder: Any, saved: dict[str, Any]) -> list[str]:
    current = vars(holder)
    label = getattr(holder, "__name__", type(holder).__name__)
    changed = []
    for key in [k for k in current if k not in saved]:
        changed.append(f"{label}.{key} added")
        _delete(holder, key)
    for key, value in saved.items():
        if key not in current or current[key] is not value:
            changed.append(f"{label}.{key}")
            _set(holder, key, value)
    return changed


def _set(holder: Any, key: str, value: Any) -> None:
    if isinstance(holder, type):
        type.__setattr__(holder, key, value)
    else:
        vars(holder)[key] = value  # also for frozen dataclasses and modules


def _delete(holder: Any, key: str) -> None:
    if isinstance(holder, type):
        type.__delattr__(holder, key)
    else:
        del vars(holder)[key]
