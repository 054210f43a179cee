"""raw → processed: a validated school-year as Parquet tables, and reading it back.

``<processed>/<school>/<year>/`` (beside the raw folder, :func:`helpers.paths.processed_for`)
holds, for the report year:

- ``facts.parquet``: every observation of facts.yaml in long form, one row each, in file
  order, with the one the report uses marked ``chosen`` and the ``rule`` that chose it;
- ``published.parquet`` and one ``<table>.parquet`` per CSV table, as validated (typed
  columns, the CSV line as index; a value the source does not give stays null);
- ``captions.parquet``: the photo captions the prose keeps (searchable like the other data);
- ``<derived>.parquet``: frames a higher layer computed from them (``indicators.parquet``);
- ``schoolyear.json``: what is not a table: school.yaml, meta.yaml, the prose
  (narratives), the load warnings, the order of the tables;
- ``earlier/<year>/``: the same (without derived frames) for each earlier year it links to
  (``SchoolYear.previous``), so the folder alone gives the whole chain;
- ``stamp.json``: the sha256 of every raw file it was made from, the raw folder, the code
  hash and the package versions (:mod:`helpers.ingest.stamp`).

:func:`read_processed` turns such a folder back into the same :class:`SchoolYear` without
running any validation (pandera, the part–whole checks): the data was validated when it was
written. :func:`load_fresh` does so only while the stamp still matches, so a chapter kernel
never re-validates raw data during a build. The folder is written as a whole (temporary
folder, then rename): a school-year that fails validation writes nothing, and an interrupted
run leaves the previous output intact.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import paths
from helpers.atomic import atomic_dir
from helpers.errors import Problem
from helpers.ingest.facts import Fact, Observation
from helpers.ingest.load import SchoolYear
from helpers.ingest.narrative import Narrative
from helpers.ingest.stamp import SCHOOL_YEAR_FILE, STAMP_FILE, fresh_folder, make_stamp
from helpers.memo import ProcessMemo, identity
from helpers.specs.dictionary import load_dictionary

FORMAT = 2  # of schoolyear.json; a folder of another format is not read back
EARLIER = "earlier"
RESERVED = {"facts", "published", "captions", EARLIER}
FACT_COLUMNS = [
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
    "use",
    "chosen",
    "rule",
]
_OBS_TYPES = {"line": "Int64", "use": "bool", "chosen": "bool", "value": "float64"}


def facts_frame(sy: SchoolYear) -> pd.DataFrame:
    """Every observation, one row each, with the value the report uses marked ``chosen``."""
    d = load_dictionary()
    rows = []
    for o in sy.observations:
        fact = sy.facts.get(o.field)
        chosen = fact is not None and fact.chosen is o
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
                "use": o.use,
                "chosen": chosen,
                "rule": fact.rule if chosen else None,  # type: ignore[union-attr]
            }
        )
    return pd.DataFrame(rows, columns=FACT_COLUMNS).astype(_OBS_TYPES)


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


# --- JSON for what is not a table ------------------------------------------------------


def _encode(value: Any) -> Any:
    """JSON for YAML values: dates (YAML reads ``2024-09-01`` as one) keep their type."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Path):
        return {"$path": str(value)}
    raise TypeError(f"无法写入 JSON 的值：{value!r}（{type(value).__name__}）")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$datetime":
            return dt.datetime.fromisoformat(value)
        if key == "$date":
            return dt.date.fromisoformat(value)
        if key == "$path":
            return Path(value)
    return obj


def _narrative(n: Narrative) -> dict[str, Any]:
    return {**n.__dict__, "path": None if n.path is None else str(n.path)}


def _about(sy: SchoolYear) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "school_id": sy.school_id,
        "year": sy.year,
        "folder": str(sy.folder),
        "school": sy.school,
        "meta": sy.meta,
        "tables": list(sy.tables),
        "narratives": [_narrative(n) for n in sy.narratives],
        "warnings": [p.__dict__ for p in sy.warnings],
        "previous": None if sy.previous is None else sy.previous.year,
    }


# --- writing ------------------------------------------------------------------------------


def _write_year(sy: SchoolYear, folder: Path) -> None:
    bad = RESERVED & set(sy.tables)
    if bad:  # the data dictionary would have to name a table like a file of the layout
        raise ValueError(f"表名与处理后数据的文件名冲突：{sorted(bad)}")
    folder.mkdir(parents=True, exist_ok=True)
    facts_frame(sy).to_parquet(folder / "facts.parquet", index=False)
    sy.published.to_parquet(folder / "published.parquet")
    for name, df in sy.tables.items():
        df.to_parquet(folder / f"{name}.parquet")  # the CSV line is the index
    captions_frame(sy).to_parquet(folder / "captions.parquet", index=False)
    text = json.dumps(_about(sy), ensure_ascii=False, indent=1, default=_encode)
    (folder / SCHOOL_YEAR_FILE).write_text(text, encoding="utf-8")


def write_processed(
    sy: SchoolYear,
    out_dir: str | os.PathLike[str] | None = None,
    derived: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the school-year (and its earlier years), ``derived`` frames computed from it by a
    higher layer (the indicators) and its stamp in one atomic step, under ``out_dir``
    (default: beside the raw folder, :func:`helpers.paths.processed_for`); returns the
    folder."""
    raw = sy.folder.parent.parent  # <raw>/<school>/<year>
    root = paths.processed_root(out_dir) if out_dir else paths.processed_for(raw)
    target = root / sy.school_id / str(sy.year)
    with atomic_dir(target) as tmp:
        _write_year(sy, tmp)
        for name, df in (derived or {}).items():
            if name in RESERVED or name in sy.tables:
                raise ValueError(f"派生表名与处理后数据的文件名冲突：{name}")
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        earlier = sy.previous
        while earlier is not None:
            _write_year(earlier, tmp / EARLIER / str(earlier.year))
            earlier = earlier.previous
        stamp = make_stamp(raw, sy.school_id, sy.year, _chain_years(sy))
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, ensure_ascii=False, indent=1), "utf-8")
    return target


def _chain_years(sy: SchoolYear) -> list[int]:
    years = []
    cur: SchoolYear | None = sy
    while cur is not None:
        years.append(cur.year)
        cur = cur.previous
    return years


# --- reading back ---------------------------------------------------------------------------


def _table(path: Path) -> Any:
    """One Parquet file as an Arrow table: ParquetFile, one thread (these files are small:
    a thread pool and the dataset API cost more than the reading)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).read(use_threads=False)


def _frame(path: Path) -> pd.DataFrame:
    """A DataFrame as written (index and dtypes from the pandas metadata)."""
    return _table(path).to_pandas(use_threads=False)


def _observations(folder: Path) -> tuple[list[Observation], dict[str, Fact]]:
    rows = _table(folder / "facts.parquet").select(FACT_COLUMNS).to_pylist()
    observations: list[Observation] = []
    by_field: dict[str, list[Observation]] = {}
    chosen: dict[str, tuple[Observation, str]] = {}
    for r in rows:
        o = Observation(
            field=r["field"],
            value=r["value"],
            source=r["source"],
            file=r["file"],
            line=r["line"],
            period=r["period"],
            qualifier=r["qualifier"],
            use=r["use"],
            doc=r["doc"],
            note=r["note"],
        )
        observations.append(o)
        by_field.setdefault(o.field, []).append(o)
        if r["chosen"]:
            chosen[o.field] = (o, r["rule"])
    facts = {
        name: Fact(name, chosen[name][0].value, chosen[name][0], tuple(obs), chosen[name][1])
        for name, obs in by_field.items()
        if name in chosen
    }
    return observations, facts


def _read_year(folder: Path, previous: SchoolYear | None) -> SchoolYear:
    about = json.loads((folder / SCHOOL_YEAR_FILE).read_text(encoding="utf-8"), object_hook=_decode)
    if about.get("format") != FORMAT:
        raise ValueError(f"processed format {about.get('format')!r}")
    observations, facts = _observations(folder)
    return SchoolYear(
        school_id=about["school_id"],
        year=int(about["year"]),
        school=about["school"],
        meta=about["meta"],
        observations=observations,
        facts=facts,
        tables={n: _frame(folder / f"{n}.parquet") for n in about["tables"]},
        published=_frame(folder / "published.parquet"),
        folder=Path(about["folder"]),
        narratives=[
            Narrative(**{**n, "path": None if n["path"] is None else Path(n["path"])})
            for n in about["narratives"]
        ],
        warnings=[Problem(**p) for p in about["warnings"]],
        previous=previous,
    )


def read_processed(folder: str | os.PathLike[str]) -> SchoolYear:
    """The school-year written to ``folder`` by :func:`write_processed`, linked to its earlier
    years, without validating anything again (the stamp is not checked here: see
    :func:`load_fresh`). Raises OSError or ValueError for a folder that is not one."""
    folder = Path(folder)
    stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    years = [int(y) for y in stamp["years"]]
    sy: SchoolYear | None = None
    for y in reversed(years[1:]):  # oldest first: each links to the one before it
        sy = _read_year(folder / EARLIER / str(y), sy)
    return _read_year(folder, sy)


# the school-years read lately, pickled: a kernel's chapters of one school-year read it once
_READ = ProcessMemo(limit=8)


def _folder_identity(folder: Path) -> tuple[Any, ...] | None:
    """The identity of every file under ``folder`` (None if one changed too recently)."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            key = identity(os.path.join(root, name))
            if key is None:
                return None
            out.append(key)
    return tuple(out)


def _read_memoised(folder: Path) -> SchoolYear:
    """:func:`read_processed`, from memory while no file of the folder changed; every call
    returns new objects (unpickled), so a notebook changing a frame changes only its own."""
    key = _folder_identity(folder)
    if key is not None and key in _READ:
        return pickle.loads(_READ[key])
    sy = read_processed(folder)
    if key is not None:
        _READ.put(key, pickle.dumps(sy, protocol=pickle.HIGHEST_PROTOCOL))
    return sy


def load_fresh(
    school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None
) -> SchoolYear | None:
    """The school-year as last validated and written beside the raw folder, or None when
    there is none or its stamp no longer matches the raw files, the code or the packages
    (the caller then validates the raw data, or refuses)."""
    folder = fresh_folder(school_id, year, data_dir)
    if folder is None:
        return None
    try:
        return _read_memoised(folder)
    except (OSError, ValueError, KeyError, TypeError):  # damaged or of another format
        return None
