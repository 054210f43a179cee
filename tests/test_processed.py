"""Issue 11: one raw → processed step. Validation writes the processed data (Parquet +
schoolyear.json + stamp.json) beside the raw folder; a chapter kernel reads it back without
validating again while the stamp matches; a stale stamp stops a build's chapter and is
re-processed anywhere else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers import paths
from helpers.cli import app
from helpers.indicators.processed import IN_BUILD, StaleProcessedData, write
from helpers.ingest.load import load_school_year
from helpers.ingest.processed import STAMP_FILE, load_fresh, read_processed
from helpers.report.api import open_report
from tests.factories import assert_same


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


def _no_validation(monkeypatch) -> None:
    """Every way into raw-data validation raises (pandera tables, facts, part–whole checks)."""
    import helpers.ingest.load as load
    import helpers.ingest.schemas as schemas

    def refuse(*args, **kwargs):
        raise AssertionError("raw data validated again")

    for module, name in [
        (load, "validate_table"),
        (schemas, "validate_table"),
        (load, "parse_observations"),
        (load, "failed_parts"),
        (load, "read_csv"),
    ]:
        monkeypatch.setattr(module, name, refuse)


def test_kernel_reads_processed_data_without_validating(raw_copy: Path, monkeypatch):
    raw = load_school_year("huichang", 2024, raw_copy)
    write(raw)
    _no_validation(monkeypatch)
    rep = open_report("huichang", 2024, raw_copy)
    assert_same(rep.sy, raw)
    awards = rep.data("awards")  # every year up to 2024, from the same folder
    assert awards.groupby("year")["count"].sum().to_dict() == {2023: 24, 2024: 40}
    assert "3088" in str(rep.section("1.1"))  # chapter 1's cells run on it
    with pytest.raises(AssertionError, match="validated again"):  # the patch does bite
        load_school_year("huichang", 2024, raw_copy)


def test_values_round_trip_exactly_and_missing_stays_missing(raw_copy: Path):
    published = raw_copy / "huichang" / "2024" / "published.csv"
    text = published.read_text(encoding="utf-8")
    published.write_text(text.replace(",51.72,51.72%,", ",51.72,,", 1), encoding="utf-8")
    raw = load_school_year("huichang", 2024, raw_copy)
    back = read_processed(write(raw))
    for name, df in [*raw.tables.items(), ("published", raw.published)]:
        other = back.published if name == "published" else back.tables[name]
        pd.testing.assert_frame_equal(other, df, check_exact=True)  # dtypes and index too
        assert other.isna().to_dict() == df.isna().to_dict(), name
    row = back.published[back.published["indicator"] == "dual_qualified_share"].iloc[0]
    assert pd.isna(row["printed"]) and row["value"] == 51.72 and row["decimals"] == 2
    majors = back.tables["majors"]
    assert majors["note"].isna().sum() == raw.tables["majors"]["note"].isna().sum() > 0
    assert majors["note"].iloc[0] == "赣州市精品专业建设项目"
    obs = back.facts["students_full_time"].chosen
    assert (obs.value, obs.qualifier, obs.line) == (3088.0, None, raw.facts[obs.field].chosen.line)
    assert type(obs.value) is float and obs.qualifier is None  # None, not NaN or "None"
    # a fact the source does not give is absent (None), never 0
    assert "graduates_further_study" not in raw.facts or raw.value("graduates_further_study")
    absent = next(f for f in load_dictionary_facts() if f not in raw.facts)
    assert back.value(absent) is None
    ind = pd.read_parquet(
        raw_copy.parent / "processed" / "huichang" / "2024" / "indicators.parquet"
    )
    missing = ind[ind["status"] == "missing"]
    assert len(missing) > 0 and missing["value"].isna().all()  # <NA>, not 0 or a number
    assert str(ind["value"].dtype) == "Float64"
    assert back.previous.previous.previous.observations == []  # 2021: no facts, none invented


def load_dictionary_facts() -> list[str]:
    from helpers.specs.dictionary import load_dictionary

    return sorted(load_dictionary().facts)


def test_stale_stamp_stops_a_build_chapter(raw_copy: Path, monkeypatch):
    write(load_school_year("huichang", 2024, raw_copy))
    with open(raw_copy / "huichang" / "2024" / "awards.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    monkeypatch.setenv(IN_BUILD, "1")
    _no_validation(monkeypatch)
    with pytest.raises(
        StaleProcessedData, match=r"huichang 2024 年度的处理后数据.*重新运行 nianbao build"
    ):
        open_report("huichang", 2024, raw_copy)


def test_stale_stamp_outside_a_build_is_reprocessed_with_a_message(raw_copy: Path, capsys):
    write(load_school_year("huichang", 2024, raw_copy))
    awards = raw_copy / "huichang" / "2024" / "awards.csv"
    awards.write_text(
        awards.read_text(encoding="utf-8").replace(",一等奖,12,", ",一等奖,13,"), "utf-8"
    )
    assert load_fresh("huichang", 2024, raw_copy) is None
    rep = open_report("huichang", 2024, raw_copy)
    assert rep.sy.table("awards")["count"].sum() == 41  # the edit, validated from raw
    err = capsys.readouterr().err
    assert "原始数据自上次校验后有改动或尚未校验" in err and "已重新校验并写出处理后的数据" in err
    fresh = load_fresh("huichang", 2024, raw_copy)  # written back: fresh again
    assert fresh is not None and fresh.table("awards")["count"].sum() == 41


def test_processed_data_for_another_data_dir_never_goes_into_the_checkout(
    raw_copy: Path, tmp_path: Path, monkeypatch
):
    import helpers.ingest.processed as processed

    written: list[Path] = []
    real = processed.atomic_dir

    def spy(target):
        written.append(Path(target).resolve())
        return real(target)

    monkeypatch.setattr(processed, "atomic_dir", spy)
    other = tmp_path / "bureau"
    raw_copy.rename(other)
    result = CliRunner().invoke(app, ["validate", "--data-dir", str(other)])
    assert result.exit_code == 0, result.output
    open_report("huichang", 2023, other)  # not validated yet: re-processed beside it
    assert written == [
        tmp_path / "bureau-processed" / "huichang" / "2024",
        tmp_path / "bureau-processed" / "huichang" / "2023",
    ]
    checkout = paths.repo_root() / "data" / "processed"
    assert not any(checkout in p.parents for p in written)
