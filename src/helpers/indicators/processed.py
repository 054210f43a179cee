"""raw → processed for one school-year: the validated tables (helpers.ingest.processed) and
the indicators derived from them, written together as Parquet; and the school-year a chapter
kernel works on, read from there.

``nianbao validate`` and the build's validation step are the one raw → processed step. A
chapter kernel (:func:`kernel_school_year`, what ``open_report`` calls) reads the processed
data while its stamp matches the raw files, the code and the packages, so a chapter never
validates raw data again. When the stamp is stale (a raw file edited since, new code):

- inside a build (``NIANBAO_BUILD`` set for its kernels) the chapter stops with
  :class:`StaleProcessedData`: the build validated the data before starting its chapters,
  so a stale stamp means the raw files changed while it ran;
- anywhere else (JupyterLab, a notebook run as a script) the raw data is validated again
  and written back, with a message saying so on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from helpers import paths
from helpers.indicators.evaluate import indicator_frame
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.processed import load_fresh, write_processed

IN_BUILD = "NIANBAO_BUILD"  # set by helpers.build.execute for the kernels it runs


class StaleProcessedData(RuntimeError):
    """A chapter kernel of a build found no processed data matching the raw files."""

    def _render_traceback_(self) -> list[str]:
        return [f"StaleProcessedData: {self}"]


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


def kernel_school_year(
    school_id: str, year: int, data_dir: str | os.PathLike[str] | None = None
) -> SchoolYear:
    """The school-year a chapter works on: the processed data while fresh; else see the
    module docstring (refuse inside a build, re-process elsewhere)."""
    sy = load_fresh(school_id, year, data_dir)
    if sy is not None:
        return sy
    folder = paths.processed_for(paths.raw_root(data_dir)) / school_id / str(year)
    if os.environ.get(IN_BUILD):
        raise StaleProcessedData(
            f"{school_id} {year} 年度的处理后数据（{folder}）缺失或与原始数据不符"
            "（构建开始后原始数据、代码或软件包有改动）。章节不重新校验原始数据，"
            "请重新运行 nianbao build。"
        )
    sy = load_school_year(school_id, year, data_dir)  # raises a clear DataValidationError
    try:
        write(sy)
        done = f"已重新校验并写出处理后的数据：{folder}"
    except OSError as e:  # read-only data folder, or another process writing it just now
        done = f"已重新校验；处理后的数据未能写出（{e.strerror or e}）"
    print(f"{school_id} {year}：原始数据自上次校验后有改动或尚未校验，{done}", file=sys.stderr)
    return sy
