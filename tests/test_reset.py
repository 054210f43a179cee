"""Issue 11: the warm-kernel reset (helpers.build.reset) is a module, tested in-process.

The kernel-level equivalence (a reused kernel gives the same notebook as a fresh one) is
tests/test_build.py::test_kernel_reuse_leaks_no_state.
"""

from __future__ import annotations

import decimal
import os
import random
import sys
import warnings
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from helpers.build import reset as r


@pytest.fixture
def keep_helpers():
    """Give the test session its own helpers modules back afterwards, whatever reset() did."""
    saved = {k: v for k, v in sys.modules.items() if k == "helpers" or k.startswith("helpers.")}
    yield
    sys.modules.update(saved)


def test_reset_restores_what_a_notebook_changed(tmp_path: Path, keep_helpers):
    warnings.filterwarnings("ignore", message="before the snapshot")
    ns: dict[str, object] = {"kept": 1}
    before_filters = list(warnings.filters)
    before_rc = mpl.rcParams["lines.linewidth"]
    before_rows = pd.get_option("display.max_rows")
    before_prec = decimal.getcontext().prec
    random.seed(7)
    np.random.seed(7)
    py_draw, np_draw = random.random(), np.random.random()
    random.seed(7)
    np.random.seed(7)
    cwd, path = os.getcwd(), list(sys.path)
    snap = r.Snapshot.take(namespace=ns)

    # what a notebook may do
    mod = tmp_path / "leaky_mod.py"
    mod.write_text("VALUE = 1\n")
    sys.path.insert(0, str(tmp_path))
    import leaky_mod  # noqa: F401

    ns["LEAK"] = 42
    mpl.rcParams["lines.linewidth"] = 9
    pd.set_option("display.max_rows", 3)
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", message="added by the notebook")
    decimal.getcontext().prec = 3
    random.random()
    np.random.random()
    np.seterr(all="raise")
    os.environ["NIANBAO_LEAK"] = "1"
    os.chdir(tmp_path)

    snap.restore()

    assert ns == {"kept": 1}
    assert "leaky_mod" not in sys.modules
    assert sys.modules["helpers"] is snap.package.modules["helpers"]  # kept imported
    assert mpl.rcParams["lines.linewidth"] == before_rc
    assert pd.get_option("display.max_rows") == before_rows == 60
    assert list(warnings.filters) == before_filters
    assert decimal.getcontext().prec == before_prec
    assert (random.random(), np.random.random()) == (py_draw, np_draw)
    assert np.geterr()["divide"] == "warn"
    assert "NIANBAO_LEAK" not in os.environ
    assert os.getcwd() == cwd and sys.path == path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.warn("still only a warning", stacklevel=1)
    assert [str(w.message) for w in caught] == ["still only a warning"]


def test_warnings_filters_come_back_through_the_public_api():
    saved = list(warnings.filters)
    warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
    warnings.filterwarnings("error", module="some\\.module", lineno=3)
    wanted = list(warnings.filters)
    warnings.resetwarnings()
    warnings.simplefilter("always")
    r._restore_warnings(wanted)
    try:
        assert list(warnings.filters) == wanted
    finally:
        r._restore_warnings(saved)
    assert list(warnings.filters) == saved


def test_a_filter_the_public_api_cannot_recreate_is_kept_as_is():
    """The interpreter's own filters hold the module as a plain string; such an entry is put
    back as it was (via the one private call, _notify_warnings_changed)."""
    saved = list(warnings.filters)
    odd = ("ignore", None, DeprecationWarning, "odd_module", 0)
    try:
        r._restore_warnings([odd, *saved])
        assert warnings.filters[0] == odd and list(warnings.filters[1:]) == saved
    finally:
        r._restore_warnings(saved)


def test_reset_without_install_says_so(monkeypatch):
    monkeypatch.setattr(r, "_SNAPSHOT", None)
    with pytest.raises(RuntimeError, match="install"):
        r.reset()


def test_install_code_is_an_import_and_a_call():
    code = r.install_code(("numpy",), ("build",))
    assert code.splitlines()[0] == "import helpers.build.reset as _nianbao_reset"
    compile(code, "<install>", "exec")
    assert "_nianbao_reset.install(('numpy',), ('build',))" in code


# ------------------------------------------------------------------ helpers kept imported

FAKE_INIT = """\
from functools import lru_cache

VALUE = 1
ITEMS = [1, 2]
TABLE = {"a": {"b": 1}}
TAGS = {"x"}


class Holder:
    limit = 3
    names = ["k"]


class Settings:
    def __init__(self):
        self.mode = "plain"


SETTINGS = Settings()


@lru_cache(maxsize=None)
def parsed():
    return {"parsed": [1]}
"""


@pytest.fixture
def fakepkg(tmp_path: Path, monkeypatch):
    """A small importable package ``nbfakepkg`` (dropped from sys.modules afterwards)."""
    root = tmp_path / "site"
    pkg = root / "nbfakepkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(FAKE_INIT, encoding="utf-8")
    (pkg / "sub.py").write_text("LIMIT = 10\n", encoding="utf-8")
    (pkg / "late.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    yield pkg
    for name in [m for m in sys.modules if m.split(".")[0] == "nbfakepkg"]:
        del sys.modules[name]


def test_package_state_puts_back_what_a_notebook_changed(fakepkg):
    """Everything a notebook can do to a kept package is undone (helpers.build.modstate)."""
    import nbfakepkg
    import nbfakepkg.sub

    from helpers.build.modstate import PackageState

    first = nbfakepkg.parsed()
    state = PackageState.take("nbfakepkg")
    assert not state.restore()  # nothing changed: nothing to put back

    # what a notebook may do to the package
    nbfakepkg.VALUE = 2  # rebind
    nbfakepkg.NEW = "added"  # add
    del nbfakepkg.TAGS  # delete
    nbfakepkg.ITEMS.append(3)  # mutate in place
    nbfakepkg.TABLE["a"]["b"] = 99  # mutate deep inside
    nbfakepkg.Holder.limit = 4  # a class attribute
    nbfakepkg.Holder.names.append("leak")  # a class-level list
    nbfakepkg.Holder.extra = True
    nbfakepkg.SETTINGS.mode = "leaky"  # a module-level object's attribute
    nbfakepkg.parsed()["parsed"].append("leak")  # a cached value
    import nbfakepkg.late

    sys.modules["nbfakepkg.sub"] = nbfakepkg  # replaced
    items = nbfakepkg.ITEMS

    changed = state.restore()

    assert nbfakepkg.VALUE == 1 and not hasattr(nbfakepkg, "NEW") and {"x"} == nbfakepkg.TAGS
    assert nbfakepkg.ITEMS == [1, 2] and items is nbfakepkg.ITEMS  # in place: one object
    assert nbfakepkg.TABLE == {"a": {"b": 1}}
    assert nbfakepkg.Holder.limit == 3 and nbfakepkg.Holder.names == ["k"]
    assert not hasattr(nbfakepkg.Holder, "extra")
    assert nbfakepkg.SETTINGS.mode == "plain"
    assert nbfakepkg.parsed() == {"parsed": [1]} and nbfakepkg.parsed() is not first
    assert "nbfakepkg.late" not in sys.modules and not hasattr(nbfakepkg, "late")
    assert sys.modules["nbfakepkg.sub"].LIMIT == 10
    assert "nbfakepkg.VALUE" in changed and "nbfakepkg.NEW added" in changed
    assert "import nbfakepkg.late" in changed
    assert not state.restore()  # and it stays put back


def test_package_state_sees_a_file_changed_on_disk(fakepkg):
    import nbfakepkg  # noqa: F401

    from helpers.build.modstate import PackageState

    state = PackageState.take("nbfakepkg")
    assert not state.code_changed()
    st = (fakepkg / "sub.py").stat()
    (fakepkg / "sub.py").write_text("LIMIT = 20\n", encoding="utf-8")
    os.utime(fakepkg / "sub.py", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert state.code_changed()


def test_reset_imports_a_changed_package_again(fakepkg, keep_helpers):
    """A kernel living across builds (a Dask worker) runs the new code after an edit."""
    import nbfakepkg
    import nbfakepkg.sub

    snap = r.Snapshot.take(namespace={}, package="nbfakepkg")
    nbfakepkg.VALUE = 5
    snap.restore()
    assert sys.modules["nbfakepkg"] is nbfakepkg and nbfakepkg.VALUE == 1  # kept, put back

    st = (fakepkg / "sub.py").stat()
    (fakepkg / "sub.py").write_text("LIMIT = 20\n", encoding="utf-8")
    os.utime(fakepkg / "sub.py", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    snap.restore()
    assert sys.modules["nbfakepkg"] is not nbfakepkg  # imported again, with the new code
    assert sys.modules["nbfakepkg.sub"].LIMIT == 20


def test_reset_lets_go_of_a_notebooks_figures(keep_helpers):
    """matplotlib caches ArtistInspector results by bound method (seaborn's legends read
    ``properties()``), which kept every such figure of every notebook alive in a warm kernel:
    it grew by ≈40 MB per school-year. The reset clears those caches."""
    import gc
    import weakref

    from matplotlib.figure import Figure

    snap = r.Snapshot.take(namespace={})
    fig = Figure()
    (line,) = fig.subplots().plot([1, 2])
    line.properties()  # what seaborn's legend code does
    gone = weakref.ref(fig)
    del fig, line
    snap.restore()
    gc.collect()
    assert gone() is None
