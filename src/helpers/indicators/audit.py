"""The data audit: findings a reviewer should see before trusting the report.

:func:`audit` takes a validated school-year (and, through it, the year before) and returns
:class:`Finding` records: severity (error / warning / info), rule, the facts involved with
values and provenance, and a Chinese message. Rules:

- ``published_mismatch``: a figure the source printed differs from the one recomputed from raw
  counts by more than its printed rounding explains; ``not_recomputable`` (info) when no raw
  counts exist to check it; ``published_conflict`` when the source prints it twice differently.
- ``conflicting_fact``: one fact recorded with different values; says which one the report
  uses and why, and which values agree with their parts.
- ``shares_sum``: printed shares of one whole that do not add up to 100 within rounding.
- ``implied_denominators``: per-student figures in the source that imply different student
  counts than the report's one denominator.
- ``out_of_bounds`` (error) / ``implausible`` (warning): a value outside its hard limits or its
  plausible range (specs/indicators.yaml).
- ``yoy_jump``: a year-over-year change beyond the bounds in specs/audit.yaml.
- ``parts_gap``: parts the source names as a breakdown of a whole (fields.yaml ``checks`` with
  ``breakdown: true``) add up to less than it; says how much is left unexplained.
- ``title_measure_missing`` / ``repeated_header``: a table of the source (source_tables.csv)
  whose title lists a measure no column gives, or whose column headers repeat;
  ``source_table_inconsistent`` (error) when its rows disagree on the title or section.

Errors stop a build unless overridden; warnings and info go to the report's 数据核验 appendix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml

from helpers import fmt
from helpers.indicators.compare import change
from helpers.indicators.evaluate import (
    COMPUTED,
    NOT_APPLICABLE,
    evaluator,
    label,
    registry,
    rounding_tolerance,
)
from helpers.ingest import cite
from helpers.ingest import source_tables as st
from helpers.ingest.checks import breakdown_gaps, failed_parts
from helpers.ingest.load import SchoolYear
from helpers.specs import expr
from helpers.specs.dictionary import SPECS, load_dictionary

SEVERITIES = ("error", "warning", "info")
DENOMINATOR = "students_full_time"


@dataclass(frozen=True)
class FactRef:
    """A fact or figure involved in a finding."""

    name: str
    label: str
    value: str
    provenance: str  # for developers: document, section, data file and line
    cite: str = ""  # for the reviewer's page: document title and section only

    @property
    def reader_source(self) -> str:
        return self.cite or self.provenance


@dataclass(frozen=True)
class Finding:
    severity: str
    rule: str
    message: str
    year: int
    facts: tuple[FactRef, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(self.severity)


def _printed(row: dict[str, Any], unit: str) -> str:
    return str(row.get("printed") or fmt.with_unit(row["value"], unit, row["decimals"]))


def _named(name: str, row: dict[str, Any], unit: str, verb: str = "印为") -> str:
    """A printed figure after its measure's name, without saying the name twice: ``生师比印为
    15.21:1``, but ``印为“师生比 1:15.44”`` when the printed text carries its own words."""
    printed = _printed(row, unit)
    as_printed = fmt.printed_as(printed, verb)
    return as_printed if fmt.words_first(printed) else f"{name}{as_printed}"


def _doc(sy: SchoolYear, section: str | None) -> str:
    """Where the year's own source document says it, for a reader."""
    return cite.cite(sy.meta.get("default_document"), section, sy.documents())


def _pub_ref(iid: str, row: dict[str, Any], unit: str, sy: SchoolYear) -> FactRef:
    return FactRef(
        iid,
        f"原文印出的{label(iid)}",
        _printed(row, unit),
        f"{sy.year} 年度 published.csv 第 {row['line']} 行（§{row['source']}）",
        _doc(sy, row["source"]),
    )


def _input_refs(sy: SchoolYear, iid: str) -> list[FactRef]:
    iv = evaluator(sy).get(iid)
    return [FactRef(i.name, i.label, i.text, i.provenance, i.reader_source) for i in iv.inputs]


def published_rules(sy: SchoolYear) -> list[Finding]:
    out: list[Finding] = []
    ev = evaluator(sy)
    pub = sy.published
    for iid in dict.fromkeys(pub["indicator"]):
        spec = registry().indicators.get(iid)
        if spec is None:
            continue  # reported by load validation
        iv = ev.get(iid)
        rows = iv.published
        values = {fmt.round_half_up(r["value"], r["decimals"]) for r in rows}
        if len(rows) > 1 and len({float(v) for v in values}) > 1:
            out.append(
                Finding(
                    "warning",
                    "published_conflict",
                    f"原文对{spec.name}印出了不同的数值："
                    + "、".join(f"{_printed(r, spec.unit)}（§{r['source']}）" for r in rows),
                    sy.year,
                    tuple(_pub_ref(iid, r, spec.unit, sy) for r in rows),
                )
            )
        if iv.status == NOT_APPLICABLE:
            for r in iv.corrections:
                out.append(
                    Finding(
                        "warning",
                        "published_mismatch",
                        f"原文{_named(spec.name, r, spec.unit)}（§{r['source']}），"
                        f"但按原始数据该指标不适用（{iv.reason}），报告不采用印出的数值。",
                        sy.year,
                        (_pub_ref(iid, r, spec.unit, sy), *_input_refs(sy, iid)),
                    )
                )
            continue
        if iv.status != COMPUTED:
            r = rows[0]
            out.append(
                Finding(
                    "info",
                    "not_recomputable",
                    f"原文{_named(spec.name, r, spec.unit)}（§{r['source']}）缺少原始计数，无法复算；"
                    f"报告按学校填报值列示并注明。",
                    sy.year,
                    (_pub_ref(iid, r, spec.unit, sy),),
                )
            )
            continue
        for r in iv.corrections:
            diff = iv.value - r["value"]
            shown = fmt.with_unit(iv.value, spec.unit, max(spec.decimals, r["decimals"]))
            basis = f"，{iv.basis}" if iv.basis else ""
            out.append(
                Finding(
                    "warning",
                    "published_mismatch",
                    f"原文{_named(spec.name, r, spec.unit)}（§{r['source']}），"
                    f"按原始数据复算为 {shown}（{iv.formula_text}{basis}），相差 "
                    f"{fmt.number(abs(diff), max(spec.decimals, r['decimals']))}，"
                    f"超出四舍五入可解释的 ±{fmt.number(rounding_tolerance(r['decimals']), r['decimals'] + 1)}。",
                    sy.year,
                    (_pub_ref(iid, r, spec.unit, sy), *_input_refs(sy, iid)),
                )
            )
    return out


def conflict_rules(sy: SchoolYear) -> list[Finding]:
    out = []
    d = load_dictionary()
    for fact in sy.facts.values():
        if not fact.conflicting:
            continue
        lines = []
        for o in fact.observations:
            if o.value in {x.value for x in fact.observations[: fact.observations.index(o)]}:
                continue
            values = {n: f.value for n, f in sy.facts.items()}
            values[fact.field] = o.value
            bad = [
                p for p in failed_parts(values.get) if fact.field in (p.check.whole, *p.check.parts)
            ]
            agree = "；与分项不符：" + "；".join(p.describe(d.label) for p in bad) if bad else ""
            lines.append(f"{o.value:g}（§{o.source}{'，' + o.period if o.period else ''}）{agree}")
        refs = tuple(
            FactRef(
                fact.field, d.label(fact.field), f"{o.value:g}", o.where, o.cite(sy.documents())
            )
            for o in fact.observations
        )
        out.append(
            Finding(
                "warning",
                "conflicting_fact",
                f"{d.label(fact.field)}在来源中有不同取值：{'；'.join(lines)}。"
                f"报告统一采用 {fact.value:g}（§{fact.chosen.source}），依据：{fact.reason}。",
                sy.year,
                refs,
            )
        )
    return out


def share_rules(sy: SchoolYear) -> list[Finding]:
    out = []
    pub = sy.published
    for members in registry().share_groups.values():
        rows = pub[pub["indicator"].isin(members)]
        for source, g in rows.groupby("source", sort=False):
            if set(g["indicator"]) != set(members):
                continue
            total = float(g["value"].sum())
            tol = sum(rounding_tolerance(int(d)) for d in g["decimals"])
            if abs(total - 100) > tol:
                names = "、".join(
                    f"{label(i)} {v:g}" for i, v in zip(g["indicator"], g["value"], strict=True)
                )
                out.append(
                    Finding(
                        "warning",
                        "shares_sum",
                        f"原文§{source}的各项占比之和为 {total:.2f}%，不等于 100%"
                        f"（四舍五入最多可差 ±{tol:.3f}）：{names}。",
                        sy.year,
                        tuple(
                            FactRef(
                                i,
                                label(i),
                                f"{v:g}",
                                f"published.csv 第 {line} 行（§{source}）",
                                _doc(sy, str(source)),
                            )
                            for line, i, v in zip(g.index, g["indicator"], g["value"], strict=True)
                        ),
                    )
                )
    return out


def _implied_range(formula: str, get: Any, p: float, tol: float) -> tuple[float, float] | None:
    """Student counts S for which the formula, evaluated with S as denominator, prints p."""

    def g(s: float) -> float | None:
        return expr.evaluate(formula, lambda n: s if n == DENOMINATOR else get(n))

    g1, g2 = g(1.0), g(2.0)
    if g1 is None or g2 is None or g1 == 0:
        return None
    if abs(g2 - g1 / 2) < 1e-9 * abs(g1):  # value = k / S
        lo, hi = g1 / (p + tol), (g1 / (p - tol) if p > tol else float("inf"))
    elif abs(g2 - 2 * g1) < 1e-9 * abs(g1):  # value = k * S
        lo, hi = (p - tol) / g1, (p + tol) / g1
    else:
        return None
    return lo, hi


def denominator_rules(sy: SchoolYear) -> list[Finding]:
    ev = evaluator(sy)
    chosen = sy.value(DENOMINATOR)
    if chosen is None:
        return []
    implied: list[tuple[str, str, float, tuple[float, float]]] = []
    refs: list[FactRef] = []
    for spec in registry().indicators.values():
        if not spec.per_student or not spec.formula:
            continue
        stated = []
        for r in ev.get(spec.id).published:
            stated.append(
                (
                    r["value"],
                    rounding_tolerance(r["decimals"]),
                    f"{_named(spec.name, r, spec.unit, '')}（§{r['source']}）",
                    _pub_ref(spec.id, r, spec.unit, sy),
                )
            )
        if spec.stated_by and spec.stated_by in sy.facts:
            f = sy.facts[spec.stated_by]
            stated.append(
                (
                    f.value,
                    1e-9,
                    f"{label(spec.stated_by)} {f.value:g}（§{f.chosen.source}）",
                    FactRef(
                        spec.stated_by,
                        label(spec.stated_by),
                        f"{f.value:g}",
                        f.chosen.where,
                        f.chosen.cite(sy.documents()),
                    ),
                )
            )
        for p, tol, text, ref in stated:
            rng = _implied_range(spec.formula, ev.value, p, tol)
            if rng is not None:
                implied.append(
                    (
                        spec.name,
                        text,
                        (rng[0] + rng[1]) / 2 if rng[1] != float("inf") else rng[0],
                        rng,
                    )
                )
                refs.append(ref)
    off = [x for x in implied if not (x[3][0] - 1e-6 <= chosen <= x[3][1] + 1e-6)]
    if not off:
        return []
    observed = sy.facts[DENOMINATOR].observations

    def match(rng: tuple[float, float]) -> str:
        hits = [o for o in observed if rng[0] - 1e-6 <= o.value <= rng[1] + 1e-6]
        return f"，与 §{hits[0].source} 的 {hits[0].value:g} 人一致" if hits else ""

    parts = [
        f"{text} 隐含在校生约 {mid:.0f} 人{'（' + f'{rng[0]:.0f}–{rng[1]:.0f}' + '）' if rng[1] - rng[0] >= 1 else ''}{match(rng)}"
        for name, text, mid, rng in implied
    ]
    refs += [
        FactRef(DENOMINATOR, label(DENOMINATOR), f"{o.value:g}", o.where, o.cite(sy.documents()))
        for o in observed
    ]
    return [
        Finding(
            "warning",
            "implied_denominators",
            f"原文的生均类数字隐含了不同的在校生分母：{'；'.join(parts)}。"
            f"本报告的生均指标统一以全日制在校生 {chosen:g} 人（§{sy.facts[DENOMINATOR].chosen.source}）为分母。",
            sy.year,
            tuple(refs),
        )
    ]


def range_rules(sy: SchoolYear) -> list[Finding]:
    out = []
    ev = evaluator(sy)
    for spec in registry().indicators.values():
        iv = ev.get(spec.id)
        if iv.value is None:
            continue
        for bounds, severity, rule, word in (
            (spec.bounds, "error", "out_of_bounds", "不可能的取值"),
            (spec.plausible, "warning", "implausible", "超出合理范围"),
        ):
            if bounds and not (bounds[0] <= iv.value <= bounds[1]):
                out.append(
                    Finding(
                        severity,
                        rule,
                        f"{spec.name} {iv.text} {word}（{fmt.number(bounds[0], 2)}–{fmt.number(bounds[1], 2)}），请核实。"
                        f"{iv.derivation()}",
                        sy.year,
                        tuple(_input_refs(sy, spec.id)),
                    )
                )
                break
    return out


def yoy_bounds() -> tuple[float, float]:
    """The year-over-year bounds of specs/audit.yaml: (percentage points, relative %)."""
    cfg = yaml.safe_load((SPECS / "audit.yaml").read_text(encoding="utf-8"))["yoy"]
    return float(cfg["points"]), float(cfg["percent"])


def yoy_rules(
    sy: SchoolYear, points: float | None = None, percent: float | None = None
) -> list[Finding]:
    if sy.previous is None:
        return []
    cfg_points, cfg_percent = yoy_bounds()
    points = cfg_points if points is None else points
    percent = cfg_percent if percent is None else percent
    out = []
    names = [*load_dictionary().facts, *registry().indicators]
    for name in names:
        spec = registry().indicators.get(name)
        if spec is not None and spec.kind in {"growth", "difference"}:
            continue  # already a change
        c = change(sy, name)
        if c is None or c.delta is None or c.flat:
            continue
        big = (
            abs(c.delta) > points
            if c.points
            else (c.pct_change is not None and abs(c.pct_change) > percent)
        )
        if big:
            bound = f"±{points:g} 个百分点" if c.points else f"±{percent:g}%"
            out.append(
                Finding(
                    "warning",
                    "yoy_jump",
                    f"{c.current.spec.name}由上年 {c.previous.text} 变为 {c.current.text}，{c.phrase()}，"
                    f"超出设定的年度变化界限 {bound}，请核实。",
                    sy.year,
                    (
                        FactRef(name, c.current.spec.name, c.previous.text, f"{sy.year - 1} 年度"),
                        FactRef(name, c.current.spec.name, c.current.text, f"{sy.year} 年度"),
                    ),
                )
            )
    return out


def gap_rules(sy: SchoolYear) -> list[Finding]:
    """Breakdowns the source names that leave part of their whole unexplained."""
    d = load_dictionary()
    out = []
    for g in breakdown_gaps(sy.value):
        whole = g.check.whole
        is_fact = whole in sy.facts
        unit = d.unit(whole) if is_fact else d.unit(g.check.parts[0])
        decimals = max(fmt.decimals_for(v) for v in (g.whole, *g.parts.values()))

        def amount(v: float, unit: str = unit, decimals: int = decimals) -> str:
            return fmt.with_unit(v, unit, decimals)

        whole_label = d.label(whole) if is_fact else expr.render(whole, d.label)
        where = f"（§{sy.facts[whole].chosen.source}）" if is_fact else ""
        sources = "、".join(dict.fromkeys(f"§{sy.facts[n].chosen.source}" for n in g.parts))
        listed = "、".join(f"{d.label(n)} {amount(v)}" for n, v in g.parts.items())
        missing = f"；{'、'.join(d.label(n) for n in g.missing)}原文未给出" if g.missing else ""
        share = f"（占{whole_label}的 {fmt.percent(g.gap / g.whole * 100)}）" if g.whole else ""
        refs = [
            FactRef(
                n,
                d.label(n),
                amount(v),
                sy.facts[n].chosen.where,
                sy.facts[n].chosen.cite(sy.documents()),
            )
            for n, v in (({whole: g.whole} if is_fact else {}) | g.parts).items()
        ]
        out.append(
            Finding(
                "warning",
                "parts_gap",
                f"{whole_label}为 {amount(g.whole)}{where}，原文（{sources}）列出的分项：{listed}，"
                f"合计 {amount(g.total)}，比总数少 {amount(g.gap)}{share}{missing}；"
                f"其余 {amount(g.gap)}原文未作说明，请向学校核实。",
                sy.year,
                tuple(refs),
            )
        )
    return out


def _header_ref(sy: SchoolYear, t: st.SourceTable, c: st.Column) -> FactRef:
    return FactRef(
        st.TABLE,
        f"原文{t.name}第 {c.position} 列表头",
        c.shown,
        f"{sy.year} 年度 {st.TABLE}.csv 第 {c.line} 行（§{t.section} {t.name}）",
        _doc(sy, f"{t.section} {t.name}"),
    )


def source_table_rules(sy: SchoolYear) -> list[Finding]:
    """The source's own tables checked against themselves (titles, headers)."""
    df = sy.table(st.TABLE)
    out = []
    for line, name, word, value, first in st.inconsistencies(df):
        out.append(
            Finding(
                "error",
                "source_table_inconsistent",
                f"{st.TABLE}.csv 第 {line} 行：{name}的{word}为“{value}”，与该表第 {first} 行不一致；"
                f"同一张表的各行应填写相同的表题和章节。",
                sy.year,
                (
                    FactRef(
                        st.TABLE,
                        f"{name}{word}",
                        value,
                        f"{sy.year} 年度 {st.TABLE}.csv 第 {line} 行",
                    ),
                ),
            )
        )
    for t in st.read(df):
        headers = "、".join(f"“{c.shown}”" for c in t.columns)
        for measure in st.missing_measures(t):
            out.append(
                Finding(
                    "warning",
                    "title_measure_missing",
                    f"原文{t.name}（§{t.section}）的表题“{t.title}”列出了“{measure}”，"
                    f"但表中没有这一列（表头：{headers}），该表未给出{measure}。",
                    sy.year,
                    tuple(_header_ref(sy, t, c) for c in t.columns),
                )
            )
        for shown, cols in st.repeated_headers(t):
            positions = "、".join(str(c.position) for c in cols)
            out.append(
                Finding(
                    "warning",
                    "repeated_header",
                    f"原文{t.name}“{t.title}”（§{t.section}）第 {positions} 列的表头都印为“{shown}”"
                    f"（共 {len(cols)} 列），无法从表头分辨各列所指的指标；报告按原文保留这些列，请向学校核实。",
                    sy.year,
                    tuple(_header_ref(sy, t, c) for c in cols),
                )
            )
    return out


def audit(
    sy: SchoolYear, yoy_points: float | None = None, yoy_percent: float | None = None
) -> list[Finding]:
    """All findings for the school-year, errors first."""
    findings = [
        *conflict_rules(sy),
        *published_rules(sy),
        *share_rules(sy),
        *denominator_rules(sy),
        *range_rules(sy),
        *yoy_rules(sy, yoy_points, yoy_percent),
        *gap_rules(sy),
        *source_table_rules(sy),
    ]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: order[f.severity])


def report_findings(sy: SchoolYear) -> list[Finding]:
    """Findings for a report: this year's, plus the previous year's data it also shows.

    The report prints last year's figures beside this year's (two-year tables, comparisons),
    so the previous year's own inconsistencies are listed too; its year-over-year jumps
    (against the year before it) are not.
    """
    findings = audit(sy)
    if sy.previous is not None:
        findings += [f for f in audit(sy.previous) if f.rule != "yoy_jump"]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], -f.year))


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table (severity, rule, message, facts with provenance)."""
    return pd.DataFrame(
        [
            {
                "severity": f.severity,
                "rule": f.rule,
                "year": f.year,
                "message": f.message,
                "facts": "；".join(f"{r.label} {r.value}（{r.provenance}）" for r in f.facts),
            }
            for f in findings
        ],
        columns=["severity", "rule", "year", "message", "facts"],
    )
