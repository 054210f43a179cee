"""Which raw files a chapter's output depends on, for incremental builds.

Read from the chapter notebook itself (helpers.report.notebooks): the prose, cases and
challenges it shows, and — when it shows any figure — the structured data of this and the
earlier years.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from helpers import paths
from helpers.ingest.narrative import load_narratives
from helpers.report import notebooks
from helpers.specs.outline import chapter

# calls that show only the year's prose; every other rep.* call shows figures from the data
PROSE_ONLY = {"chapter", "narrative", "case", "challenges", "heading"}


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and mtimes of a folder's files: a cache key that changes with any edit."""
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()))


@lru_cache(maxsize=16)
def _narratives(folder: Path, signature: tuple) -> tuple:
    """The year's narrative files, parsed once per build for all chapters (keyed by signature)."""
    return tuple(load_narratives(folder, str, check=False)[0])


def chapter_inputs(
    chapter_key: str,
    school_id: str,
    year: int,
    data_dir: str | os.PathLike[str] | None = None,
    notebooks_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """The raw files a chapter's output depends on (for incremental builds).

    Every chapter depends on school.yaml and the year's meta.yaml, and on the Markdown files it
    shows (``rep.narrative``, ``rep.case``, ``rep.challenges``). A chapter that shows any figure
    (a sentence template, table, chart, generated paragraph, an analyst's own cell, or a
    placeholder in its prose) also depends on the structured data — facts.yaml,
    published.csv and the CSV tables — of this and the earlier years (year-over-year phrases,
    histories and multi-year charts read them; figure numbers depend on which charts have data
    anywhere in the report). Raises KeyError for a notebook the outline does not list.
    """
    c = chapter(chapter_key)
    folder_nb = Path(notebooks_dir) if notebooks_dir is not None else notebooks.default_dir()
    calls = notebooks.scan(folder_nb / f"{c.notebook}.ipynb")
    sections = {str(x.args[0]) for x in calls if x.method == "narrative" and x.args}
    cases = {x.args[0] for x in calls if x.method == "case" and x.args}
    wants_challenges = any(x.method == "challenges" for x in calls)
    school = paths.school_dir(school_id, data_dir)
    folder = paths.year_dir(school_id, year, data_dir)
    files = [school / "school.yaml", folder / "meta.yaml"]
    narratives = _narratives(folder, _signature(folder / "text"))
    own = [
        n
        for n in narratives
        if (n.kind == "case" and n.number in cases)
        or (n.kind == "challenge" and wants_challenges)
        or (n.kind in ("section", "preface") and n.section in sections)
    ]
    files += [Path(n.file) for n in own]
    # photos: those a chapter shows, and every prose file with photos (photos are numbered 图N
    # with the charts, so one added before a chapter renumbers that chapter's charts)
    for n in narratives:
        photos = [f for target, _ in n.images if (f := n.image_file(target)) is not None]
        if photos:
            files.append(Path(n.file))
        if n in own:
            files += [f for f in photos if f.is_file()]
    shows_data = any(x.method not in PROSE_ONLY for x in calls)
    if shows_data or any(n.placeholders for n in own):
        for y in paths.list_years(school_id, data_dir):
            if y > year:
                continue
            yf = school / str(y)
            files += sorted(
                p for p in yf.iterdir() if p.is_file() and p.suffix in (".yaml", ".csv")
            )
    return sorted(set(files))
