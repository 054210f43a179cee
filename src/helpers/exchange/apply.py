"""``nianbao import-xlsx``: a workbook becomes the year's raw files, all or nothing.

1. read the workbook (:mod:`helpers.exchange.import_xlsx`); cell-level problems stop here;
2. write the raw files into a staged copy (school.yaml, the year's text/ and images/ kept) and
   load it with the same validation as every other school-year; each problem found in a file
   is traced back to its sheet and cell;
3. compare with the data on file: changed or removed values are listed (old → new, per fact)
   and need ``yes``;
4. replace the year folder as a whole (files whose content did not change are kept as they
   were, comments and all).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from helpers import paths
from helpers.atomic import atomic_dir, write_text
from helpers.errors import DataValidationError, Problem
from helpers.exchange import cells, raw_files
from helpers.exchange import workbook_layout as layout
from helpers.exchange.changes import changes_between
from helpers.exchange.import_xlsx import Workbook, read_workbook
from helpers.ingest.load import load_school_year
from helpers.specs.dictionary import Dictionary, load_dictionary


@dataclass
class ImportResult:
    """What an import found and did."""

    problems: list[Problem] = field(default_factory=list)  # errors: nothing was written
    notes: list[Problem] = field(default_factory=list)  # habits read, warnings
    changes: list[str] = field(default_factory=list)  # old → new, need --yes
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    needs_yes: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.needs_yes


def _trace(p: Problem, wb: Workbook, files: raw_files.RawFiles, d: Dictionary) -> Problem:
    """A problem found in a staged file, named by the workbook cell it comes from."""
    name = Path(p.file).name
    where = None
    label = p.column
    if name == "facts.yaml" and p.row in files.fact_lines:
        o = files.fact_lines[p.row]
        column = {
            "missing_source": "source",
            "allowed_values": "qualifier",
            "not_boolean": "use",
            "several_use": "use",
            "ambiguous_fact": "use",
        }.get(p.rule, "value")
        where = raw_files.cell_of(wb, o, column)
        label = d.label(o.field)
        if p.rule.startswith("parts_") and p.column:
            involved = [f.strip() for f in p.column.split("+")]
            if o.field not in involved:  # the whole is a fact: named first
                involved.insert(0, o.field)
            label = "；".join(
                f"{d.label(f)} "
                + "、".join(raw_files.cell_of(wb, x) for x in wb.observations if x.field == f)
                for f in involved
            )
    elif name == "meta.yaml":
        key = files.meta_lines.get(p.row or 0) or p.column
        row = wb.meta_rows.get(str(key))
        if row is not None:
            where = cells.ref(layout.META_SHEET, row, 3)
            label = next((lbl for k, lbl, *_ in layout.meta_rows(d) if k == key), label)
        else:
            where = layout.META_SHEET
    elif name == "school.yaml":
        row = wb.meta_rows.get(layout.SCHOOL_NAME_KEY)
        where = cells.ref(layout.META_SHEET, row, 3) if row else layout.META_SHEET
    elif name.endswith(".csv") and (table := d.tables.get(name[:-4])) is not None:
        record = wb.tables.get(table.name)
        sheet = record.sheet if record else table.label
        sheet_row = files.table_lines.get(table.name, {}).get(p.row or 0)
        col = record.columns.get(p.column or "") if record else None
        if sheet_row and col:
            where = cells.ref(sheet, sheet_row, col)
            label = layout.header(table.columns[p.column])
        elif sheet_row:
            where = f"{sheet}!{sheet_row}:{sheet_row}"
        else:
            where = sheet
    if where is None and name in files.files:
        where = layout.FACTS_SHEET if name == "facts.yaml" else layout.META_SHEET
    if where is None:
        return p
    return Problem(where, p.rule, p.message, None, label, p.value, p.severity, p.hint)


def _missing(p: Problem, wb: Workbook) -> bool:
    """A file missing from the stage because its sheet is: the sheet's error says it."""
    return p.rule == "missing_file" and any(x.rule == "missing_sheet" for x in wb.errors)


def _stage(
    root: Path, school_id: str, year: int, data_dir: str | os.PathLike[str] | None, wb: Workbook
) -> tuple[Path, dict[str, str | None]]:
    """The staged data folder: school.yaml (new when the school has none) and the year with
    its text/ and images/; returns the staged raw folder and the school.yaml to write."""
    src = paths.raw_root(data_dir) / school_id
    raw = root / "raw"
    dst = raw / school_id / str(year)
    dst.mkdir(parents=True)
    extra: dict[str, str | None] = {}
    if (src / "school.yaml").is_file():
        shutil.copy2(src / "school.yaml", raw / school_id / "school.yaml")
    else:
        name = str(wb.meta.get(layout.SCHOOL_NAME_KEY) or "")
        extra["school.yaml"] = raw_files.school_yaml(school_id, name)
        (raw / school_id / "school.yaml").write_text(extra["school.yaml"], encoding="utf-8")
    year_src = src / str(year)
    if year_src.is_dir():
        for p in year_src.iterdir():
            if p.is_dir():
                shutil.copytree(p, dst / p.name)
    return raw, extra


def _write_year(folder: Path, files: dict[str, str | None], keep: set[str]) -> None:
    """Replace the year folder as a whole: its other files and folders (text/, images/) are
    carried over, the imported files written, tables the workbook leaves empty removed."""
    with atomic_dir(folder) as tmp:
        if folder.is_dir():
            for p in folder.iterdir():
                if p.is_dir():
                    shutil.copytree(p, tmp / p.name)
                elif p.name not in files or p.name in keep:
                    shutil.copy2(p, tmp / p.name)
        for name, text in files.items():
            if name in keep:
                continue
            if text is not None:
                (tmp / name).write_text(text, encoding="utf-8")


def import_xlsx(
    path: str | os.PathLike[str],
    school_id: str,
    year: int,
    data_dir: str | os.PathLike[str] | None = None,
    yes: bool = False,
) -> ImportResult:
    """Import a workbook into ``data/raw/<school>/<year>/`` (see the module docstring)."""
    school_id = paths.check_school_id(school_id)
    d = load_dictionary()
    result = ImportResult()
    wb = read_workbook(path, d)
    result.notes += [p for p in wb.problems if p.severity != "error"]
    if any(p.rule == "not_xlsx" for p in wb.errors):
        result.problems = wb.errors
        return result
    # the rest is validated even when some cells failed, so one run lists every error
    files = raw_files.render(wb, year, d)
    with tempfile.TemporaryDirectory(prefix="nianbao-import-") as tmp:
        raw, extra = _stage(Path(tmp), school_id, year, data_dir, wb)
        staged = raw / school_id / str(year)
        for name, text in files.files.items():
            if text is not None:
                (staged / name).write_text(text, encoding="utf-8")
        try:
            sy = load_school_year(school_id, year, raw, with_previous=False)
        except DataValidationError as e:
            staged = [_trace(p, wb, files, d) for p in e.problems if p.severity == "error"]
            # one bad cell, one error: what the stage says again about a cell already named
            # (a value left out of the file) is dropped
            named = {p.file for p in wb.errors}
            result.problems = wb.errors + [
                p for p in staged if not _missing(p, wb) and p.file not in named
            ]
            return result
        result.notes += [_trace(p, wb, files, d) for p in sy.warnings]
        if wb.errors:
            result.problems = wb.errors
            return result
    folder = paths.raw_root(data_dir) / school_id / str(year)
    result.changes, keep = changes_between(folder, school_id, year, data_dir, sy, d)
    result.unchanged = sorted(keep)
    if result.changes and not yes:
        result.needs_yes = True
        return result
    pending = {
        n: t
        for n, t in files.files.items()
        if n not in keep and (t is not None or (folder / n).exists())
    }
    if pending:
        _write_year(folder, files.files, keep)
    for name, text in extra.items():
        if text is not None:
            write_text(folder.parent / name, text)
            result.written.append(name)
    result.written += [n for n, t in pending.items() if t is not None]
    result.removed = [n for n, t in pending.items() if t is None]
    return result
