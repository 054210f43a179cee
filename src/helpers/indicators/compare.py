"""Year-over-year comparison of indicators, with the Chinese phrase a report prints.

Percent-unit indicators change in 个百分点; others by amount and by percent. A comparison is
made only when both years have a value (never against a missing year) and only like for like
(:func:`helpers.indicators.comparable_pair`): both recomputed from counts, or both as the
school printed them (and the phrase says so). A recomputed figure is never compared with a
printed one: the phrase is then 口径不同，不作比较.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers import fmt
from helpers.indicators.evaluate import IndicatorValue, comparable_pair, value_of
from helpers.ingest.load import SchoolYear


@dataclass(frozen=True)
class Change:
    """The change of one indicator from the previous year to this one."""

    current: IndicatorValue
    previous: IndicatorValue
    delta: float | None
    pct_change: float | None
    basis: str | None = None  # set when both years are compared as printed
    not_comparable: str | None = None  # why the two years cannot be compared

    @property
    def points(self) -> bool:
        """True when the change is in percentage points (the indicator is a percentage)."""
        return self.current.spec.unit == "%"

    @property
    def flat(self) -> bool:
        """No change at the printed precision."""
        if self.delta is None:
            return False
        return fmt.round_half_up(abs(self.delta), self.current.spec.decimals) == 0

    def phrase(self) -> str:
        """``较上年增加 2.48 个百分点`` / ``较上年减少 4.41 元/生（下降 0.05%）`` / ``与上年持平``
        / ``口径不同，不作比较``; a comparison of printed figures says so."""
        if self.delta is None:
            return "口径不同，不作比较"
        basis = f"（{self.basis}）" if self.basis else ""
        if self.flat:
            return "与上年持平" + basis
        spec = self.current.spec
        verb = "增加" if self.delta > 0 else "减少"
        amount = fmt.number(abs(self.delta), spec.decimals)
        if self.points:
            return f"较上年{verb} {amount} 个百分点{basis}"
        unit = "" if spec.unit == "ratio" else f" {spec.unit}"
        text = f"较上年{verb} {amount}{unit}"
        notes = []
        if self.pct_change is not None:
            notes.append(
                f"{'增长' if self.delta > 0 else '下降'} {fmt.number(abs(self.pct_change), 2)}%"
            )
        if self.basis:
            notes.append(self.basis)
        return text + (f"（{'；'.join(notes)}）" if notes else "")


def change(sy: SchoolYear, iid: str) -> Change | None:
    """The year-over-year change of an indicator (or fact id), or None if either year lacks it."""
    if sy.previous is None:
        return None
    cur = value_of(sy, iid)
    prev = value_of(sy.previous, iid)
    pair = comparable_pair(cur, prev)
    if pair is None:
        return None
    if isinstance(pair, str):
        return Change(cur, prev, None, None, not_comparable=pair)
    a, b, basis = pair
    delta = a - b
    pct = None if b == 0 else delta / abs(b) * 100
    return Change(cur, prev, delta, pct, basis)
