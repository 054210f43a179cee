"""Chinese running text with computed figures.

:func:`fill` replaces ``{{ id }}`` placeholders (in report.yaml templates and in the year's
Markdown) with figures from the helpers, each carrying its derivation; the generated
paragraphs (denominator note, standards, award summary, audit and derivation appendices)
are built here too.
"""

from __future__ import annotations

import re

from helpers import fmt
from helpers.indicators import disclose
from helpers.indicators.audit import report_findings
from helpers.indicators.compare import change
from helpers.indicators.evaluate import MISSING, IndicatorValue, compute, value_of
from helpers.indicators.standards import check
from helpers.ingest.narrative import PLACEHOLDER
from helpers.report import markup
from helpers.report.context import ReportContext
from helpers.report.figures import awards_missing
from helpers.specs.dictionary import load_dictionary


def other_year(name: str, year: int) -> int | None:
    """The year a ``prev.<id>`` / ``y2021.<id>`` placeholder reads, None for this year's."""
    prefix, dot, _ = name.partition(".")
    if not dot:
        return None
    if prefix == "prev":
        return year - 1
    m = re.fullmatch(r"y(\d{4})", prefix)
    return int(m.group(1)) if m else None


def fill(html: str, rep: ReportContext, section: str | None = None) -> tuple[str, int, int]:
    """Substitute placeholders in (already escaped) HTML; returns (html, filled, missing).

    ``section`` is the report section the text stands in: a figure the school printed
    differently there is disclosed beside it (helpers.indicators.disclose).
    """
    counts = [0, 0]

    def sub(m) -> str:
        name, flt = m.group(1), m.group(2)
        meta = {
            "year": str(rep.year),
            "prev_year": str(rep.year - 1),
            "school_year": rep.sy.school_year or "",
            "school_name": rep.sy.school_name,
        }
        if name in meta:
            return markup.esc(meta[name])
        kind, _, ident = name.partition(".")
        if kind in ("table", "figure"):
            number = rep.numbers.get((kind, ident))
            counts[1 if number is None else 0] += 1
            return f"{'表' if kind == 'table' else '图'}{number}" if number else ""
        year = other_year(name, rep.year)
        if year is not None:
            sy = rep.years_before().get(year)
            if sy is None:
                counts[1] += 1
                return markup.num("", f"{year} 年度无数据", missing=True)
            name = ident
        else:
            sy = rep.sy
        iv = value_of(sy, name)
        if flt == "change":
            c = change(rep.sy, name)
            if c is None:
                return ""
            if c.not_comparable:
                why = f"{c.current.spec.name}：{c.not_comparable}"
            else:
                why = (
                    f"{c.current.spec.name}：上年 {c.previous.text}，本年 {c.current.text}；"
                    f"差值按未经四舍五入的数值计算" + (f"；{c.basis}" if c.basis else "")
                )
            return "，" + markup.num(c.phrase(), why)
        if flt == "history":
            items = []
            for y, other in rep.years_before().items():
                h = value_of(other, name)
                if h.value is not None:
                    items.append(f"{y} 年 " + markup.num(h.text, h.derivation()))
            return f"（往年：{'，'.join(items)}）" if items else ""
        counts[1 if iv.missing else 0] += 1
        if iv.missing:
            return markup.num("", iv.derivation(), missing=True)
        s = disclose.shown(iv, sy, section, rep.figures, _FILTERS.get(flt))
        why = iv.derivation() + "".join(f"（{n}）" for n in s.notes)
        # a difference taken between the two years' printed figures says so (like for like)
        notes = s.notes + ((iv.basis,) if iv.basis and flt != "change" else ())
        return markup.num(s.text, why) + markup.disclosure(notes)

    out = PLACEHOLDER.sub(sub, html)
    return out, counts[0], counts[1]


def _wan(iv: IndicatorValue, value: float, decimals: int) -> str:
    text = fmt.wan(value, iv.spec.unit)
    return f"{iv.qualifier} {text}" if iv.qualifier else text


# How a placeholder's filter prints a value (the figure's own or, with figures="published",
# the school's printed one); no filter: the figure's text with its unit.
_FILTERS: dict[str | None, disclose.Render] = {
    "wan": _wan,
    "num": lambda iv, value, decimals: fmt.number(value, max(decimals, 0)),
    "abs": lambda iv, value, decimals: fmt.with_unit(abs(value), iv.spec.unit, max(decimals, 0)),
}


_SEPARATORS = "，；"
_OPEN, _CLOSE = "（(“", "）)”"


def clauses(text: str) -> list[tuple[str, str]]:
    """A template split at its top-level ，/； into (clause, separator after it)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif ch in _SEPARATORS and depth == 0:
            out.append((text[start:i], ch))
            start = i + 1
    out.append((text[start:], ""))
    return out


def template(text: str, rep: ReportContext, section: str | None = None) -> str:
    """A report.yaml paragraph without the clauses whose figures are missing.

    Running text never shows 未填报: a clause (between top-level ，/；) that states a missing
    figure is left out, and the paragraph is empty when no figure in it has a value (the
    tables and the appendix show what is missing).
    """
    stripped = text.rstrip()
    end = stripped[-1] if stripped.endswith(("。", "！", "？")) else ""
    parts: list[list[str]] = []  # [html, separator after it]
    filled_any = False
    for clause, sep in clauses(stripped[: len(stripped) - len(end)]):
        html, filled, missing = fill(markup.esc(clause), rep, section)
        if missing:
            if parts and sep == "；":
                parts[-1][1] = "；"  # keep the stronger break of a dropped clause
            continue
        filled_any = filled_any or filled > 0
        parts.append([html, sep])
    if not filled_any:
        return ""
    parts[-1][1] = end
    return markup.para("".join(h + markup.esc(s) for h, s in parts))


def denominator_note(rep: ReportContext) -> str:
    fact = rep.sy.facts.get("students_full_time")
    if fact is None:
        return ""
    iv = value_of(rep.sy, "students_full_time")
    text = f"注：本报告所有生均指标以全日制在校生 {markup.num(iv.text, iv.derivation())}（§{markup.esc(fact.chosen.source)}"
    text += f"，{markup.esc(fact.chosen.period)}）" if fact.chosen.period else "）"
    text += "为分母"
    if fact.conflicting:
        others = "、".join(f"{o.value:g} 人（§{o.source}）" for o in fact.alternatives)
        text += f"；来源中另载全日制在校生 {markup.esc(others)}，未采用（依据：{markup.esc(fact.rule)}）"
    return markup.para(text + "。", cls="nb-note")


def standards(rep: ReportContext, ids: list[str]) -> str:
    parts = []
    for iid in ids:
        for r in check(rep.sy, iid):
            if r.met is None:
                continue
            parts.append(
                f"{markup.esc(r.standard['text'])}——本校 {markup.num(r.value.text, r.value.derivation())}，"
                f"<strong>{r.verdict}</strong>"
            )
    return (
        markup.para("对照国家标准：" + "；".join(parts) + "。", cls="nb-standards") if parts else ""
    )


def awards_summary(rep: ReportContext) -> str:
    years = []
    for y, sy in rep.years_upto(2).items():
        t = sy.table("awards")
        if t is None or t.empty:
            continue
        levels = []
        for (comp, level), g in t.groupby(["competition", "level"], sort=False):
            prizes = "、".join(
                f"{markup.esc(r.prize)} "
                + markup.num(
                    f"{int(r['count'])} 项",
                    f"{sy.year} 年度 awards.csv 第 {line} 行（§{r.source}）",
                )
                for line, r in g.iterrows()
            )
            total = int(g["count"].sum())
            levels.append(f"{markup.esc(comp)}（{markup.esc(level)}）获奖 {total} 项：{prizes}")
        years.append(f"{y} 年，" + "；".join(levels))
    missing = awards_missing(rep)  # the report year has none: say so, never a silent gap
    if not years:
        return markup.para(missing, cls="nb-missing-section") if missing else ""
    return markup.para("学生参加技能大赛获奖情况：" + "。".join(years) + "。" + missing)


SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
RULE_ZH = {
    "published_mismatch": "公布数值与复算不符",
    "published_conflict": "同一数值多处公布不一致",
    "not_recomputable": "无法复算",
    "conflicting_fact": "同一事实多个取值",
    "shares_sum": "占比之和不为100%",
    "implied_denominators": "生均分母不一致",
    "out_of_bounds": "不可能的取值",
    "implausible": "超出合理范围",
    "yoy_jump": "年度变化过大",
    "parts_gap": "分项未覆盖总数",
    "title_measure_missing": "表题所列指标缺列",
    "repeated_header": "表头重复",
    "source_table_inconsistent": "原文表格转录不一致",
}


def audit_section(rep: ReportContext) -> str:
    findings = report_findings(rep.sy)
    if not findings:
        return markup.para("数据核验未发现问题。")
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITY_ZH}
    intro = markup.para(
        f"以下为对本报告所用数据（{rep.year} 年度及其对比的上一年度）的自动核验结果：错误 {counts['error']} 项、警告 {counts['warning']} 项、"
        f"提示 {counts['info']} 项。“错误”会阻止报告生成；“警告”提示来源数据中相互矛盾或异常之处，"
        "报告已按统一口径处理，请审阅人确认；“提示”说明无法复核的数字。"
    )
    rows = [
        [
            f'<span class="nb-sev nb-sev-{f.severity}">{SEVERITY_ZH[f.severity]}</span>',
            markup.esc(f"{f.year} 年"),
            markup.esc(RULE_ZH.get(f.rule, f.rule)),
            markup.esc(f.message),
            "<br>".join(markup.esc(f"{r.label}：{r.value}（{r.provenance}）") for r in f.facts),
        ]
        for f in findings
    ]
    return intro + markup.table(
        None,
        "数据核验结果",
        ["级别", "年度", "类型", "说明", "涉及数据及来源"],
        rows,
        [False] * 5,
        anchor="audit-table",
    )


def derivations_section(rep: ReportContext) -> str:
    rows = []
    for iv in compute(rep.sy).values():
        rows.append(
            [
                markup.esc(iv.spec.name),
                markup.esc(iv.text),
                markup.esc(iv.formula_text),
                markup.esc(iv.derivation()),
                markup.esc(iv.spec.reference),
            ]
        )
    ind = markup.table(
        None,
        "指标口径",
        ["指标", "数值", "口径（公式）", "计算过程与数据来源", "定义依据"],
        rows,
        [False, True, False, False, False],
        anchor="derivation-table",
        note="计算一律使用未经四舍五入的数值，只在显示时按四舍五入保留小数。",
    )
    d = load_dictionary()
    frows = []
    for name in rep.sy.facts:
        iv = value_of(rep.sy, name)
        frows.append(
            [markup.esc(d.label(name)), markup.esc(iv.text), markup.esc(iv.inputs[0].provenance)]
        )
    facts = markup.table(
        None,
        "原始数据来源",
        ["数据项", "采用值", "来源"],
        frows,
        [False, True, False],
        anchor="facts-table",
    )
    missing = [iv.spec.name for iv in compute(rep.sy).values() if iv.status == MISSING]
    note = (
        markup.para(f"本年度未填报、无法计算的指标：{markup.esc('、'.join(missing))}。")
        if missing
        else ""
    )
    return ind + note + facts
