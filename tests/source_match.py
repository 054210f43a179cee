"""Find the seed's units (tests/seed_text.py) in a built report, in order.

Both sides are normalised the same way: whitespace and punctuation dropped (full- and
half-width alike), every number replaced by ``#`` and kept aside. A sentence matches where
its text matches and each of its numbers agrees with the report's number at that spot:

- by value, within display rounding (6077.4 ↔ 6077.36, 97.6 ↔ 97.60, 41% ↔ 41.04%);
- ``表N`` / ``图N`` references: the report's own number of the same table or chart;
- otherwise only as a disclosed correction: the report's number carries a disclosure
  （原报告印为 PRINTED；REASON） whose PRINTED has the source's number, and the audit lists that
  correction (a ``published_mismatch`` / ``conflicting_fact`` finding that names both the
  printed and the report's value).

A Chinese numeral before a measure word (七所, 两项) may stand for a number of the report.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from helpers.fmt import round_half_up
from tests.report_text import Block, Disclosure
from tests.seed_text import Unit

NUM = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
CN_VALUES = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
MEASURE = "所个项门名栋台间位类"
PHOTO = "原报告配图（本报告未收录图片）："
CORRECTION_RULES = {"published_mismatch", "conflicting_fact"}


def decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def same_value(source: str, report: str) -> bool:
    """Equal within display rounding, whichever side shows more decimals."""
    s, r = Decimal(source.replace(",", "")), Decimal(report.replace(",", ""))
    return (
        round_half_up(r, decimals(source)) == s
        or round_half_up(s, decimals(report.replace(",", ""))) == r
    )


def _dropped(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZ"


@dataclass
class Norm:
    """Normalised text: ``text`` without spaces and punctuation, numbers as ``#``."""

    text: str = ""
    numbers: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # normalised index → original offset
    number_at: dict[int, int] = field(default_factory=dict)  # index of a '#' → number
    number_start: list[int] = field(default_factory=list)  # number → original offset
    number_end: list[int] = field(default_factory=list)  # number → original end offset


def normalize(text: str) -> Norm:
    out = Norm()
    chars: list[str] = []
    i = 0
    while i < len(text):
        m = NUM.match(text, i)
        if m and not (i and text[i - 1].isdigit()):
            out.number_at[len(chars)] = len(out.numbers)
            out.numbers.append(m.group(0).replace(",", ""))
            out.number_start.append(i)
            out.number_end.append(m.end())
            out.starts.append(i)
            chars.append("#")
            i = m.end()
            continue
        if not _dropped(text[i]):
            out.starts.append(i)
            chars.append(text[i])
        i += 1
    out.text = "".join(chars)
    return out


@dataclass(frozen=True)
class Slot:
    group: str
    token: str  # the source's number, or its Chinese numeral
    reference: str | None  # "table" / "figure" when the number follows 表 / 图


def pattern(norm: Norm) -> tuple[re.Pattern[str], list[Slot]]:
    """A regex for a normalised source text, one capture group per number."""
    parts, slots = [], []
    t = norm.text
    for i, ch in enumerate(t):
        if ch == "#":
            g = f"s{len(slots)}"
            before = t[i - 1] if i else ""
            ref = {"表": "table", "图": "figure"}.get(before)
            slots.append(Slot(g, norm.numbers[norm.number_at[i]], ref))
            parts.append(f"(?P<{g}>#)")
        elif ch in CN_VALUES and i + 1 < len(t) and t[i + 1] in MEASURE:
            g = f"s{len(slots)}"
            slots.append(Slot(g, ch, None))
            parts.append(f"(?:{re.escape(ch)}|(?P<{g}>#))")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts)), slots


@dataclass
class Corpus:
    """A report's running text (tables left out), normalised, with its disclosures."""

    blocks: Sequence[Block]
    norm: Norm = field(init=False)
    disclosures: list[tuple[int, Disclosure]] = field(init=False)  # (original offset, d)
    block_at: list[tuple[int, Block]] = field(init=False)

    def __post_init__(self) -> None:
        text, self.disclosures, self.block_at = [], [], []
        at = 0
        for b in self.blocks:
            if b.in_table:
                continue
            self.block_at.append((at, b))
            self.disclosures += [(at + d.offset, d) for d in b.disclosures]
            text.append(b.text)
            at += len(b.text)
        self.norm = normalize("".join(text))

    def index_of(self, offset: int) -> int:
        """The normalised index at or after an original offset."""
        return bisect.bisect_left(self.norm.starts, offset)

    def disclosure_after(self, number: int) -> Disclosure | None:
        """The disclosure standing right after the report's number (its unit may be between)."""
        end = self.norm.number_end[number]
        starts = self.norm.number_start
        nxt = starts[number + 1] if number + 1 < len(starts) else end + 8
        for off, d in self.disclosures:
            if end <= off <= min(end + 8, nxt):
                return d
        return None

    def caption(self, kind: str, number: int) -> int | None:
        """Normalised index of the report's caption 图N / 表N."""
        prefix = f"{'图' if kind == 'figure' else '表'}{number} "
        for at, b in self.block_at:
            if b.tag == "figcaption" and b.text.strip().startswith(prefix):
                return self.index_of(at)
        return None


@dataclass(frozen=True)
class Result:
    unit: Unit
    ok: bool
    why: str = ""
    corrections: tuple[str, ...] = ()


def _numbers(text: str) -> list[str]:
    return [t.replace(",", "") for t in NUM.findall(text)]


def audit_lists(findings: Iterable, source: str, report: str) -> str | None:
    """The audit finding that corrects ``source`` (printed) to ``report``, if any."""
    source = str(CN_VALUES.get(source, source))
    for f in findings:
        if f.rule not in CORRECTION_RULES:
            continue
        printed = [t for r in f.facts for t in _numbers(r.value)]
        shown = printed + _numbers(f.message)
        if any(same_value(source, t) and decimals(t) == decimals(source) for t in printed) and any(
            same_value(report, t) for t in shown
        ):
            return f.message
    return None


class Matcher:
    """Finds units in order in one report."""

    def __init__(
        self,
        corpus: Corpus,
        findings: Sequence,
        numbers: dict[tuple[str, str], int],
        source_ids: dict[str, dict[int, str]],
    ):
        self.c = corpus
        self.findings = findings
        self.numbers = numbers
        self.source_ids = source_ids  # {"table": {1: "satisfaction"}, "figure": {...}}
        self.cursor = 0

    def _expected(self, kind: str, source_number: int) -> int | None:
        ident = self.source_ids[kind].get(source_number)
        return self.numbers.get((kind, ident)) if ident else None

    def _check(self, m: re.Match[str], slots: list[Slot]) -> tuple[str | None, list[str]]:
        """None when every number agrees; else why not. Also the corrections used."""
        used = []
        for s in slots:
            start = m.start(s.group)
            if start < 0:
                continue  # a Chinese numeral matched itself
            k = self.c.norm.number_at[start]
            r = self.c.norm.numbers[k]
            if s.reference:
                want = self._expected(s.reference, int(s.token))
                if want is not None and Decimal(r) == want:
                    continue
                return (
                    f"{'表' if s.reference == 'table' else '图'}{s.token} 应为报告的编号 {want}，实为 {r}",
                    used,
                )
            if s.token not in CN_VALUES and same_value(s.token, r):
                continue
            if s.token in CN_VALUES and Decimal(r) == CN_VALUES[s.token]:
                continue
            d = self.c.disclosure_after(k)
            if d is None:
                return f"原文 {s.token}，报告此处为 {r}，且无更正说明", used
            printed_numbers = _numbers(d.printed) + [
                str(CN_VALUES[ch]) for ch in d.printed if ch in CN_VALUES
            ]
            token = str(CN_VALUES.get(s.token, s.token))
            if not any(
                same_value(token, t) and decimals(t) == decimals(token) for t in printed_numbers
            ):
                return (
                    f"原文 {s.token}，报告此处为 {r}，更正说明所列原文“{d.printed}”不含 {s.token}",
                    used,
                )
            why = audit_lists(self.findings, s.token, r)
            if why is None:
                return f"原文 {s.token} → 报告 {r} 有更正说明，但数据核验未列出这一更正", used
            used.append(f"{s.token} → {r}（{d.text}）")
        return None, used

    def find(self, unit: Unit) -> Result:
        if unit.kind in ("table", "caption") and unit.number in self.source_ids.get(
            "table" if unit.kind == "table" else "figure", {}
        ):
            kind = "table" if unit.kind == "table" else "figure"
            want = self._expected(kind, unit.number)
            at = self.c.caption(kind, want) if want else None
            if at is None:
                return Result(unit, False, f"报告中没有对应的{'表' if kind == 'table' else '图'}")
            if at < self.cursor:
                return Result(unit, False, "报告中对应的图表位置早于前文（顺序与原文不同）")
            self.cursor = at
            return Result(unit, True)
        if unit.kind == "table":
            return Result(unit, False, "原文表格没有对应的报告表格（见 source_ids）")
        text = PHOTO + unit.text if unit.kind == "caption" else unit.text
        rx, slots = pattern(normalize(text))
        first_problem = None
        for m in rx.finditer(self.c.norm.text, self.cursor):
            problem, used = self._check(m, slots)
            if problem is None:
                self.cursor = m.end()
                return Result(unit, True, corrections=tuple(used))
            first_problem = first_problem or problem
        if first_problem:
            return Result(unit, False, first_problem)
        if rx.search(self.c.norm.text, 0, self.cursor):
            return Result(unit, False, "报告中有此句，但位置早于前文（顺序与原文不同）")
        return Result(unit, False, "报告中找不到")
