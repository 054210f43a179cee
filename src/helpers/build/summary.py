"""Build the regional summary: ``<out>/summary/<year>/`` from ``notebooks/summary/*.ipynb``.

:func:`build_summary` is what ``nianbao summary`` runs. It reuses the school build's steps:

1. validates every school-year (:func:`helpers.build.validate._validate`, cached in the
   school's own ``<out>/<school>/<year>/.build/``, so a school built before is not
   validated again) and writes its processed data, which the summary notebooks load;
2. works out which summary notebooks are stale: a notebook's key hashes its content, the
   helpers' code, every school's raw files, the parameters, the package versions and which
   school reports exist (the summary links to them);
3. executes the stale ones in the build's pool of warm kernels (:mod:`helpers.build.pool`),
   rendering each like a school chapter, and writes ``index.html``, ``report.html`` and
   ``summary.json`` (:func:`helpers.report.render.combine` / ``index_page``).

A summary never stops on audit errors: it shows each school's audit counts. Invalid data
stops it (BuildError naming the file) before anything is written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build import manifest as mf
from helpers.build.pages import _record_outcomes, _stale_chapters, assemble
from helpers.build.plan import (
    BuildError,
    Event,
    _Chapter,
    _kernel_name,
    _Plan,
    _plan,
    _task,
    _task_id,
    chapter_inputs,
    default_notebooks_dir,
    default_out_dir,
    discover_chapters,
    resolve_targets,
    staleness,
)
from helpers.build.pool import _collect, _lock, _signals_raise, running_pool
from helpers.build.results import ChapterResult, _chapter_result
from helpers.build.validate import _validate

SUMMARY_DIR = "summary"  # <out>/summary/<year>/
TITLE = "中等职业教育质量年度报告区域汇总"
MANIFEST = "summary.json"  # not manifest.json: reports/index.html lists school reports only


@dataclass
class SummaryResult:
    year: int
    folder: Path
    index: Path
    report: Path
    schools: list[str]
    chapters: list[ChapterResult] = field(default_factory=list)
    regenerated: bool = False
    seconds: float = 0.0
    audit_errors: dict[str, int] = field(default_factory=dict)  # school → error count

    @property
    def failed(self) -> list[ChapterResult]:
        return [c for c in self.chapters if c.status == "failed"]

    @property
    def executed(self) -> list[ChapterResult]:
        return [c for c in self.chapters if c.status == "executed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def default_summary_notebooks() -> Path:
    return default_notebooks_dir() / SUMMARY_DIR


def summary_title(year: int) -> str:
    return f"{TITLE}（{int(year)}年度）"


def summary_schools(year: int, schools: Sequence[str] | None, data_dir: Path) -> list[str]:
    """The schools to summarise: those named (each must have the year), else every school
    of the data folder with a folder for the year."""
    if SUMMARY_DIR in (schools or paths.list_schools(data_dir)):
        raise BuildError(
            f"学校编号 {SUMMARY_DIR!r} 与汇总报告的目录 <报告目录>/{SUMMARY_DIR}/ 冲突，请为该校改用其他编号"
        )
    if schools:
        return [s for s, _ in resolve_targets(schools, [year], data_dir)]
    found = [s for s in paths.list_schools(data_dir) if year in paths.list_years(s, data_dir)]
    if not found:
        raise BuildError(f"{data_dir} 下没有学校有 {year} 年度的数据（需要 <学校>/{year}/）")
    return found


def _summary_plan(
    year: int,
    notebooks: list[Path],
    school_plans: list[_Plan],
    data: Path,
    out: Path,
    env: dict[str, Any],
    force: bool,
) -> _Plan:
    folder = out / SUMMARY_DIR / str(year)
    schools = [p.school_id for p in school_plans]
    params = {
        "year": year,
        "schools": schools,
        "data_dir": str(data),
        "reports_dir": str(out),
    }
    data_digest = mf.sha256_json({p.school_id: p.raw_digest for p in school_plans})
    # the links: a school report built (or removed) since changes the summary's pages
    linked = [s for s in schools if (out / s / str(year) / "report.html").is_file()]
    chapters = []
    for nb in notebooks:
        components = {
            "schema": mf.SCHEMA,
            "notebook": mf.notebook_hash(nb),
            "code": env["code"],
            "data": data_digest,
            "parameters": params,
            "packages": env["packages"],
            "reports": linked,
        }
        key = mf.sha256_json(components)
        record, stale, reason = staleness(folder, nb.stem, key, components, force)
        chapters.append(
            _Chapter(nb.stem, nb, _kernel_name(nb), components, key, [], record, stale, reason)
        )
    return _Plan(SUMMARY_DIR, year, folder, data_digest, {}, chapters, notebooks, "", params)


def build_summary(
    year: int,
    schools: Sequence[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    notebooks_dir: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    kernel_reuse: bool = True,
    on_event: Event | None = None,
) -> SummaryResult:
    """Build ``<out>/summary/<year>/``; see the module docstring. Raises BuildError (exit 2)
    before anything runs when the arguments or a school's data are wrong."""
    t0 = time.monotonic()
    year = int(year)
    emit: Event = on_event or (lambda kind, info: None)
    data = paths.raw_root(data_dir)
    out = Path(out_dir).resolve() if out_dir else default_out_dir()
    nbdir = Path(notebooks_dir).resolve() if notebooks_dir else default_summary_notebooks()
    chosen = summary_schools(year, schools, data)
    notebooks = discover_chapters(nbdir)
    school_chapters = discover_chapters(default_notebooks_dir())  # the validation cache key
    jobs = max(1, int(jobs or os.cpu_count() or 1))

    with _lock(out), _signals_raise():
        env = {"code": mf.code_hash(), "packages": mf.package_versions()}
        school_plans = [
            _plan(s, year, [], school_chapters, data, out, env, False, "recomputed", chapter_inputs)
            for s in chosen
        ]
        for p in school_plans:
            p.validation = _validate(p, data, emit)  # cached when unchanged
        plan = _summary_plan(year, notebooks, school_plans, data, out, env, force)
        tasks = [_task(plan, c, data) for c in plan.chapters if c.stale]
        emit("plan", {"total": len(tasks), "chapters": len(plan.chapters)})
        with running_pool(len(tasks), jobs, kernel_reuse, [plan.folder]) as pool:
            results: dict[str, dict[str, Any]] = {}
            if pool is not None:
                emit("phase", {"text": "执行汇总笔记本"})
                for t in tasks:
                    t["code"] = env["code"]
                pool.submit(tasks)
                pool.seal()
                results = _collect(pool, tasks, [plan], emit)
            chapters = [
                _chapter_result(plan, c, results.get(_task_id(plan, c))) for c in plan.chapters
            ]
            _record_outcomes(plan, results)
            index, report = plan.folder / "index.html", plan.folder / "report.html"
            regenerate = (
                force
                or any(c.status == "executed" for c in chapters)
                or not index.is_file()
                or not report.is_file()
            )
            if regenerate:
                emit("phase", {"text": f"生成汇总报告 {year}"})
                _write_pages(plan, school_plans, env)
    errors = {
        p.school_id: n
        for p in school_plans
        if (n := sum(f["severity"] == "error" for f in (p.validation or {}).get("findings", [])))
    }
    return SummaryResult(
        year,
        plan.folder,
        index,
        report,
        chosen,
        chapters,
        regenerate,
        time.monotonic() - t0,
        errors,
    )


def _write_pages(plan: _Plan, school_plans: list[_Plan], env: dict[str, Any]) -> None:
    """index.html, report.html and summary.json of the summary (the school report's pages)."""
    from helpers import __version__
    from helpers.report import render

    stale = {c.chapter: c for c in _stale_chapters(plan)}
    pages = []
    for nb in plan.all_chapters:
        rec = mf.read_json(plan.cache / f"{nb.stem}.json") or {}
        html_path = plan.folder / f"{nb.stem}.html"
        page = html_path.read_text(encoding="utf-8") if html_path.is_file() else None
        failure = stale.get(nb.stem)
        kept = failure if failure is not None and failure.kept else None
        if page is not None:
            shown = render.mark_stale(page, kept.kept_since) if kept else render.unmark_stale(page)
            if shown != page:
                mf.write_text(html_path, shown)
                page = shown
        pages.append(
            render.ChapterPage(
                nb.stem,
                str(rec.get("title") or nb.stem),
                page,
                failure is not None,
                kept.kept_since if kept else None,
            )
        )
    manifest = {
        "kind": "summary",
        "year": plan.year,
        "title": summary_title(plan.year),
        "schools": [
            {
                "school_id": p.school_id,
                "school_name": (p.validation or {}).get("school_name", p.school_id),
                "raw_digest": p.raw_digest,
            }
            for p in school_plans
        ],
        "parameters": plan.parameters,
        "data_hash": plan.raw_digest,
        "code": {
            "helpers_version": __version__,
            "code_hash": env["code"],
            "git": mf.git_info(paths.repo_root()),
        },
        "packages": env["packages"],
        "built_at": mf.now_iso(),
        "chapters": [
            {"chapter": p.stem, "title": p.title, "html": f"{p.stem}.html" if p.html else None}
            for p in pages
        ],
    }
    footer = mf.footer_text(manifest)
    label = f"{len(school_plans)} 所中等职业学校"
    title = summary_title(plan.year)
    report, index = assemble(
        plan.folder, pages, label, plan.year, footer, manifest["built_at"], title
    )
    mf.write_text(plan.folder / "report.html", report)
    mf.write_text(plan.folder / "index.html", index)
    mf.write_json(plan.folder / MANIFEST, manifest)
