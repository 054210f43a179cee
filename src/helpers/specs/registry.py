"""The indicator registry: every derived figure's definition, from ``indicators.yaml``
(formula or aggregate, unit, decimals, reference) and the national standards of
``thresholds.yaml``. Parsed and cross-checked once; nothing here reads school data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.specs import expr
from helpers.specs.cache import cached
from helpers.specs.check import read_spec
from helpers.specs.dictionary import load_dictionary


@dataclass(frozen=True)
class IndicatorSpec:
    """One registry entry (see the header of specs/indicators.yaml)."""

    id: str
    name: str
    kind: str
    unit: str
    decimals: int
    reference: str
    formula: str | None = None
    aggregate: dict[str, Any] | None = None
    note: str | None = None
    chapter: str | None = None
    table: str | None = None
    per_student: bool = False
    stated_by: str | None = None
    plausible: tuple[float, float] | None = None
    bounds: tuple[float, float] | None = None
    share_group: str | None = None
    wan: bool = False  # a fact the source prints in 万 (fields.yaml ``wan``)

    @property
    def inputs(self) -> list[str]:
        if self.formula:
            return expr.names(self.formula)
        return []


@dataclass(frozen=True)
class Registry:
    indicators: dict[str, IndicatorSpec]
    share_groups: dict[str, tuple[str, ...]]
    standards: tuple[dict[str, Any], ...]


@cached
def registry() -> Registry:
    """Parse specs/indicators.yaml and specs/thresholds.yaml (cached); checks every formula."""
    raw = read_spec("indicators.yaml")
    facts = load_dictionary().facts
    specs: dict[str, IndicatorSpec] = {}
    for iid, r in raw["indicators"].items():
        if iid in facts:
            raise ValueError(f"indicators.yaml: {iid} is also a fact id")
        if bool(r.get("formula")) == bool(r.get("aggregate")):
            raise ValueError(f"indicators.yaml: {iid} needs exactly one of formula / aggregate")
        specs[iid] = IndicatorSpec(
            id=iid,
            name=r["name"],
            kind=r["kind"],
            unit=r["unit"],
            decimals=int(r["decimals"]),
            reference=r["reference"],
            formula=r.get("formula"),
            aggregate=r.get("aggregate"),
            note=r.get("note"),
            chapter=r.get("chapter"),
            table=r.get("table"),
            per_student=bool(r.get("per_student", False)),
            stated_by=r.get("stated_by"),
            plausible=tuple(r["plausible"]) if r.get("plausible") else None,
            bounds=tuple(r["bounds"]) if r.get("bounds") else None,
            share_group=r.get("share_group"),
        )
    for spec in specs.values():
        for name in spec.inputs:
            base = name.removeprefix("prev.")
            if base not in facts and base not in specs:
                raise ValueError(f"indicators.yaml: {spec.id} uses unknown input {name!r}")
    thresholds = read_spec("thresholds.yaml")
    for s in thresholds["standards"]:
        if s["indicator"] not in specs and s["indicator"] not in facts:
            raise ValueError(f"thresholds.yaml: unknown indicator {s['indicator']!r}")
    groups = {k: tuple(v) for k, v in raw.get("share_groups", {}).items()}
    return Registry(specs, groups, tuple(thresholds["standards"]))


def label(name: str) -> str:
    """Chinese label of a fact or indicator id (``prev.x`` → 上年x)."""
    base = name.removeprefix("prev.")
    spec = registry().indicators.get(base)
    text = spec.name if spec else load_dictionary().label(base)
    return f"上年{text}" if name.startswith("prev.") else text


def unit(name: str) -> str:
    base = name.removeprefix("prev.")
    spec = registry().indicators.get(base)
    return spec.unit if spec else load_dictionary().unit(base)


def fact_spec(name: str) -> IndicatorSpec:
    """An IndicatorSpec describing a raw fact, so facts and indicators display alike."""
    f = load_dictionary().facts[name]
    unit_ = "%" if f.type == "percent" else f.unit
    decimals = (
        2 if f.type == "percent" or f.unit.startswith("元") else (0 if f.type == "integer" else -1)
    )
    return IndicatorSpec(
        id=name,
        name=f.label,
        kind="fact",
        unit=unit_,
        decimals=decimals,
        reference="原始数据",
        wan=f.wan,
    )
