"""Chinese running text with computed figures.

:func:`fill` replaces ``{{ id }}`` placeholders (in report.yaml templates and in the year's
Markdown) with figures from the helpers, each carrying its derivation; the generated
paragraphs (denominator note, standards, award summary, audit and derivation appendices)
are built here too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import CodeType

from jinja2 import Environment, Template, UndefinedError
from markupsafe import Markup

from helpers import fmt
from helpers.indicators import disclose
from helpers.indicators.compare import change
from helpers.indicators.evaluate import MISSING, IndicatorValue, compute, value_of
from helpers.indicators.standards import check
from helpers.ingest import cite
from helpers.memo import kept_cache
from helpers.report import markup
from helpers.report.context import ReportContext
from helpers.report.figures import awards_missing
from helpers.specs import outline, sentences
from helpers.specs.dictionary import load_dictionary
from helpers.specs.registry import registry


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
    """Render a sentence template whose text is HTML; returns (html, filled, missing).

    The template is Jinja (syntax: :mod:`helpers.specs.sentences`): its own text is kept as
    written (it is HTML already: an escaped report.yaml clause, or prose rendered from
    Markdown), every value placed into it is escaped, and a name that is neither a fact, an
    indicator, a report number (``table.x`` / ``figure.x``) nor metadata is an error naming
    it. ``section`` is the report section the text stands in: a figure the school printed
    differently there is disclosed beside it (helpers.indicators.disclose).
    """
    counts = [0, 0]
    values: dict[str, object] = {
        "year": str(rep.year),
        "prev_year": str(rep.year - 1),
        "school_year": rep.sy.school_year or "",
        "school_name": rep.sy.school_name,
    }
    for name in sentences.names(html):
        head, dot, _ = name.partition(".")
        if name in sentences.META_NAMES:
            continue
        if dot and head in ("table", "figure"):
            values[head] = _Numbers(rep, head, counts)
        elif dot and other_year(name, rep.year) is not None:
            values[head] = _OtherYear(rep, other_year(name, rep.year), section, counts)
        elif _known(name):
            values[name] = _Figure(rep, rep.sy, name, section, counts)
    try:
        out = _compile(html).render(values)
    except UndefinedError as e:
        raise KeyError(
            f"占位符未定义：{e.message}（既不是事实字段也不是指标，见 docs/data-dictionary.md 与 "
            "specs/indicators.yaml；上年用 prev.编号，图表编号用 table./figure.）"
        ) from None
    return autospace(out), counts[0], counts[1]


_CJK = "\u4e00-\u9fff"
_BEFORE = re.compile(rf"([{_CJK}])(<span class=\"nb-(?:num|missing)\"[^>]*>)(?=[\d约超不以-])")
_AFTER = re.compile(rf"([\d%])(</span>)(?=[{_CJK}])")


def autospace(html: str) -> str:
    """One space where a figure meets Chinese text (``与 6 所``, ``总价值 4195.2 万元``), the
    spacing rule of helpers.fmt, whether or not the template's author typed it."""
    return _AFTER.sub(r"\1\2 ", _BEFORE.sub(r"\1 \2", html))


def _known(name: str) -> bool:
    return name in registry().indicators or name in load_dictionary().facts


class _Figure:
    """A placeholder's figure: printed with its derivation (``{{ id }}``), or as a filter says.

    Counts itself as filled or missing when printed (``change`` and ``history`` count nothing:
    they add to a sentence and vanish when there is nothing to add).
    """

    def __init__(self, rep, sy, name, section, counts, year: int | None = None) -> None:
        self.rep, self.sy, self.name, self.section, self.counts = rep, sy, name, section, counts
        self.year = year  # another year's figure (prev. / y2021.); None for the report's

    def __html__(self) -> str:
        return self.shown(None)

    def shown(self, flt: str | None) -> Markup:
        if self.sy is None:
            return self._no_year()
        iv = value_of(self.sy, self.name)
        self.counts[1 if iv.missing else 0] += 1
        if iv.missing:
            return Markup(markup.num("", iv.derivation(), missing=True))
        s = disclose.shown(iv, self.sy, self.section, self.rep.figures, _FILTERS.get(flt))
        why = iv.derivation() + "".join(f"（{n}）" for n in s.notes)
        # a difference taken between the two years' printed figures says so (like for like)
        notes = s.notes + ((iv.basis,) if iv.basis else ())
        return Markup(markup.num(s.text, why) + markup.disclosure(notes))

    def change(self) -> Markup:
        if self.sy is None:
            return self._no_year()
        c = change(self.rep.sy, self.name)
        if c is None:
            return Markup("")
        if c.not_comparable:
            why = f"{c.current.spec.name}：{c.not_comparable}"
        else:
            why = (
                f"{c.current.spec.name}：上年 {c.previous.text}，本年 {c.current.text}；"
                f"差值按未经四舍五入的数值计算" + (f"；{c.basis}" if c.basis else "")
            )
        return Markup("，" + markup.num(c.phrase(), why))

    def history(self) -> Markup:
        if self.sy is None:
            return self._no_year()
        items = []
        for y, other in self.rep.years_before().items():
            h = value_of(other, self.name)
            if h.value is not None:
                items.append(f"{y} 年 " + markup.num(h.text, h.derivation()))
        return Markup(f"（往年：{'，'.join(items)}）" if items else "")

    def _no_year(self) -> Markup:
        self.counts[1] += 1
        return Markup(markup.num("", f"{self.year} 年度无数据", missing=True))


class _OtherYear:
    """``prev`` / ``y2021``: the figures of another year, by id (``{{ prev.enrollment }}``)."""

    def __init__(self, rep, year: int, section: str | None, counts: list[int]) -> None:
        self._args = (rep, rep.years_before().get(year), section, counts)
        self._year = year

    def __getitem__(self, name: str) -> _Figure:
        if not _known(name):
            raise KeyError(name)
        rep, sy, section, counts = self._args
        return _Figure(rep, sy, name, section, counts, self._year)


class _Numbers:
    """``table`` / ``figure``: the number the report gives a table or chart (表N / 图N), or
    nothing (counted missing) when the report does not show it."""

    def __init__(self, rep, kind: str, counts: list[int]) -> None:
        self.rep, self.kind, self.counts = rep, kind, counts

    def __getitem__(self, ident: str) -> str:
        number = self.rep.numbers.get((self.kind, ident))
        self.counts[1 if number is None else 0] += 1
        return f"{'表' if self.kind == 'table' else '图'}{number}" if number else ""


def _filter(method: str | None = None, flt: str | None = None):
    def apply(value: object) -> object:
        if not isinstance(value, _Figure):
            return value  # metadata (year, school name …) prints as it is
        return getattr(value, method)() if method else value.shown(flt)

    return apply


def _make_environment() -> Environment:
    env = sentences.environment()
    env.filters.update(
        {
            "wan": _filter(flt="wan"),
            "num": _filter(flt="num"),
            "abs": _filter(flt="abs"),
            "师生比": _filter(flt="师生比"),
            "change": _filter("change"),
            "history": _filter("history"),
        }
    )
    return env


# made at import, as helpers.report.markup's environment (kept by a warm kernel's reset)
_ENVIRONMENT = _make_environment()


def _environment() -> Environment:
    return _ENVIRONMENT


@kept_cache(1024)
def _code(html: str) -> CodeType:
    """A sentence template compiled to Python code (immutable, so a warm kernel keeps it)."""
    return _environment().compile(html)


@lru_cache(maxsize=1024)
def _compile(html: str) -> Template:
    env = _environment()  # what Environment.from_string does, with the code compiled once
    return env.template_class.from_code(env, _code(html), env.make_globals(None), None)


def _wan(iv: IndicatorValue, value: float, decimals: int) -> str:
    text = fmt.wan(value, iv.spec.unit)
    return f"{iv.qualifier} {text}" if iv.qualifier else text


# How a placeholder's filter prints a value (the figure's own or, with figures="published",
# the school's printed one); no filter: the figure's text with its unit.
_FILTERS: dict[str | None, disclose.Render] = {
    "wan": _wan,
    "num": lambda iv, value, decimals: fmt.number(value, max(decimals, 0)),
    "abs": lambda iv, value, decimals: fmt.with_unit(abs(value), iv.spec.unit, max(decimals, 0)),
    "师生比": lambda iv, value, decimals: fmt.ratio_teacher_first(value, max(decimals, 0)),
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


_DOC_YEAR = re.compile(r"(\d{4})年度")


def uncovered_chapters(rep: ReportContext) -> list[str]:
    """The report's chapters (1–7) the year's data says nothing about: no fact, table row or
    prose cites a section of theirs."""
    cited = {str(o.source) for o in rep.sy.observations}
    for t in rep.sy.tables.values():
        if "source" in t.columns:
            cited |= {str(s) for s in t["source"]}
    cited |= {n.section for n in rep.sy.narratives}
    out = []
    for c in outline.outline():
        if not c.id.isdigit() or c.id == "0":
            continue
        if not any(s == c.id or s.startswith(c.id + ".") for s in cited):
            out.append(f"{c.id}. {c.title}")
    return out


def coverage_note(rep: ReportContext) -> str:
    """One note near the top of a partial year's report: which chapters its data does not
    cover, and where its figures come from (e.g. the next year's report, which prints them as
    the previous year's comparison figures). Empty for a year its data covers."""
    missing = uncovered_chapters(rep)
    if not missing:
        return ""
    docs = dict.fromkeys(o.doc for o in rep.sy.observations if o.doc)
    sources = []
    for d in docs:
        title = cite.document(d, rep.sy.documents())
        m = _DOC_YEAR.search(title)
        later = m is not None and int(m.group(1)) > rep.year
        sources.append(title + ("中与上一年度对比的数据" if later else ""))
    where = f"本年度的数字取自{'、'.join(sources)}。" if sources else ""
    return markup.para(
        markup.esc(
            f"说明：{rep.year} 年度只有部分数据，{where}"
            f"以下各章在本年度没有数据，报告从略：{'、'.join(missing)}；"
            "其余各章只列出有数据的部分。"
        ),
        "nb-note nb-coverage",
    )


def _paragraphs():
    return markup.environment().get_template("report/paragraphs.html.j2").module


def denominator_note(rep: ReportContext) -> str:
    """Which 全日制在校生 count every per-student figure divides by, and the one not used."""
    fact = rep.sy.facts.get("students_full_time")
    if fact is None:
        return ""
    iv = value_of(rep.sy, "students_full_time")
    others = (
        "、".join(f"{o.value:g} 人（{cite.section(o.source)}）" for o in fact.alternatives)
        if fact.conflicting
        else ""
    )
    where = fact.chosen.cite(rep.sy.documents())
    return str(_paragraphs().denominator_note(iv, fact.chosen, where, others, fact.reason))


def standards(rep: ReportContext, ids: list[str]) -> str:
    """The school's figures against the national standards they are measured by."""
    results = [r for iid in ids for r in check(rep.sy, iid) if r.met is not None]
    return str(_paragraphs().standards(results))


def awards_summary(rep: ReportContext) -> str:
    """Skill-competition awards of the report year and the year before, by competition."""
    years = []
    for y, sy in rep.years_upto(2).items():
        t = sy.table("awards")
        if t is None or t.empty:
            continue
        levels = []
        for (comp, level), g in t.groupby(["competition", "level"], sort=False):
            prizes = [
                (
                    r.prize,
                    int(r["count"]),
                    f"{comp}{r.prize} {int(r['count'])} 项：来源 "
                    + cite.cite(sy.meta.get("default_document"), r.source, sy.documents()),
                )
                for _, r in g.iterrows()
            ]
            levels.append((comp, level, int(g["count"].sum()), prizes))
        years.append((y, levels))
    missing = awards_missing(rep)  # the report year has none: say so, never a silent gap
    return str(_paragraphs().awards_summary(years, missing))


_REF = re.compile(r"^docs/references\.md\s*§(?P<sec>[\d.–]+)(?:\s*第\d+点)?(?:（(?P<why>.*)）)?$")
REFERENCE_TOPICS = {
    "3.1": "学生数与统计时点",
    "3.2": "中等职业学校设置标准与办学条件指标",
    "3.3": "毕业生就业统计口径",
    "3.4": "巩固率统计口径",
    "3.5": "经费统计口径",
}
OWN_DEFINITION = "本报告口径"


def reader_reference(reference: str) -> str:
    """An indicator's reference (specs/indicators.yaml) for a reader: what defines it, in
    words, without the notes file and its section numbers, and ``[推断]`` (inferred) said as
    本报告口径 (the report's own definition, no official one found)."""
    text = reference.strip()
    m = _REF.match(text)
    if m is not None:
        why = (m.group("why") or "").strip()
        if why.startswith("[推断]"):
            return f"{OWN_DEFINITION}：{why.removeprefix('[推断]').strip()}"
        topic = REFERENCE_TOPICS.get(m.group("sec").split("–")[0], "有关统计口径")
        return why or topic
    if text.startswith("[推断]"):
        rest = text.removeprefix("[推断]").strip()
        return f"{OWN_DEFINITION}：{rest}" if rest else OWN_DEFINITION
    return text


def derivations_section(rep: ReportContext) -> str:
    rows = []
    for iv in compute(rep.sy).values():
        rows.append(
            [
                markup.esc(iv.spec.name),
                markup.esc(iv.table_text),
                markup.esc(iv.formula_text),
                markup.esc(iv.derivation()),
                markup.esc(reader_reference(iv.spec.reference)),
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
            [
                markup.esc(d.label(name)),
                markup.esc(iv.table_text),
                markup.esc(iv.inputs[0].reader_source),
            ]
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
        markup.para(markup.esc(f"本年度数据未涵盖、无法计算的指标：{'、'.join(missing)}。"))
        if missing
        else ""
    )
    return ind + note + facts
