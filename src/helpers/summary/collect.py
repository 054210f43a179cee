"""Every school's figures for the summary, as one tidy DataFrame (school × indicator).

Each school-year is the validated one the build wrote (helpers.ingest.processed.load_fresh,
while its stamp matches the raw files), else loaded from raw data; its figures are the ones
its own report prints (helpers.indicators.evaluate.value_of: one definition), with their
status, so a figure the school did not report stays missing here too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from helpers import paths
from helpers.indicators.audit import SEVERITIES, report_findings
from helpers.indicators.evaluate import value_of
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.processed import load_fresh
from helpers.summary import keys

VALUE_COLUMNS = ["school_id", "school_name", "indicator", "value", "status", "text"]


@dataclass(frozen=True)
class Collected:
    """The summary's inputs: ``values`` (tidy: one row per school and id, ``value`` NA when
    missing or 不适用), ``schools`` (school_id, school_name in order) and ``audit`` (one row
    per school: error, warning, info counts as its report's 数据核验 lists them)."""

    year: int
    values: pd.DataFrame
    schools: pd.DataFrame
    audit: pd.DataFrame


def schools_with_year(year: int, data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The schools of the data folder that have a folder for ``year``."""
    return [s for s in paths.list_schools(data_dir) if year in paths.list_years(s, data_dir)]


def load(school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None) -> SchoolYear:
    """The validated school-year: the build's processed data when fresh, else raw data."""
    return load_fresh(school_id, year, data_dir) or load_school_year(school_id, year, data_dir)


def school_rows(sy: SchoolYear, ids: Sequence[str]) -> list[dict[str, object]]:
    """One row per id for one school-year (value None when missing or 不适用)."""
    rows = []
    for iid in ids:
        iv = value_of(sy, iid)
        rows.append(
            {
                "school_id": sy.school_id,
                "school_name": sy.school_name,
                "indicator": iid,
                "value": iv.value,
                "status": iv.status,
                "text": iv.text,
            }
        )
    return rows


def audit_counts(sy: SchoolYear) -> dict[str, object]:
    """The school's audit findings by severity (the same list its report's 数据核验 shows)."""
    found = report_findings(sy)
    counts: dict[str, object] = {"school_id": sy.school_id}
    counts.update({s: sum(f.severity == s for f in found) for s in SEVERITIES})
    return counts


def values_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=VALUE_COLUMNS).astype({"value": "Float64"})


def collect(
    year: int,
    schools: Sequence[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    audit: bool = True,
) -> Collected:
    """Load every school's year and gather its figures (``keys.ids()``) and audit counts.

    ``schools`` default: every school with data for the year. Raises ValueError when there
    is none, DataValidationError naming the file when a school's data is invalid.
    """
    chosen = list(dict.fromkeys(schools or schools_with_year(int(year), data_dir)))
    if not chosen:
        raise ValueError(f"{paths.raw_root(data_dir)} 下没有学校有 {year} 年度的数据")
    ids = keys.ids()
    rows: list[dict[str, object]] = []
    names = []
    counts = []
    for school_id in chosen:
        sy = load(school_id, int(year), data_dir)
        rows += school_rows(sy, ids)
        names.append({"school_id": school_id, "school_name": sy.school_name})
        if audit:
            counts.append(audit_counts(sy))
    return Collected(
        int(year),
        values_frame(rows),
        pd.DataFrame(names, columns=["school_id", "school_name"]),
        pd.DataFrame(counts, columns=["school_id", *SEVERITIES]),
    )
