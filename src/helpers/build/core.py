"""Build reports: validate → audit → execute the chapter notebooks → HTML, incrementally.

:func:`build` is what ``nianbao build`` runs. For each school-year it

1. works out which chapters are stale: a chapter's key (see :mod:`helpers.build.manifest`) hashes
   its notebook's content, the helpers' code, the raw files it reads
   (``helpers.build.inputs.chapter_inputs``), the parameters and the package versions; a chapter
   whose key, executed notebook and HTML are all in place is skipped;
2. validates and audits the data (``helpers.ingest.load`` / ``helpers.indicators.audit``) unless the same raw
   files were validated with the same code before (the result is cached);
3. executes the stale chapters with papermill in a pool of worker processes, each holding
   one warm Jupyter kernel that is reset between notebooks (see ``_KERNEL_PRELUDE``), and
   renders each to HTML (:mod:`helpers.report.render`);
4. writes ``index.html``, the one-file ``report.html`` and ``manifest.json`` when a chapter
   changed or one of them is missing.

Layout under ``reports/<school>/<year>/``: ``index.html``, ``report.html``,
``manifest.json``, ``<chapter>.html``, ``notebooks/<chapter>.ipynb`` (executed),
``notebooks/<chapter>.failed.ipynb`` (the last failed run, for inspection) and ``.build/``
(the incremental-build cache: one JSON file per chapter, plus validation and inputs).

Every file is written under a temporary name and renamed into place. A failing chapter
keeps its previous HTML, marked as such: ``.build/<chapter>.failed.json`` records the failure
until the chapter builds again (or its last good inputs are back), and while it is there the
chapter's page, its section of ``report.html`` and its entry in ``index.html`` say which
earlier version is shown (:func:`helpers.report.render.mark_stale`). With ``strict=True``
(``nianbao build --strict``) such a school-year's ``index.html``, ``report.html`` and
``manifest.json`` are not written at all. Ctrl-C / SIGTERM stops the workers and their
kernels and leaves no partial file behind.

Nothing heavy (pandas, papermill, nbconvert) is imported in the main process unless the
data has to be validated, so a rebuild with nothing changed takes a fraction of a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.build import manifest as mf
from helpers import paths

CACHE_DIR = ".build"
LOCK_FILE = ".nianbao.lock"
START_TIMEOUT = 60  # seconds for a kernel to answer
CELL_TIMEOUT = 1800  # seconds for one cell
FAILED_SUFFIX = ".failed.ipynb"
FAILURE_RECORD = ".failed.json"  # .build/<chapter>.failed.json: the chapter's latest build failed
# Modules a warm kernel imports before its first notebook (helpers is imported only to pull in
# its third-party dependencies, then dropped: every notebook imports a fresh copy).
WARM_MODULES = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "pandera",
    "yaml",
    "IPython.display",
)
WARM_SKIP = ("build", "cli")  # build machinery, not used by notebooks

Event = Callable[[str, dict[str, Any]], None]


class BuildError(Exception):
    """Stops the build before any chapter runs (bad arguments, invalid data): exit code 2."""


class AuditStop(BuildError):
    """The audit found errors and ``allow_audit_errors`` was not given."""


@dataclass
class ChapterResult:
    school_id: str
    year: int
    chapter: str
    status: str  # "executed" | "skipped" | "failed"
    reason: str = ""  # why it ran (e.g. "notebook changed") or why it was skipped
    seconds: float = 0.0
    title: str = ""
    html: Path | None = None
    error: str | None = None  # for a failure: "cell 3 `rep.section(...)`: ValueError: ..."
    failed_notebook: Path | None = None

    @property
    def label(self) -> str:
        return f"{self.school_id} {self.year} {self.chapter}"


@dataclass(frozen=True)
class StaleChapter:
    """A chapter whose latest build failed: the report shows an earlier version, if any."""

    chapter: str
    title: str
    kept_since: str | None  # when the version shown was built (ISO); None if unknown
    kept: bool  # an earlier version exists and is shown
    error: str
    failed_at: str

    @property
    def text(self) -> str:
        """What the summary says about it (the same words as the pages)."""
        from helpers.report.render import stale_text

        return stale_text(self.kept_since) if self.kept else "最新构建失败，报告中没有本章"


@dataclass
class SchoolYearResult:
    school_id: str
    year: int
    school_name: str
    folder: Path
    index: Path
    report: Path
    manifest: Path
    validated: bool  # the data was validated in this run (else the cached result was used)
    regenerated: bool  # index/report/manifest were rewritten in this run
    findings: list[dict[str, str]] = field(default_factory=list)  # severity, rule, message
    stale: list[StaleChapter] = field(default_factory=list)  # chapters whose last build failed
    withheld: str | None = None  # strict: why index/report/manifest were not written


@dataclass
class BuildResult:
    chapters: list[ChapterResult]
    school_years: list[SchoolYearResult]
    seconds: float
    jobs: int = 0
    kernel_reuse: bool = True

    def _with(self, status: str) -> list[ChapterResult]:
        return [c for c in self.chapters if c.status == status]

    @property
    def executed(self) -> list[ChapterResult]:
        return self._with("executed")

    @property
    def skipped(self) -> list[ChapterResult]:
        return self._with("skipped")

    @property
    def failed(self) -> list[ChapterResult]:
        return self._with("failed")

    @property
    def up_to_date(self) -> bool:
        """Nothing was executed and nothing failed."""
        return not self.executed and not self.failed

    @property
    def withheld(self) -> list[SchoolYearResult]:
        """School-years whose report was not written (strict mode, a chapter is stale)."""
        return [sy for sy in self.school_years if sy.withheld]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.withheld


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
) -> _Plan:
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
            files = chapter_inputs(stem, school_id, year, data_dir, nb.parent)
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
        record = mf.read_json(cache / f"{stem}.json")
        outputs_ok = (folder / f"{stem}.html").is_file() and (
            folder / "notebooks" / f"{stem}.ipynb"
        ).is_file()
        if force:
            stale, reason = True, "forced"
        elif record is None or record.get("key") != key:
            stale, reason = True, _changed((record or {}).get("components"), components)
        elif not outputs_ok:
            stale, reason = True, "output missing"
        else:
            stale, reason = False, "up to date"
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


# ----------------------------------------------------------------------------- validation


def _validate(plan: _Plan, data_dir: Path, on_event: Event) -> dict[str, Any]:
    """Load + audit (cached by the raw files, code and packages); raises BuildError."""
    cached = mf.read_json(plan.cache / "validation.json")
    if cached and cached.get("key") == plan.validation_key:
        return cached
    on_event("phase", {"text": f"校验数据 {plan.school_id} {plan.year}"})
    from helpers.indicators.audit import report_findings
    from helpers.errors import DataValidationError
    from helpers.ingest.load import load_school_year

    try:
        sy = load_school_year(plan.school_id, plan.year, data_dir)
    except DataValidationError as e:
        raise BuildError(str(e)) from None
    findings = [
        {"severity": f.severity, "rule": f.rule, "message": f.message} for f in report_findings(sy)
    ]
    warnings = [str(p) for p in sy.warnings] + [
        str(p) for p in (sy.previous.warnings if sy.previous else [])
    ]
    if data_dir.name == "raw":  # the repository layout: data/raw → data/processed
        try:
            from helpers.indicators.processed import write

            write(sy, data_dir.parent / "processed")
        except Exception as e:  # processed tables are a by-product; never stop a build
            warnings.append(f"未能写出 data/processed：{type(e).__name__}: {e}")
    record = {
        "key": plan.validation_key,
        "school_name": sy.school_name,
        "findings": findings,
        "load_warnings": warnings,
        "validated_at": mf.now_iso(),
    }
    mf.write_json(plan.cache / "validation.json", record)
    plan.validated = True
    return record


def _audit_gate(plans: list[_Plan], allow_audit_errors: bool) -> None:
    lines = []
    for plan in plans:
        for f in (plan.validation or {}).get("findings", []):
            if f["severity"] == "error":
                lines.append(f"  - {plan.school_id} {plan.year} [{f['rule']}] {f['message']}")
    if lines and not allow_audit_errors:
        raise AuditStop(
            f"数据审核发现 {len(lines)} 个错误，构建已停止（确认无误后可加 --allow-audit-errors 继续）：\n"
            + "\n".join(lines)
        )


# ----------------------------------------------------------------------------- outputs


def _record_outcomes(plan: _Plan, results: dict[str, dict[str, Any]]) -> None:
    """Remember which chapters' latest build failed (cleared when one builds again)."""
    for c in plan.chapters:
        if not c.stale:
            continue
        res = results.get(_task_id(plan, c))
        path = plan.cache / f"{c.stem}{FAILURE_RECORD}"
        if res is not None and res.get("status") == "ok":
            path.unlink(missing_ok=True)
        else:
            error = (res or {}).get("error") or "未执行（构建提前结束）"
            mf.write_json(
                path,
                {"chapter": c.stem, "key": c.key, "error": error, "failed_at": mf.now_iso()},
            )


def _stale_chapters(plan: _Plan) -> list[StaleChapter]:
    """Chapters of the report whose latest build failed, with the version the report shows."""
    out = []
    for nb in plan.all_chapters:
        failure = mf.read_json(plan.cache / f"{nb.stem}{FAILURE_RECORD}")
        if failure is None:
            continue
        rec = mf.read_json(plan.cache / f"{nb.stem}.json") or {}
        kept = (plan.folder / f"{nb.stem}.html").is_file()
        out.append(
            StaleChapter(
                nb.stem,
                str(rec.get("title") or nb.stem),
                rec.get("executed_at") if kept else None,
                kept,
                str(failure.get("error", "")),
                str(failure.get("failed_at", "")),
            )
        )
    return out


def _write_pages(
    plan: _Plan, env: dict[str, Any], data_dir: Path, stale: Sequence[StaleChapter] = ()
) -> None:
    from helpers import __version__
    from helpers.report import render
    from helpers.specs.outline import report_title

    records = {c.stem: mf.read_json(plan.cache / f"{c.stem}.json") for c in plan.chapters}
    failed = {c.chapter: c for c in stale}
    pages = []
    chapters_meta = []
    inputs: dict[str, str | None] = {}
    for nb in plan.all_chapters:
        stem = nb.stem
        rec = records.get(stem) or mf.read_json(plan.cache / f"{stem}.json") or {}
        html_path = plan.folder / f"{stem}.html"
        page = html_path.read_text(encoding="utf-8") if html_path.is_file() else None
        failure = failed.get(stem)
        kept = failure if failure is not None and failure.kept else None
        if page is not None:  # the chapter's own page carries the notice too
            shown = render.mark_stale(page, kept.kept_since) if kept else render.unmark_stale(page)
            if shown != page:
                mf.write_text(html_path, shown)
                page = shown
        title = rec.get("title") or stem
        pages.append(
            render.ChapterPage(
                stem, title, page, failure is not None, kept.kept_since if kept else None
            )
        )
        for rel in rec.get("inputs", []):
            inputs[rel] = plan.raw.get(rel)
        chapters_meta.append(
            {
                "chapter": stem,
                "title": title,
                "html": f"{stem}.html" if page else None,
                "notebook": f"notebooks/{stem}.ipynb" if page else None,
                "key": rec.get("key"),
                "notebook_hash": (rec.get("components") or {}).get("notebook"),
                "data_hash": (rec.get("components") or {}).get("data"),
                "inputs": rec.get("inputs", []),
                "html_sha256": mf.sha256_bytes(page.encode("utf-8")) if page else None,
                "executed_at": rec.get("executed_at"),
                "seconds": rec.get("seconds"),
                "stale": (
                    {"kept_since": kept.kept_since, "failed_at": kept.failed_at} if kept else None
                ),
            }
        )
    validation = plan.validation or {}
    school_name = validation.get("school_name") or plan.school_id
    counts = {s: 0 for s in ("error", "warning", "info")}
    for f in validation.get("findings", []):
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    manifest = {
        "school_id": plan.school_id,
        "school_name": school_name,
        "year": plan.year,
        "title": report_title(plan.year),
        "parameters": plan.parameters,
        "data_hash": mf.files_digest(inputs.items()),
        "data_files": dict(sorted(inputs.items())),
        "code": {
            "helpers_version": __version__,
            "code_hash": env["code"],
            "git": mf.git_info(paths.repo_root()),
        },
        "packages": env["packages"],
        "template": render.template_name(),
        "built_at": mf.now_iso(),
        "audit": counts,
        "chapters": chapters_meta,
    }
    footer = mf.footer_text(manifest)
    built_at = manifest["built_at"]
    report = render.combine(
        pages, school_name=school_name, year=plan.year, footer=footer, built_at=built_at
    )
    index = render.index_page(
        [(f"{p.stem}.html" if p.html else None, p.title) for p in pages],
        school_name=school_name,
        year=plan.year,
        footer=footer,
        built_at=built_at,
        pages=pages,
    )
    font = plan.folder / render.FONT_ASSET
    if not font.is_file() or font.read_bytes() != render.FONT_FILE.read_bytes():
        mf.write_bytes(font, render.FONT_FILE.read_bytes())
    index_path, report_path, manifest_path = plan.outputs
    mf.write_text(report_path, report)
    mf.write_text(index_path, index)
    mf.write_json(manifest_path, manifest)


def _sweep_tmp(folders: Sequence[Path]) -> None:
    """Remove temporary files of an interrupted write (``.<name>.<random>.tmp``)."""
    for folder in folders:
        for sub in (folder, folder / "notebooks", folder / CACHE_DIR):
            if not sub.is_dir():
                continue
            for p in sub.glob(".*.tmp"):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)


@contextlib.contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(out_dir / LOCK_FILE, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BuildError(f"另一个 nianbao build 正在写 {out_dir}，请等它结束") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt) while building."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, handler)
    old_int = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Cleanup must not be interrupted by a second Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# ----------------------------------------------------------------------------- build


def build(
    schools: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    chapters: Sequence[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    allow_audit_errors: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    notebooks_dir: str | os.PathLike[str] | None = None,
    kernel_reuse: bool = True,
    on_event: Event | None = None,
    figures: str = "recomputed",
    strict: bool = False,
) -> BuildResult:
    """Build the reports; see the module docstring. Raises BuildError (exit 2) before any
    chapter runs when the arguments or the data are wrong, KeyboardInterrupt when stopped.

    ``kernel_reuse=False`` runs every chapter in a new kernel (the reference behaviour);
    ``figures`` is the disclosure policy (helpers.indicators.disclose: ``recomputed`` | ``published``);
    ``on_event(kind, info)`` receives "plan", "phase", "chapter_start" and "chapter_done".
    ``strict=True`` writes no index/report/manifest for a school-year with a chapter whose
    latest build failed (``SchoolYearResult.withheld`` says why; the old files stay).

    Workers are started with multiprocessing's "spawn" method, so a script that calls this
    must do so under ``if __name__ == "__main__":``.
    """
    t0 = time.monotonic()
    if figures not in ("recomputed", "published"):  # helpers.indicators.disclose.POLICIES
        raise BuildError(f"figures 应为 recomputed 或 published，而不是 {figures!r}")
    emit: Event = on_event or (lambda kind, info: None)
    data = paths.raw_root(data_dir)
    out = Path(out_dir).resolve() if out_dir else default_out_dir()
    nbdir = Path(notebooks_dir).resolve() if notebooks_dir else default_notebooks_dir()
    targets = resolve_targets(schools, years, data)
    all_chapters = discover_chapters(nbdir)
    from helpers.build import preflight

    if bad := preflight.errors(all_chapters):  # specs and notebooks, before anything runs
        raise BuildError(bad)
    chosen = discover_chapters(nbdir, chapters)
    jobs = max(1, int(jobs or os.cpu_count() or 1))

    with _lock(out), _signals_raise():
        env = {"code": mf.code_hash(), "packages": mf.package_versions()}
        plans = [
            _plan(s, y, chosen, all_chapters, data, out, env, force, figures) for s, y in targets
        ]
        tasks = [_task(p, c, data) for p in plans for c in p.chapters if c.stale]
        emit("plan", {"total": len(tasks), "chapters": sum(len(p.chapters) for p in plans)})

        pool = None
        interrupted = completed = False
        try:
            if tasks:
                pool = _Pool(min(jobs, len(tasks)), kernel_reuse)
                pool.start()  # kernels warm up while the data is validated
            for plan in plans:
                plan.validation = _validate(plan, data, emit)  # cached when unchanged
            _audit_gate(plans, allow_audit_errors)
            for plan in plans:
                plan.commit()
            results: dict[str, dict[str, Any]] = {}
            if pool is not None:
                emit("phase", {"text": "执行章节"})
                # the workers shut their kernels down while the pages are written
                results = _run(pool, tasks, plans, emit)
            chapter_results: list[ChapterResult] = []
            plan_results = []
            for plan in plans:
                mine = [
                    _chapter_result(plan, c, results.get(_task_id(plan, c))) for c in plan.chapters
                ]
                chapter_results += mine
                _record_outcomes(plan, results)
                plan_results.append(_finish(plan, mine, env, data, force, emit, strict))
            if any(r.regenerated for r in plan_results) or not (out / "index.html").is_file():
                _write_overview(out)
            completed = True
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if pool is not None:
                with _signals_ignored():
                    pool.close(graceful=completed)  # else: stop the workers right away
            if interrupted:
                with _signals_ignored():
                    _sweep_tmp([p.folder for p in plans])
        return BuildResult(chapter_results, plan_results, time.monotonic() - t0, jobs, kernel_reuse)


def _write_overview(out: Path) -> None:
    """``reports/index.html``: every school-year report built so far (for a bureau)."""
    from helpers.report import render

    entries = []
    for manifest_path in sorted(out.glob("*/*/manifest.json")):
        m = mf.read_json(manifest_path) or {}
        entries.append(
            render.OverviewEntry(
                href=f"{manifest_path.parent.parent.name}/{manifest_path.parent.name}/index.html",
                school=str(m.get("school_name") or manifest_path.parent.parent.name),
                year=int(m.get("year") or manifest_path.parent.name),
                built_at=str(m.get("built_at", "")),
                audit=dict(m.get("audit") or {}),
            )
        )
    mf.write_text(out / "index.html", render.overview_page(entries))


def _finish(
    plan: _Plan,
    chapters: list[ChapterResult],
    env: dict[str, Any],
    data: Path,
    force: bool,
    emit: Event,
    strict: bool = False,
) -> SchoolYearResult:
    """Rewrite index/report/manifest if a chapter changed, one is missing, or the chapters
    marked stale differ from those the current report marks; in strict mode, never when a
    chapter is stale."""
    stale = _stale_chapters(plan)
    previous = mf.read_json(plan.outputs[2]) or {}
    was_stale = {c.get("chapter") for c in previous.get("chapters", []) if c.get("stale")}
    changed = any(c.status == "executed" for c in chapters)
    regenerate = (
        changed
        or force
        or not all(p.is_file() for p in plan.outputs)
        or {c.chapter for c in stale if c.kept} != was_stale
    )
    withheld = None
    if strict and stale:
        withheld = "有章节最新构建失败：" + "、".join(f"{c.chapter}（{c.title}）" for c in stale)
        regenerate = False
    if regenerate:
        emit("phase", {"text": f"生成报告 {plan.school_id} {plan.year}"})
        _write_pages(plan, env, data, stale)
    validation = plan.validation or {}
    findings = list(validation.get("findings", []))
    findings += [
        {"severity": "warning", "rule": "load", "message": w}
        for w in validation.get("load_warnings", [])
    ]
    return SchoolYearResult(
        plan.school_id,
        plan.year,
        validation.get("school_name", plan.school_id),
        plan.folder,
        *plan.outputs,
        validated=plan.validated,
        regenerated=regenerate,
        findings=findings,
        stale=stale,
        withheld=withheld,
    )


def _chapter_result(plan: _Plan, c: _Chapter, res: dict[str, Any] | None) -> ChapterResult:
    html = plan.folder / f"{c.stem}.html"
    title = (c.record or {}).get("title", c.stem)
    if not c.stale:
        return ChapterResult(
            plan.school_id, plan.year, c.stem, "skipped", c.reason, title=title, html=html
        )
    if res is not None and res["status"] == "ok":
        return ChapterResult(
            plan.school_id,
            plan.year,
            c.stem,
            "executed",
            c.reason,
            res["seconds"],
            res["title"],
            html,
        )
    res = res or {"error": "未执行（构建提前结束）"}
    failed = res.get("failed_notebook")
    return ChapterResult(
        plan.school_id,
        plan.year,
        c.stem,
        "failed",
        c.reason,
        res.get("seconds", 0.0),
        title,
        html if html.is_file() else None,
        res.get("error"),
        Path(failed) if failed else None,
    )


# ----------------------------------------------------------------------------- scheduling


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


def _run(
    pool: _Pool, tasks: list[dict[str, Any]], plans: list[_Plan], emit: Event
) -> dict[str, dict[str, Any]]:
    """Hand the tasks to the pool (longest first) and collect the results."""
    owners = {_task_id(p, c): (p, c) for p in plans for c in p.chapters}
    for t in sorted(tasks, key=lambda t: -t["expected"]):
        pool.tasks.put(t)
    for _ in pool.procs:
        pool.tasks.put(None)
    done: dict[str, dict[str, Any]] = {}
    running: dict[int, str] = {}

    def handle(msg: tuple[str, int, Any]) -> None:
        kind, wid, payload = msg
        if kind == "kernel":
            pool.kernel_pids.add(int(payload))
        elif kind == "start":
            running[wid] = payload
            plan, c = owners[payload]
            emit(
                "chapter_start", {"school_id": plan.school_id, "year": plan.year, "chapter": c.stem}
            )
        elif kind == "done":
            running.pop(wid, None)
            plan, c = owners[payload["id"]]
            if payload["status"] == "ok":
                mf.write_json(
                    plan.cache / f"{c.stem}.json",
                    {
                        "chapter": c.stem,
                        "key": c.key,
                        "components": c.components,
                        "inputs": c.inputs,
                        "title": payload["title"],
                        "html_sha256": payload["html_sha256"],
                        "seconds": round(payload["seconds"], 3),
                        "executed_at": mf.now_iso(),
                    },
                )
            done[payload["id"]] = payload
            emit("chapter_done", {"result": _chapter_result(plan, c, payload)})

    while len(done) < len(tasks):
        try:
            handle(pool.results.get(timeout=0.5))
            continue
        except queue.Empty:
            pass
        dead = [i for i, p in enumerate(pool.procs) if not p.is_alive()]
        if not dead:
            continue
        while True:  # a worker's last messages may still be in the queue
            try:
                handle(pool.results.get(timeout=0.2))
            except queue.Empty:
                break
        for wid in dead:
            tid = running.pop(wid, None)
            if tid is not None and tid not in done:
                code = pool.procs[wid].exitcode
                done[tid] = {
                    "id": tid,
                    "status": "failed",
                    "error": f"工作进程意外退出（exit code {code}）",
                }
        if len(dead) == len(pool.procs):
            for t in tasks:
                done.setdefault(
                    t["id"],
                    {"id": t["id"], "status": "failed", "error": "工作进程全部退出，未执行"},
                )
    return done


class _Pool:
    """Worker processes (spawned, so nothing of the main process leaks into them)."""

    def __init__(self, n: int, kernel_reuse: bool):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.log_dir = Path(tempfile.mkdtemp(prefix="nianbao-kernels-"))
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.kernel_pids: set[int] = set()
        self.procs = [
            ctx.Process(
                target=_worker_main,
                args=(i, self.tasks, self.results, kernel_reuse, str(self.log_dir)),
                name=f"nianbao-worker-{i}",
                daemon=True,
            )
            for i in range(n)
        ]

    def start(self) -> None:
        for p in self.procs:
            p.start()

    def close(self, graceful: bool) -> None:
        deadline = time.monotonic() + (30 if graceful else 0)
        for p in self.procs:
            if p.pid is not None:
                p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: the worker shuts its kernel down
        deadline = time.monotonic() + 10
        for p in self.procs:
            if p.pid is not None:
                p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(5)
        while True:
            try:
                kind, _, payload = self.results.get_nowait()
            except (queue.Empty, OSError, ValueError, EOFError):
                break
            if kind == "kernel":
                self.kernel_pids.add(int(payload))
        for pid in self.kernel_pids:
            _kill_kernel_pid(pid)
        for q in (self.tasks, self.results):
            q.cancel_join_thread()
            q.close()
        shutil.rmtree(self.log_dir, ignore_errors=True)


def _kill_kernel_pid(pid: int) -> None:
    """Kill a kernel (and its process group) if it is still running."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = None
    if cmdline is not None and b"ipykernel" not in cmdline:
        return  # the pid was reused by something else
    for kill in (getattr(os, "killpg", None), os.kill):
        if kill is not None:
            with contextlib.suppress(OSError):
                kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


# ----------------------------------------------------------------------------- workers

# Run once in a warm kernel: import the heavy modules, then snapshot the interpreter state
# that notebooks can change, so that _KERNEL_RESET can put it back before every notebook.
# helpers itself is imported (to pull in its dependencies) and then dropped, so each notebook
# imports a fresh copy; so is any module loaded from outside the Python installation.
_KERNEL_PRELUDE = r"""
def _nianbao_prelude(warm, skip):
    import copy, decimal, importlib, logging, os, pkgutil, random, sys, types, warnings
    st = types.ModuleType("_nianbao_kernel")
    for name in warm:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    try:
        import helpers
        for info in pkgutil.iter_modules(helpers.__path__):
            if info.name not in skip:
                try:
                    importlib.import_module("helpers." + info.name)
                except Exception:
                    pass
    except Exception:
        pass
    for name in [m for m in sys.modules if m == "helpers" or m.startswith("helpers.")]:
        del sys.modules[name]
    if "matplotlib.pyplot" in sys.modules:
        # load the inline backend now (a fresh kernel does it at its first figure): it
        # registers IPython's post-execute hook that displays figures, part of the snapshot
        try:
            import matplotlib, matplotlib.pyplot as plt
            plt.switch_backend(matplotlib.get_backend())
        except Exception:
            pass
    ip = get_ipython()
    roots = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    st.modules = set(sys.modules)
    st.cwd, st.environ, st.path, st.argv = os.getcwd(), dict(os.environ), list(sys.path), list(sys.argv)
    st.filters, st.showwarning = list(warnings.filters), warnings.showwarning
    st.decimal = decimal.getcontext().copy()
    st.random = random.getstate()
    st.hooks = (sys.displayhook, sys.excepthook)
    st.logging = (logging.root.level, list(logging.root.handlers))
    st.events = {k: list(v) for k, v in ip.events.callbacks.items()}
    st.extensions = set(ip.extension_manager.loaded)
    st.magics = {k: dict(v) for k, v in ip.magics_manager.magics.items()}
    st.transformers = (list(ip.input_transformers_post), list(ip.ast_transformers))
    st.formatters = {
        k: (dict(f.type_printers), dict(f.deferred_printers), dict(f.singleton_printers), f.enabled)
        for k, f in ip.display_formatter.formatters.items()
    }
    st.active_types = list(ip.display_formatter.active_types)
    st.extra = {}
    if "numpy" in sys.modules:
        import numpy as np
        st.extra["numpy"] = (np.geterr(), np.get_printoptions(), np.random.get_state())
    if "matplotlib" in sys.modules:
        import matplotlib as mpl, matplotlib.units as munits
        st.extra["mpl"] = (dict(mpl.rcParams.copy()), dict(munits.registry))
    try:
        from matplotlib_inline.config import InlineBackend
        cfg = InlineBackend.instance()
        st.extra["inline"] = {k: copy.deepcopy(getattr(cfg, k)) for k in
                              ("figure_formats", "print_figure_kwargs", "rc", "close_figures")}
    except Exception:
        pass
    if "pandas" in sys.modules:
        try:
            from pandas._config import config as pdc
            st.extra["pandas"] = copy.deepcopy(pdc._global_config)
        except Exception:
            pass

    def own(module):
        f = getattr(module, "__file__", None)
        return bool(f) and not os.path.realpath(f).startswith(roots)

    def reset():
        errors = []
        def step(fn):
            try:
                fn()
            except Exception as e:
                errors.append(f"{fn.__name__}: {type(e).__name__}: {e}")
        def figures():
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None:
                plt.close("all")
        def namespace():
            ip.reset(new_session=True)
            ip.execution_count = 1
        def modules():
            for name in list(sys.modules):
                if name in ("_nianbao_kernel", "__main__"):
                    continue
                if name == "helpers" or name.startswith("helpers.") or (
                    name not in st.modules and own(sys.modules[name])):
                    del sys.modules[name]
        def interpreter():
            if os.getcwd() != st.cwd:
                os.chdir(st.cwd)
            if dict(os.environ) != st.environ:
                for k in set(os.environ) - set(st.environ):
                    del os.environ[k]
                for k, v in st.environ.items():
                    if os.environ.get(k) != v:
                        os.environ[k] = v
            sys.path[:] = st.path
            sys.argv[:] = st.argv
            warnings.filters[:] = st.filters
            warnings.showwarning = st.showwarning
            getattr(warnings, "_filters_mutated", lambda: None)()
            decimal.setcontext(st.decimal.copy())
            random.setstate(st.random)
            sys.displayhook, sys.excepthook = st.hooks
            logging.root.setLevel(st.logging[0])
            logging.root.handlers[:] = st.logging[1]
        def ipython():
            for ext in set(ip.extension_manager.loaded) - st.extensions:
                try:
                    ip.extension_manager.unload_extension(ext)
                except Exception:
                    pass
            ip.extension_manager.loaded.clear()
            ip.extension_manager.loaded.update(st.extensions)
            for k, v in st.events.items():
                ip.events.callbacks[k][:] = v
            for k, v in st.magics.items():
                ip.magics_manager.magics[k].clear()
                ip.magics_manager.magics[k].update(v)
            ip.input_transformers_post[:] = st.transformers[0]
            ip.ast_transformers[:] = st.transformers[1]
        def libraries():
            if "inline" in st.extra:
                from matplotlib_inline.config import InlineBackend
                cfg = InlineBackend.instance()
                for k, v in st.extra["inline"].items():
                    if getattr(cfg, k) != v:
                        setattr(cfg, k, copy.deepcopy(v))
            for k, (tp, dp, sp, enabled) in st.formatters.items():
                f = ip.display_formatter.formatters.get(k)
                if f is not None:
                    f.type_printers, f.deferred_printers = dict(tp), dict(dp)
                    f.singleton_printers, f.enabled = dict(sp), enabled
            ip.display_formatter.active_types = list(st.active_types)
            if "numpy" in st.extra:
                import numpy as np
                err, printopts, state = st.extra["numpy"]
                np.seterr(**err)
                np.set_printoptions(**printopts)
                np.random.set_state(state)
            if "mpl" in st.extra:
                import matplotlib as mpl, matplotlib.units as munits
                rc, units = st.extra["mpl"]
                dict.update(mpl.rcParams, rc)
                munits.registry.clear()
                munits.registry.update(units)
            if "pandas" in st.extra:
                from pandas._config import config as pdc
                pdc._global_config.clear()
                pdc._global_config.update(copy.deepcopy(st.extra["pandas"]))
        for fn in (figures, namespace, modules, interpreter, ipython, libraries):
            step(fn)
        if errors:
            raise RuntimeError("; ".join(errors))

    st.reset = reset
    sys.modules["_nianbao_kernel"] = st

_nianbao_prelude(__WARM__, __SKIP__)
del _nianbao_prelude
"""

_KERNEL_RESET = "__import__('sys').modules['_nianbao_kernel'].reset()"


class KernelStartError(RuntimeError):
    pass


class _Kernel:
    """One kernel of a worker: started (retried once: a fresh port race can kill a kernel at
    start-up), optionally warmed up and reset between notebooks, and shut down."""

    def __init__(self, name: str, log_path: Path, announce: Callable[[int], None]):
        self.name = name
        self.log_path = log_path
        self.announce = announce
        self.km: Any = None
        self.kc: Any = None
        self.pid: int | None = None
        self.warm = False
        self.used = False

    def start(self, warm: bool) -> None:
        """Launch and wait until the kernel answers."""
        self.launch(warm)
        self.ready()

    def launch(self, warm: bool) -> None:
        """Start the kernel process and, for a warm kernel, queue the prelude (it runs as soon
        as the kernel is up, while the worker goes on importing papermill and nbconvert)."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.warm = warm
        km = AsyncKernelManager(kernel_name=self.name)
        with open(self.log_path, "ab") as log:
            run_sync(km.start_kernel)(
                extra_arguments=["--HistoryManager.hist_file=:memory:"], stdout=log, stderr=log
            )
        self.km = km
        self.pid = _provisioner_pid(km)
        if self.pid:
            self.announce(self.pid)
        # One client for the kernel's life: papermill's client is handed this one, so there
        # is no connection handshake per notebook.
        self.kc = km.client()
        self.kc.start_channels()
        self.kc.allow_stdin = False
        if warm:
            code = _KERNEL_PRELUDE.replace("__WARM__", repr(WARM_MODULES)).replace(
                "__SKIP__", repr(WARM_SKIP)
            )
            self.kc.execute(code, silent=True, store_history=False)

    def ready(self) -> None:
        """Wait for the kernel; a kernel that dies at start-up (e.g. two kernels given the
        same free port at once) is replaced once. Raises KernelStartError."""
        from jupyter_core.utils import run_sync

        errors = []
        for attempt in range(2):
            try:
                if attempt:
                    self.launch(self.warm)
                run_sync(self.kc.wait_for_ready)(timeout=START_TIMEOUT)
                return
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}")
                self.close()
        tail = ""
        with contextlib.suppress(OSError):
            tail = self.log_path.read_text(errors="replace")[-2000:]
        raise KernelStartError(
            f"内核 {self.name} 启动失败（已重试一次）：{'; '.join(errors)}\n{tail}".rstrip()
        )

    def reset(self) -> None:
        """Put the kernel back into its state after the warm-up (raises if that fails)."""
        from jupyter_core.utils import run_sync

        reply = run_sync(self.kc.execute_interactive)(
            _KERNEL_RESET,
            silent=True,
            store_history=False,
            timeout=START_TIMEOUT * 5,
            output_hook=lambda msg: None,
        )
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(self.km is not None and run_sync(self.km.is_alive)())
        except Exception:
            return False

    def close(self) -> None:
        from jupyter_core.utils import run_sync

        kc, km, pid = self.kc, self.km, self.pid
        self.kc = self.km = self.pid = None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
            with contextlib.suppress(Exception):
                km.cleanup_connection_file()
        if pid:
            _kill_kernel_pid(pid)
            with contextlib.suppress(OSError):
                os.waitpid(pid, os.WNOHANG)


def _provisioner_pid(km: Any) -> int | None:
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(proc, "pid", None)


_ENGINE: Any = None


def _engine() -> Any:
    """A papermill engine that runs on a kernel we started (and keeps it running)."""
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class NianbaoEngine(NBClientEngine):
        last_nb: Any = None

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            cls.last_nb = nb_man.nb
            km, kc = kwargs.pop("km"), kwargs.pop("kc")
            kwargs = remove_args(["input_path"], **kwargs)
            safe = remove_args(["timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(
                safe,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client = PapermillNotebookClient(nb_man, km=km, **final)
            client.kc = kc  # the kernel's long-lived client (kept open: the kernel is ours)
            return client.execute()

    papermill_engines.register("nianbao", NianbaoEngine)
    _ENGINE = NianbaoEngine
    return _ENGINE


def _chapter_title(stem: str, nb: Any) -> str:
    """The outline's heading for the chapter, else the notebook's first heading, else stem."""
    from helpers.report import render

    try:
        from helpers.specs.outline import chapter

        return str(chapter(stem).heading)
    except Exception:  # no outline (yet), or a notebook the outline does not list
        return render.chapter_title(nb) or stem


def _first_line(source: Any) -> str:
    text = "".join(source) if isinstance(source, list) else str(source or "")
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 80 else line[:77] + "..."
    return ""


def _find_error(nb: Any) -> dict[str, Any] | None:
    """The first error output: cell index in the source notebook (0-based), its first line of
    source, execution count, ename and evalue."""
    index = -1
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", []) or []
        if "papermill-error-cell-tag" in tags:
            continue
        injected = "injected-parameters" in tags
        if not injected:
            index += 1
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                return {
                    "cell": "injected-parameters" if injected else index,
                    "source": _first_line(cell.get("source")),
                    "execution_count": cell.get("execution_count"),
                    "ename": out.get("ename", "Error"),
                    "evalue": out.get("evalue", ""),
                }
    return None


def _describe(err: dict[str, Any]) -> str:
    where = (
        "参数单元格（injected-parameters）"
        if err.get("cell") == "injected-parameters"
        else f"cell {err.get('cell')}"
    )
    count = f" [In {err['execution_count']}]" if err.get("execution_count") else ""
    source = f" `{err['source']}`" if err.get("source") else ""
    return f"{where}{count}{source}: {err.get('ename')}: {err.get('evalue')}"


class _Runner:
    """A worker's state: its kernel, and how it executes and renders one chapter."""

    def __init__(self, wid: int, results: Any, reuse: bool, log_dir: str):
        self.wid = wid
        self.results = results
        self.reuse = reuse
        self.log_path = Path(log_dir) / f"worker-{wid}-{os.getpid()}.log"
        self.kernel: _Kernel | None = None
        self.warm_broken = False

    def _announce(self, pid: int) -> None:
        self.results.put(("kernel", self.wid, pid))

    def new_kernel(self, name: str, warm: bool) -> _Kernel:
        kernel = _Kernel(name, self.log_path, self._announce)
        self.kernel = kernel
        kernel.start(warm)
        return kernel

    def prepare(self) -> None:
        """Warm up: launch the kernel, import papermill/nbconvert meanwhile, then wait."""
        if self.reuse:
            self.kernel = _Kernel("python3", self.log_path, self._announce)
            self.kernel.launch(warm=True)
        import nbformat  # noqa: F401
        import papermill  # noqa: F401

        from helpers.report import render

        _engine()
        render._exporter(render.template_name())
        if self.kernel is not None:
            self.kernel.ready()

    def kernel_for(self, name: str) -> _Kernel:
        """A kernel for the next notebook: the warm one, reset, when kernels are reused;
        else (or if the reset fails) a new one. A kernel that was not warmed up (and reset)
        never runs a second notebook."""
        k = self.kernel
        if k is not None:
            reusable = k.name == name and (not k.used or k.warm) and k.alive()
            if not reusable:
                k.close()
                k = self.kernel = None
        if k is None:
            k = self.new_kernel(name, warm=self.reuse and not self.warm_broken)
        if k.warm:
            try:
                k.reset()  # also waits for the prelude to finish
            except Exception:  # never run a notebook on a kernel in an unknown state
                if not k.used:
                    self.warm_broken = True  # the prelude itself fails: stop warming
                k.close()
                k = self.new_kernel(name, warm=False)
        k.used = True
        return k

    def run(self, task: dict[str, Any]) -> dict[str, Any]:
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        from helpers.report import render

        t0 = time.monotonic()
        folder = Path(task["folder"])
        stem = task["chapter"]
        executed = folder / "notebooks" / f"{stem}.ipynb"
        failed = folder / "notebooks" / f"{stem}{FAILED_SUFFIX}"
        out: dict[str, Any] = {"id": task["id"], "status": "failed", "seconds": 0.0}
        nb = None
        error: dict[str, Any] | None = None
        engine = _engine()
        engine.last_nb = None
        kernel: _Kernel | None = None
        try:
            kernel = self.kernel_for(task["kernel_name"])
            nb = papermill.execute_notebook(
                task["notebook"],
                None,
                parameters=task["parameters"],
                engine_name="nianbao",
                kernel_name=task["kernel_name"],
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=START_TIMEOUT,
                execution_timeout=CELL_TIMEOUT,
                km=kernel.km,
                kc=kernel.kc,
            )
        except PapermillExecutionError:
            nb = engine.last_nb
        except Exception as e:
            nb = engine.last_nb
            error = {"cell": None, "ename": type(e).__name__, "evalue": str(e).strip()}
        error = (_find_error(nb) if nb is not None else None) or error
        if error is not None and kernel is not None:
            kernel.close()  # after a failure, never reuse the kernel
            self.kernel = None
        elif not self.reuse and kernel is not None:
            kernel.close()
            self.kernel = None
        if error is None:
            try:
                title = _chapter_title(stem, nb)
                page = render.render_notebook(nb, title=title)
            except Exception as e:
                error = {"cell": None, "ename": f"渲染失败 {type(e).__name__}", "evalue": str(e)}
        out["seconds"] = time.monotonic() - t0
        if error is not None:
            if error.get("cell") is None:
                out["error"] = f"{error['ename']}: {error['evalue']}"
            else:
                out["error"] = _describe(error)
            if nb is not None:
                mf.write_text(failed, nbformat.writes(nb))
                out["failed_notebook"] = str(failed)
            return out
        mf.write_text(executed, nbformat.writes(nb))
        mf.write_text(folder / f"{stem}.html", page)
        failed.unlink(missing_ok=True)
        out.update(
            status="ok",
            title=title,
            html_sha256=mf.sha256_bytes(page.encode("utf-8")),
            seconds=time.monotonic() - t0,
        )
        return out

    def close(self) -> None:
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def _worker_main(wid: int, tasks: Any, results: Any, reuse: bool, log_dir: str) -> None:
    """A worker process: one kernel, chapters one after another until the None sentinel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's business
    signal.signal(signal.SIGTERM, _on_sigterm)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # kernels started here run for a build: no interactive styling in their outputs
    os.environ["NIANBAO_BUILD"] = "1"
    # jsonschema (imported by nbformat) loads rfc3987_syntax when installed, which builds a
    # grammar at import time (~1 s). Its IRI format checks are never used by nbformat, so this
    # process does without it.
    if "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    import logging

    logging.getLogger("papermill").setLevel(logging.ERROR)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    runner = _Runner(wid, results, reuse, log_dir)
    try:
        try:
            runner.prepare()
        except Exception:  # e.g. the kernel does not start: reported per chapter below
            runner.close()
        while True:
            task = tasks.get()
            if task is None:
                break
            results.put(("start", wid, task["id"]))
            try:
                res = runner.run(task)
            except Exception as e:  # never lose a task
                res = {"id": task["id"], "status": "failed", "error": f"{type(e).__name__}: {e}"}
            results.put(("done", wid, res))
    except (KeyboardInterrupt, SystemExit):
        results.cancel_join_thread()
        # the interrupted notebook's pending asyncio tasks would print tracebacks at exit
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    finally:
        runner.close()
    sys.exit(0)
