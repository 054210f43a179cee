"""National standards (specs/thresholds.yaml): does the school-year meet them (达标)?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.indicators.evaluate import IndicatorValue, value_of
from helpers.ingest.load import SchoolYear
from helpers.specs.registry import registry


@dataclass(frozen=True)
class StandardResult:
    """One standard applied to one indicator value; ``met`` is None when the value is missing."""

    standard: dict[str, Any]
    value: IndicatorValue
    met: bool | None

    @property
    def verdict(self) -> str:
        return {True: "达标", False: "未达标", None: "无法判断（未填报）"}[self.met]


def check(sy: SchoolYear, iid: str) -> list[StandardResult]:
    """Every standard that applies to the indicator (or fact) ``iid``."""
    out = []
    for s in registry().standards:
        if s["indicator"] != iid:
            continue
        iv = value_of(sy, iid)
        met = None
        if iv.value is not None:
            met = (s.get("min") is None or iv.value >= s["min"]) and (
                s.get("max") is None or iv.value <= s["max"]
            )
        out.append(StandardResult(s, iv, met))
    return out
