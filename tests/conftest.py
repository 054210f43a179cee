"""Shared fixtures: a private copy of the bundled raw data that tests may break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SEED = ROOT.parent / "shared" / "seeds" / "000_e7d1589b0c592feb.txt"


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of data/raw; returns the raw folder (pass as data_dir)."""
    dst = tmp_path / "raw"
    shutil.copytree(RAW, dst)
    return dst


@pytest.fixture
def year2024(raw_copy: Path) -> Path:
    return raw_copy / "huichang" / "2024"


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory) -> Path:
    """The bundled school's 2024 and 2023 reports, built once per test session (per worker:
    tests that use it share the xdist group ``browser``)."""
    from helpers.build.core import build

    out = tmp_path_factory.mktemp("reports")
    result = build(schools=["huichang"], years=[2024, 2023], out_dir=out, jobs=2)
    assert result.ok, [c.error for c in result.failed]
    return out / "huichang"
