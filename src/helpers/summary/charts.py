"""The summary's chart: each key indicator across schools, a box over the schools' points,
drawn like the report's charts (helpers.report.charts: house theme, CJK font, no pyplot)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure

from helpers.report import charts
from helpers.report.analysis import figure_png


def _unit(spec: Any) -> str:
    return {"ratio": "（学生数 / 教师数）", "%": "（%）"}.get(spec.unit, f"（{spec.unit}）")


def distribution_figure(
    wide: pd.DataFrame,
    labels: Mapping[str, str],
    specs: Mapping[str, Any],
    standards: Mapping[str, Mapping[str, Any]],
) -> Figure:
    """One panel per column of ``wide`` (school × indicator): box and points of the schools
    that report it (missing ones are left out and counted in the panel's label), with the
    national standard as a dashed line."""
    charts.set_theme()
    ids = list(wide.columns)
    fig = Figure(figsize=(7.5, 1.6 + 1.1 * len(ids)), layout="constrained")
    axes = fig.subplots(len(ids), 1, squeeze=False)[:, 0]
    palette = sns.color_palette(charts.PALETTE)
    for ax, iid in zip(axes, ids, strict=True):
        col = wide[iid].dropna().astype(float)
        missing = int(wide[iid].isna().sum())
        label = f"{labels[iid]}{_unit(specs[iid])}"
        extra = f"，{missing} 所未填报" if missing else ""
        ax.set_title(f"{label}：{len(col)} 所学校填报{extra}", fontsize=11)
        if len(col):
            # seaborn's boxplot passes matplotlib a keyword it deprecates (vert)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
                sns.boxplot(
                    x=col, ax=ax, color=palette[0], width=0.5, fliersize=0, boxprops={"alpha": 0.35}
                )
            sns.stripplot(x=col, ax=ax, color=palette[0], size=4, jitter=0.15)
        else:
            ax.text(0.5, 0.5, "无学校填报", ha="center", va="center", transform=ax.transAxes)
        s = standards.get(iid)
        if s is not None:
            for bound in ("min", "max"):
                if s.get(bound) is not None:
                    ax.axvline(float(s[bound]), color=palette[3], linestyle="--", linewidth=1)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_yticks([])
    return fig


def distribution_png(
    wide: pd.DataFrame,
    labels: Mapping[str, str],
    specs: Mapping[str, Any],
    standards: Mapping[str, Mapping[str, Any]],
) -> bytes:
    """:func:`distribution_figure` as PNG in the report's font."""
    return figure_png(distribution_figure(wide, labels, specs, standards))
