"""The 数据核验 appendix, written for a reviewer (审核参考).

The audit (helpers.indicators.audit) gives one finding per problem, in developer terms. The
appendix reads it as a reviewer needs it: a short summary first (how many printed figures
differ from the recomputed ones, how many values conflict, what to check first), then the
findings grouped by kind, most important first, each group saying what it means and what to
do, and the year-over-year jumps in one compact table. Sources are named by document title
and section (helpers.ingest.cite), never by data file.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.indicators.audit import Finding, report_findings, yoy_bounds
from helpers.indicators.compare import change
from helpers.ingest import cite
from helpers.report import markup
from helpers.report.context import ReportContext


@dataclass(frozen=True)
class Group:
    """A kind of finding: its rules, a title, what it means and what the reviewer should do."""

    key: str
    rules: tuple[str, ...]
    title: str
    meaning: str
    action: str


GROUPS = (
    Group(
        "errors",
        ("out_of_bounds", "source_table_inconsistent"),
        "数据错误",
        "数值不可能成立，或原报告表格的转录自相矛盾。",
        "须先更正数据，报告才能定稿。",
    ),
    Group(
        "mismatch",
        ("published_mismatch",),
        "原报告印出的数字与复算结果不符",
        "按学校自己填报的计数重新计算，结果与原报告印出的数字不同，差距超出四舍五入所能解释的"
        "范围。本报告正文采用复算值，并在该数字旁注明原报告印出的数字。",
        "请学校说明原数字的算法或所用计数；若原数字有误，应在报告中更正。",
    ),
    Group(
        "conflict",
        ("conflicting_fact", "published_conflict", "implied_denominators"),
        "同一数据前后不一",
        "原报告在不同位置对同一数据给出了不同数值，或生均指标隐含了不同的在校生人数。本报告"
        "统一采用一个取值，并写明理由。",
        "请学校确认应以哪一个数值为准。",
    ),
    Group(
        "parts",
        ("shares_sum", "parts_gap"),
        "分项与合计对不上",
        "原报告列出的分项加起来不等于合计（或各项占比之和不为 100%）。",
        "请学校核实分项数据，或补充缺少的分项。",
    ),
    Group(
        "range",
        ("implausible",),
        "数值超出合理范围",
        "数值可能成立，但超出同类学校的常见范围。",
        "请核实该数值是否填报有误。",
    ),
    Group(
        "tables",
        ("title_measure_missing", "repeated_header"),
        "原报告表格本身的问题",
        "原报告的表题或表头与表中内容不一致，无法确定某些列所指的指标。",
        "请学校核对原表的表题与表头。",
    ),
    Group(
        "unchecked",
        ("not_recomputable",),
        "无法复算的数字",
        "原始数据中缺少计算所需的计数，报告只能照录学校填报值，并注明“学校填报值”。",
        "如需核实，请学校补充相应的计数。",
    ),
)
YOY = "yoy_jump"


def group_of(f: Finding) -> str:
    """The key of the group a finding belongs to (``yoy`` for a year-over-year jump)."""
    if f.rule == YOY:
        return "yoy"
    return next((g.key for g in GROUPS if f.rule in g.rules), "other")


def summary_counts(findings: list[Finding]) -> dict[str, int]:
    """How many findings of each group (keys of GROUPS, ``yoy`` and ``other``)."""
    out = {g.key: 0 for g in GROUPS} | {"yoy": 0, "other": 0}
    for f in findings:
        out[group_of(f)] += 1
    return out


def subject(f: Finding) -> str:
    """The figure a finding is about, as a label (``生师比``, ``原文表1``)."""
    if f.rule == "implied_denominators":
        return "生均指标的在校生分母"
    if not f.facts:
        return ""
    text = f.facts[0].label.removeprefix("原文印出的")
    if "列表头" in text:
        return text.split("第")[0]
    return text


def summary(rep: ReportContext, findings: list[Finding]) -> str:
    """The appendix's first paragraph: the counts a reviewer needs and what to check first."""
    n = summary_counts(findings)
    parts = [f"原报告印出的数字与按其自身计数复算的结果不符 {n['mismatch']} 处"]
    parts.append(f"同一数据前后不一 {n['conflict']} 处")
    if n["errors"]:
        parts.insert(0, f"数据错误 {n['errors']} 处（须先更正）")
    if n["parts"]:
        parts.append(f"分项与合计对不上 {n['parts']} 处")
    if n["range"]:
        parts.append(f"数值超出合理范围 {n['range']} 处")
    if n["tables"]:
        parts.append(f"原报告表格问题 {n['tables']} 处")
    if n["yoy"]:
        parts.append(f"年度变化较大、宜确认的指标 {n['yoy']} 项")
    if n["unchecked"]:
        parts.append(f"无法复算、照录学校填报值的数字 {n['unchecked']} 个")
    first = [g for g in GROUPS if n[g.key]][:2]
    names: list[str] = []
    for g in first:
        for f in findings:
            if f.rule in g.rules and subject(f) and subject(f) not in names:
                names.append(subject(f))
    check = f"建议首先核对：{'、'.join(names[:5])}。" if names else ""
    years = f"{rep.year} 年度及其对比的上一年度"
    return markup.para(
        markup.esc(f"本附录核验本报告所用数据（{years}）：{'；'.join(parts)}。{check}"),
        "nb-review-summary",
    )


def _group_table(g: Group, findings: list[Finding], anchor: str) -> str:
    rows = [
        [
            markup.esc(f"{f.year} 年"),
            markup.esc(subject(f)),
            markup.esc(cite.sections_in(f.message)),
            markup.lines([f"{r.label}：{r.value}（{r.reader_source}）" for r in f.facts]),
        ]
        for f in findings
    ]
    return markup.para(
        markup.strong(f"{g.title}（{len(findings)} 处）")
        + markup.esc(f"　{g.meaning}处理建议：{g.action}"),
        "nb-review-group",
    ) + markup.table(
        None,
        g.title,
        ["年度", "指标", "说明", "涉及数据及来源"],
        rows,
        [False] * 4,
        anchor=anchor,
        classes=["nb-col-year", "nb-col-name", "", ""],
    )


def _yoy_table(rep: ReportContext, findings: list[Finding]) -> str:
    rows = []
    for f in findings:
        name = f.facts[0].name
        c = change(rep.sy, name)
        rows.append(
            [
                markup.esc(subject(f)),
                markup.esc(f.facts[0].value),
                markup.esc(f.facts[1].value if len(f.facts) > 1 else ""),
                markup.esc(c.phrase() if c is not None else ""),
            ]
        )
    points, percent = yoy_bounds()
    intro = markup.para(
        markup.strong(f"年度变化较大的指标（{len(findings)} 项）")
        + markup.esc(
            f"　以下指标与上年相比变化超出设定界限（百分比指标 ±{points:g} 个百分点，"
            f"其他 ±{percent:g}%）。"
            "变化本身不一定是错误，处理建议：请学校确认数值无误并在正文中说明原因。"
        ),
        "nb-review-group",
    )
    return intro + markup.table(
        None,
        "年度变化较大的指标",
        ["指标", f"{rep.year - 1} 年", f"{rep.year} 年", "变化"],
        rows,
        [False, True, True, False],
        anchor="audit-yoy",
        classes=["nb-col-name", "", "", ""],
    )


def audit_section(rep: ReportContext) -> str:
    """数据核验: the review mark, the summary, the groups, then the year-over-year table."""
    findings = report_findings(rep.sy)
    mark = markup.para(
        markup.esc("审核参考：本附录供审阅人核对数据之用，不属于学校报告正文。"), "nb-review-mark"
    )
    if not findings:
        return mark + markup.para("数据核验未发现问题。")
    out = [mark, summary(rep, findings)]
    for g in GROUPS:
        items = [f for f in findings if f.rule in g.rules]
        if items:
            out.append(_group_table(g, items, f"audit-{g.key}"))
    other = [f for f in findings if group_of(f) == "other"]
    if other:
        g = Group("other", (), "其他", "", "请核实。")
        out.append(_group_table(g, other, "audit-other"))
    yoy = [f for f in findings if f.rule == YOY]
    if yoy:
        out.append(_yoy_table(rep, yoy))
    return "".join(out)
