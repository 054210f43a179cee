"""Part–whole rules (specs/fields.yaml `checks`), shared by ingest validation and the audit.

:func:`failed_parts` finds rules that are broken (an ingest error); :func:`breakdown_gaps`
finds breakdowns the source names that hold but leave part of the whole unexplained (an
audit warning).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from helpers.specs import expr
from helpers.specs.dictionary import Check, load_dictionary

Lookup = Callable[[str], float | None]


@dataclass(frozen=True)
class PartsResult:
    """A part–whole rule that does not hold."""

    check: Check
    whole: float
    parts: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    def describe(self, label: Callable[[str], str]) -> str:
        lhs = " + ".join(f"{label(k)} {v:g}" for k, v in self.parts.items())
        whole_label = (
            label(self.check.whole) if self.check.whole.isidentifier() else self.check.whole
        )
        op = "≠" if self.check.rule == "equal" else ">"
        return f"{lhs} = {self.total:g} {op} {whole_label} {self.whole:g}"


def failed_parts(
    get: Lookup, tolerance: float = 1e-6, skip: Collection[str] = ()
) -> list[PartsResult]:
    """Every part–whole rule that fails for the values ``get`` returns.

    ``equal`` is checked when the whole and all parts are present; ``at_most`` when the whole
    and at least one part are present (parts alone already exceeding the whole is an error).
    A rule with an operand in ``skip`` (a value that failed validation) is not checked: its
    result would be about the remaining values, not the data.
    """
    out = []
    for check in load_dictionary().checks:
        if skip and not set(skip).isdisjoint((*expr.names(check.whole), *check.parts)):
            continue
        whole = expr.evaluate(check.whole, get)
        if whole is None:
            continue
        parts = {p: get(p) for p in check.parts}
        present = {k: v for k, v in parts.items() if v is not None}
        if not present:
            continue
        total = sum(present.values())
        if check.rule == "equal":
            if (
                len(present) == len(parts) and abs(total - whole) > tolerance
            ) or total > whole + tolerance:
                out.append(PartsResult(check, whole, present))
        elif total > whole + tolerance:
            out.append(PartsResult(check, whole, present))
    return out


@dataclass(frozen=True)
class PartsGap:
    """A breakdown whose named parts add up to less than the whole."""

    check: Check
    whole: float
    parts: dict[str, float]  # the parts given
    missing: tuple[str, ...]  # the parts the data does not give

    @property
    def total(self) -> float:
        return sum(self.parts.values())

    @property
    def gap(self) -> float:
        return self.whole - self.total


def breakdown_gaps(get: Lookup, tolerance: float = 1e-6) -> list[PartsGap]:
    """Every ``breakdown`` rule whose given parts leave more than ``tolerance`` of the whole
    unexplained (checked when the whole and at least one part are present)."""
    out = []
    for check in load_dictionary().checks:
        if not check.breakdown:
            continue
        whole = expr.evaluate(check.whole, get)
        if whole is None:
            continue
        parts = {p: get(p) for p in check.parts}
        present = {k: float(v) for k, v in parts.items() if v is not None}
        if present and whole - sum(present.values()) > tolerance:
            missing = tuple(k for k, v in parts.items() if v is None)
            out.append(PartsGap(check, whole, present, missing))
    return out
