"""What the summary notebooks call (``notebooks/summary/*.ipynb``)::

    s = open_summary(year, schools, data_dir, reports_dir, chapter="1")
    s.overview()            # who is covered, and how missing figures and outliers are treated
    s.totals()              # 表1-1 区域合计
    s.distribution()        # 表1-2 主要指标分布
    s.charts("师资队伍")     # 图1-1 …: each key indicator across schools
    s.standards()           # 达标 counts per national standard
    s.schools_standards()   # every school against every standard
    s.schools_indicators()  # every school's other key indicators, linked to its report
    s.schools_audit()       # every school's 达标 count and audit counts
    s.outliers()            # the schools outside 1.5 IQR

Each call returns HTML (helpers.report.api.Html) that JupyterLab and nbconvert display; the
arithmetic is helpers.summary.stats, the figures each school's report prints
(helpers.summary.collect). 表/图 are numbered within the chapter (表1-2, 图2-1).
"""

from __future__ import annotations

import os
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import fmt, paths
from helpers.report import interactive, markup
from helpers.report.api import Html
from helpers.specs.dictionary import load_dictionary
from helpers.specs.registry import fact_spec, registry
from helpers.summary import charts, keys, stats
from helpers.summary.collect import Collected, collect

MARK_MET, MARK_NOT_MET = "达标", "未达标"


def spec_of(iid: str) -> Any:
    """The indicator's spec, or a fact's (name, unit, decimals)."""
    return registry().indicators.get(iid) or fact_spec(iid)


def number(iid: str, value: float | None, spread: bool = False, unit: bool = True) -> str:
    """A figure of ``iid`` as a table cell prints it (unit, the indicator's decimals kept
    even for a whole number, so a column reads 20.00 beside 18.23); 未填报 when missing.
    ``spread``: a median or quartile of a count may fall between two integers (one decimal);
    ``unit=False``: the number alone (a ratio stays ``1:x``), for a column that names it."""
    if value is None or pd.isna(value):
        return fmt.MISSING
    spec = spec_of(iid)
    decimals = spec.decimals if spec.decimals >= 0 else fmt.decimals_for(float(value))
    if spread and decimals == 0 and float(value) != int(float(value)):
        decimals = 1
    if not unit and spec.unit != "ratio":
        return fmt.number(float(value), decimals, thousands=True, trim=False)
    thousands = spec.unit != "ratio"
    return fmt.with_unit(float(value), spec.unit, decimals, thousands=thousands, trim=False)


def label_with_unit(iid: str) -> str:
    """``生均纸质图书（册/生）``: the short label with the unit the numbers beside it omit."""
    spec = spec_of(iid)
    short = keys.SHORT.get(iid, spec.name)
    return f"{short}（{spec.unit}）" if spec.unit and spec.unit != "ratio" else short


def _cn(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)


def _fences(iid: str, low: float, high: float) -> str:
    """The range between the fences; a lower fence below 0 bounds nothing for a count."""
    if low < 0:
        return f"不高于 {number(iid, high)}"
    return f"{number(iid, low)} 至 {number(iid, high)}"


def missing_text(n: int) -> str:
    """``3 所学校未填报`` (empty when none)."""
    return f"{n} 所学校未填报" if n else ""


class Summary:
    """The regional summary of one year: every school's figures and what they add up to."""

    def __init__(
        self,
        data: Collected,
        reports_dir: str | os.PathLike[str] | None = None,
        chapter: str = "1",
    ):
        self.data = data
        self.year = data.year
        self.reports_dir = Path(reports_dir) if reports_dir else paths.repo_root() / "reports"
        self.chapter = str(chapter)
        self._counters = {"figure": 0, "table": 0}

    # ------------------------------------------------------------------ data
    @property
    def values(self) -> pd.DataFrame:
        return self.data.values

    @cached_property
    def standards_list(self) -> list[dict[str, Any]]:
        return list(registry().standards)

    @cached_property
    def status(self) -> pd.DataFrame:
        return stats.standards_status(self.values, self.standards_list)

    @property
    def n(self) -> int:
        return len(self.data.schools)

    def _number(self, kind: str) -> str:
        self._counters[kind] += 1
        return f"{self.chapter}-{self._counters[kind]}"

    def report_href(self, school_id: str) -> str | None:
        """The school's report relative to the summary's folder (summary/<Y>/), or None
        when it has not been built (yet)."""
        if not (self.reports_dir / school_id / str(self.year) / "report.html").is_file():
            return None
        return f"../../{school_id}/{self.year}/report.html"

    def school_cell(self, school_id: str, name: str) -> str:
        href = self.report_href(school_id)
        if href is None:
            return markup.esc(name) + markup.span("（报告尚未生成）", "nb-muted")
        return f'<a href="{markup.esc(href)}">{markup.esc(name)}</a>'

    def _school_table(
        self, title: str, header: list[str], rows: list[list[str]], note: str = ""
    ) -> str:
        """A table of one row per school whose long column headers may wrap (numeric columns
        never do), so that it fits a printed page: the figures are right-aligned in their cells."""
        right = [[r[0], *(f'<span class="nb-cell-n">{c}</span>' for c in r[1:])] for r in rows]
        return markup.table(self._number("table"), title, header, right, None, note=note)

    # ------------------------------------------------------------------ what cells call
    def overview(self) -> Html:
        names = "、".join(self.data.schools["school_name"].head(10))
        more = f"等 {self.n} 所学校" if self.n > 10 else f"共 {self.n} 所学校"
        text = (
            f"本报告汇总{names}{more} {self.year} 年度的质量年度报告数据。每项数值都由各校原始数据"
            "按与学校报告相同的定义计算；某校未填报的数据记为“未填报”，不计为 0，"
            "也不计入合计、中位数和四分位数，表中注明未填报的学校数。"
        )
        return Html(interactive.style_once() + markup.para(markup.esc(text)))

    def totals(self) -> Html:
        """区域合计: the counts summed, and the regional ratios from summed counts."""
        t = stats.totals(self.values, keys.TOTALS)
        d = load_dictionary()
        rows = [
            [
                markup.esc(d.label(r.indicator)),
                markup.esc(number(r.indicator, r.total)),
                markup.esc(f"{r.reported} 所"),
                markup.esc(f"{r.missing} 所"),  # as the columns beside it
            ]
            for r in t.itertuples()
        ]
        table = markup.table(
            self._number("table"),
            "区域合计",
            ["项目", "合计", "填报学校", "未填报"],
            rows,
            [False, True, True, False],
            note="合计只计填报该项的学校。",
        )
        p = stats.pooled(self.values, keys.POOLED)
        prow = [
            [
                markup.esc(spec_of(r.indicator).name),
                markup.esc(number(r.indicator, r.value)),
                markup.esc(f"{r.schools} 所"),
            ]
            for r in p.itertuples()
        ]
        ptable = markup.table(
            self._number("table"),
            "区域总体指标（按合计数计算）",
            ["指标", "区域值", "计入学校"],
            prow,
            [False, True, True],
            note="区域值 = 各校分子之和 ÷ 各校分母之和，只计分子、分母都填报的学校。",
        )
        return Html(table + ptable)

    def distribution(self) -> Html:
        """主要指标的分布: reporting schools, min, quartiles, median, max (the unit in the
        indicator's cell, so that the table fits a printed page)."""
        ids = list(keys.KEY_INDICATORS)
        dist = stats.distribution(self.values, ids)
        rows = []
        lacking = []
        for r in dist.itertuples():
            cells = [label_with_unit(r.indicator), f"{r.reported} 所", f"{r.missing} 所"]
            cells += [
                number(r.indicator, getattr(r, c), spread=True, unit=False)
                for c in ("min", "q1", "median", "q3", "max")
            ]
            rows.append([markup.esc(c) for c in cells])
            if r.missing:
                lacking.append(f"{keys.KEY_INDICATORS[r.indicator]} {missing_text(r.missing)}")
        note = "中位数与四分位数只计填报该指标的学校（四分位数按线性插值）；未填报的学校不计为 0。"
        if lacking:
            note += "未填报：" + "；".join(lacking) + "。"
        return Html(
            markup.table(
                self._number("table"),
                "主要指标在各校间的分布",
                [
                    "指标",
                    "填报",
                    "未填报",
                    "最小值",
                    "下四分位数",
                    "中位数",
                    "上四分位数",
                    "最大值",
                ],
                rows,
                [False, True, True, True, True, True, True, True],
                note=note,
            )
        )

    def charts(self, group: str) -> Html:
        """图: the key indicators of a group (keys.CHART_GROUPS) across schools."""
        ids = keys.CHART_GROUPS[group]
        w = stats.wide(self.values, ids)
        lines = {s["indicator"]: s for s in self.standards_list}
        png = charts.distribution_png(
            w, {i: keys.KEY_INDICATORS[i] for i in ids}, {i: spec_of(i) for i in ids}, lines
        )
        title = f"{group}：各校主要指标分布（{self.year} 年度）"
        note = "每个点为一所学校；箱体为上下四分位数，中线为中位数；虚线为国家标准。未填报的学校不画出。"
        return Html(markup.figure_png(png, self._number("figure"), title, alt=title, note=note))

    def standards(self) -> Html:
        """达标: per national standard, how many schools meet it (and how many do not report)."""
        counts = stats.standards_counts(self.status, self.standards_list)
        rows = [
            [
                markup.esc(r.text),
                markup.esc(f"{r.met} 所"),
                markup.esc(f"{r.not_met} 所"),
                markup.esc(f"{r.missing} 所"),  # as the columns beside it
                markup.esc(self._share(r.met, r.met + r.not_met)),
            ]
            for r in counts.itertuples()
        ]
        return Html(
            markup.table(
                self._number("table"),
                "各项国家标准的达标学校数",
                ["标准", "达标", "未达标", "未填报", "达标率（填报学校中）"],
                rows,
                [False, True, True, False, True],
                note="标准见 specs/thresholds.yaml；未填报的学校既不计为达标，也不计为未达标。",
            )
        )

    @staticmethod
    def _share(part: int, whole: int) -> str:
        return fmt.percent(part / whole * 100, trim=False) if whole else "—"

    def schools_standards(self, per_table: int = 4) -> Html:
        """Every school's figure for each standard, marked 达标 / 未达标 / 未填报: one table
        per ``per_table`` standards, so that each fits the page."""
        std = list(enumerate(self.standards_list))
        parts = max(1, -(-len(std) // per_table))  # as few tables as fit, evenly filled
        size, extra = divmod(len(std), parts)
        bounds = [i * size + min(i, extra) for i in range(parts + 1)]
        chunks = [std[a:b] for a, b in pairwise(bounds)]
        by_school = {sid: g.set_index("standard") for sid, g in self.status.groupby("school_id")}
        out = []
        for part, chunk in enumerate(chunks, 1):
            header = ["学校", *[label_with_unit(s["indicator"]) for _, s in chunk]]
            rows = []
            for sid, name in self.data.schools.itertuples(index=False):
                g = by_school[sid]
                cells = [self.school_cell(sid, name)]
                for i, s in chunk:
                    cells.append(
                        self._standard_cell(s["indicator"], g.loc[i, "value"], g.loc[i, "met"])
                    )
                rows.append(cells)
            title = "各校对照国家标准" + (f"（{_cn(part)}）" if len(chunks) > 1 else "")
            note = "未填报的项既不计为达标，也不计为未达标。" if part == len(chunks) else ""
            out.append(self._school_table(title, header, rows, note))
        return Html("".join(out))

    @staticmethod
    def _standard_cell(iid: str, value: Any, met: Any) -> str:
        if pd.isna(met):
            return markup.span(fmt.MISSING, "nb-missing-cell")
        mark = MARK_MET if met else MARK_NOT_MET
        cls = "nb-met" if met else "nb-not-met"  # styled by report.css
        text = markup.esc(number(iid, value, unit=False))
        return f'{text}<br><span class="{cls}">{mark}</span>'

    def schools_indicators(self) -> Html:
        """Every school's other key indicators, linked to its report."""
        ids = [
            "students_full_time",
            "employment_rate",
            "further_study_rate",
            "satisfaction_overall_pct",
            "funding_per_student",
        ]
        w = stats.wide(self.values, ids)
        rows = []
        for sid, name in self.data.schools.itertuples(index=False):
            cells = [self.school_cell(sid, name)]
            cells += [markup.esc(number(i, w.loc[sid, i], unit=False)) for i in ids]
            rows.append(cells)
        header = ["学校", *[label_with_unit(i) for i in ids]]
        note = "学校名称链接到该校的报告。"
        return Html(self._school_table("各校学生发展与经费指标", header, rows, note))

    def schools_audit(self) -> Html:
        """Every school's 达标 count and audit counts (its report's 数据核验), linked."""
        audit = self.data.audit.set_index("school_id") if len(self.data.audit) else None
        met = stats.met_counts(self.status)
        rows = []
        for sid, name in self.data.schools.itertuples(index=False):
            cells = [self.school_cell(sid, name)]
            cells.append(markup.esc(f"{met.loc[sid, 'met']}/{met.loc[sid, 'reported']}"))
            if audit is not None and sid in audit.index:
                cells += [markup.esc(str(audit.loc[sid, k])) for k in ("error", "warning", "info")]
            else:
                cells += [markup.esc("—")] * 3
            rows.append(cells)
        header = ["学校", "达标项数", "核验错误", "核验警告", "核验提示"]
        note = (
            "达标项数 = 达标的国家标准数 / 已填报的标准数（未填报的不计入）；核验条数与"
            "各校报告附录“数据核验”所列相同（含上一年度的数据）。"
        )
        return Html(self._school_table("各校达标项数与数据核验", header, rows, note))

    def outliers(self) -> Html:
        """The schools outside 1.5 IQR of a key indicator, with the definition stated."""
        ids = list(keys.KEY_INDICATORS)
        out = stats.outliers(self.values, ids)
        k = fmt.number(keys.OUTLIER_K, 1)
        rule = (
            f"离群值的定义：某项指标低于“下四分位数 − {k} × 四分位距”或高于“上四分位数 + {k} × "
            f"四分位距”的学校（四分位距 = 上四分位数 − 下四分位数，只计填报该指标的学校；"
            f"填报学校少于 {keys.OUTLIER_MIN_SCHOOLS} 所的指标不判断离群值）。"
        )
        if out.empty:
            return Html(markup.para(markup.esc(rule + "按此定义，本年度没有离群值。")))
        names = dict(self.data.schools.itertuples(index=False))
        rows = [
            [
                self.school_cell(r.school_id, names[r.school_id]),
                markup.esc(spec_of(r.indicator).name),
                markup.esc(number(r.indicator, r.value)),
                markup.esc("偏高" if r.side == "high" else "偏低"),
                markup.esc(_fences(r.indicator, r.low, r.high)),
            ]
            for r in out.itertuples()
        ]
        return Html(
            markup.para(markup.esc(rule))
            + markup.table(
                self._number("table"),
                "离群值",
                ["学校", "指标", "数值", "方向", "正常范围"],
                rows,
                [False, False, True, False, True],
            )
        )


def open_summary(
    year: int,
    schools: list[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    reports_dir: str | os.PathLike[str] | None = None,
    chapter: str = "1",
    audit: bool = True,
) -> Summary:
    """Load every school's year (the build's validated data when fresh) for a summary notebook."""
    return Summary(collect(int(year), schools, data_dir, audit=audit), reports_dir, chapter)
