"""The summary's arithmetic: pure pandas functions of the tidy ``values`` frame
(school_id, indicator, value; see helpers.summary.collect).

A school that does not report a figure has ``value`` NA: it is counted as missing, left out
of sums, medians and quartiles, and never read as 0. Quartiles are pandas' linear
interpolation (``Series.quantile``), the same for every indicator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from helpers.summary.keys import OUTLIER_K, OUTLIER_MIN_SCHOOLS, Pooled


def wide(values: pd.DataFrame, ids: Sequence[str] | None = None) -> pd.DataFrame:
    """School × indicator: one row per school (in the frame's order), NA where missing."""
    order = list(dict.fromkeys(values["school_id"]))
    table = values.pivot(index="school_id", columns="indicator", values="value").reindex(order)
    if ids is not None:
        table = table.reindex(columns=list(ids))
    return table.astype("Float64")


def _reported(column: pd.Series) -> pd.Series:
    return column.dropna().astype(float)


def totals(values: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """Per id: the sum over the schools that report it, how many do and how many do not."""
    w = wide(values, ids)
    rows = []
    for iid in ids:
        col = _reported(w[iid])
        rows.append(
            {
                "indicator": iid,
                "total": float(col.sum()) if len(col) else None,
                "reported": len(col),
                "missing": int(w[iid].isna().sum()),
            }
        )
    return pd.DataFrame(rows).astype({"total": "Float64"})


def pooled(values: pd.DataFrame, specs: Sequence[Pooled]) -> pd.DataFrame:
    """Regional figures from summed counts, over the schools that report both counts."""
    rows = []
    for p in specs:
        w = wide(values, [p.numerator, p.denominator]).dropna()
        w = w[w[p.denominator] > 0]
        den = float(w[p.denominator].sum())
        value = float(w[p.numerator].sum()) / den * p.factor if len(w) else None
        rows.append({"indicator": p.id, "value": value, "schools": len(w)})
    return pd.DataFrame(rows, columns=["indicator", "value", "schools"]).astype(
        {"value": "Float64"}
    )


def distribution(values: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """Per id: reporting and missing schools, min, Q1, median, Q3, max (missing left out)."""
    w = wide(values, ids)
    rows = []
    for iid in ids:
        col = _reported(w[iid])
        row: dict[str, Any] = {
            "indicator": iid,
            "reported": len(col),
            "missing": int(w[iid].isna().sum()),
        }
        for name, q in (("min", 0.0), ("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("max", 1.0)):
            row[name] = float(col.quantile(q)) if len(col) else None
        rows.append(row)
    cols = ["indicator", "reported", "missing", "min", "q1", "median", "q3", "max"]
    return pd.DataFrame(rows, columns=cols).astype({c: "Float64" for c in cols[3:]})


def meets(value: float | None, standard: Mapping[str, Any]) -> bool | None:
    """达标: the value within the standard's min/max; None when the value is missing."""
    if value is None or pd.isna(value):
        return None
    low, high = standard.get("min"), standard.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def standards_status(values: pd.DataFrame, standards: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """School × standard: ``met`` True / False, NA when the school does not report the figure.

    Column ``standard`` is the standard's position in specs/thresholds.yaml.
    """
    w = wide(values, [s["indicator"] for s in standards])
    rows = []
    for school_id, row in w.iterrows():
        for i, s in enumerate(standards):
            v = row[s["indicator"]]
            rows.append(
                {
                    "school_id": school_id,
                    "standard": i,
                    "indicator": s["indicator"],
                    "value": None if pd.isna(v) else float(v),
                    "met": meets(None if pd.isna(v) else float(v), s),
                }
            )
    frame = pd.DataFrame(rows, columns=["school_id", "standard", "indicator", "value", "met"])
    return frame.astype({"value": "Float64", "met": "boolean"})


def standards_counts(status: pd.DataFrame, standards: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per standard: how many schools meet it, do not, and do not report the figure."""
    rows = []
    for i, s in enumerate(standards):
        met = status.loc[status["standard"] == i, "met"]
        rows.append(
            {
                "standard": i,
                "indicator": s["indicator"],
                "text": s.get("text", ""),
                "met": int((met == True).sum()),  # noqa: E712 (pandas boolean NA)
                "not_met": int((met == False).sum()),  # noqa: E712
                "missing": int(met.isna().sum()),
            }
        )
    return pd.DataFrame(
        rows, columns=["standard", "indicator", "text", "met", "not_met", "missing"]
    )


def met_counts(status: pd.DataFrame) -> pd.DataFrame:
    """Per school (index): ``met``, the standards it meets, and ``reported``, those whose
    figure it reports (a standard it does not report counts in neither)."""
    met = status.assign(m=status["met"].fillna(False).astype(bool))
    return pd.DataFrame(
        {
            "met": met.groupby("school_id", sort=False)["m"].sum(),
            "reported": status.groupby("school_id", sort=False)["met"].count(),
        }
    ).astype(int)


def outliers(
    values: pd.DataFrame,
    ids: Sequence[str],
    k: float = OUTLIER_K,
    min_schools: int = OUTLIER_MIN_SCHOOLS,
) -> pd.DataFrame:
    """Schools outside Tukey's fences [Q1 − k·IQR, Q3 + k·IQR] of an indicator, among the
    schools that report it (an indicator reported by fewer than ``min_schools`` has none)."""
    w = wide(values, ids)
    rows = []
    for iid in ids:
        col = _reported(w[iid])
        if len(col) < min_schools:
            continue
        q1, q3 = float(col.quantile(0.25)), float(col.quantile(0.75))
        low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
        for school_id, v in col.items():
            if v < low or v > high:
                rows.append(
                    {
                        "school_id": school_id,
                        "indicator": iid,
                        "value": float(v),
                        "low": low,
                        "high": high,
                        "side": "high" if v > high else "low",
                    }
                )
    return pd.DataFrame(rows, columns=["school_id", "indicator", "value", "low", "high", "side"])
