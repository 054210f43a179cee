"""The stamp of a school-year's processed data: what it was made from, and whether it is
still fresh. No pandas here: the build checks freshness on every run, also when nothing
changed (a rebuild that validates nothing must stay fast)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.memo import ProcessMemo, file_sha256

SCHOOL_YEAR_FILE = "schoolyear.json"  # helpers.ingest.processed: what is not a table
STAMP_FILE = "stamp.json"
STAMP_SCHEMA = 2  # 2: Parquet + schoolyear.json (1 held a pickle)
HELPERS_DIR = Path(__file__).resolve().parents[1]
PACKAGES = ("pandas", "numpy", "pyarrow", "pandera", "PyYAML")


def _sha256(path: Path) -> str:
    return file_sha256(path)


CODE_SUFFIXES = {".py", ".yaml"}  # the code and the specs; not the font or the templates


def code_hash() -> str:
    """sha256 over the code and specs under src/helpers (what made the processed data; the
    report's font, templates and JSON Schemas do not change it, and hashing the 2 MB font
    was most of the stamp check a chapter kernel makes)."""
    h = hashlib.sha256()
    for p in sorted(HELPERS_DIR.rglob("*")):
        if (
            p.suffix in CODE_SUFFIXES
            and p.is_file()
            and "__pycache__" not in p.parts
            and not p.name.startswith(".")
        ):
            rel = p.relative_to(HELPERS_DIR).as_posix()
            h.update(f"{rel}\0{file_sha256(p)}\n".encode())
    return h.hexdigest()


_VERSIONS = ProcessMemo(limit=1)


def package_versions() -> dict[str, str | None]:
    """The versions of the packages the processed data depends on; read once per process
    (the modules it imported are the ones it runs, whatever is installed since)."""
    if not _VERSIONS:
        out: dict[str, str | None] = {"python": platform.python_version()}
        for name in PACKAGES:
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = None
        _VERSIONS.put("versions", tuple(out.items()))
    return dict(_VERSIONS["versions"])


def _raw_files(raw: Path, school_id: str, year: int, years: list[int]) -> dict[str, str]:
    """sha256 of the school's own files (school.yaml …) and of every file of ``years``."""
    school = raw / school_id
    files = {}
    for p in sorted(school.iterdir()) if school.is_dir() else []:
        if p.is_file() and not p.name.startswith("."):
            files[p.name] = _sha256(p)
    for y in years:
        for p in sorted((school / str(y)).rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                files[p.relative_to(school).as_posix()] = _sha256(p)
    return files


def make_stamp(raw: Path, school_id: str, year: int, years: list[int]) -> dict[str, Any]:
    """What the processed data of one school-year was made from (see the module doc)."""
    raw = Path(raw).resolve()
    present = sorted(int(y) for y in paths.list_years(school_id, raw) if int(y) <= year)
    return {
        "schema": STAMP_SCHEMA,
        "raw_dir": str(raw),
        "school_id": school_id,
        "year": year,
        "years": years,
        "years_present": present,  # a new earlier year changes the previous-year chain
        "files": _raw_files(raw, school_id, year, years),
        "code": code_hash(),
        "packages": package_versions(),
    }


def fresh_folder(
    school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The processed folder of a school-year if its stamp matches the raw files, the code and
    the packages now, else None."""
    raw = paths.raw_root(data_dir)
    folder = paths.processed_for(raw) / school_id / str(year)
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
        years = [int(y) for y in stamp["years"]]
        fresh = stamp == make_stamp(raw, school_id, int(year), years)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder if fresh and (folder / SCHOOL_YEAR_FILE).is_file() else None
