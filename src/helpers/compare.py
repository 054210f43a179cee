"""Year-over-year comparison of indicators, with the Chinese phrase a report prints.

Percent-unit indicators change in 个百分点; others by amount and by percent. A comparison is
made only when both years have a value: never against a missing year.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import fmt
from .indicators import IndicatorValue, value_of
from .load import SchoolYear


@dataclass(frozen=True)
class Change:
    """The change of one indicator from the previous year to this one."""

    current: IndicatorValue
    previous: IndicatorValue
    delta: float
    pct_change: float | None

    @property
    def points(self) -> bool:
        """True when the change is in percentage points (the indicator is a percentage)."""
        return self.current.spec.unit == "%"

    @property
    def flat(self) -> bool:
        """No change at the printed precision."""
        return fmt.round_half_up(abs(self.delta), self.current.spec.decimals) == 0

    def phrase(self) -> str:
        """``较上年增加 2.48 个百分点`` / ``较上年减少 4.41 元/生（下降 0.05%）`` / ``与上年持平``."""
        if self.flat:
            return "与上年持平"
        spec = self.current.spec
        verb = "增加" if self.delta > 0 else "减少"
        amount = fmt.number(abs(self.delta), spec.decimals)
        if self.points:
            return f"较上年{verb} {amount} 个百分点"
        unit = "" if spec.unit == "ratio" else f" {spec.unit}"
        text = f"较上年{verb} {amount}{unit}"
        if self.pct_change is not None:
            text += (
                f"（{'增长' if self.delta > 0 else '下降'} {fmt.number(abs(self.pct_change), 2)}%）"
            )
        return text


def change(sy: SchoolYear, iid: str) -> Change | None:
    """The year-over-year change of an indicator (or fact id), or None if either year lacks it."""
    if sy.previous is None:
        return None
    cur = value_of(sy, iid)
    prev = value_of(sy.previous, iid)
    if cur.value is None or prev.value is None:
        return None
    delta = cur.value - prev.value
    pct = None if prev.value == 0 else delta / abs(prev.value) * 100
    return Change(cur, prev, delta, pct)
