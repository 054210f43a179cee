"""Warm-kernel snapshot and reset: what lets one Jupyter kernel run several notebooks.

A worker's kernel runs ``import helpers.build.reset as r; r.install(WARM_MODULES, WARM_SKIP)``
once: the heavy modules and ``helpers`` are imported, then the interpreter state a notebook
can change is recorded. Before every notebook the worker runs ``RESET_CODE`` (which calls
:func:`reset`): figures are closed, the user namespace cleared, modules imported since
dropped, ``helpers`` put back as it was after its import (:mod:`helpers.build.modstate`;
imported again only when its files changed on disk), and the recorded state put back (cwd,
environment, sys.path, warnings filters, decimal context, random states, logging,
numpy/matplotlib/pandas settings, IPython hooks, magics, formatters).

Only public APIs are used, except where noted in :func:`_notify_warnings_changed`. The
module works without IPython too (``ip=None``, a plain namespace dict), which is how the
tests exercise it in-process.
"""

from __future__ import annotations

import contextlib
import copy
import decimal
import gc
import importlib
import logging
import os
import pkgutil
import random
import re
import sys
import warnings
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from helpers.build.modstate import PackageState

FREEZES = 3  # resets after which the survivors are frozen (install() froze the warm-up)
PACKAGE = "helpers"  # kept imported across notebooks, its state put back at every reset
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
KERNEL_MODULE = "_nianbao_kernel"  # where the installed snapshot lives in sys.modules
RESET_CODE = f"__import__('sys').modules[{KERNEL_MODULE!r}].reset()"


def install_code(warm: Iterable[str], skip: Iterable[str]) -> str:
    """The code a warm kernel runs once (an import and a call: no program in a string)."""
    return (
        "import helpers.build.reset as _nianbao_reset\n"
        f"_nianbao_reset.install({tuple(warm)!r}, {tuple(skip)!r})\n"
        "del _nianbao_reset"
    )


def _notify_warnings_changed() -> None:
    """Tell the warnings module its filter list changed (its cache of matches is stale).

    Private API, isolated here: ``warnings.filterwarnings`` does this itself, so it is
    needed only for a saved filter that cannot be re-added through it (see
    :func:`_restore_warnings`)."""
    getattr(warnings, "_filters_mutated", lambda: None)()


def _restore_warnings(saved: list[tuple[Any, ...]]) -> None:
    """Put the warnings filters back with the public API: reset, then re-add each saved
    filter in order (``append=True``)."""
    warnings.resetwarnings()
    for entry in saved:
        action, message, category, module, lineno = entry
        public = (message is None or getattr(message, "flags", 0) & re.IGNORECASE) and (
            module is None or isinstance(module, re.Pattern)
        )
        if public:  # what filterwarnings() itself stores
            msg = message.pattern if message is not None else ""
            mod = module.pattern if module is not None else ""
            warnings.filterwarnings(action, msg, category, mod, lineno, append=True)
        else:  # e.g. the interpreter's own filters, whose module is a plain string
            warnings.filters.append(entry)
            _notify_warnings_changed()


def _is_own(module: Any, roots: tuple[str, ...]) -> bool:
    """A module loaded from outside the Python installation (the project, a notebook's
    folder): dropped at reset when it was imported after the snapshot."""
    f = getattr(module, "__file__", None)
    return bool(f) and not os.path.realpath(f).startswith(roots)


def import_package(skip: Iterable[str], package: str = PACKAGE) -> None:
    """Import ``helpers`` and its subpackages except ``skip`` (those a notebook never needs)."""
    skip = tuple(skip)
    try:
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
            if info.name not in skip:
                with contextlib.suppress(Exception):
                    importlib.import_module(f"{package}.{info.name}")
    except Exception:
        pass


def drop_package(package: str = PACKAGE) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


def import_modules(warm: Iterable[str], skip: Iterable[str]) -> None:
    """Import the heavy modules and helpers' submodules but ``skip`` (what a warm kernel, or
    the zygote it is forked from, holds before its first notebook)."""
    for name in warm:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    import_package(skip)


def warm_up(warm: Iterable[str], skip: Iterable[str]) -> None:
    """Import the heavy modules and helpers' submodules (kept for every notebook)."""
    import_modules(warm, skip)
    if "matplotlib.pyplot" in sys.modules:
        # load the inline backend now (a fresh kernel does it at its first figure): it
        # registers IPython's post-execute hook that displays figures, part of the snapshot
        try:
            import matplotlib
            import matplotlib.pyplot as plt

            plt.switch_backend(matplotlib.get_backend())
        except Exception:
            pass


@dataclass
class Snapshot:
    """The interpreter state after the warm-up; :meth:`restore` puts it back."""

    ip: Any = None  # the IPython shell, or None (tests, plain Python)
    namespace: MutableMapping[str, Any] | None = None  # without IPython: the namespace to clear
    modules: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    cwd: str = ""
    environ: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    filters: list[tuple[Any, ...]] = field(default_factory=list)
    showwarning: Any = None
    decimal: decimal.Context | None = None
    random: Any = None
    hooks: tuple[Any, Any] = (None, None)
    logging: tuple[int, list[logging.Handler]] = (0, [])
    extra: dict[str, Any] = field(default_factory=dict)
    roots: tuple[str, ...] = ()
    package_name: str = PACKAGE
    package: PackageState | None = None  # helpers, when it was imported at the snapshot
    skip: tuple[str, ...] = ()  # helpers' subpackages not imported again after a code change
    freezes: int = 0

    @classmethod
    def take(
        cls,
        ip: Any = None,
        namespace: MutableMapping[str, Any] | None = None,
        skip: Iterable[str] = (),
        package: str = PACKAGE,
    ) -> Snapshot:
        st = cls(ip=ip, namespace=namespace, skip=tuple(skip), package_name=package)
        if package in sys.modules:
            st.package = PackageState.take(package, own=(__name__,))
        st.roots = tuple(
            {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        )
        st.modules = set(sys.modules)
        st.names = set(namespace) if namespace is not None else set()
        st.cwd, st.environ = os.getcwd(), dict(os.environ)
        st.path, st.argv = list(sys.path), list(sys.argv)
        st.filters, st.showwarning = list(warnings.filters), warnings.showwarning
        st.decimal = decimal.getcontext().copy()
        st.random = random.getstate()
        st.hooks = (sys.displayhook, sys.excepthook)
        st.logging = (logging.root.level, list(logging.root.handlers))
        if "numpy" in sys.modules:
            import numpy as np

            st.extra["numpy"] = (np.geterr(), np.get_printoptions(), np.random.get_state())
        if "matplotlib" in sys.modules:
            import matplotlib as mpl
            import matplotlib.units as munits

            st.extra["mpl"] = (dict(mpl.rcParams), dict(munits.registry))
        if ip is not None:
            st.extra["ipython"] = _ipython_state(ip)
        return st

    def restore(self) -> None:
        """Put the snapshot back; raises RuntimeError naming every step that failed."""
        errors = []
        steps: list[Callable[[], None]] = [
            self._figures,
            self._namespace,
            self._modules,
            self._interpreter,
            self._libraries,
        ]
        if self.ip is not None:
            steps.append(lambda: _restore_ipython(self.ip, self.extra["ipython"]))
        for fn in steps:
            try:
                fn()
            except Exception as e:
                errors.append(f"{getattr(fn, '__name__', 'ipython')}: {type(e).__name__}: {e}")
        if errors:
            raise RuntimeError("; ".join(errors))
        if self.freezes < FREEZES:
            # What is still alive after a reset lives as long as the kernel (modules and
            # library caches loaded lazily by the first notebooks): keep it out of the
            # collector's scans too, as install() does for the warm-up (≈0.03 s per reset).
            gc.collect()
            gc.freeze()
            self.freezes += 1

    def _figures(self) -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")

    def _namespace(self) -> None:
        if self.ip is not None:
            # What ip.reset() deletes, deleted first: its full garbage collection then walks
            # only what survives, not every object the notebook left in its namespace.
            ns = self.ip.user_ns
            for name in [k for k in ns if k not in ("__builtin__", "__builtins__", "__name__")]:
                del ns[name]
            self.ip.reset(new_session=True)
            self.ip.execution_count = 1
        elif self.namespace is not None:
            for name in set(self.namespace) - self.names:
                del self.namespace[name]

    def _modules(self) -> None:
        pkg = self.package_name
        for name in list(sys.modules):
            if name in (KERNEL_MODULE, "__main__") or name == pkg or name.startswith(pkg + "."):
                continue  # the package: below
            if name not in self.modules:
                if _is_own(sys.modules[name], self.roots):
                    del sys.modules[name]
                else:  # a library's module loaded on first use: kept, not looked at again
                    self.modules.add(name)
        if self.package is None:  # not kept: every notebook imports it afresh
            drop_package(pkg)
        elif self.package.code_changed():  # its files changed on disk: import it again
            drop_package(pkg)
            import_package(self.skip, pkg)
            self.package = PackageState.take(pkg, own=(__name__,))
        else:
            self.package.restore()

    def _interpreter(self) -> None:
        if os.getcwd() != self.cwd:
            os.chdir(self.cwd)
        if dict(os.environ) != self.environ:
            for k in set(os.environ) - set(self.environ):
                del os.environ[k]
            for k, v in self.environ.items():
                if os.environ.get(k) != v:
                    os.environ[k] = v
        sys.path[:] = self.path
        sys.argv[:] = self.argv
        if list(warnings.filters) != self.filters:
            _restore_warnings(self.filters)
        warnings.showwarning = self.showwarning
        decimal.setcontext(self.decimal.copy() if self.decimal else decimal.Context())
        random.setstate(self.random)
        sys.displayhook, sys.excepthook = self.hooks
        logging.root.setLevel(self.logging[0])
        logging.root.handlers[:] = self.logging[1]

    def _libraries(self) -> None:
        _clear_library_caches()
        if "numpy" in self.extra:
            import numpy as np

            err, printopts, state = self.extra["numpy"]
            np.seterr(**err)
            np.set_printoptions(**printopts)
            np.random.set_state(state)
        if "mpl" in self.extra:
            import matplotlib as mpl
            import matplotlib.units as munits

            rc, units = self.extra["mpl"]
            changed = {k: v for k, v in rc.items() if mpl.rcParams.get(k) != v}
            with warnings.catch_warnings():  # deprecated keys warn when set, even to themselves
                warnings.simplefilter("ignore")
                mpl.rcParams.update(changed)
            munits.registry.clear()
            munits.registry.update(units)
        if "pandas" in sys.modules:
            import pandas as pd

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pd.reset_option("all")  # nothing sets pandas options before a notebook


# Library caches that keep a notebook's objects alive after it ended: (module, attribute path).
# matplotlib's ArtistInspector caches by bound method, so every artist whose properties() were
# read (seaborn does it for legends) stays in memory with its whole figure: a warm kernel grew
# by ≈40 MB and its garbage collections by ≈0.4 s per school-year (bench/README.md).
LEAKY_CACHES = (
    ("matplotlib.artist", "ArtistInspector.number_of_parameters"),
    ("matplotlib.artist", "ArtistInspector.is_alias"),
)


def _clear_library_caches() -> None:
    for module, path in LEAKY_CACHES:
        obj: Any = sys.modules.get(module)
        for part in path.split("."):
            obj = getattr(obj, part, None)
        clear = getattr(obj, "cache_clear", None)
        if callable(clear):
            clear()


def _ipython_state(ip: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "events": {k: list(v) for k, v in ip.events.callbacks.items()},
        "extensions": set(ip.extension_manager.loaded),
        "magics": {k: dict(v) for k, v in ip.magics_manager.magics.items()},
        "transformers": (list(ip.input_transformers_post), list(ip.ast_transformers)),
        "formatters": {
            k: (
                dict(f.type_printers),
                dict(f.deferred_printers),
                dict(f.singleton_printers),
                f.enabled,
            )
            for k, f in ip.display_formatter.formatters.items()
        },
        "active_types": list(ip.display_formatter.active_types),
    }
    try:
        from matplotlib_inline.config import InlineBackend

        cfg = InlineBackend.instance()
        keys = ("figure_formats", "print_figure_kwargs", "rc", "close_figures")
        state["inline"] = {k: copy.deepcopy(getattr(cfg, k)) for k in keys}
    except Exception:
        pass
    return state


def _restore_ipython(ip: Any, st: dict[str, Any]) -> None:
    for ext in set(ip.extension_manager.loaded) - st["extensions"]:
        with contextlib.suppress(Exception):
            ip.extension_manager.unload_extension(ext)
    ip.extension_manager.loaded.clear()
    ip.extension_manager.loaded.update(st["extensions"])
    for k, v in st["events"].items():
        ip.events.callbacks[k][:] = v
    for k, v in st["magics"].items():
        ip.magics_manager.magics[k].clear()
        ip.magics_manager.magics[k].update(v)
    ip.input_transformers_post[:] = st["transformers"][0]
    ip.ast_transformers[:] = st["transformers"][1]
    if "inline" in st:
        from matplotlib_inline.config import InlineBackend

        cfg = InlineBackend.instance()
        for k, v in st["inline"].items():
            if getattr(cfg, k) != v:
                setattr(cfg, k, copy.deepcopy(v))
    for k, (tp, dp, sp, enabled) in st["formatters"].items():
        f = ip.display_formatter.formatters.get(k)
        if f is not None:
            f.type_printers, f.deferred_printers = dict(tp), dict(dp)
            f.singleton_printers, f.enabled = dict(sp), enabled
    ip.display_formatter.active_types = list(st["active_types"])


_SNAPSHOT: Snapshot | None = None


def install(warm: Iterable[str] = (), skip: Iterable[str] = ()) -> Snapshot:
    """Warm up and take the snapshot (in a kernel: of its IPython shell). The module is also
    registered as ``sys.modules[KERNEL_MODULE]`` so that :data:`RESET_CODE` finds it even
    after ``helpers`` was dropped and imported again (its files changed on disk)."""
    global _SNAPSHOT
    sys.modules[KERNEL_MODULE] = sys.modules[__name__]  # found even if helpers is re-imported
    warm_up(warm, skip)
    ip = None
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except ImportError:
        pass
    _SNAPSHOT = Snapshot.take(ip, skip=skip)
    # Everything imported so far lives as long as the kernel: keep it out of the garbage
    # collector's scans, so that the full collection of every reset (IPython's) only walks
    # what the notebooks made (~0.1 s less per notebook).
    gc.collect()
    gc.freeze()
    return _SNAPSHOT


def reset() -> None:
    """Put the state of :func:`install` back (raises RuntimeError if a step fails)."""
    if _SNAPSHOT is None:
        raise RuntimeError("helpers.build.reset.install() was not called")
    _SNAPSHOT.restore()
