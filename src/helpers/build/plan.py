"""What to build: the school-years and chapters asked for, and which chapters are stale.

A chapter's key (see :mod:`helpers.build.manifest`) hashes its notebook's content, the
helpers' code, the raw files it reads, the parameters and the package versions; a chapter
whose key, executed notebook and HTML are all in place is skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build import manifest as mf

CACHE_DIR = ".build"
FAILED_SUFFIX = ".failed.ipynb"
FAILURE_RECORD = ".failed.json"  # .build/<chapter>.failed.json: the chapter's latest build failed

Event = Callable[[str, dict[str, Any]], None]
InputsOf = Callable[..., list[Path]]  # (chapter, school_id, year, data_dir, notebooks_dir)


class BuildError(Exception):
    """Stops the build before any chapter runs (bad arguments, invalid data): exit code 2."""


class AuditStop(BuildError):
    """The audit found errors and ``allow_audit_errors`` was not given."""


# ----------------------------------------------------------------------------- targets


def default_notebooks_dir() -> Path:
    return paths.repo_root() / "notebooks"


def default_out_dir() -> Path:
    return paths.repo_root() / "reports"


def resolve_targets(
    schools: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> list[tuple[str, int]]:
    """(school, year) pairs to build; defaults: every school with data, each its latest year.

    Raises BuildError naming the schools (or years) that exist when one is unknown.
    """
    from helpers.errors import SchoolNotFoundError

    known = paths.list_schools(data_dir)
    chosen = list(dict.fromkeys(schools or known))
    if not chosen:
        raise BuildError(
            f"{paths.raw_root(data_dir)} 下没有任何学校的数据（需要 <学校>/school.yaml）"
        )
    out = []
    try:
        for school in chosen:
            paths.check_school_id(school)
            paths.school_dir(school, data_dir)
            for year in list(dict.fromkeys(years or [paths.latest_year(school, data_dir)])):
                paths.year_dir(school, int(year), data_dir)
                out.append((school, int(year)))
    except (SchoolNotFoundError, ValueError) as e:
        raise BuildError(str(e)) from None
    return out


def discover_chapters(
    notebooks_dir: str | os.PathLike[str], chapters: Sequence[str] | None = None
) -> list[Path]:
    """The chapter notebooks in order (sorted file names), optionally only the chosen ones.

    A choice matches a notebook stem exactly or as a prefix ("03" → 03_culture); several may
    be given comma-separated.
    """
    folder = Path(notebooks_dir)
    found = sorted(
        p
        for p in folder.glob("*.ipynb")
        if not p.name.startswith((".", "_")) and not p.name.endswith(FAILED_SUFFIX)
    )
    if not found:
        raise BuildError(f"{folder} 中没有章节笔记本（*.ipynb）")
    if not chapters:
        return found
    wanted = [w.strip() for c in chapters for w in str(c).split(",") if w.strip()]
    out: list[Path] = []
    for w in wanted:
        hits = [p for p in found if p.stem == w] or [p for p in found if p.stem.startswith(w)]
        if not hits:
            raise BuildError(f"没有章节 {w!r}。可用的章节：{', '.join(p.stem for p in found)}")
        out += [p for p in hits if p not in out]
    return sorted(out)


# ----------------------------------------------------------------------------- planning


@dataclass
class _Chapter:
    stem: str
    notebook: Path
    kernel_name: str
    components: dict[str, Any]
    key: str
    inputs: list[str]
    record: dict[str, Any] | None
    stale: bool
    reason: str


@dataclass
class _Plan:
    school_id: str
    year: int
    folder: Path
    raw_digest: str
    raw: dict[str, str]
    chapters: list[_Chapter]
    all_chapters: list[Path]
    validation_key: str
    parameters: dict[str, Any]  # what papermill injects into every chapter notebook
    validation: dict[str, Any] | None = None  # the record used (cached or fresh)
    validated: bool = False
    # report.xlsx, made from the data just validated (None: made from the processed data)
    report_xlsx: bytes | None = None
    # written only once the data passed validation: invalid data changes nothing in reports/
    inputs_state: dict[str, Any] | None = None
    undone_failures: list[Path] = field(default_factory=list)

    def commit(self) -> None:
        """Write the chapter-inputs cache and drop failure notebooks that were undone."""
        if self.inputs_state is not None:
            mf.write_json(self.cache / "inputs.json", self.inputs_state)
        for path in self.undone_failures:
            path.unlink(missing_ok=True)

    @property
    def cache(self) -> Path:
        return self.folder / CACHE_DIR

    @property
    def outputs(self) -> tuple[Path, Path, Path]:
        return (
            self.folder / "index.html",
            self.folder / "report.html",
            self.folder / "manifest.json",
        )


def _rel(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir).as_posix()
    except ValueError:
        return str(path.resolve())


def _fallback_inputs(school_id: str, year: int, data_dir: Path) -> list[Path]:
    school = data_dir / school_id
    files = [school / "school.yaml"]
    for y in (year, year - 1):
        folder = school / str(y)
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file())
    return files


def chapter_inputs(
    chapter: str, school_id: str, year: int, data_dir: Path, notebooks_dir: Path | None = None
) -> list[Path]:
    """The raw files a chapter reads: ``helpers.build.inputs.chapter_inputs`` when it knows the
    chapter, else (conservatively) everything of the year and the year before + school.yaml."""
    try:
        from helpers.build.inputs import chapter_inputs as outline_inputs
    except ImportError:
        return _fallback_inputs(school_id, year, data_dir)
    try:
        return list(outline_inputs(chapter, school_id, year, data_dir, notebooks_dir))
    except KeyError:  # a notebook the outline does not list
        return _fallback_inputs(school_id, year, data_dir)


def _block_order(all_chapters: list[Path]) -> list[tuple[str, str]]:
    """The numbered figures and tables of the chapter notebooks, in report order."""
    if not all_chapters:
        return []
    from helpers.report.notebooks import block_order

    return block_order(all_chapters[0].parent)


def _kernel_name(notebook: Path) -> str:
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        return ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name") or "python3"
    except (OSError, ValueError):
        return "python3"


def staleness(
    folder: Path, stem: str, key: str, components: dict[str, Any], force: bool
) -> tuple[dict[str, Any] | None, bool, str]:
    """A chapter's last cache record, whether it must run again, and why: forced, its key
    changed (naming the components that did), or its outputs are missing."""
    record = mf.read_json(folder / CACHE_DIR / f"{stem}.json")
    outputs_ok = (folder / f"{stem}.html").is_file() and (
        folder / "notebooks" / f"{stem}.ipynb"
    ).is_file()
    if force:
        return record, True, "forced"
    if record is None or record.get("key") != key:
        return record, True, _changed((record or {}).get("components"), components)
    if not outputs_ok:
        return record, True, "output missing"
    return record, False, "up to date"


def _changed(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    if old is None:
        return "new"
    names = {
        "notebook": "notebook changed",
        "data": "data changed",
        "code": "code changed",
        "packages": "package versions changed",
        "parameters": "parameters changed",
        "schema": "build format changed",
        "numbering": "figure or table numbering changed",
    }
    diff = [names.get(k, k) for k in new if old.get(k) != new.get(k)]
    return ", ".join(diff) or "changed"


def _plan(
    school_id: str,
    year: int,
    notebooks: list[Path],
    all_chapters: list[Path],
    data_dir: Path,
    out_dir: Path,
    env: dict[str, Any],
    force: bool,
    figures: str = "recomputed",
    inputs_of: InputsOf | None = None,
) -> _Plan:
    """Which chapters of one school-year are stale, and why; ``inputs_of`` says which raw
    files a chapter reads (default: :func:`chapter_inputs`)."""
    inputs_of = inputs_of or chapter_inputs
    folder = out_dir / school_id / str(year)
    cache = folder / CACHE_DIR
    school_root = data_dir / school_id
    raw = {f"{school_id}/{k}": v for k, v in mf.tree_files(school_root).items()}
    raw_digest = mf.sha256_json(raw)

    # Which raw files each chapter reads depends only on the raw files and the code: cached.
    state = mf.read_json(cache / "inputs.json") or {}
    fresh_state = state.get("raw") == raw_digest and state.get("code") == env["code"]
    known_inputs: dict[str, list[str]] = state.get("inputs", {}) if fresh_state else {}
    params = {
        "school_id": school_id,
        "year": year,
        "data_dir": str(data_dir),
        "figures": figures,
        # the chapters number 图N / 表N across all chapter notebooks of this folder
        "notebooks_dir": str(all_chapters[0].parent) if all_chapters else None,
    }
    chapters = []
    undone: list[Path] = []
    # 图N / 表N run across every chapter notebook: a block added to one renumbers the others
    numbering = mf.sha256_json(_block_order(all_chapters))
    for nb in notebooks:
        stem = nb.stem
        if stem not in known_inputs:
            files = inputs_of(stem, school_id, year, data_dir, nb.parent)
            known_inputs[stem] = sorted({_rel(Path(p), data_dir) for p in files})
        inputs = known_inputs[stem]
        digests = []
        for rel in inputs:
            digest = raw.get(rel)
            if digest is None:
                p = Path(rel) if os.path.isabs(rel) else data_dir / rel
                digest = mf.file_digest(p) if p.is_file() else None
            digests.append((rel, digest))
        components = {
            "schema": mf.SCHEMA,
            "notebook": mf.notebook_hash(nb),
            "code": env["code"],
            "data": mf.files_digest(digests),
            "parameters": params,
            "packages": env["packages"],
            "numbering": numbering,
        }
        key = mf.sha256_json(components)
        record, stale, reason = staleness(folder, stem, key, components, force)
        if not stale:
            # a failure since then was undone (same key as the last good build)
            undone.append(folder / "notebooks" / f"{stem}{FAILED_SUFFIX}")
            undone.append(cache / f"{stem}{FAILURE_RECORD}")
        chapters.append(
            _Chapter(stem, nb, _kernel_name(nb), components, key, inputs, record, stale, reason)
        )
    new_state = {"raw": raw_digest, "code": env["code"], "inputs": known_inputs}
    validation_key = mf.sha256_json(
        {"raw": raw_digest, "code": env["code"], "packages": env["packages"], **params}
    )
    return _Plan(
        school_id,
        year,
        folder,
        raw_digest,
        raw,
        chapters,
        all_chapters,
        validation_key,
        params,
        inputs_state=new_state if state != new_state else None,
        undone_failures=undone,
    )


def _task_id(plan: _Plan, c: _Chapter) -> str:
    return f"{plan.school_id}/{plan.year}/{c.stem}"


def _task(plan: _Plan, c: _Chapter, data_dir: Path) -> dict[str, Any]:
    return {
        "id": _task_id(plan, c),
        "school_id": plan.school_id,
        "year": plan.year,
        "chapter": c.stem,
        "notebook": str(c.notebook),
        "kernel_name": c.kernel_name,
        "parameters": plan.parameters,
        "folder": str(plan.folder),
        "expected": float((c.record or {}).get("seconds") or 0.0),
    }
