"""Build reports: validate → audit → execute the chapter notebooks → HTML, incrementally.

:func:`build` is what ``nianbao build`` runs. For each school-year it

1. works out which chapters are stale (:mod:`helpers.build.plan`): a chapter's key (see
   :mod:`helpers.build.manifest`) hashes its notebook's content, the helpers' code, the raw
   files it reads, the parameters and the package versions; a chapter whose key, executed
   notebook and HTML are all in place is skipped;
2. validates and audits the data and writes the processed data the chapter kernels load
   (:mod:`helpers.build.validate`), unless the same raw files were validated with the same
   code before and that processed data is still fresh (the result is cached);
3. executes the stale chapters with papermill in a pool of worker processes
   (:mod:`helpers.build.pool`, :mod:`helpers.build.execute`), forked from one fork server that
   imported their modules once (:mod:`helpers.build.preload`), each holding one warm Jupyter
   kernel (:mod:`helpers.build.kernel`, forked from the worker's zygote:
   :mod:`helpers.build.zygote`) that is reset between notebooks
   (:mod:`helpers.build.reset`), and renders each to HTML (:mod:`helpers.report.render`);
   what a chapter writes to stderr becomes its ``ChapterResult.warnings``;
4. writes ``index.html``, the one-file ``report.html`` and ``manifest.json`` when a chapter
   changed or one of them is missing (:mod:`helpers.build.pages`), as soon as the school-year's
   last chapter returned (the workers run the other school-years' chapters meanwhile).

The specs are checked before anything runs; the notebooks' ``rep.…`` calls are checked while
the workers start (the check imports the report layer), before a chapter is queued.

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

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build import manifest as mf
from helpers.build.pages import _finish, _record_outcomes, _write_overview
from helpers.build.plan import (
    CACHE_DIR,
    FAILED_SUFFIX,
    FAILURE_RECORD,
    AuditStop,
    BuildError,
    Event,
    _Plan,
    _plan,
    _task,
    _task_id,
    chapter_inputs,
    default_notebooks_dir,
    default_out_dir,
    discover_chapters,
    resolve_targets,
)
from helpers.build.pool import (
    LOCK_FILE,
    _collect,
    _lock,
    _signals_raise,
    expected_seconds,
    fork_server,
    running_pool,
)
from helpers.build.results import (
    BuildResult,
    ChapterResult,
    SchoolYearResult,
    StaleChapter,
    _chapter_result,
)
from helpers.build.validate import _audit_gate, _validate
from helpers.report.notebooks import NotebookReadError

__all__ = [
    "CACHE_DIR",
    "FAILED_SUFFIX",
    "FAILURE_RECORD",
    "LOCK_FILE",
    "AuditStop",
    "BuildError",
    "BuildResult",
    "ChapterResult",
    "SchoolYearResult",
    "StaleChapter",
    "build",
    "chapter_inputs",
    "default_notebooks_dir",
    "default_out_dir",
    "discover_chapters",
    "resolve_targets",
]


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
    scheduler: str | None = None,
) -> BuildResult:
    """Build the reports; see the module docstring. Raises BuildError (exit 2) before any
    chapter runs when the arguments or the data are wrong, KeyboardInterrupt when stopped.

    ``kernel_reuse=False`` runs every chapter in a new kernel (the reference behaviour);
    ``figures`` is the disclosure policy (helpers.indicators.disclose: ``recomputed`` | ``published``);
    ``on_event(kind, info)`` receives "plan", "phase", "chapter_start" and "chapter_done".
    ``strict=True`` writes no index/report/manifest for a school-year with a chapter whose
    latest build failed (``SchoolYearResult.withheld`` says why; the old files stay).

    ``scheduler`` (``tcp://HOST:PORT``, or ``local`` for a LocalCluster of ``jobs`` workers)
    runs the chapters on that Dask cluster (:mod:`helpers.build.cluster`) instead of the
    local pool; ``BuildResult.where`` says where they ran.

    Workers are started by multiprocessing's fork server ("spawn" where there is none), both
    of which import the calling script again, so a script that calls this must do so under
    ``if __name__ == "__main__":``.
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
    chosen = discover_chapters(nbdir, chapters)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    from helpers.build import preflight

    # The specs are checked before anything runs, the notebooks' rep.… calls once the workers
    # are starting (that check imports the report layer: ~2 s the workers' start-up overlaps).
    if bad := preflight.spec_errors():
        raise BuildError(bad)
    # nothing built yet for these school-years (or --force): chapters will run, so the fork
    # server the workers come from starts now, before the planning
    cold = force or not any((out / s / str(y)).is_dir() for s, y in targets)

    with _lock(out), _signals_raise(), fork_server(early=cold and not scheduler):
        env = {"code": mf.code_hash(), "packages": mf.package_versions()}
        try:
            plans = [
                _plan(s, y, chosen, all_chapters, data, out, env, force, figures, chapter_inputs)
                for s, y in targets
            ]
        except NotebookReadError:  # a file that is not a notebook: the check names them all
            raise BuildError(preflight.notebook_errors(all_chapters)) from None
        tasks = [_task(p, c, data) for p in plans for c in p.chapters if c.stale]
        expected_seconds(tasks)
        for t in tasks:
            t["code"] = env["code"]  # a Dask worker checks it runs the same code
        emit("plan", {"total": len(tasks), "chapters": sum(len(p.chapters) for p in plans)})

        where = f"本机，{jobs} 个进程" if not scheduler else f"Dask 调度器 {scheduler}"
        folders = [p.folder for p in plans]
        with running_pool(len(tasks), jobs, kernel_reuse, folders, scheduler) as pool:
            if pool is not None:
                where = pool.where
            checked = out / preflight.CHECKED
            if bad := preflight.notebook_errors(all_chapters, checked, env["code"]):  # first
                raise BuildError(bad)
            _validate_and_submit(plans, tasks, data, emit, pool)
            _audit_gate(plans, allow_audit_errors)
            for plan in plans:
                plan.commit()
            finished: dict[int, tuple[list[ChapterResult], SchoolYearResult]] = {}

            def finish(plan: _Plan, results: dict[str, dict[str, Any]]) -> None:
                mine = [
                    _chapter_result(plan, c, results.get(_task_id(plan, c))) for c in plan.chapters
                ]
                _record_outcomes(plan, results)
                finished[id(plan)] = mine, _finish(plan, mine, env, data, force, emit, strict)

            results: dict[str, dict[str, Any]] = {}
            if pool is not None:
                pool.seal()
                emit("phase", {"text": "执行章节"})
                # a school-year's pages are written as soon as its last chapter returned
                results = _collect(pool, tasks, plans, emit, on_plan_done=finish)
            for plan in plans:  # those with nothing to run (or not finished above)
                if id(plan) not in finished:
                    finish(plan, results)
            chapter_results = [r for plan in plans for r in finished[id(plan)][0]]
            plan_results = [finished[id(plan)][1] for plan in plans]
            if any(r.regenerated for r in plan_results) or not (out / "index.html").is_file():
                _write_overview(out)
        return BuildResult(
            chapter_results, plan_results, time.monotonic() - t0, jobs, kernel_reuse, where
        )


def _validate_and_submit(
    plans: list[_Plan], tasks: list[dict[str, Any]], data: Path, emit: Event, pool: Any
) -> None:
    """Validate each school-year and hand its chapters to the workers as soon as its data
    passed, so that they run while the next school-years are validated. Chapters are queued
    in batches, the longest first within a batch: a batch closes after a validation that
    took time (the workers may be idle), so a build whose validation is cached queues all
    its chapters at once, longest first. Nothing is written from the results before every
    school-year passed (:func:`helpers.build.validate._audit_gate`)."""
    mine: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for t in tasks:
        mine.setdefault((t["school_id"], t["year"]), []).append(t)
    batch: list[dict[str, Any]] = []
    for plan in plans:
        t0 = time.monotonic()
        plan.validation = _validate(plan, data, emit, report_xlsx=True)  # cached when unchanged
        batch += mine.get((plan.school_id, plan.year), [])
        if pool is not None and batch and time.monotonic() - t0 > 0.1:
            pool.submit(batch)
            batch = []
    if pool is not None and batch:
        pool.submit(batch)
