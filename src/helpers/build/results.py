"""What a build returns: one result per chapter and per school-year, and the whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.build.plan import _Chapter, _Plan


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
    # what the executed notebook wrote to stderr, warnings included (helpers.build.stderr)
    warnings: list[str] = field(default_factory=list)

    @property
    def warning_groups(self) -> list[tuple[int, str]]:
        """(count, message) per kind of warning, for the build summary."""
        from helpers.build.stderr import group

        return group(self.warnings)

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
    where: str = ""  # "本机，2 个进程" or "Dask 调度器 tcp://…，N 个工作节点（…）"

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
            warnings=list(res.get("warnings") or []),
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
        list(res.get("warnings") or []),
    )
