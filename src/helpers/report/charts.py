"""Chart primitives for the report: tidy DataFrame in, matplotlib Figure out.

Every primitive makes sure the shipped CJK font is registered (so Chinese never renders
as boxes), draws with seaborn's palette on a new `~matplotlib.figure.Figure` (not through
pyplot, so figures never pile up or show twice in notebooks) and never calls ``show``.
Call `set_theme` once per notebook for the house style; `save_figure` writes the PNG.

Percentages are rounded half-up (四舍五入: 12.345 → 12.35) on the decimal value as written,
not with Python's ``round``/``format`` (binary floats, round-half-even).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, PercentFormatter

from helpers.atomic import atomic_path
from helpers.fmt import round_half_up
from helpers.report.fonts import register_cjk_font

FIGSIZE: tuple[float, float] = (7.5, 4.0)  # inches; ~825 x 440 px at 110 dpi
PALETTE = "deep"
MINUS = "\u2212"
_HYPHEN_BEFORE_DIGIT = re.compile(r"-(?=\d)")


def set_theme() -> None:
    """Apply the house seaborn theme, then the CJK font settings.

    ``sns.set_theme`` resets ``font.family`` and ``font.sans-serif`` to its own defaults,
    which would drop the CJK font; so the font settings are applied after it.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.figsize": FIGSIZE,
            "axes.titlesize": 13,
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "savefig.facecolor": "white",
        },
    )
    register_cjk_font()


# --------------------------------------------------------------------------- numbers


def format_percent(part: float, total: float, decimals: int = 2) -> str:
    """``part / total`` as a percentage string rounded half-up, e.g. 1/8 → ``"12.50%"``.

    The division is done in decimal arithmetic on the inputs' shortest representations,
    so shares whose decimal expansion ends in 5 round up instead of falling victim to
    binary floating point (21.445 / 100 → ``"21.45%"``).
    """
    if total == 0:
        raise ZeroDivisionError("share of a zero total")
    pct = Decimal(repr(float(part))) * 100 / Decimal(repr(float(total)))
    return _minus(f"{round_half_up(pct, decimals)}%")


def _minus(text: str) -> str:
    """Replace a hyphen-minus before a digit with U+2212, matching the axis tick labels."""
    return _HYPHEN_BEFORE_DIGIT.sub(MINUS, text)


def _format_value(value: float, value_format: str) -> str:
    """Format a data label; empty for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _minus(value_format.format(value))


# --------------------------------------------------------------------------- helpers


def _new_figure(figsize: tuple[float, float] | None = None) -> tuple[Figure, Axes]:
    """A fresh Figure with one Axes, CJK font guaranteed."""
    register_cjk_font()
    fig = Figure(figsize=figsize or FIGSIZE, layout="constrained")
    return fig, fig.add_subplot()


def _check_columns(df: pd.DataFrame, *columns: str | None) -> None:
    """Raise a clear KeyError when a named column is absent."""
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"columns not in DataFrame: {missing}; have {list(df.columns)}")


def _check_unique(df: pd.DataFrame, keys: Sequence[str]) -> None:
    """Charts show values as given: refuse duplicate keys rather than silently averaging."""
    dup = df.duplicated(subset=list(keys), keep=False)
    if dup.any():
        raise ValueError(
            f"duplicate rows for {list(keys)} (aggregate before charting):\n"
            f"{df.loc[dup, list(keys)].head(10)}"
        )


def _decorate(ax: Axes, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    """Title and axis labels; ``None`` labels leave the axis unlabelled."""
    if title:
        ax.set_title(title)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")


def _legend_outside(ax: Axes, ncol: int = 1) -> None:
    """Move the legend to the right of the axes, without a frame or title."""
    if ax.get_legend() is not None:
        sns.move_legend(
            ax, "upper left", bbox_to_anchor=(1.01, 1), title=None, frameon=False, ncol=ncol
        )


def _order(values: pd.Series) -> list:
    """Distinct non-missing values in order of first appearance."""
    return list(pd.unique(values.dropna()))


# --------------------------------------------------------------------------- charts


def bar_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    value_format: str = "{:,.0f}",
    horizontal: bool = False,
) -> Figure:
    """Bars (grouped by *hue* if given) of *y* per *x*, each labelled with its value.

    *df* is tidy: one row per (x, hue). Categories keep their order of appearance.
    Missing values are neither drawn nor labelled; negative bars are labelled with a
    true minus sign. ``horizontal=True`` puts the categories on the vertical axis.
    """
    _check_columns(df, x, y, hue)
    _check_unique(df, [c for c in (x, hue) if c is not None])
    data = df.copy()
    data[y] = pd.to_numeric(data[y], errors="coerce")

    fig, ax = _new_figure()
    order = _order(data[x])
    hue_order = _order(data[hue]) if hue else None
    plot_kwargs = {"x": y, "y": x, "orient": "h"} if horizontal else {"x": x, "y": y}
    sns.barplot(
        data=data,
        **plot_kwargs,
        hue=hue,
        order=order,
        hue_order=hue_order,
        errorbar=None,
        palette=PALETTE if hue else None,
        color=None if hue else sns.color_palette(PALETTE)[0],
        saturation=1,
        ax=ax,
    )
    for container in ax.containers:
        labels = [_format_value(float(v), value_format) for v in container.datavalues]
        ax.bar_label(container, labels=labels, padding=2, fontsize=9)

    values = data[y].dropna()
    if (values < 0).any():
        (ax.axvline if horizontal else ax.axhline)(0, color="0.3", linewidth=0.8)
    if horizontal:
        ax.margins(x=0.12)
        ax.grid(axis="y", visible=False)
        _decorate(ax, title, ylabel, xlabel)
    else:
        ax.margins(y=0.12)
        ax.grid(axis="x", visible=False)
        _decorate(ax, title, xlabel, ylabel)
    _legend_outside(ax)
    return fig


def stacked_share_chart(
    df: pd.DataFrame,
    category: str,
    part: str,
    value: str,
    title: str | None = None,
    *,
    min_label_share: float = 0.03,
) -> Figure:
    """100 % stacked horizontal bars: the share of each *part* within each *category*.

    Segments are labelled with their share to two decimals, rounded half-up; segments
    narrower than *min_label_share* are left unlabelled (they would not fit). Missing
    values count as zero; negative values are an error (a share cannot be negative).
    """
    _check_columns(df, category, part, value)
    _check_unique(df, [category, part])
    data = df.copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    if (data[value] < 0).any():
        raise ValueError(f"negative values in {value!r}: shares need non-negative parts")

    categories = _order(data[category])
    parts = _order(data[part])
    table = (
        data.pivot(index=category, columns=part, values=value)
        .reindex(index=categories, columns=parts)
        .fillna(0)
    )
    totals = table.sum(axis=1).to_numpy(dtype=float)

    fig, ax = _new_figure(
        (FIGSIZE[0], max(2.2, min(FIGSIZE[1] * 1.5, 1.2 + 0.55 * len(categories))))
    )
    colors = sns.color_palette(PALETTE, n_colors=len(parts))
    ypos = np.arange(len(categories))
    left = np.zeros(len(categories))
    for color, name in zip(colors, parts, strict=True):
        raw = table[name].to_numpy(dtype=float)
        shares = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0)
        ax.barh(ypos, shares, left=left, color=color, label=str(name), height=0.6)
        text_color = "white" if sum(color) < 1.8 else "0.15"
        for i, share in enumerate(shares):
            if share >= min_label_share and share > 0:
                ax.text(
                    left[i] + share / 2,
                    ypos[i],
                    format_percent(raw[i], totals[i]),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color=text_color,
                )
        left += shares

    ax.set_yticks(ypos, [str(c) for c in categories])
    ax.invert_yaxis()  # first category on top
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", visible=False)
    _decorate(ax, title, None, None)
    ax.legend()
    _legend_outside(ax)
    return fig


def donut_chart(
    df: pd.DataFrame,
    label: str,
    value: str,
    title: str | None = None,
    *,
    center_text: str | None = None,
) -> Figure:
    """A donut of the shares of *value* per *label* (e.g. 双师型 高级/中级/初级).

    Wedges are labelled with their share to two decimals, rounded half-up; the legend
    gives the labels. Missing and zero values are left out; negative values are an error.
    *center_text* (e.g. ``"合计 52 人"``) is written in the hole.
    """
    _check_columns(df, label, value)
    _check_unique(df, [label])
    data = df.copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    if (data[value] < 0).any():
        raise ValueError(f"negative values in {value!r}: shares need non-negative parts")
    data = data[data[value] > 0]
    if data.empty:
        raise ValueError("nothing to draw: all values are missing or zero")

    values = data[value].to_numpy(dtype=float)
    total = float(values.sum())
    fig, ax = _new_figure()
    colors = sns.color_palette(PALETTE, n_colors=len(values))
    width = 0.38
    wedges, _ = ax.pie(
        values,
        colors=colors,
        startangle=90,
        counterclock=False,
        wedgeprops={"width": width, "edgecolor": "white", "linewidth": 1.5},
    )
    radius = 1 - width / 2
    for wedge, v, color in zip(wedges, values, colors, strict=True):
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        ax.text(
            radius * math.cos(angle),
            radius * math.sin(angle),
            format_percent(v, total),
            ha="center",
            va="center",
            fontsize=9,
            color="white" if sum(color) < 1.8 else "0.15",
        )
    if center_text:
        ax.text(0, 0, center_text, ha="center", va="center", fontsize=11)
    ax.set_aspect("equal")
    ax.legend(
        wedges,
        [str(v) for v in data[label]],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
    )
    if title:
        ax.set_title(title)
    return fig


def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    value_format: str | None = None,
) -> Figure:
    """Lines with markers of *y* over *x* (typically years), one per *hue* level.

    Integer *x* values (years) become exactly those ticks, written without separators
    or decimals (2023, never 2,023.5). Missing values are dropped. With *value_format*
    each point is labelled.
    """
    _check_columns(df, x, y, hue)
    _check_unique(df, [c for c in (x, hue) if c is not None])
    data = df.copy()
    data[y] = pd.to_numeric(data[y], errors="coerce")
    data = data.dropna(subset=[x, y])

    fig, ax = _new_figure()
    sns.lineplot(
        data=data,
        x=x,
        y=y,
        hue=hue,
        hue_order=_order(data[hue]) if hue else None,
        marker="o",
        markersize=6,
        errorbar=None,
        palette=PALETTE if hue else None,
        color=None if hue else sns.color_palette(PALETTE)[0],
        ax=ax,
    )

    xs = pd.to_numeric(data[x], errors="coerce")
    if xs.notna().all() and len(xs) and (xs == xs.round()).all():
        ticks = sorted({int(v) for v in xs})
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}"))
        ax.margins(x=0.08 if len(ticks) > 1 else 0.5)
    if value_format:
        for _, row in data.iterrows():
            ax.annotate(
                _format_value(float(row[y]), value_format),
                (row[x], row[y]),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=9,
            )
        ax.margins(y=0.15)
    if (data[y] < 0).any():
        ax.axhline(0, color="0.3", linewidth=0.8)
    _decorate(ax, title, xlabel, ylabel)
    _legend_outside(ax)
    return fig


# --------------------------------------------------------------------------- output


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write *fig* as PNG to *path* atomically, close it, and return the path.

    The image goes to a temporary file in the target directory first and is then
    renamed over *path*, so a reader never sees a half-written PNG.
    """
    target = Path(path)
    try:
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
    finally:
        plt.close(fig)
    return target
