"""Indicators: every derived figure, defined once in ``specs/indicators.yaml``.

:func:`compute` evaluates the registry for a school-year. Each result carries its value
(unrounded), how it was obtained (computed from raw facts, or reported by the school when the
raw counts are not on file), the inputs with their values and provenance, and the figures the
source printed for it, so that text, tables, tooltips and the audit all show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers import fmt
from helpers.ingest import cite
from helpers.ingest.load import SchoolYear
from helpers.specs import expr
from helpers.specs.dictionary import load_dictionary
from helpers.specs.registry import IndicatorSpec, fact_spec, label, registry, unit

COMPUTED, REPORTED, MISSING, FACT = "computed", "reported", "missing", "fact"
NOT_APPLICABLE = "not_applicable"
NOT_APPLICABLE_TEXT = "不适用"
DENOMINATOR = "students_full_time"


def rounding_tolerance(decimals: int) -> float:
    """How far a figure printed at ``decimals`` places may lie from the exact value."""
    return 0.5 * 10 ** (-decimals) + 1e-9


@dataclass(frozen=True)
class Input:
    """One input of a derivation: a fact, an indicator, or table rows."""

    name: str
    label: str
    value: float | None
    unit: str
    provenance: str  # for developers: document, section, data file and line
    cite: str = ""  # for the reviewer's page: document title and section only

    @property
    def reader_source(self) -> str:
        return self.cite or self.provenance

    @property
    def text(self) -> str:
        """The value with its unit, at the decimals of its indicator (or as typed for a fact)."""
        base = self.name.removeprefix("prev.")
        spec = registry().indicators.get(base)
        if spec is not None:
            decimals = spec.decimals
        else:
            field = load_dictionary().facts.get(base)
            if field is not None and field.wan and self.value is not None:
                return fmt.wan(self.value, self.unit)
            shown = fact_spec(base).decimals if field is not None else -1
            decimals = shown if shown >= 0 or self.value is None else fmt.decimals_for(self.value)
        return fmt.with_unit(self.value, self.unit, decimals)


@dataclass(frozen=True)
class IndicatorValue:
    """An indicator's value for one school-year, with its derivation."""

    spec: IndicatorSpec
    value: float | None
    status: str
    inputs: tuple[Input, ...] = ()
    published: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    qualifier: str | None = None  # 约 / 超过 … as the source states a raw fact
    reason: str | None = None  # why the figure is 不适用 (status NOT_APPLICABLE)
    basis: str | None = None  # how a year-over-year figure compares (see comparable_pair)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def missing(self) -> bool:
        """True when the data does not give the figure (not when it is 不适用)."""
        return self.value is None and self.status != NOT_APPLICABLE

    @property
    def not_applicable(self) -> bool:
        return self.status == NOT_APPLICABLE

    @property
    def text(self) -> str:
        """Display text: ``51.72%``, ``1:15.21``, ``6077.36 元/生``, ``约 92000 平方米``, 未填报
        or 不适用 (a whole figure without its zeros, as a sentence writes it: ``100%``)."""
        return self.formatted()

    @property
    def table_text(self) -> str:
        """:attr:`text` as a table cell shows it: a whole figure keeps its decimals
        (``100.00%``), like the figures above and below it."""
        return self.formatted(trim=False)

    def formatted(self, trim: bool = True) -> str:
        if self.status == NOT_APPLICABLE:
            return NOT_APPLICABLE_TEXT
        if self.spec.wan and self.value is not None:
            text = fmt.wan(self.value, self.spec.unit)
        else:
            text = fmt.with_unit(self.value, self.spec.unit, self.spec.decimals, trim=trim)
        return f"{self.qualifier} {text}" if self.qualifier and self.value is not None else text

    @property
    def formula_text(self) -> str:
        """The definition in words (table and column labels, never their ids)."""
        if self.spec.formula:
            return expr.render(self.spec.formula, lambda n: label(n))
        agg = self.spec.aggregate or {}
        tspec = load_dictionary().tables.get(agg.get("table", ""))
        tlabel = tspec.label if tspec else str(agg.get("table"))

        def col(name: str) -> str:
            c = tspec.columns.get(name) if tspec else None
            return c.label if c is not None else name

        where = "，".join(f"{col(k)}为{'或'.join(v)}" for k, v in (agg.get("where") or {}).items())
        what = "项数" if agg.get("count") else f"{col(agg.get('sum', ''))}之和"
        return f"{tlabel}{('中' + where + '的') if where else '的'}{what}"

    @property
    def corrections(self) -> tuple[dict[str, Any], ...]:
        """The figures the school printed for this indicator that the shown value differs from.

        A computed figure differs from a printed one when rounding cannot explain the gap; a
        figure that is 不适用 differs from any printed number. One entry per printed text.
        """
        if self.status not in (COMPUTED, NOT_APPLICABLE):
            return ()
        out: dict[str, dict[str, Any]] = {}
        for r in self.published:
            if self.value is None or abs(self.value - r["value"]) > rounding_tolerance(
                r["decimals"]
            ):
                out.setdefault(str(r["printed"]), r)
        return tuple(out.values())

    def correction_reason(self, text: str | None = None) -> str:
        """Why the shown figure differs from the printed one, in a few words (``text``: the
        recomputed figure as the sentence around it writes it, e.g. a ratio as 师生比)."""
        text = text or self.text
        if self.spec.per_student:
            denom = next((i for i in self.inputs if i.name == DENOMINATOR), None)
            if denom is not None and denom.value is not None:
                return f"按全日制在校生 {denom.text}复算为 {text}"
        return f"按“{self.formula_text}”复算为 {text}"

    def derivation(self) -> str:
        """Formula in words, inputs with values and units, and sources by document title and
        section: what the reviewer's page shows (tooltips, appendices)."""
        return self._explain(reader=True)

    def trace(self) -> str:
        """The same with data files and lines, for developers (processed data, validate)."""
        return self._explain(reader=False)

    def _explain(self, reader: bool) -> str:
        def src(i: Input) -> str:
            return i.reader_source if reader else i.provenance

        if self.status == FACT:
            return f"{self.spec.name} {self.text}：来源 {src(self.inputs[0])}"
        if self.status == REPORTED:
            sec = "、".join(
                cite.section(p["source"]) if reader else f"§{p['source']}" for p in self.published
            )
            absent = "、".join(i.label for i in self.inputs if i.value is None) or "原始数据"
            return (
                f"{self.spec.name}：学校填报值 {self.text}（原报告{sec}；数据中没有{absent}，"
                f"无法复算）"
            )
        if self.status == MISSING:
            absent = "、".join(i.label for i in self.inputs if i.value is None)
            return f"{self.spec.name}：未填报" + (f"（缺少{absent}）" if absent else "")
        parts = "；".join(f"{i.label} {i.text}（{src(i)}）" for i in self.inputs)
        if self.status == NOT_APPLICABLE:
            return f"{self.spec.name}：{NOT_APPLICABLE_TEXT}（{self.reason}）。其中{parts}。"
        basis = f"（{self.basis}）" if self.basis else ""
        return f"{self.spec.name} = {self.formula_text} = {self.text}{basis}。其中{parts}。"


class Evaluator:
    """Evaluates indicators for one school-year, each once (memoised)."""

    def __init__(self, sy: SchoolYear):
        self.sy = sy
        self._cache: dict[str, IndicatorValue] = {}
        self._prev = Evaluator(sy.previous) if sy.previous is not None else None
        self._stack: list[str] = []
        self._printed: dict[str, tuple[dict[str, Any], ...]] | None = None

    def value(self, name: str) -> float | None:
        """A fact's or indicator's value (``prev.x`` looks in the previous year)."""
        if name.startswith("prev."):
            return None if self._prev is None else self._prev.value(name[5:])
        if name in self.sy.facts:
            return self.sy.facts[name].value
        if name in registry().indicators:
            return self.get(name).value
        return None

    def provenance(self, name: str) -> str:
        if name.startswith("prev."):
            if self._prev is None:
                return f"{self.sy.year - 1} 年度无数据"
            return f"{self.sy.year - 1} 年度 " + self._prev.provenance(name[5:])
        fact = self.sy.facts.get(name)
        if fact is not None:
            return fact.chosen.where
        if name in registry().indicators:
            iv = self.get(name)
            return {COMPUTED: "由原始数据计算", REPORTED: "学校填报值", MISSING: "未填报"}[
                iv.status
            ]
        return "未填报"

    def cite(self, name: str) -> str:
        """Where a value comes from, for a reader (document title and section)."""
        if name.startswith("prev."):
            if self._prev is None:
                return f"{self.sy.year - 1} 年度无数据"
            return f"{self.sy.year - 1} 年度，" + self._prev.cite(name[5:])
        fact = self.sy.facts.get(name)
        if fact is not None:
            return fact.chosen.cite(self.sy.documents())
        if name in registry().indicators:
            iv = self.get(name)
            return {COMPUTED: "由原始数据计算", REPORTED: "学校填报值", MISSING: "未填报"}.get(
                iv.status, NOT_APPLICABLE_TEXT
            )
        return "未填报"

    def get(self, iid: str) -> IndicatorValue:
        if iid in self._cache:
            return self._cache[iid]
        if iid in self._stack:
            raise ValueError(
                f"indicators.yaml: circular definition {' → '.join([*self._stack, iid])}"
            )
        spec = registry().indicators[iid]
        self._stack.append(iid)
        try:
            result = self._evaluate(spec)
        finally:
            self._stack.pop()
        self._cache[iid] = result
        return result

    def _published(self, iid: str) -> tuple[dict[str, Any], ...]:
        """The rows of published.csv for one indicator, in file order (indexed once)."""
        if self._printed is None:
            pub = self.sy.published
            rows: dict[str, list[dict[str, Any]]] = {}
            columns = [pub[c] for c in ("indicator", "value", "decimals", "printed", "source")]
            for line, ind, value, decimals, printed, source in zip(
                pub.index, *columns, strict=True
            ):
                rows.setdefault(ind, []).append(
                    {
                        "value": float(value),
                        "decimals": int(decimals),
                        "printed": printed,
                        "source": source,
                        "line": int(line),
                    }
                )
            self._printed = {k: tuple(v) for k, v in rows.items()}
        return self._printed.get(iid, ())

    def _evaluate(self, spec: IndicatorSpec) -> IndicatorValue:
        published = self._published(spec.id)
        basis = None
        if spec.formula:
            lookup, basis, not_comparable = self._like_for_like(spec)
            inputs = tuple(
                Input(n, label(n), lookup(n), unit(n), self.provenance(n), self.cite(n))
                for n in spec.inputs
            )
            if not_comparable:
                return IndicatorValue(
                    spec, None, NOT_APPLICABLE, inputs, published, reason=not_comparable
                )
            result = expr.outcome(spec.formula, lookup)
            if result.zero_denominator is not None:
                words = expr.render(result.zero_denominator, label)
                return IndicatorValue(
                    spec, None, NOT_APPLICABLE, inputs, published, reason=f"{words}为 0"
                )
            value = result.value
        else:
            value, inputs = self._aggregate(spec)
        if value is not None:
            return IndicatorValue(spec, value, COMPUTED, inputs, published, basis=basis)
        if published:
            return IndicatorValue(spec, published[0]["value"], REPORTED, inputs, published)
        return IndicatorValue(spec, None, MISSING, inputs, published)

    def _like_for_like(self, spec: IndicatorSpec) -> tuple[Any, str | None, str | None]:
        """Inputs for a formula that compares an indicator with its previous year's value.

        Both years' values must be derived the same way (see :func:`comparable_pair`); returns
        the lookup to use, a note on the basis, and the reason when they cannot be compared.
        """
        overrides: dict[str, float | None] = {}
        basis = None
        for name in spec.inputs:
            base = name.removeprefix("prev.")
            if not name.startswith("prev.") or base not in spec.inputs:
                continue
            if base not in registry().indicators or self._prev is None:
                continue
            pair = comparable_pair(self.get(base), self._prev.get(base))
            if pair is None:
                continue  # a year lacks the figure: the formula gives missing
            if isinstance(pair, str):
                return self.value, None, pair
            overrides[base], overrides[name], basis = pair
        if not overrides:
            return self.value, None, None
        return (lambda n: overrides[n] if n in overrides else self.value(n)), basis, None

    def _aggregate(self, spec: IndicatorSpec) -> tuple[float | None, tuple[Input, ...]]:
        agg = spec.aggregate or {}
        table = self.sy.table(agg["table"])
        if table is None:
            return None, ()
        rows = table
        for column, allowed in (agg.get("where") or {}).items():
            rows = rows[rows[column].isin(allowed)]
        if agg.get("where") and rows.empty:
            # the table does not mention this category: missing, not 0 (a school with truly
            # none records a row with count 0)
            return None, ()
        value = float(len(rows)) if agg.get("count") else float(rows[agg["sum"]].sum())
        lines = ", ".join(str(i) for i in rows.index)
        sources = "、".join(sorted({f"§{s}" for s in rows["source"]}))
        tspec = load_dictionary().tables[agg["table"]]
        prov = (
            f"{tspec.file} 第 {lines} 行（{sources}）"
            if len(rows)
            else f"{tspec.file}（无符合条件的行）"
        )
        doc = self.sy.meta.get("default_document")
        reader = "、".join(
            cite.cite(doc, s, self.sy.documents()) for s in sorted(set(rows["source"]))
        )
        return value, (Input(agg["table"], tspec.label, value, spec.unit, prov, reader),)


PRINTED_BASIS = "按两年原报告印出的数值比较"


def printed_value(iv: IndicatorValue) -> float | None:
    """The figure as the school printed it for that year (its first printed value)."""
    if iv.status == REPORTED:
        return iv.value
    return iv.published[0]["value"] if iv.published else None


def comparable_pair(
    cur: IndicatorValue, prev: IndicatorValue
) -> tuple[float, float, str | None] | str | None:
    """Two years' values of one indicator that may be compared, like for like.

    Returns ``(current, previous, basis)`` when both were derived the same way (both
    recomputed from counts, both facts, or both as the school printed them: ``basis`` then
    says so); the reason they cannot be compared (a str) when one was recomputed and the
    other only printed; None when a year lacks the figure.
    """
    if cur.value is None or prev.value is None:
        return None
    if cur.status == prev.status:
        return cur.value, prev.value, None
    a, b = printed_value(cur), printed_value(prev)
    if a is not None and b is not None:
        return a, b, PRINTED_BASIS
    return NOT_COMPARABLE


NOT_COMPARABLE = "口径不同，不作比较：一年按原始数据复算，另一年只有学校填报值"


def evaluator(sy: SchoolYear) -> Evaluator:
    """The (memoised) evaluator of a school-year."""
    ev = getattr(sy, "_evaluator", None)
    if ev is None:
        ev = Evaluator(sy)
        sy._evaluator = ev  # type: ignore[attr-defined]
    return ev


def compute(sy: SchoolYear) -> dict[str, IndicatorValue]:
    """Every indicator of the registry for the school-year."""
    ev = evaluator(sy)
    return {iid: ev.get(iid) for iid in registry().indicators}


def get(sy: SchoolYear, iid: str) -> IndicatorValue:
    """One indicator of the school-year."""
    return evaluator(sy).get(iid)


def indicator_frame(sy: SchoolYear) -> pd.DataFrame:
    """All indicators as a tidy table (written to data/processed)."""
    rows = []
    for iv in compute(sy).values():
        rows.append(
            {
                "indicator": iv.id,
                "name": iv.spec.name,
                "value": iv.value,
                "status": iv.status,
                "text": iv.text,
                "unit": iv.spec.unit,
                "decimals": iv.spec.decimals,
                "formula": iv.spec.formula or "",
                "derivation": iv.trace(),
                "chapter": iv.spec.chapter,
                "table": iv.spec.table,
                "reference": iv.spec.reference,
            }
        )
    return pd.DataFrame(rows).astype({"value": "Float64"})


def fact_value(sy: SchoolYear, name: str) -> IndicatorValue:
    """A raw fact as an IndicatorValue: value, provenance, and missing when not filed."""
    spec = fact_spec(name)
    fact = sy.facts.get(name)
    if fact is None:
        return IndicatorValue(spec, None, MISSING, ())
    if spec.decimals < 0:  # a measured number: show it as typed
        spec = IndicatorSpec(**{**spec.__dict__, "decimals": fmt.decimals_for(fact.value)})
    where = fact.chosen.where
    reader = fact.chosen.cite(sy.documents())
    if fact.conflicting:
        others = "、".join(f"{o.value:g}（§{o.source}）" for o in fact.alternatives)
        where += f"；来源中另载 {others}，未采用（依据：{fact.rule}）"
        told = "、".join(
            f"{fmt.with_unit(o.value, spec.unit, fmt.decimals_for(o.value))}"
            f"（{cite.section(o.source)}）"
            for o in fact.alternatives
        )
        reader += f"；原报告另载 {told}，未采用（{fact.reason}）"
    inp = Input(name, spec.name, fact.value, spec.unit, where, reader)
    return IndicatorValue(spec, fact.value, FACT, (inp,), qualifier=fact.qualifier)


def value_of(sy: SchoolYear, name: str) -> IndicatorValue:
    """A fact or an indicator of the school-year, by id."""
    if name in registry().indicators:
        return get(sy, name)
    if name in load_dictionary().facts:
        return fact_value(sy, name)
    raise KeyError(
        f"{name!r} 既不是事实字段也不是指标（见 docs/data-dictionary.md 与 specs/indicators.yaml）"
    )
