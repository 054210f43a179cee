"""helpers.build.pool.running_pool: the one start/close/sweep of a build's executor, shared
by ``nianbao build`` and ``nianbao summary`` (a stand-in pool: no process starts here)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from helpers.build import pool as pool_mod
from helpers.build.plan import BuildError


class FakePool:
    made: ClassVar[list[FakePool]] = []

    def __init__(self, n: int, kernel_reuse: bool):
        self.n, self.kernel_reuse, self.closed = n, kernel_reuse, []
        self.where = f"本机，{n} 个进程"
        self.started = False
        FakePool.made.append(self)

    def start(self) -> None:
        self.started = True

    def close(self, graceful: bool) -> None:
        self.closed.append(graceful)


@pytest.fixture
def fake(monkeypatch) -> type[FakePool]:
    FakePool.made = []
    monkeypatch.setattr(pool_mod, "_Pool", FakePool)
    return FakePool


def leftover(folder: Path) -> Path:
    """A temporary file as an interrupted atomic write leaves it."""
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    tmp = folder / "notebooks" / ".01_a.ipynb.x1y2.tmp"
    tmp.write_text("partial")
    return tmp


def test_a_completed_block_closes_gracefully_and_sweeps_nothing(fake, tmp_path):
    tmp = leftover(tmp_path)
    with pool_mod.running_pool(3, 8, True, [tmp_path]) as pool:
        assert pool.started and pool.n == 3 and pool.kernel_reuse  # no more workers than tasks
    assert pool.closed == [True]
    assert tmp.exists()  # not an interrupt: another writer's file is none of its business


def test_an_error_stops_the_workers_at_once_without_sweeping(fake, tmp_path):
    tmp = leftover(tmp_path)
    with pytest.raises(BuildError), pool_mod.running_pool(5, 2, False, [tmp_path]) as pool:
        raise BuildError("审核未通过")
    assert pool.n == 2 and pool.closed == [False] and tmp.exists()


def test_ctrl_c_stops_the_workers_and_sweeps_partial_files(fake, tmp_path):
    tmp = leftover(tmp_path)
    kept = tmp_path / "01_a.html"
    kept.write_text("<p>上一次的页面</p>")
    with pytest.raises(KeyboardInterrupt), pool_mod.running_pool(1, 2, True, [tmp_path]) as pool:
        raise KeyboardInterrupt
    assert pool.closed == [False]
    assert not tmp.exists() and kept.read_text() == "<p>上一次的页面</p>"


def test_nothing_to_run_starts_no_pool(fake, tmp_path):
    with pool_mod.running_pool(0, 4, True, [tmp_path]) as pool:
        assert pool is None
    assert fake.made == []


def test_a_scheduler_gets_the_dask_executor(monkeypatch, tmp_path):
    from helpers.build import cluster

    made: ClassVar[list[FakePool]] = []

    class FakeDask(FakePool):
        def __init__(self, address: str, jobs: int, kernel_reuse: bool):
            super().__init__(jobs, kernel_reuse)
            self.address = address
            made.append(self)

    monkeypatch.setattr(cluster, "DaskExecutor", FakeDask)
    address = "tcp://127.0.0.1:8786"
    with pool_mod.running_pool(1, 4, True, [tmp_path], address) as pool:
        assert isinstance(pool, FakeDask) and pool.address == address and pool.n == 4
    assert made == [pool] and pool.closed == [True]
