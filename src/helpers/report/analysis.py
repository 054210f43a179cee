"""An analyst's own cells: tidy data of the school-year, and own charts and tables numbered
with the report's.

``rep.data("awards")`` gives every year's rows with a ``year`` column, so pandas and seaborn
work on it directly; ``rep.figure_from(ax, title=…)`` turns the chart into 图N, drawn in the
report's CJK font even after ``sns.set_theme()`` reset matplotlib's fonts.
"""

from __future__ import annotations

import difflib
import io
from typing import Any

import pandas as pd

from helpers import fmt
from helpers.indicators.evaluate import indicator_frame
from helpers.report import markup
from helpers.report.context import ReportContext
from helpers.report.fonts import register_cjk_font
from helpers.specs.dictionary import load_dictionary

SPECIAL = ("facts", "indicators")


class DataNotAvailable(LookupError):
    """The data an analyst's cell asks for does not exist for this school-year."""

    def _render_traceback_(self) -> list[str]:  # IPython shows the message, no traceback
        return [f"DataNotAvailable: {self}"]


def names() -> list[str]:
    """What :func:`data` can give: every table of the data dictionary, facts, indicators."""
    return [*load_dictionary().tables, *SPECIAL]


def _facts(rep: ReportContext, year: int) -> pd.DataFrame:
    d = load_dictionary()
    sy = rep.sy_of(year)
    return pd.DataFrame(
        [
            {"field": n, "label": d.label(n), "unit": d.unit(n), "value": f.value}
            for n, f in sy.facts.items()
        ],
        columns=["field", "label", "unit", "value"],
    )


def data(rep: ReportContext, name: str) -> pd.DataFrame:
    """Every year's ``name`` up to the report year, oldest first, with a ``year`` column."""
    if name not in names():
        guess = difflib.get_close_matches(name, names(), n=1)
        raise DataNotAvailable(
            f"没有名为 {name!r} 的数据"
            + (f"，是否应为 {guess[0]!r}？" if guess else f"；可用：{'、'.join(names())}")
        )
    frames = []
    for year, sy in rep.years_upto(10_000).items():
        if name == "facts":
            df = _facts(rep, year)
        elif name == "indicators":
            df = indicator_frame(sy)[["indicator", "name", "unit", "value", "status", "text"]]
        else:
            t = sy.table(name)
            if t is None:
                continue
            df = t.reset_index(drop=True)
        frames.append(df.assign(year=year)[["year", *df.columns]])
    if not frames:
        label = load_dictionary().tables[name].label if name in load_dictionary().tables else name
        raise DataNotAvailable(
            f"{rep.sy.school_name}到 {rep.year} 年度为止没有任何年度填报{label}（{name}）数据；"
            f"请先判断 rep.data({name!r}) 是否可用，再作图"
        )
    return pd.concat(frames, ignore_index=True)


def _figure_of(obj: Any):
    """The matplotlib Figure of a Figure, an Axes or a seaborn grid."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    if isinstance(obj, Axes):
        return obj.figure
    fig = getattr(obj, "figure", None) or getattr(obj, "fig", None)
    if isinstance(fig, Figure):
        return fig
    raise TypeError(
        f"figure_from 需要 matplotlib 的 Figure 或 Axes（或 seaborn 的图），而不是 {type(obj).__name__}"
    )


def figure_png(obj: Any, dpi: int = 200) -> bytes:
    """The chart as PNG in the report's CJK font; closes it (so it is not shown twice)."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    fig = _figure_of(obj)
    family = register_cjk_font()
    for text in fig.findobj(Text):
        text.set_fontfamily([family, "DejaVu Sans"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def table_html(df: pd.DataFrame, number: int, title: str, note: str = "") -> str:
    """A DataFrame as a numbered report table (numbers right-aligned)."""
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    rows = [
        [markup.esc(fmt.MISSING if pd.isna(v) else v) for v in row]
        for row in df.itertuples(index=False, name=None)
    ]
    return markup.table(number, title, [str(c) for c in df.columns], rows, numeric, note)
