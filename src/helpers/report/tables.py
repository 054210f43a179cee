"""The report's tables: the in-text tables (表N) and the appendix tables (附表), from data.

Appendix layouts are data (specs/appendix_tables.yaml) so an analyst can change rows without
touching code. Every number cell carries its derivation; missing cells show 未填报.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import yaml

from helpers import fmt
from helpers.indicators import disclose
from helpers.indicators.compare import change
from helpers.indicators.evaluate import IndicatorValue, value_of
from helpers.indicators.standards import check
from helpers.report import markup
from helpers.report.context import ReportContext
from helpers.specs.cache import cached
from helpers.specs.dictionary import SPECS

SATISFACTION_ITEMS = [
    "satisfaction_overall_pct",
    "satisfaction_classroom_pct",
    "satisfaction_item3_pct",
    "satisfaction_item4_pct",
    "satisfaction_public_course_pct",
    "satisfaction_major_course_pct",
]


def cell(
    iv: IndicatorValue,
    thousands: bool = False,
    unit: bool = False,
    printed: tuple[float, int] | None = None,
) -> str:
    """A table cell: the number (no unit; in 万 where the source prints it so, see
    :func:`unit_label`) with its derivation; number formats are helpers.fmt's.

    ``printed`` (value, decimals) shows the school's printed figure instead (policy
    ``published`` of helpers.indicators.disclose).
    """
    if iv.missing:
        return markup.num("", iv.derivation(), missing=True)
    value, decimals = printed or (iv.value, iv.spec.decimals)
    if iv.not_applicable or (unit and not printed):
        text = iv.table_text
    elif iv.spec.unit == "ratio":
        text = fmt.ratio(value, decimals, trim=False)
    elif iv.spec.wan and not printed:
        text = fmt.wan_number(value)
    else:
        text = fmt.number(value, decimals, thousands=thousands, trim=False)
        text = f"{iv.qualifier}{text}" if iv.qualifier else text
    return markup.num(text, iv.derivation())


class Footnotes:
    """The numbered notes of one table: where a cell differs from what the school printed
    (or is 不适用), a mark ① beside the cell and the disclosure under the table."""

    def __init__(self, rep: ReportContext):
        self.rep = rep
        self.items: list[str] = []

    def cell(self, iv: IndicatorValue | None, year: int | None = None, **kw) -> str:
        """A cell for ``iv`` (of ``year``, default the report year) with its note mark."""
        if iv is None:
            return markup.num("", f"{year} 年度无数据", missing=True)
        sy = self.rep.sy_of(year) if year is not None else self.rep.sy
        s = disclose.shown(iv, sy, None, self.rep.figures)
        html = cell(iv, printed=s.printed, **kw)
        for note in s.notes:
            label = f"{sy.year} 年{iv.spec.name}：{note}"
            if label not in self.items:
                self.items.append(label)
            html += markup.footnote_mark(self.items.index(label) + 1)
        return html

    def note(self, base: str = "") -> str:
        """The table's note: its own text, then the numbered disclosures."""
        marks = "；".join(f"{markup.footnote_symbol(i + 1)} {t}" for i, t in enumerate(self.items))
        return "。".join(p for p in (base.rstrip("。"), marks) if p) + (
            "。" if marks or base else ""
        )


def unit_label(iv: IndicatorValue) -> str:
    if iv.spec.unit in ("", "ratio"):
        return ""
    return ("万" if iv.spec.wan else "") + iv.spec.unit


@dataclass(frozen=True)
class TableDef:
    id: str
    available: Callable[[ReportContext], bool]
    render: Callable[[ReportContext, int], str]


def _year_columns(rep: ReportContext, ids: list[str], n: int) -> list[int]:
    """The last n years up to the report year that have any of these values."""
    years = [
        y
        for y, sy in rep.years_upto(n).items()
        if any(value_of(sy, i).value is not None for i in ids)
    ]
    return years


def _items_by_year(
    rep: ReportContext, number: int, title: str, ids: list[str], n: int = 2, note: str = ""
) -> str:
    years = _year_columns(rep, ids, n)
    header = ["项目", *[f"{y} 年" for y in years]]
    rows = []
    fn = Footnotes(rep)
    for iid in ids:
        ivs = [value_of(rep.sy_of(y), iid) for y in years]
        unit = unit_label(ivs[-1])
        rows.append(
            [
                markup.esc(ivs[-1].spec.name + (f"（{unit}）" if unit else "")),
                *[fn.cell(iv, y) for iv, y in zip(ivs, years, strict=True)],
            ]
        )
    return markup.table(number, title, header, rows, [False, *[True] * len(years)], fn.note(note))


def _years_as_rows(
    rep: ReportContext, number: int, title: str, cols: list[tuple[str, str]], n: int, note: str = ""
) -> str:
    ids = [c for c, _ in cols]
    years = _year_columns(rep, ids, n)
    header = ["年度", *[h for _, h in cols]]
    fn = Footnotes(rep)
    rows = [
        [markup.esc(str(y)), *[fn.cell(value_of(rep.sy_of(y), c), y) for c, _ in cols]]
        for y in years
    ]
    return markup.table(number, title, header, rows, [False, *[True] * len(cols)], fn.note(note))


def _has(ids: list[str]) -> Callable[[ReportContext], bool]:
    return lambda rep: any(value_of(rep.sy, i).value is not None for i in ids)


EMPLOYMENT_COLS = [
    ("graduates", "毕业学生数（人）"),
    ("employed_incl_further_study", "就业人数（人）"),
    ("further_study", "升学人数（人）"),
    ("employment_rate", "就业率（%）"),
    ("in_field_employment_rate", "对口就业率（%）"),
]
SECTOR_COLS = [
    ("employed_primary", "第一产业 就业人数（人）"),
    ("sector_share_primary", "第一产业 占直接就业（%）"),
    ("employed_secondary", "第二产业 就业人数（人）"),
    ("sector_share_secondary", "第二产业 占直接就业（%）"),
    ("employed_tertiary", "第三产业 就业人数（人）"),
    ("sector_share_tertiary", "第三产业 占直接就业（%）"),
]
FUNDING_COLS = [
    ("fiscal_appropriation_yuan", "财政拨款金额（元）"),
    ("fiscal_appropriation_growth", "较上年增幅（%）"),
]
KEY_INDICATORS = [
    "students_full_time",
    "enrollment",
    "graduates",
    "fulltime_teachers",
    "student_teacher_ratio",
    "dual_qualified_share",
    "employment_rate",
    "further_study_rate",
    "satisfaction_overall_pct",
    "equipment_per_student",
    "fiscal_appropriation_yuan",
    "funding_per_student",
]


def _key_indicators(rep: ReportContext, number: int) -> str:
    header = ["指标", f"{rep.year - 1} 年", f"{rep.year} 年", "变化"]
    rows = []
    fn = Footnotes(rep)
    for iid in KEY_INDICATORS:
        cur, prev = (
            value_of(rep.sy, iid),
            (value_of(rep.sy.previous, iid) if rep.sy.previous else None),
        )
        c = change(rep.sy, iid)
        unit = unit_label(cur)
        rows.append(
            [
                markup.esc(cur.spec.name + (f"（{unit}）" if unit else "")),
                fn.cell(prev, rep.year - 1),
                fn.cell(cur),
                markup.esc(c.phrase()) if c else "—",
            ]
        )
    return markup.table(
        number,
        f"{rep.year} 年度主要指标",
        header,
        rows,
        [False, True, True, False],
        fn.note(
            "“变化”按未经四舍五入的数值计算，且只比较口径相同的数值；任一年度缺少数据时不作比较"
        ),
    )


TABLES: dict[str, TableDef] = {
    t.id: t
    for t in [
        TableDef("key_indicators", _has(KEY_INDICATORS), _key_indicators),
        TableDef(
            "satisfaction",
            _has(SATISFACTION_ITEMS),
            lambda rep, n: _items_by_year(
                rep,
                n,
                "学生在校体验满意度",
                SATISFACTION_ITEMS,
                note="原报告表1第3、4、5列的表头都印为“课堂育人满意度”，本表按原文保留三项。",
            ),
        ),
        TableDef(
            "employment",
            _has([c for c, _ in EMPLOYMENT_COLS]),
            lambda rep, n: _years_as_rows(
                rep,
                n,
                "就业人数、就业率、对口就业率",
                EMPLOYMENT_COLS,
                2,
                "就业人数含升学；对口就业率以直接就业人数为分母。",
            ),
        ),
        TableDef(
            "sectors",
            _has([c for c, _ in SECTOR_COLS]),
            lambda rep, n: _years_as_rows(
                rep,
                n,
                "毕业生就业产业分布",
                SECTOR_COLS,
                2,
                "占比以直接就业人数（就业人数 − 升学人数）为分母。",
            ),
        ),
        TableDef(
            "funding",
            _has(["fiscal_appropriation_yuan"]),
            lambda rep, n: _years_as_rows(rep, n, "近年财政拨款情况", FUNDING_COLS, 3),
        ),
    ]
}


@cached
def appendix_layouts() -> list[dict]:
    """The 附表 layouts from specs/appendix_tables.yaml."""
    return yaml.safe_load((SPECS / "appendix_tables.yaml").read_text(encoding="utf-8"))["tables"]


def appendix_table(rep: ReportContext, layout: dict) -> str:
    """One 附表: indicator, unit, previous year, this year, standard verdict."""
    header = ["指标", "单位", f"{rep.year - 1} 年", f"{rep.year} 年", "国家标准", "达标情况"]
    rows = []
    fn = Footnotes(rep)
    for row in layout["rows"]:
        iid = row if isinstance(row, str) else row["id"]
        cur = value_of(rep.sy, iid)
        prev = value_of(rep.sy.previous, iid) if rep.sy.previous else None
        name = cur.spec.name if isinstance(row, str) else row.get("label", cur.spec.name)
        results = check(rep.sy, iid)
        rows.append(
            [
                markup.esc(name),
                markup.esc("比值" if cur.spec.unit == "ratio" else unit_label(cur)),
                fn.cell(prev, rep.year - 1),
                fn.cell(cur),
                markup.esc("；".join(r.standard["text"] for r in results)) or "—",
                markup.esc("；".join(r.verdict for r in results)) or "—",
            ]
        )
    anchor = "appx-" + layout["id"]
    return markup.table(
        None,
        layout["title"],
        header,
        rows,
        [False, False, True, True, False, False],
        fn.note(layout.get("note", "")),
        anchor=anchor,
    )
