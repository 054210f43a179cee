"""Shared fixtures: data folders made for each test (a copy of the bundled school, a second
school, a bare school), never the contents of data/raw itself. Factories are in
tests/factories.py."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from tests.factories import BUNDLED, SECOND, SECOND_NAME, copy_school
from tests.factories import make_school as _make_school

# jsonschema (imported by nbformat) imports rfc3987_syntax when installed, which builds a
# grammar at import time (≈1 s per test process, more on a busy machine). Its IRI format
# checks are never used here (nbformat, the specs' JSON Schemas), so the test processes do
# without it, as the build's workers do (helpers.build.execute).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# Property tests: 200 examples each in `make test`; `make test-fast` (the inner loop) sets
# NIANBAO_HYPOTHESIS=fast for 20 (each property still runs on many generated cases).
settings.register_profile("full", max_examples=200)
settings.register_profile("fast", max_examples=20)
settings.load_profile(os.environ.get("NIANBAO_HYPOTHESIS", "full"))


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable data folder holding a copy of the bundled school only; returns the raw
    folder (pass as data_dir)."""
    dst = tmp_path / "raw"
    dst.mkdir()
    copy_school(dst, BUNDLED)
    return dst


@pytest.fixture
def year2024(raw_copy: Path) -> Path:
    return raw_copy / BUNDLED / "2024"


@pytest.fixture
def second_school(raw_copy: Path) -> Path:
    """``raw_copy`` plus a second school ``demo2`` (a copy of the bundled one under another id
    and name); returns the raw folder."""
    copy_school(raw_copy, SECOND, name=SECOND_NAME)
    return raw_copy


@pytest.fixture
def bare_school(tmp_path: Path) -> Path:
    """A data folder with one school ``bare`` holding only school.yaml, and for 2024 only
    meta.yaml + facts.yaml; returns the raw folder."""
    raw = tmp_path / "bare-raw"
    _make_school(raw, "bare", name="简易学校")
    return raw


@pytest.fixture
def make_school() -> Callable[..., Path]:
    """``make_school(raw, id, name=…, years=…, facts=…)``: write a bare school folder."""
    return _make_school


@pytest.fixture
def demo_region(tmp_path: Path) -> Path:
    """Five synthetic schools (helpers.demo, seed 3) for 2023–2024; returns the raw folder."""
    from helpers.demo import generate

    raw = tmp_path / "demo-raw"
    generate(raw, 5, [2023, 2024], seed=3)
    return raw


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory) -> Path:
    """The bundled school's 2024 and 2023 reports, built once per test session (per worker:
    tests that use it share the xdist group ``browser``), from a copy of the bundled school."""
    from helpers.build.core import build

    raw = tmp_path_factory.mktemp("raw")
    copy_school(raw, BUNDLED)
    out = tmp_path_factory.mktemp("reports")
    result = build(schools=[BUNDLED], years=[2024, 2023], data_dir=raw, out_dir=out, jobs=2)
    assert result.ok, [c.error for c in result.failed]
    return out / BUNDLED


@pytest.fixture(autouse=True)
def _fast_tests_start_no_process(request, monkeypatch):
    """A test not marked ``slow`` may not start a process (a kernel, papermill, a browser, a
    build's workers, a subprocess): ``make test-fast`` stays fast, and a test that does is
    told to carry the mark."""
    if request.node.get_closest_marker("slow"):
        return
    import multiprocessing.process
    import subprocess

    def refuse(*args, **kwargs):
        raise RuntimeError(
            f"{request.node.nodeid} starts a process (kernel, browser, build worker or "
            "subprocess): mark it @pytest.mark.slow"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
