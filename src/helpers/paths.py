"""Where things live: the repository, raw and processed data, reports.

School ids are checked here, before any file is touched, so that an id such as ``../x``
can never reach the file system.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from helpers.errors import SchoolNotFoundError

SCHOOL_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def repo_root() -> Path:
    """The repository root: $NIANBAO_ROOT, else the folder holding pyproject.toml above us."""
    env = os.environ.get("NIANBAO_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "data").is_dir():
            return parent
    return Path.cwd()


def raw_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The raw data folder (``data/raw`` unless given)."""
    return Path(data_dir).resolve() if data_dir else repo_root() / "data" / "raw"


def processed_root(out_dir: str | os.PathLike[str] | None = None) -> Path:
    """The processed data folder (``data/processed`` unless given)."""
    return Path(out_dir).resolve() if out_dir else repo_root() / "data" / "processed"


def processed_for(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the processed data of a raw folder goes, beside it: ``data/raw`` →
    ``data/processed``; any other folder ``D`` → ``D.parent / (D.name + "-processed")`` (so a
    build on data elsewhere never writes into the checkout's data/processed)."""
    raw = raw_root(data_dir)
    return raw.parent / ("processed" if raw.name == "raw" else raw.name + "-processed")


def check_school_id(school_id: object) -> str:
    """Return the id if it is an ASCII slug (kept as a string: ``007`` stays ``007``).

    Raises ValueError before any file access for anything else (path characters,
    upper case, spaces, non-strings).
    """
    if not isinstance(school_id, str) or not SCHOOL_ID_RE.match(school_id):
        raise ValueError(
            f"学校编号 {school_id!r} 无效：只能包含小写字母、数字、- 和 _，且不能含路径字符 "
            f"(school id must be an ASCII slug such as 'huichang' or '007')"
        )
    return school_id


def list_schools(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """School ids that have a folder with a school.yaml under the raw data folder."""
    root = raw_root(data_dir)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and SCHOOL_ID_RE.match(p.name) and (p / "school.yaml").exists()
    )


def list_years(school_id: str, data_dir: str | os.PathLike[str] | None = None) -> list[int]:
    """Report years with a data folder for the school, ascending."""
    folder = school_dir(school_id, data_dir)
    return sorted(
        int(p.name) for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name)
    )


def school_dir(school_id: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The school's raw folder; raises SchoolNotFoundError naming the schools that exist."""
    check_school_id(school_id)
    folder = raw_root(data_dir) / school_id
    if not folder.is_dir():
        known = list_schools(data_dir)
        raise SchoolNotFoundError(
            f"没有学校 {school_id!r} 的数据（{folder} 不存在）。已有数据的学校：{', '.join(known) or '无'}"
        )
    return folder


def year_dir(school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The school-year's raw folder; raises SchoolNotFoundError listing the years that exist."""
    folder = school_dir(school_id, data_dir) / str(int(year))
    if not folder.is_dir():
        years = list_years(school_id, data_dir)
        raise SchoolNotFoundError(
            f"学校 {school_id} 没有 {year} 年度的数据（{folder} 不存在）。"
            f"已有年度：{', '.join(map(str, years)) or '无'}"
        )
    return folder


def latest_year(school_id: str, data_dir: str | os.PathLike[str] | None = None) -> int:
    """The most recent report year with data for the school."""
    years = list_years(school_id, data_dir)
    if not years:
        raise SchoolNotFoundError(f"学校 {school_id} 没有任何年度的数据")
    return years[-1]
