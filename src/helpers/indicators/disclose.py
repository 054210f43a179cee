"""Disclosure in place: where the report shows a figure other than the one the school printed.

The report prints figures recomputed from the raw counts by one definition. Where the school's
own report printed a different figure for the same thing, the reader is told at that spot —
``13585.49 元/生（原报告印为 11894.66 元/生；按全日制在校生 3088 人复算）`` — in text, and
by a numbered note under a table. The same texts go into the tooltip; the 数据核验 appendix
keeps the full list (helpers.indicators.audit).

Policy (``figures``): ``recomputed`` (default) shows the recomputed figure and discloses the
printed one; ``published`` shows the school's printed figure, flagged as such, and discloses
the recomputed one. Only figures that can be recomputed differ; a figure that is 不适用 (a zero
denominator) is never replaced by a printed number in either policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from helpers import fmt
from helpers.indicators.evaluate import COMPUTED, FACT, NOT_APPLICABLE, IndicatorValue
from helpers.ingest.facts import Fact
from helpers.ingest.load import SchoolYear

RECOMPUTED, PUBLISHED = "recomputed", "published"
# how a placeholder prints a value: (figure, value, decimals) → text
Render = Callable[[IndicatorValue, float, int], str]
POLICIES = (RECOMPUTED, PUBLISHED)


def check_policy(figures: str) -> str:
    """The disclosure policy, checked (``recomputed`` | ``published``)."""
    if figures not in POLICIES:
        raise ValueError(f"figures 应为 {' 或 '.join(POLICIES)}，而不是 {figures!r}")
    return figures


@dataclass(frozen=True)
class Shown:
    """A figure as the page shows it: the text, and what the reader is told beside it."""

    text: str
    notes: tuple[str, ...] = ()
    # policy "published": the school's printed figure (value, decimals) is what is shown
    printed: tuple[float, int] | None = None

    @property
    def published(self) -> bool:
        return self.printed is not None


def _section_words(source: str) -> str:
    return f"第{source}节" if source[:1].isdigit() else source


def _fact_notes(fact: Fact, sy: SchoolYear, section: str | None, unit: str) -> list[str]:
    """Other values the source states for a fact the report shows one value of."""

    def text(value: float) -> str:
        return fmt.with_unit(value, unit, fmt.decimals_for(value))

    chosen = fact.chosen
    why = f"本报告采用{_section_words(chosen.source)}{chosen.period or ''}的取值"
    here = [o for o in fact.alternatives if section is not None and o.source.split()[0] == section]
    if here:
        printed = list(dict.fromkeys(text(o.value) for o in here))
        return [f"原报告{fmt.printed_as(printed)}；{why}"]
    if section is None and fact.alternatives:
        others = "、".join(
            dict.fromkeys(
                f"{text(o.value)}（{_section_words(o.source)}）" for o in fact.alternatives
            )
        )
        return [f"原报告另载 {others}；{why}"]
    return []


def shown(
    iv: IndicatorValue,
    sy: SchoolYear,
    section: str | None = None,
    figures: str = RECOMPUTED,
    render: Render | None = None,
) -> Shown:
    """What the page shows for ``iv`` and the disclosures beside it.

    ``section`` is the section of the school's text the figure stands in (``1.1.1``), so that a
    fact stated differently there is disclosed there; None for tables, which disclose every
    other value. ``render`` prints a value another way than the figure's text (e.g. in 万元);
    it prints the school's figure too when that is shown.
    """
    if render is None or iv.not_applicable or iv.value is None:
        base = iv.text
    else:
        base = render(iv, iv.value, iv.spec.decimals)
    if iv.status == FACT:
        fact = sy.facts.get(iv.id)
        notes = _fact_notes(fact, sy, section, iv.spec.unit) if fact is not None else []
        return Shown(base, tuple(notes))
    corrections = iv.corrections
    printed = fmt.printed_as([str(r["printed"]) for r in corrections])
    if iv.status == NOT_APPLICABLE:
        also = f"；原报告{printed}" if corrections else ""
        return Shown(base, (f"{iv.reason}{also}",))
    if not corrections:
        return Shown(base)
    assert iv.status == COMPUTED
    # a ratio is restated in the format of the sentence it stands in (15.21:1, or 1:15.21
    # where the school's prose calls it 师生比): never two formats in one sentence
    again = base if iv.spec.unit == "ratio" and render is not None else None
    if figures == PUBLISHED:
        r = corrections[0]
        value, decimals = float(r["value"]), int(r["decimals"])
        own = (
            render(iv, value, decimals)
            if render is not None
            else fmt.with_unit(value, iv.spec.unit, decimals)
        )
        return Shown(
            own,
            (f"学校填报值；{iv.correction_reason(again)}",),
            printed=(value, decimals),
        )
    return Shown(base, (f"原报告{printed}；{iv.correction_reason(again)}",))
