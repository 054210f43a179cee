"""What the chapter notebooks call. A chapter notebook is the chapter::

    rep = open_report(school_id, year, data_dir, figures)   # processed data; a clear message
    rep.chapter("1")                     # the chapter heading (Markdown cells hold sections)
    rep.narrative("1.1.3")               # the year's prose of a section
    rep.text("专任教师 {{ fulltime_teachers }}，生师比 {{ student_teacher_ratio }}。")
    rep.figure("dual_structure"); rep.table("employment")
    df = rep.data("awards")              # an analyst's own cell: a tidy DataFrame, all years
    rep.figure_from(ax, title="历年获奖（按级别）")   # numbered 图N with the rest

Each call returns HTML that JupyterLab and nbconvert display. 图N and 表N are numbered across
the whole report from the chapter notebooks read as source (helpers.report.notebooks), so a
chapter numbers its figures right without the chapters before it having run.
"""

from __future__ import annotations

import difflib
import html as html_lib
import os
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import unquote

import pandas as pd

from helpers import paths
from helpers.indicators import disclose
from helpers.indicators.processed import kernel_school_year
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.processed import load_fresh
from helpers.report import analysis, interactive, markup, notebooks, review, textgen
from helpers.report.figures import FIGURES, compact_png, png
from helpers.report.tables import TABLES, appendix_layouts, appendix_table
from helpers.specs import outline, sentences
from helpers.specs.cache import refresh as refresh_specs

_IMAGE = re.compile(r'<img src="([^"]*)" alt="([^"]*)" ?/?>')
_IMAGE_PARA = re.compile(r'<p>\s*(?:<img src="[^"]*" alt="[^"]*" ?/?>\s*)+</p>')


@dataclass(frozen=True)
class Html:
    """An HTML fragment that notebooks display as rich output."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:  # the plain-text fallback stays short: HTML is the output
        return f"<HTML 片段，{len(self.html)} 字符>"


class Report:
    """One school-year's report: the data, other years for comparisons, numbering."""

    def __init__(
        self,
        sy: SchoolYear,
        data_dir: str | os.PathLike[str] | None = None,
        figures: str = disclose.RECOMPUTED,
        notebooks_dir: str | os.PathLike[str] | None = None,
    ):
        self.sy = sy
        self.data_dir = data_dir
        self.figures = disclose.check_policy(figures)
        self.notebooks_dir = notebooks_dir
        self._years: dict[int, SchoolYear] = {sy.year: sy}
        self._figure_data: dict[str, object] = {}
        earlier = sy.previous
        while earlier is not None:
            self._years[earlier.year] = earlier
            earlier = earlier.previous

    @property
    def year(self) -> int:
        return self.sy.year

    def sy_of(self, year: int) -> SchoolYear:
        """Another year of the same school (loaded once: its processed data while fresh,
        else validated from raw)."""
        if year not in self._years:
            sid, data = self.sy.school_id, self.data_dir
            self._years[year] = load_fresh(sid, year, data) or load_school_year(sid, year, data)
        return self._years[year]

    def years_upto(self, n: int) -> dict[int, SchoolYear]:
        """The last n report years up to this one that have a data folder, oldest first."""
        years = [y for y in paths.list_years(self.sy.school_id, self.data_dir) if y <= self.year][
            -n:
        ]
        return {y: self.sy_of(y) for y in years}

    def years_before(self) -> dict[int, SchoolYear]:
        years = [y for y in paths.list_years(self.sy.school_id, self.data_dir) if y < self.year]
        return {y: self.sy_of(y) for y in years}

    def figure_data(self, fid: str):
        """A chart's data frame, computed once (numbering and drawing both need it)."""
        if fid not in self._figure_data:
            self._figure_data[fid] = FIGURES[fid].data(self)
        return self._figure_data[fid]

    def _block_order(self) -> list[tuple[str, str]]:
        """The numbered blocks of the report in reading order: the chapters' charts and tables
        (helpers.report.notebooks), and, where a chapter shows this year's prose, the charts
        it places and its photos (``("figure", "photo:<file>#<target>")``: numbered 图N with
        the charts)."""
        order: list[tuple[str, str]] = []
        for call in notebooks.report_calls(self.notebooks_dir):
            if call.block is not None:
                order.append(call.block)
                continue
            for n in self._prose_of_call(call):
                for target, _ in n.images:
                    kind, _, ident = target.partition(":")
                    if kind == "figure" and ident:
                        order.append(("figure", ident))
                    elif n.image_file(target) is not None:
                        order.append(("figure", photo_key(n, target)))
        return list(dict.fromkeys(order))

    def _prose_of_call(self, call: notebooks.Call) -> list:
        """The narratives a ``rep.narrative`` / ``rep.case`` / ``rep.challenges`` call shows."""
        arg = call.args[0] if call.args else None
        if call.method == "narrative" and isinstance(arg, str):
            return self._narratives(arg)
        if call.method == "case" and isinstance(arg, int):
            return [n for n in self.sy.narratives if n.kind == "case" and n.number == arg]
        if call.method == "challenges":
            return sorted(
                (n for n in self.sy.narratives if n.kind == "challenge"), key=lambda n: n.number
            )
        return []

    @cached_property
    def numbers(self) -> dict[tuple[str, str], int]:
        """图N / 表N of each numbered block the report shows, in report order (photos of the
        prose are 图N too)."""
        out: dict[tuple[str, str], int] = {}
        counters = {"figure": 0, "table": 0}
        for kind, ident in self._block_order():
            if kind == "figure" and ident.startswith(PHOTO_PREFIX):
                available = True
            elif kind == "figure" and ident in FIGURES:
                available = len(self.figure_data(ident)) > 0
            elif kind == "table" and ident in TABLES:
                available = TABLES[ident].available(self)
            else:
                available = True  # an analyst's own figure_from / table_from
            if available:
                counters[kind] += 1
                out[(kind, ident)] = counters[kind]
        return out

    def _number(self, kind: str, ident: str) -> int:
        """The number of a block; one the notebooks do not list yet (a cell just added in
        JupyterLab and not saved) gets the next free number."""
        if (kind, ident) not in self.numbers:
            taken = [n for (k, _), n in self.numbers.items() if k == kind]
            self.numbers[(kind, ident)] = max(taken, default=0) + 1
        return self.numbers[(kind, ident)]

    # ------------------------------------------------------------ what the cells call
    def title_page(self) -> Html:
        return Html(
            markup.title_page(
                self.sy.school_name,
                outline.report_title(self.year),
                self.sy.school_year or "",
                self.sy.meta.get("report_date"),
            )
        )

    def chapter(self, key: str) -> Html:
        """The chapter heading (and the title page before chapter 0). In JupyterLab the first
        call also brings the report's stylesheet and font, so the notebook looks as the
        reviewer's page will."""
        c = outline.chapter(key)
        head = markup.heading(1, c.heading, f"ch-{c.id}", "nb-chapter")
        first = self.title_page().html + textgen.coverage_note(self) if c.id == "0" else ""
        return Html(interactive.style_once() + first + head)

    def narrative(self, section: str) -> Html:
        """The year's prose of a section (``"1.1.3"``, ``"preface"``); empty when none."""
        return Html("".join(self._prose(n) for n in self._narratives(section)))

    def case(self, number: int) -> Html:
        """案例n of the year's text."""
        cases = [n for n in self.sy.narratives if n.kind == "case" and n.number == number]
        return Html(
            "".join(
                '<section class="nb-case">'
                + markup.heading(4, f"案例{n.number} {n.title}", f"case-{n.number}")
                + self._prose(n)
                + "</section>"
                for n in cases
            )
        )

    def challenges(self) -> Html:
        """Every 挑战n of the year's text, in order."""
        items = sorted(
            (n for n in self.sy.narratives if n.kind == "challenge"), key=lambda n: n.number
        )
        return Html(
            "".join(
                markup.heading(4, f"挑战{n.number}", f"challenge-{n.number}") + self._prose(n)
                for n in items
            )
        )

    def heading(self, text: str) -> Html:
        """A sub-heading inside a section (left out when the year's prose has it)."""
        if text in self._prose_headings:
            return Html("")
        return Html(markup.heading(4, text))

    def text(self, template: str) -> Html:
        """A generated paragraph: ``{{ id }}`` is a fact or indicator with its unit (filters:
        ``wan``, ``num``, ``abs``, ``change``, ``history``; see helpers.report.textgen).

        A clause stating a missing figure is left out, and so is the paragraph when all its
        figures are missing; it is left out too when the year's prose of the section already
        states its figures (so a year with the school's own text reads as the school wrote it).
        """
        section = self._section_of("text", template)
        figures = set(sentences.names(template)) - sentences.META_NAMES
        if figures & self._prose_placeholders(section):
            return Html("")
        return Html(textgen.template(template, self, section))

    def figure(self, fid: str) -> Html:
        """A chart of helpers.report.figures, numbered 图N; empty without data."""
        if fid not in FIGURES:
            raise KeyError(_unknown("图表", fid, FIGURES))
        if ("figure", fid) in self._prose_embeds(self._section_of("figure", fid)):
            return Html("")  # the school's prose places it
        return Html(self._figure(fid))

    def table(self, tid: str) -> Html:
        """A table of helpers.report.tables, numbered 表N; empty without data."""
        if tid not in TABLES:
            raise KeyError(_unknown("表格", tid, TABLES))
        if ("table", tid) in self._prose_embeds(self._section_of("table", tid)):
            return Html("")
        return Html(self._table(tid))

    def denominator_note(self) -> Html:
        """Which 全日制在校生 count every per-student figure divides by."""
        return Html(textgen.denominator_note(self))

    def standards(self, ids: list[str]) -> Html:
        """The figures against the national standards (达标 / 未达标)."""
        return Html(textgen.standards(self, list(ids)))

    def awards_summary(self) -> Html:
        return Html(textgen.awards_summary(self))

    def appendix_tables(self) -> Html:
        """附表1–5 (layouts in specs/appendix_tables.yaml)."""
        return Html("".join(appendix_table(self, layout) for layout in appendix_layouts()))

    def audit(self) -> Html:
        """数据核验: what the audit found in this year's and the previous year's data."""
        return Html(review.audit_section(self))

    def derivations(self) -> Html:
        """指标口径与数据来源: every indicator's definition and inputs."""
        return Html(textgen.derivations_section(self))

    # ------------------------------------------------------------ an analyst's own cells
    def data(self, name: str) -> pd.DataFrame:
        """A tidy DataFrame of this school's data, every year up to the report year, with a
        ``year`` column: a table (``awards``, ``majors``, ``hosted_events``, …), ``facts``
        (one row per fact: field, label, unit, value) or ``indicators`` (one row per
        indicator: indicator, name, unit, value, status, text)."""
        return analysis.data(self, name)

    def figure_from(self, fig: Any, title: str, note: str = "", id: str | None = None) -> Html:
        """An analyst's own chart (a matplotlib Figure or Axes, or a seaborn grid) as a numbered
        图N of the report, drawn in the report's Chinese font."""
        ident = id or title
        number = self._number("figure", ident)
        data = analysis.figure_png(fig)
        return Html(markup.figure_png(data, number, title, alt=title, note=note))

    def table_from(
        self, df: pd.DataFrame, title: str, note: str = "", id: str | None = None
    ) -> Html:
        """An analyst's own DataFrame as a numbered 表N of the report."""
        number = self._number("table", id or title)
        return Html(analysis.table_html(df, number, title, note))

    # ------------------------------------------------------------ a section, in process
    def section(self, number: str) -> Html:
        """A section with its sub-sections as its chapter notebook shows it (the notebook's
        cells run here, in this process): for tests, scripts and a quick look."""
        return Html(notebooks.render_section(self, number, self.notebooks_dir))

    # ------------------------------------------------------------ helpers
    def _section_of(self, method: str, first_arg: str) -> str | None:
        for call in notebooks.report_calls(self.notebooks_dir):
            if call.method == method and call.args[:1] == (first_arg,):
                return call.section
        return None

    def _narratives(self, section: str) -> list:
        return sorted(
            (
                n
                for n in self.sy.narratives
                if n.section == section and n.kind in ("section", "preface")
            ),
            key=lambda n: n.order,
        )

    def _prose_of(self, section: str | None) -> list:
        if section is None:
            return [n for n in self.sy.narratives if n.kind in ("section", "preface")]
        return self._narratives(section)

    def _prose_placeholders(self, section: str | None) -> set[str]:
        return set().union(*(n.placeholders for n in self._prose_of(section)))

    def _prose_embeds(self, section: str | None) -> set[tuple[str, str]]:
        return set().union(*(n.embeds for n in self._prose_of(section)))

    @cached_property
    def _prose_headings(self) -> set[str]:
        return set().union(*(n.headings for n in self.sy.narratives))

    def _prose(self, n) -> str:
        for name in n.placeholders:  # {{ table.x }} / {{ figure.x }}: the report's own ids
            kind, _, ident = name.partition(".")
            known = {"table": TABLES, "figure": FIGURES}.get(kind)
            if known is not None and ident not in known:
                raise KeyError(
                    f"{n.file}: " + _unknown("表格" if kind == "table" else "图表", ident, known)
                )
        where = f"案例{n.number}" if n.kind == "case" else n.section
        html, _, _ = textgen.fill(n.html(), self, where)
        html = _IMAGE_PARA.sub(lambda m: self._images(m.group(0), n), html)
        return re.sub(r'<div class="nb-prose">\s*</div>', "", f'<div class="nb-prose">{html}</div>')

    def _images(self, para: str, n) -> str:
        """A paragraph of images in prose: the report's charts and tables, or photo captions.

        Closes the prose block around them, so a table or chart is not inside a <p>.
        """
        out = []
        for src, alt in _IMAGE.findall(para):
            src, alt = unquote(html_lib.unescape(src)).strip(), html_lib.unescape(alt)
            kind, _, ident = src.partition(":")
            if kind in ("table", "figure") and ident:
                home = self._section_of(kind, ident)
                if home is not None and home != n.section:
                    raise KeyError(
                        f"{n.file}: 第 {n.section} 节的文字放置了{'表格' if kind == 'table' else '图表'} "
                        f"{ident}，但章节笔记本把它放在第 {home} 节"
                    )
            if kind == "table" and ident:
                if ident not in TABLES:
                    raise KeyError(f"{n.file}: " + _unknown("表格", ident, TABLES))
                out.append(self._table(ident))
            elif kind == "figure" and ident:
                if ident not in FIGURES:
                    raise KeyError(f"{n.file}: " + _unknown("图表", ident, FIGURES))
                out.append(self._figure(ident))
            else:
                file = n.image_file(src)
                number = self._number("figure", photo_key(n, src)) if file is not None else None
                out.append(markup.photo(alt, file, number))
        return "</div>" + "".join(out) + '<div class="nb-prose">'

    def _table(self, tid: str) -> str:
        t = TABLES[tid]
        return t.render(self, self._number("table", tid)) if t.available(self) else ""

    def _figure(self, fid: str) -> str:
        df = self.figure_data(fid)
        if len(df) == 0:
            return ""
        number = self._number("figure", fid)
        f = FIGURES[fid]
        from helpers.report import charts

        charts.set_theme()
        title = f.title(self)
        return markup.figure_png(
            png(f.draw(df)),
            number,
            title,
            alt=title,
            note=f.note(self),
            compact=compact_png(f.draw(df)),
        )


PHOTO_PREFIX = "photo:"


def photo_key(n: Any, target: str) -> str:
    """The numbering id of a photo of a narrative (``photo:text/s2_5.md#images/x.jpg``)."""
    return f"{PHOTO_PREFIX}{n.file}#{target}"


def _unknown(what: str, ident: str, known: dict) -> str:
    guess = difflib.get_close_matches(ident, list(known), n=1)
    hint = f"，是否应为 {guess[0]!r}？" if guess else f"；可用：{'、'.join(sorted(known))}"
    return f"没有{what} {ident!r}{hint}"


def open_report(
    school_id: str = "huichang",
    year: int | str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    figures: str = disclose.RECOMPUTED,
    notebooks_dir: str | os.PathLike[str] | None = None,
) -> Report:
    """The report of a school-year (the latest when ``year`` is None) for a notebook: its
    processed data (validated by ``nianbao validate`` or the build), see
    :func:`helpers.indicators.processed.kernel_school_year`.

    ``figures``: ``recomputed`` (default) prints figures recomputed from the raw counts and
    discloses where the school printed others; ``published`` prints the school's figures,
    flagged, with the recomputed ones beside them (helpers.indicators.disclose).
    ``notebooks_dir``: the chapter notebooks, read to number 图N / 表N across the report
    (default: helpers.report.notebooks.default_dir). An edit to a spec file since the last
    call is picked up here.
    """
    refresh_specs()
    paths.check_school_id(school_id)
    if year is None:
        year = paths.latest_year(school_id, data_dir)
    # the processed data while fresh; a stale stamp stops a build's chapter and is
    # re-processed anywhere else (helpers.indicators.processed)
    sy = kernel_school_year(school_id, int(year), data_dir)
    return Report(sy, data_dir, figures, notebooks_dir)
