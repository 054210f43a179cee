"""What an import would change in the data on file: per fact old → new, meta keys, table rows.

Values that are only added (a fact or table the year did not have) are not changes; a value
that differs or disappears is, and the import then needs ``--yes``. A file whose content
would stay the same is left as it is.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.errors import DataValidationError
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.specs.dictionary import Dictionary


def _obs_key(o: Any) -> tuple:
    return (o.value, o.source, o.period, o.qualifier, o.use, o.doc, o.note)


def _rows(df: pd.DataFrame | None, columns: list[str]) -> list[tuple]:
    if df is None or df.empty:
        return []
    cols = [c for c in columns if c in df.columns]
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in df[cols].itertuples(index=False, name=None)
    ]


def _values(obs: list[Any]) -> str:
    return "、".join(f"{o.value:g}（§{o.source}）" for o in obs) if obs else "（无）"


def _fact_changes(old: SchoolYear, new: SchoolYear, d: Dictionary) -> list[str]:
    def grouped(sy: SchoolYear) -> dict[str, list]:
        out: dict[str, list] = {}
        for o in sy.observations:
            out.setdefault(o.field, []).append(o)
        return out

    before, after = grouped(old), grouped(new)
    out = []
    for name, obs in before.items():
        now = after.get(name, [])
        if [_obs_key(o) for o in obs] != [_obs_key(o) for o in now]:
            out.append(
                f"基础数据 {d.label(name)}（{name}）：{_values(obs)} → "
                f"{_values(now) if now else '（删除）'}"
            )
    return out


def _table(sy: SchoolYear, name: str) -> pd.DataFrame | None:
    return sy.published if name == "published" else sy.tables.get(name)


def changes_between(
    folder: Path,
    school_id: str,
    year: int,
    data_dir: str | os.PathLike[str] | None,
    new: SchoolYear,
    d: Dictionary,
) -> tuple[list[str], set[str]]:
    """(changes that need --yes, files on file whose content the import leaves as it is)."""
    if not (folder / "facts.yaml").is_file() and not (folder / "meta.yaml").is_file():
        existing = [p.name for p in folder.glob("*.csv")] if folder.is_dir() else []
        if not existing:
            return [], set()
    try:
        old = load_school_year(school_id, year, data_dir, with_previous=False)
    except DataValidationError:
        files = sorted(p.name for p in folder.glob("*") if p.is_file())
        return [
            f"{year} 年度现有数据未通过校验，无法逐项比较；导入将替换 {'、'.join(files)}"
        ], set()
    changes: list[str] = []
    keep: set[str] = set()
    facts = _fact_changes(old, new, d)
    changes += facts
    if (
        (folder / "facts.yaml").is_file()
        and not facts
        and len(old.observations) == len(new.observations)
    ):
        keep.add("facts.yaml")
    meta = [
        f"基本信息 {key}：{old.meta.get(key)} → {new.meta.get(key, '（删除）')}"
        for key in old.meta
        if old.meta.get(key) != new.meta.get(key)
    ]
    changes += meta
    if (folder / "meta.yaml").is_file() and not meta and old.meta == new.meta:
        keep.add("meta.yaml")
    for spec in d.tables.values():
        columns = list(spec.columns)
        before, after = (
            _rows(_table(old, spec.name), columns),
            _rows(_table(new, spec.name), columns),
        )
        if before == after:
            if (folder / spec.file).is_file():
                keep.add(spec.file)
            continue
        removed = sum((Counter(before) - Counter(after)).values())
        added = sum((Counter(after) - Counter(before)).values())
        if removed:
            changes.append(
                f"{spec.label}：{'删除整张表' if not after else f'删除或修改 {removed} 行'}"
                + (f"，新增 {added} 行" if added else "")
            )
    return changes, keep
