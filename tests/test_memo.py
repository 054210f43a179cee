"""helpers.memo: what a warm kernel keeps across resets, and that a kept value can never be
a stale one (a file changed since is read again, a file changed just now is never kept)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pandas as pd
import pytest

import helpers.memo as memo
from helpers.build.modstate import PackageState
from helpers.indicators.processed import write
from helpers.ingest import processed as ingest_processed
from helpers.ingest.load import load_school_year
from helpers.ingest.processed import load_fresh, read_processed
from tests.factories import assert_same


@pytest.fixture
def later(monkeypatch):
    """The clock of helpers.memo ten seconds ahead: every file is past the racy window."""
    now = time.time_ns
    monkeypatch.setattr(memo.time, "time_ns", lambda: now() + 10 * 10**9)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_kernel_reset_keeps_a_process_memo_and_restores_a_dict(monkeypatch):
    monkeypatch.setattr(memo, "PLAIN", {}, raising=False)
    state = PackageState.take("helpers")
    memo._DIGESTS.put(("test-key",), "kept")
    memo.PLAIN["x"] = 1
    try:
        state.restore()
        assert memo._DIGESTS.get(("test-key",)) == "kept"
        assert memo.PLAIN == {}  # the control: an ordinary module dict is put back
    finally:
        memo._DIGESTS.pop(("test-key",), None)


def test_a_file_changed_just_now_is_hashed_every_time(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"aaaa")
    assert memo.file_sha256(path) == sha(b"aaaa")
    assert memo.identity(path) is None  # racy: not kept
    path.write_bytes(b"bbbb")  # same size, maybe the same clock tick
    assert memo.file_sha256(path) == sha(b"bbbb")


def test_an_unchanged_file_is_read_once_and_a_changed_one_again(tmp_path: Path, later, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_bytes(b"aaaa")
    assert memo.file_sha256(path) == sha(b"aaaa")
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real(self))
    assert memo.file_sha256(path) == sha(b"aaaa") and reads == []
    path.write_bytes(b"bbbbb")
    assert memo.file_sha256(path) == sha(b"bbbbb") and reads == [path]


def test_memo_drops_its_oldest_entry_at_its_limit():
    m = memo.ProcessMemo(limit=2)
    m.put("a", 1), m.put("b", 2), m.put("c", 3)
    assert list(m) == ["b", "c"]


def test_a_remembered_school_year_is_the_same_and_a_fresh_copy(raw_copy: Path, later, monkeypatch):
    folder = write(load_school_year("huichang", 2024, raw_copy))
    first = load_fresh("huichang", 2024, raw_copy)
    reads = []
    real = ingest_processed.read_processed
    monkeypatch.setattr(ingest_processed, "read_processed", lambda f: reads.append(f) or real(f))
    first.tables["awards"].loc[:, "count"] = 0  # a notebook changing its frame
    second = load_fresh("huichang", 2024, raw_copy)
    assert reads == []  # from memory
    assert second is not first and second.tables["awards"]["count"].sum() > 0
    assert_same(second, read_processed(folder))
    # processed again (a new folder, new files): read from disk again
    write(load_school_year("huichang", 2024, raw_copy))
    third = load_fresh("huichang", 2024, raw_copy)
    assert reads == [folder] and isinstance(third.tables["awards"], pd.DataFrame)


# ------------------------------------------------------------------ caches a reset keeps
def test_a_kernel_reset_keeps_the_parsed_specs_and_prose_scans():
    """The caches a chapter used to refill after every reset (the specs, the sentence
    placeholders, the prose's images, compiled sentences) are kept: the same objects after a
    reset, not parsed again."""
    from helpers.ingest import narrative
    from helpers.report import textgen
    from helpers.specs import sentences
    from helpers.specs.dictionary import load_dictionary
    from helpers.specs.registry import registry

    state = PackageState.take("helpers")
    before = (
        registry(),
        load_dictionary(),
        sentences.placeholders("共 {{ students }}。"),
        narrative._images("![图](images/a.png)"),
        textgen._code("{{ x }} 人"),
    )
    changed = state.restore()
    assert not [c for c in changed if "cached value" in c]
    after = (
        registry(),
        load_dictionary(),
        sentences.placeholders("共 {{ students }}。"),
        narrative._images("![图](images/a.png)"),
        textgen._code("{{ x }} 人"),
    )
    assert after[0] is before[0] and after[1] is before[1]
    assert after[2] == before[2] and after[3] is before[3] and after[4] is before[4]
    assert before[3] == (("images/a.png", "图"),)


def test_a_cached_value_a_notebook_changed_is_dropped_at_the_reset():
    """A notebook that changes a value a kept cache handed out (an entry of a dict inside, an
    attribute forced onto a frozen dataclass) does not reach the next notebook: the reset
    drops that value and the next call makes it again."""
    from helpers.specs.dictionary import load_dictionary
    from helpers.specs.registry import registry

    state = PackageState.take("helpers")
    reg, dic = registry(), load_dictionary()
    name = next(iter(reg.indicators))
    spec = reg.indicators[name]
    reg.indicators[name] = None  # a notebook's change to a dict inside
    object.__setattr__(dic, "leak", 1)  # and to a frozen dataclass
    try:
        changed = state.restore()
        assert any("registry" in c for c in changed) and any(
            "load_dictionary" in c for c in changed
        )
        assert registry() is not reg and registry().indicators[name] == spec
        assert not hasattr(load_dictionary(), "leak")
    finally:
        reg.indicators[name] = spec


def test_an_unchanged_value_survives_verify_and_an_immutable_one_is_not_copied():
    calls = []

    @memo.kept_cache(8)
    def table(n: int) -> dict:
        calls.append(n)
        return {"n": [n, n + 1]}

    @memo.kept_cache(8)
    def words(text: str) -> tuple[str, ...]:
        return tuple(text.split())

    assert table(1) == {"n": [1, 2]} and table(1) is table(1) and calls == [1]
    assert words("a b") == ("a", "b") and words.entries[("a b",)][1] is None
    assert table.verify() == [] and table(1) is table(1) and calls == [1]
    table(1)["n"].append(3)
    assert [d.rsplit(".", 1)[-1] for d in table.verify()] == ["table(1,)"]
    assert table(1) == {"n": [1, 2]} and calls == [1, 1]


def test_a_value_that_cannot_be_checked_is_refused():
    @memo.kept_cache()
    def opened(path: str):
        return lambda: path  # a function pickles by name: a local one not at all

    with pytest.raises(TypeError, match=r"opened.*cannot be pickled.*lru_cache"):
        opened("x")


def test_immutable_is_only_what_nothing_can_change():
    from helpers.specs.sentences import Placeholder

    assert memo.immutable(("a", 1, None, (b"x", 2.0), frozenset({"y"})))
    assert memo.immutable(compile("1", "<x>", "eval"))
    assert not memo.immutable(("a", ["b"]))
    assert not memo.immutable(Placeholder("x", None, 1))  # object.__setattr__ can change it


def test_a_kernel_reset_keeps_the_validated_tables(monkeypatch):
    """A table validated once (the same cells under the same spec) is not validated again
    after a kernel's reset: the memo hands out copies, so a reset has nothing to undo."""
    from helpers.ingest import schemas
    from helpers.specs.dictionary import load_dictionary

    calls = []
    real = schemas._validate_table
    monkeypatch.setattr(schemas, "_validate_table", lambda *a: calls.append(1) or real(*a))
    name, spec = next(iter(load_dictionary().tables.items()))
    df = pd.DataFrame({c: ["1"] for c in spec.columns})
    state = PackageState.take("helpers")  # a kernel's snapshot, before any chapter ran
    first = schemas.validate_table(df, spec, f"{name}.csv")  # a chapter validates
    state.restore()  # the reset before the next chapter
    again = schemas.validate_table(df, spec, f"{name}.csv")
    assert calls == [1]
    assert [str(p) for p in again[1]] == [str(p) for p in first[1]]
