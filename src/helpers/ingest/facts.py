"""Scalar facts: parsing facts.yaml into observations and choosing one value per fact.

A source document may state a fact twice with different values (全日制在校生 3527 in 1.1.1
and 3088 in 1.1.2). Both observations are kept with their provenance. The report uses one,
chosen by this documented rule (``resolve``):

1. if the values agree, that value;
2. else the observation marked ``use: true`` (the analyst's recorded decision);
3. else the observation whose ``period`` is the report's school year (the 统计时点/时期 the
   definitions call for), if exactly one value has it;
4. else the school-year fails validation, asking the analyst to mark one with ``use: true``.

The audit reports every fact with more than one value, whichever was chosen.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from helpers.errors import Problem
from helpers.ingest import cite, numbers
from helpers.ingest.numbers import Parsed
from helpers.ingest.readers import YamlDoc
from helpers.specs.dictionary import Dictionary, FieldSpec

OBS_KEYS = {"value", "source", "period", "qualifier", "use", "doc", "note", "cell"}
QUALIFIERS = {"约", "超过", "不足", "以上"}
USE_RULE = "数据中标注 use: true 的取值"


@dataclass(frozen=True)
class Observation:
    """One statement of a fact in a source document."""

    field: str
    value: float
    source: str
    file: str
    line: int | None = None
    period: str | None = None
    qualifier: str | None = None
    use: bool = False
    doc: str | None = None
    note: str | None = None
    cell: str | None = None  # the workbook cell it was imported from (nianbao import-xlsx)

    @property
    def where(self) -> str:
        """Provenance as a reader sees it: document section and data file line."""
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.doc + ' ' if self.doc else ''}§{self.source}（{loc}）"

    def cite(self, documents: dict[str, Any] | None) -> str:
        """Provenance as the reviewer's page gives it: ``《2024年度质量报告》第1.1.2节``."""
        return cite.cite(self.doc, self.source, documents)


@dataclass(frozen=True)
class Fact:
    """A fact's value as the report uses it, with every observation behind it."""

    field: str
    value: float
    chosen: Observation
    observations: tuple[Observation, ...]
    rule: str

    @property
    def conflicting(self) -> bool:
        return len({o.value for o in self.observations}) > 1

    @property
    def alternatives(self) -> list[Observation]:
        return [o for o in self.observations if o.value != self.value]

    @property
    def qualifier(self) -> str | None:
        return self.chosen.qualifier

    @property
    def reason(self) -> str:
        """Why the report uses this value, for a reader (no data keys): the analyst's note
        for a value marked ``use: true``, else the rule in words."""
        if self.rule == USE_RULE:
            return cite.sections_in(self.chosen.note) if self.chosen.note else "经核对原文选定"
        return self.rule


def _coerce(value: Any, spec: FieldSpec) -> Parsed:
    """Parse a raw YAML value against its field spec: a finite number within range, or why not.

    Strings go through the same parser as CSV cells (``"1,679"``, ``"51.72%"``, full-width
    digits are read with a note); YAML's own ``.nan`` and ``.inf`` are rejected.
    """
    if value is None:
        return numbers.empty()
    if not isinstance(value, str | int | float):
        return Parsed(None, rule="not_a_number", message="应为数字")
    parsed = numbers.parse_number(value, spec.type, percent_ok=spec.type == "percent", noun="此项")
    if not parsed.ok:
        return parsed
    number = parsed.value
    if spec.lower is not None and number < spec.lower:
        return Parsed(
            None,
            rule="not_negative" if spec.lower == 0 else "min",
            message="数值不能为负数" if spec.lower == 0 else f"数值小于允许的最小值 {spec.lower:g}",
        )
    if spec.upper is not None and number > spec.upper:
        if spec.type == "percent":
            return Parsed(None, rule="percent_range", message="百分比应在 0 到 100 之间")
        return Parsed(
            None, rule="max", message=f"数值超出允许的最大值 {spec.upper:g}（{spec.label}）"
        )
    return parsed


def parse_observations(
    doc: YamlDoc, shown: str, dictionary: Dictionary, default_doc: str | None
) -> tuple[list[Observation], list[Problem]]:
    """Turn facts.yaml into validated observations; every problem names file, line, field, value."""
    data = doc.data if doc.data is not None else {}
    problems: list[Problem] = []
    out: list[Observation] = []
    if not isinstance(data, dict):
        return [], [Problem(shown, "structure", "facts.yaml 应为“字段: 观测值”的映射")]
    for name, raw in data.items():
        line = doc.line(data, name)
        spec = dictionary.facts.get(name)
        if spec is None:
            guess = difflib.get_close_matches(str(name), list(dictionary.facts), n=1, cutoff=0.6)
            problems.append(
                Problem(
                    shown,
                    "unknown_field",
                    "数据字典中没有这个字段",
                    row=line,
                    column=str(name),
                    hint=f"是否应为 {guess[0]!r}？" if guess else "字段见 docs/data-dictionary.md",
                )
            )
            continue
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            item_line = line
            if not isinstance(item, dict):
                problems.append(
                    Problem(
                        shown,
                        "structure",
                        "每个观测值应写成 {value: …, source: …}（来源必填）",
                        row=line,
                        column=name,
                        value=item,
                    )
                )
                continue
            item_line = doc.line(item, "value") or line
            extra = set(item) - OBS_KEYS
            if extra:
                problems.append(
                    Problem(
                        shown,
                        "unknown_key",
                        f"观测值中有未定义的键：{', '.join(map(str, extra))}",
                        row=item_line,
                        column=name,
                        hint=f"允许的键：{', '.join(sorted(OBS_KEYS))}",
                    )
                )
            if "value" not in item:
                problems.append(
                    Problem(shown, "missing_value", "缺少 value", row=item_line, column=name)
                )
                continue
            if not item.get("source"):
                problems.append(
                    Problem(
                        shown,
                        "missing_source",
                        "缺少 source（来源章节必填）",
                        row=item_line,
                        column=name,
                    )
                )
            parsed = _coerce(item["value"], spec)
            if not parsed.ok:
                problems.append(
                    Problem(
                        shown,
                        parsed.rule,
                        parsed.message,
                        row=item_line,
                        column=name,
                        value=item["value"],
                        hint=parsed.hint,
                    )
                )
                continue
            if parsed.habits:
                problems.append(
                    Problem(
                        shown,
                        "number_format",
                        parsed.note(),
                        row=item_line,
                        column=name,
                        value=item["value"],
                        severity=parsed.severity,
                        hint=f"请写作 {parsed.text}",
                    )
                )
            value = parsed.value
            qualifier = item.get("qualifier")
            if qualifier is not None and qualifier not in QUALIFIERS:
                problems.append(
                    Problem(
                        shown,
                        "allowed_values",
                        f"qualifier 只能是 {'、'.join(sorted(QUALIFIERS))}",
                        row=item_line,
                        column=name,
                        value=qualifier,
                    )
                )
            use = item.get("use", False)
            if not isinstance(use, bool):
                problems.append(
                    Problem(
                        shown,
                        "not_boolean",
                        "use 应为 true 或 false",
                        row=item_line,
                        column=name,
                        value=use,
                    )
                )
                use = False
            out.append(
                Observation(
                    field=name,
                    value=value,
                    source=str(item.get("source", "")),
                    file=shown,
                    line=item_line,
                    period=_opt(item.get("period")),
                    qualifier=_opt(qualifier),
                    use=use,
                    doc=_opt(item.get("doc")) or default_doc,
                    note=_opt(item.get("note")),
                    cell=_opt(item.get("cell")),
                )
            )
    return out, problems


def _opt(v: Any) -> str | None:
    return None if v is None else str(v)


def resolve(
    observations: list[Observation], school_year: str | None, shown: str
) -> tuple[dict[str, Fact], list[Problem]]:
    """Choose one value per fact by the rule in the module docstring."""
    by_field: dict[str, list[Observation]] = {}
    for o in observations:
        by_field.setdefault(o.field, []).append(o)
    facts: dict[str, Fact] = {}
    problems: list[Problem] = []
    for name, obs in by_field.items():
        values = {o.value for o in obs}
        marked = [o for o in obs if o.use]
        if len({o.value for o in marked}) > 1:
            problems.append(
                Problem(
                    shown,
                    "several_use",
                    "多个不同取值都标了 use: true，只能采用一个",
                    row=marked[1].line,
                    column=name,
                    value=marked[1].value,
                )
            )
            continue
        if len(values) == 1:
            facts[name] = Fact(name, obs[0].value, obs[0], tuple(obs), "唯一取值")
        elif marked:
            facts[name] = Fact(name, marked[0].value, marked[0], tuple(obs), USE_RULE)
        else:
            in_period = [o for o in obs if school_year and _same_period(o.period, school_year)]
            if len({o.value for o in in_period}) == 1:
                facts[name] = Fact(
                    name,
                    in_period[0].value,
                    in_period[0],
                    tuple(obs),
                    f"统计时段与本年度学年（{school_year}）一致的取值",
                )
            else:
                shown_values = "、".join(f"{o.value:g}（§{o.source}）" for o in obs)
                problems.append(
                    Problem(
                        shown,
                        "ambiguous_fact",
                        f"同一事实有不同取值：{shown_values}，无法按统计时段选出一个",
                        row=obs[0].line,
                        column=name,
                        hint="请在报告应采用的一项加上 use: true，并在 note 中说明理由",
                    )
                )
    return facts, problems


def _norm_period(text: str) -> str:
    return text.replace(" ", "").replace("学年", "").replace("—", "-").replace("–", "-")


def _same_period(period: str | None, school_year: str) -> bool:
    """``2023-2024学年`` matches ``2023—2024``: the same school year however it is written."""
    return bool(period) and _norm_period(period) == _norm_period(school_year)
