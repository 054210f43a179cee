"""A school-year's raw data as the workbook carries it: meta, every observation of every
fact, and every table row as typed in its CSV (``97.60`` keeps its two decimals)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from helpers import fmt, paths
from helpers.ingest.facts import Observation
from helpers.ingest.load import load_school_year
from helpers.ingest.readers import read_csv
from helpers.specs.dictionary import load_dictionary


@dataclass
class YearData:
    """What a workbook shows of one school-year (empty for a year without data)."""

    school_id: str
    year: int
    school_name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    tables: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    previous: dict[str, float] = field(default_factory=dict)  # last year's values by fact


def school_name(school_id: str, data_dir: str | os.PathLike[str] | None) -> str | None:
    path = paths.raw_root(data_dir) / school_id / "school.yaml"
    if not path.is_file():
        return None
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return str(doc.get("name")) if isinstance(doc, dict) and doc.get("name") else None


def has_year(school_id: str, year: int, data_dir: str | os.PathLike[str] | None) -> bool:
    folder = paths.raw_root(data_dir) / school_id / str(year)
    return (folder / "facts.yaml").is_file() or (folder / "meta.yaml").is_file()


def previous_values(
    school_id: str, year: int, data_dir: str | os.PathLike[str] | None
) -> dict[str, float]:
    """Last year's value of every fact the report used (validated), or {} without that year."""
    if not has_year(school_id, year - 1, data_dir):
        return {}
    sy = load_school_year(school_id, year - 1, data_dir, with_previous=False)
    return {name: fact.value for name, fact in sy.facts.items()}


def read_year(
    school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None, blank: bool = False
) -> YearData:
    """The year's data (validated first: a workbook is never made from invalid data), or an
    empty year with last year's values as the reference (``blank`` or no data on file)."""
    school_id = paths.check_school_id(school_id)
    out = YearData(school_id, year, school_name(school_id, data_dir))
    out.previous = previous_values(school_id, year, data_dir)
    if blank or not has_year(school_id, year, data_dir):
        out.meta = {"year": year, "school_year": fmt.school_year(year)}
        last = paths.raw_root(data_dir) / school_id / str(year - 1) / "meta.yaml"
        if last.is_file():
            prev_meta = yaml.safe_load(last.read_text(encoding="utf-8")) or {}
            if isinstance(prev_meta, dict) and prev_meta.get("default_document"):
                out.meta["default_document"] = prev_meta["default_document"]
        return out
    sy = load_school_year(school_id, year, data_dir, with_previous=False)
    out.meta = dict(sy.meta)
    out.observations = list(sy.observations)
    for spec in load_dictionary().tables.values():
        path = sy.folder / spec.file
        if not path.is_file():
            continue
        df, _ = read_csv(path, spec.file)
        if df is None:
            continue
        out.tables[spec.name] = [
            {c: (None if _na(v) else str(v)) for c, v in row.items()} for _, row in df.iterrows()
        ]
    return out


def _na(v: Any) -> bool:
    return v is None or bool(pd.isna(v))
