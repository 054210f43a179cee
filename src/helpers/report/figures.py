"""The report's charts, each drawn from the data by one function (seaborn via helpers.report.charts).

Each figure says whether the school-year has data for it (``available``) so that numbering
图N is known before anything is drawn, and a chapter never draws an empty chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from helpers.indicators.evaluate import value_of
from helpers.report.context import ReportContext

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.figure import Figure


def _charts() -> ModuleType:
    """helpers.report.charts, imported when a chart is drawn: reading FIGURES (the build's
    notebook check, in its main process) does not import matplotlib and seaborn (≈0.5 s)."""
    from helpers.report import charts

    return charts


@dataclass(frozen=True)
class FigureDef:
    id: str
    title: Callable[[ReportContext], str]
    data: Callable[[ReportContext], pd.DataFrame]
    draw: Callable[[pd.DataFrame], Figure]
    note: Callable[[ReportContext], str] = lambda rep: ""


ENROLLMENT_SERIES = (("enrollment", "招生人数"), ("graduates", "毕业人数"))


def _enrollment(rep: ReportContext) -> pd.DataFrame:
    rows = []
    for y, sy in rep.years_upto(3).items():
        for fid, label in ENROLLMENT_SERIES:
            v = sy.value(fid)
            if v is not None:
                rows.append({"年度": str(y), "指标": label, "人数": v})
    return pd.DataFrame(rows, columns=["年度", "指标", "人数"])


def _dual(rep: ReportContext) -> pd.DataFrame:
    rows = [
        {"层级": label, "人数": rep.sy.value(f"dual_qualified_{k}")}
        for k, label in (("senior", "高级"), ("intermediate", "中级"), ("junior", "初级"))
    ]
    df = pd.DataFrame(rows)
    return df if df["人数"].notna().all() else df.iloc[0:0]


def _satisfaction(rep: ReportContext) -> pd.DataFrame:
    from helpers.report.tables import SATISFACTION_ITEMS

    rows = []
    for y, sy in rep.years_upto(2).items():
        for fid in SATISFACTION_ITEMS:
            iv = value_of(sy, fid)
            if iv.value is not None:
                rows.append({"项目": _short(iv.spec.name), "年度": str(y), "满意度（%）": iv.value})
    return pd.DataFrame(rows, columns=["项目", "年度", "满意度（%）"])


def _satisfaction_note(rep: ReportContext) -> str:
    from helpers.report.tables import SATISFACTION_ITEMS

    labels = tuple(_short(value_of(rep.sy, fid).spec.name) for fid in SATISFACTION_ITEMS)
    return gaps_note(_satisfaction(rep), "年度", "项目", labels)


def _short(label: str) -> str:
    return (
        label.replace("（不含思想政治课）", "")
        .replace("教学满意度", "教学")
        .replace("满意度", "")
        .replace("（原报告表1第", "（原表第")
        .strip()
    )


def _destinations(rep: ReportContext) -> pd.DataFrame:
    sy = rep.sy
    parts = [
        ("升学", sy.value("further_study")),
        ("第一产业就业", sy.value("employed_primary")),
        ("第二产业就业", sy.value("employed_secondary")),
        ("第三产业就业", sy.value("employed_tertiary")),
    ]
    grads, employed = sy.value("graduates"), sy.value("employed_incl_further_study")
    if grads is not None and employed is not None:
        parts.append(("未就业", grads - employed))
    if any(v is None for _, v in parts):
        return pd.DataFrame(columns=["去向", "人数"])
    return pd.DataFrame([{"去向": k, "人数": v} for k, v in parts if v > 0])


def _awards(rep: ReportContext) -> pd.DataFrame:
    rows = []
    for y, sy in rep.years_upto(3).items():
        t = sy.table("awards")
        if t is None:
            continue
        for level, n in t.groupby("level", sort=False)["count"].sum().items():
            rows.append({"年度": str(y), "级别": level, "获奖数（项）": float(n)})
    return pd.DataFrame(rows, columns=["年度", "级别", "获奖数（项）"])


def awards_missing(rep: ReportContext) -> str:
    """The sentence for a report year without awards data (file absent or header only), else "".

    The summary and the chart of §1.2.5 show earlier years too; without this sentence a reader
    would take them for the whole picture.
    """
    return "" if rep.sy.table("awards") is not None else f"{rep.year} 年度未填报技能大赛获奖数据。"


def _funding(rep: ReportContext) -> pd.DataFrame:
    rows = [
        {
            "年度": str(y),
            "指标": "财政拨款",
            "金额（万元）": sy.value("fiscal_appropriation_yuan") / 10000,
        }
        for y, sy in rep.years_upto(3).items()
        if sy.value("fiscal_appropriation_yuan") is not None
    ]
    return pd.DataFrame(rows, columns=["年度", "指标", "金额（万元）"])


def gaps_note(df: pd.DataFrame, year: str, series: str, labels: tuple[str, ...]) -> str:
    """The sentence naming each series a drawn year lacks (``2023 年招生人数缺少数据，未绘出。``).

    A chart shows the years it has any data for; a bar missing inside one of them would
    otherwise read as an omission, or as zero."""
    if len(df) == 0:
        return ""
    missing = []
    for y in sorted(set(df[year])):
        have = set(df.loc[df[year] == y, series])
        absent = [label for label in labels if label not in have]
        if absent:
            missing.append(f"{y} 年{'、'.join(absent)}")
    return f"{'；'.join(missing)}缺少数据，未绘出。" if missing else ""


def _enrollment_note(rep: ReportContext) -> str:
    return gaps_note(
        _enrollment(rep), "年度", "指标", tuple(label for _, label in ENROLLMENT_SERIES)
    )


def _years(df: pd.DataFrame) -> str:
    years = sorted(set(df["年度"])) if len(df) else []
    return f"{years[0]}—{years[-1]} 年" if len(years) > 1 else (f"{years[0]} 年" if years else "")


FIGURES: dict[str, FigureDef] = {
    f.id: f
    for f in [
        FigureDef(
            "enrollment_graduates",
            lambda rep: f"{_years(_enrollment(rep))}招生与毕业人数",
            _enrollment,
            lambda df: _charts().bar_chart(df, x="年度", y="人数", hue="指标", ylabel="人数（人）"),
            _enrollment_note,
        ),
        FigureDef(
            "dual_structure",
            lambda rep: "“双师型”教师结构",
            _dual,
            lambda df: _charts().donut_chart(df, label="层级", value="人数"),
        ),
        FigureDef(
            "satisfaction",
            lambda rep: f"{_years(_satisfaction(rep))}在校体验满意度",
            _satisfaction,
            lambda df: _charts().bar_chart(
                df, x="项目", y="满意度（%）", hue="年度", value_format="{:.2f}", horizontal=True
            ),
            _satisfaction_note,
        ),
        FigureDef(
            "destinations",
            lambda rep: f"{rep.year} 届毕业生去向",
            _destinations,
            lambda df: _charts().bar_chart(
                df, x="去向", y="人数", xlabel="", ylabel="人数（人）", horizontal=True
            ),
        ),
        FigureDef(
            "awards",
            lambda rep: f"{_years(_awards(rep))}技能大赛获奖情况",
            _awards,
            lambda df: _charts().bar_chart(
                df, x="年度", y="获奖数（项）", hue="级别", ylabel="获奖数（项）"
            ),
            lambda rep: awards_missing(rep) + "按赛事所在年度统计；缺少数据的级别不绘出。",
        ),
        FigureDef(
            "funding",
            lambda rep: f"{_years(_funding(rep))}财政拨款",
            _funding,
            lambda df: _charts().bar_chart(
                df,
                x="年度",
                y="金额（万元）",
                hue="指标",
                value_format="{:,.2f}",
                ylabel="金额（万元）",
            ),
        ),
    ]
}


# Charts are drawn at 100 px per inch of figure and stored at twice that (sharp on paper and on
# high-density screens); the page shows them at the 1× size (markup.figure_png).
SCREEN_DPI = 100
PIXEL_RATIO = 2
# the chart redrawn for narrow screens: the same type sizes on a narrower figure, so labels stay
# legible on a 390 px phone (about 10 px) instead of shrinking to 6 px
COMPACT_SIZE = (4.4, 3.6)  # inches


def png(fig: Figure, dpi: int = SCREEN_DPI * PIXEL_RATIO) -> bytes:
    """A figure as PNG bytes at twice the screen resolution; closes the figure."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def compact_png(fig: Figure) -> bytes:
    """The figure redrawn at :data:`COMPACT_SIZE` (for narrow screens), as PNG; closes it."""
    fig.set_size_inches(*COMPACT_SIZE)
    return png(fig)
