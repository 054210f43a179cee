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
