"""Writing a school-year's pages: index.html, report.html, manifest.json, the stale-chapter
notices (a failing chapter keeps its previous HTML, marked as such), and reports/index.html.

index.html and report.html are made of the parts of the chapter pages
(helpers.report.pagetree.PageParts) that the worker cut when it rendered them and the build
keeps beside each page (``.build/<chapter>.parts.json``, keyed by the page's sha256), so that
assembling them parses no chapter page; a page without a record of its own (a stale notice
added, a page from an earlier version) is parsed once, and its record written.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.build import manifest as mf
from helpers.build.plan import CACHE_DIR, FAILURE_RECORD, Event, _Plan, _task_id
from helpers.build.results import ChapterResult, SchoolYearResult, StaleChapter


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


PARTS_RECORD = ".parts.json"  # .build/<chapter>.parts.json: what assembly takes of its page


def parts_path(folder: Path, stem: str) -> Path:
    return folder / CACHE_DIR / f"{stem}{PARTS_RECORD}"


def save_parts(folder: Path, stem: str, record: Mapping[str, Any]) -> None:
    """Keep the parts of a chapter page beside it (atomically; a record of another page is
    never used: it is keyed by the page's sha256)."""
    mf.write_json(parts_path(folder, stem), record)


def with_parts(folder: Path, pages: Sequence[Any]) -> list[Any]:
    """The chapter pages (render.ChapterPage) with their parts: the record kept beside the
    page when it is this page's, else from one parse of the page (and then recorded)."""
    from helpers.report import pagetree

    out = []
    for p in pages:
        if p.html and p.parts is None:
            path = parts_path(folder, p.stem)
            record = mf.read_json(path)
            parts = pagetree.PageParts.from_json(record, p.html) if record else None
            if parts is None:
                parts = pagetree.page_parts(p.html)
                if parts.source == p.html and path.parent.is_dir():
                    save_parts(folder, p.stem, parts.to_json())
            p = dataclasses.replace(p, parts=parts)
        out.append(p)
    return out


def assemble(
    folder: Path,
    pages: list[Any],
    school_name: str,
    year: int,
    footer: str,
    built_at: str,
    title: str | None = None,
) -> tuple[str, str]:
    """report.html and index.html of a folder's chapter pages (a school-year's or the
    regional summary's), with the font file they link to put beside them."""
    from helpers.report import render

    pages = with_parts(folder, pages)
    report = render.combine(
        pages, school_name=school_name, year=year, footer=footer, title=title, built_at=built_at
    )
    index = render.index_page(
        [(f"{p.stem}.html" if p.html else None, p.title) for p in pages],
        school_name=school_name,
        year=year,
        footer=footer,
        title=title,
        built_at=built_at,
        pages=pages,
    )
    font = folder / render.FONT_ASSET
    if not font.is_file() or font.read_bytes() != render.FONT_FILE.read_bytes():
        mf.write_bytes(font, render.FONT_FILE.read_bytes())
    return report, index


def _write_pages(
    plan: _Plan, env: dict[str, Any], data_dir: Path, stale: Sequence[StaleChapter] = ()
) -> None:
    from helpers import __version__
    from helpers.exchange.report_xlsx import write_report_xlsx
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
    report, index = assemble(
        plan.folder, pages, school_name, plan.year, footer, manifest["built_at"]
    )
    index_path, report_path, manifest_path = plan.outputs
    mf.write_text(report_path, report)
    # the 附表 and indicators as a workbook for the bureau (helpers/exchange/report_xlsx.py)
    xlsx = report_path.with_suffix(".xlsx")
    if plan.report_xlsx is not None:  # made when the data was validated, in this build
        mf.write_bytes(xlsx, plan.report_xlsx)
        plan.report_xlsx = None
    else:
        write_report_xlsx(plan.school_id, plan.year, data_dir, xlsx)
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
