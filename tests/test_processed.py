"""Issue 11: one raw → processed step. Validation writes the processed data beside the raw
folder with a stamp; a chapter kernel loads it while the stamp matches, else raw data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers import paths
from helpers.cli import app
from helpers.indicators.processed import write
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.processed import STAMP_FILE, load_fresh


def assert_same(a: SchoolYear | None, b: SchoolYear | None) -> None:
    """Equal in content, down the previous-year chain."""
    while a is not None or b is not None:
        assert a is not None and b is not None
        assert (a.school_id, a.year, a.school, a.meta, a.folder) == (
            b.school_id,
            b.year,
            b.school,
            b.meta,
            b.folder,
        )
        assert a.observations == b.observations and a.facts == b.facts
        for name, fact in a.facts.items():  # the chosen observation is one of its own
            assert any(o is b.facts[name].chosen for o in b.facts[name].observations), name
            assert fact.value == b.facts[name].value
        assert sorted(a.tables) == sorted(b.tables)
        for name in a.tables:
            pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
        pd.testing.assert_frame_equal(a.published, b.published)
        assert a.narratives == b.narratives and a.warnings == b.warnings
        a, b = a.previous, b.previous


def test_processed_school_year_equals_the_raw_one(raw_copy: Path):
    raw = load_school_year("huichang", 2024, raw_copy)
    folder = write(raw)
    assert folder == raw_copy.parent / "processed" / "huichang" / "2024"
    stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    assert stamp["years"] == [2024, 2023, 2022, 2021]  # the previous-year chain it loads
    assert "school.yaml" in stamp["files"] and "2023/facts.yaml" in stamp["files"]
    assert len(stamp["files"]["2024/facts.yaml"]) == 64 and stamp["code"]
    assert (folder / "awards.parquet").is_file() and (folder / "indicators.parquet").is_file()
    loaded = load_fresh("huichang", 2024, raw_copy)
    assert loaded is not None and loaded is not raw
    assert loaded.previous is not None and loaded.previous.year == 2023
    assert loaded.facts["students_full_time"].chosen in loaded.observations
    assert loaded.value("students_full_time") == raw.value("students_full_time") == 3088
    assert_same(loaded, raw)


@pytest.mark.parametrize("edited", ["2024/awards.csv", "2023/facts.yaml", "school.yaml"])
def test_a_raw_file_edited_since_falls_back_to_raw(raw_copy: Path, edited: str):
    write(load_school_year("huichang", 2024, raw_copy))
    assert load_fresh("huichang", 2024, raw_copy) is not None
    with open(raw_copy / "huichang" / edited, "a", encoding="utf-8") as f:
        f.write("\n")
    assert load_fresh("huichang", 2024, raw_copy) is None


def test_a_new_raw_file_or_earlier_year_falls_back(raw_copy: Path):
    write(load_school_year("huichang", 2024, raw_copy))
    (raw_copy / "huichang" / "2024" / "text" / "new.md").write_text("x", encoding="utf-8")
    assert load_fresh("huichang", 2024, raw_copy) is None
    (raw_copy / "huichang" / "2024" / "text" / "new.md").unlink()
    assert load_fresh("huichang", 2024, raw_copy) is not None
    shutil.copytree(raw_copy / "huichang" / "2021", raw_copy / "huichang" / "2020")
    assert load_fresh("huichang", 2024, raw_copy) is None


def test_no_processed_data_means_none(raw_copy: Path):
    assert load_fresh("huichang", 2024, raw_copy) is None


def test_processed_folder_sits_beside_the_raw_folder(tmp_path: Path):
    assert paths.processed_for(tmp_path / "data" / "raw") == tmp_path / "data" / "processed"
    assert paths.processed_for(tmp_path / "bureau") == tmp_path / "bureau-processed"
    assert paths.processed_for(None) == paths.repo_root() / "data" / "processed"


def test_validate_with_another_data_dir_writes_beside_it(raw_copy: Path, tmp_path: Path):
    other = tmp_path / "bureau"
    raw_copy.rename(other)
    result = CliRunner().invoke(
        app, ["validate", "--school", "huichang", "--year", "2024", "--data-dir", str(other)]
    )
    assert result.exit_code == 0, result.output
    assert load_fresh("huichang", 2024, other) is not None
    assert (tmp_path / "bureau-processed" / "huichang" / "2024" / STAMP_FILE).is_file()
    assert not (tmp_path / "processed").exists()


def test_open_report_uses_fresh_processed_data(raw_copy: Path, monkeypatch):
    import helpers.report.api as api

    write(load_school_year("huichang", 2024, raw_copy))

    def no_raw(*args, **kwargs):
        raise AssertionError("raw data re-validated")

    monkeypatch.setattr(api, "load_school_year", no_raw)
    rep = api.open_report("huichang", 2024, raw_copy)
    assert rep.sy.value("students_full_time") == 3088
    with open(raw_copy / "huichang" / "2024" / "awards.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(AssertionError, match="re-validated"):  # stale: falls back to raw
        api.open_report("huichang", 2024, raw_copy)
