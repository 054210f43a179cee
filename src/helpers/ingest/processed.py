"""raw → processed: a validated school-year as tidy Parquet, plus what reads it back.

``<processed>/<school>/<year>/`` holds one Parquet file per table (for analysts), the
school-year itself (``schoolyear.pickle``, what :func:`load_fresh` returns) and
``stamp.json``: the sha256 of every raw file it was made from (school.yaml and the files
of the year and of each earlier year it loaded), the raw folder, the code hash and the
package versions. :func:`load_fresh` returns the stored school-year only while the stamp
still matches, so a chapter kernel skips re-validating the raw data during a build and
falls back to loading raw data anywhere else (e.g. JupyterLab after an edit).

The folder is written as a whole (temporary folder, then rename), so a school-year that
fails validation writes nothing and an interrupted run leaves the previous output intact.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.atomic import atomic_dir
from helpers.ingest.load import SchoolYear
from helpers.ingest.stamp import SCHOOL_YEAR_FILE, STAMP_FILE, fresh_folder, make_stamp
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
    """Write the school-year's tables, ``derived`` frames computed from them by a higher
    layer (the indicators), the school-year and its stamp in one atomic step, under
    ``out_dir`` (default: beside the raw folder, :func:`helpers.paths.processed_for`);
    returns the folder."""
    raw = sy.folder.parent.parent  # <raw>/<school>/<year>
    root = paths.processed_root(out_dir) if out_dir else paths.processed_for(raw)
    target = root / sy.school_id / str(sy.year)
    with atomic_dir(target) as tmp:
        facts_frame(sy).to_parquet(tmp / "facts.parquet", index=False)
        sy.published.reset_index().to_parquet(tmp / "published.parquet", index=False)
        for name, df in sy.tables.items():
            df.reset_index().to_parquet(tmp / f"{name}.parquet", index=False)
        captions_frame(sy).to_parquet(tmp / "captions.parquet", index=False)
        for name, df in (derived or {}).items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        with open(tmp / SCHOOL_YEAR_FILE, "wb") as f:
            pickle.dump(sy, f, protocol=pickle.HIGHEST_PROTOCOL)
        stamp = make_stamp(sy.folder.parent.parent, sy.school_id, sy.year, _chain_years(sy))
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, ensure_ascii=False, indent=1), "utf-8")
    return target


def _chain_years(sy: SchoolYear) -> list[int]:
    years = []
    cur: SchoolYear | None = sy
    while cur is not None:
        years.append(cur.year)
        cur = cur.previous
    return years


def load_fresh(
    school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None
) -> SchoolYear | None:
    """The school-year as last validated and written beside the raw folder
    (:func:`helpers.paths.processed_for`), or None when there is none or its stamp no
    longer matches the raw files, the code or the packages (the caller loads raw data)."""
    folder = fresh_folder(school_id, year, data_dir)
    if folder is None:
        return None
    try:
        with open(folder / SCHOOL_YEAR_FILE, "rb") as f:
            sy = pickle.load(f)  # written by write_processed from the stamped raw files
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None
    return sy if isinstance(sy, SchoolYear) else None
