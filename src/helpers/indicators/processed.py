"""raw → processed for one school-year: the validated tables (helpers.ingest.processed) and
the indicators derived from them, written together as Parquet."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.indicators.evaluate import indicator_frame
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.processed import write_processed


def write(sy: SchoolYear, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write a loaded school-year with its indicators; returns the folder."""
    return write_processed(sy, out_dir, {"indicators": indicator_frame(sy)})


def process(
    school_id: str,
    year: int,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Load, validate and write one school-year (raises before writing anything if invalid)."""
    return write(load_school_year(school_id, year, data_dir), out_dir)
