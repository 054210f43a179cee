"""Write a validated school-year to ``data/processed/<school>/<year>/`` as tidy Parquet.

The folder is written as a whole (temporary folder, then rename), so a school-year that
fails validation writes nothing and an interrupted run leaves the previous output intact.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.atomic import atomic_dir
from helpers.ingest.load import SchoolYear
from helpers.specs.dictionary import load_dictionary


def facts_frame(sy: SchoolYear) -> pd.DataFrame:
    """Every observation, one row each, with the value the report uses marked ``chosen``."""
    d = load_dictionary()
    rows = []
    for o in sy.observations:
        fact = sy.facts.get(o.field)
        rows.append(
            {
                "field": o.field,
                "label": d.label(o.field),
                "unit": d.unit(o.field),
                "value": o.value,
                "qualifier": o.qualifier,
                "period": o.period,
                "source": o.source,
                "doc": o.doc,
                "file": o.file,
                "line": o.line,
                "note": o.note,
                "chosen": fact is not None and fact.chosen is o,
                "rule": fact.rule if fact is not None and fact.chosen is o else None,
            }
        )
    cols = [
        "field",
        "label",
        "unit",
        "value",
        "qualifier",
        "period",
        "source",
        "doc",
        "file",
        "line",
        "note",
        "chosen",
        "rule",
    ]
    return pd.DataFrame(rows, columns=cols).astype({"line": "Int64"})


def captions_frame(sy: SchoolYear) -> pd.DataFrame:
    """The source's photo captions kept in the prose (no image on file), one row each, so
    what they say (跟岗, 学徒制, 考证认证 …) is searchable like the other data."""
    rows = [
        {
            "section": n.section,
            "kind": n.kind,
            "case": n.number if n.kind == "case" else None,
            "file": n.file,
            "order": i,
            "caption": text,
        }
        for n in sy.narratives
        for i, text in enumerate(n.captions, 1)
    ]
    cols = ["section", "kind", "case", "file", "order", "caption"]
    return pd.DataFrame(rows, columns=cols).astype({"case": "Int64"})


def write_processed(
    sy: SchoolYear,
    out_dir: str | os.PathLike[str] | None = None,
    derived: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the school-year's tables, and ``derived`` frames computed from them by a higher
    layer (the indicators), in one atomic step; returns the folder."""
    target = paths.processed_root(out_dir) / sy.school_id / str(sy.year)
    with atomic_dir(target) as tmp:
        facts_frame(sy).to_parquet(tmp / "facts.parquet", index=False)
        sy.published.reset_index().to_parquet(tmp / "published.parquet", index=False)
        for name, df in sy.tables.items():
            df.reset_index().to_parquet(tmp / f"{name}.parquet", index=False)
        captions_frame(sy).to_parquet(tmp / "captions.parquet", index=False)
        for name, df in (derived or {}).items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
    return target
