"""What the chapter notebooks call: open a school-year and render chapters and sections.

A notebook does::

    rep = open_report(school_id, year, data_dir)   # validates; fails with a clear message
    rep.chapter("1")                                # chapter heading
    rep.section("1.1")                              # section 1.1 with its subsections

Each call returns an object JupyterLab and nbconvert display as HTML.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from helpers import paths
from helpers.indicators import disclose
from helpers.ingest import narrative
from helpers.ingest.load import SchoolYear, load_school_year
from helpers.ingest.narrative import PLACEHOLDER
from helpers.ingest.processed import load_fresh
from helpers.report import charts, markup, textgen
from helpers.report.figures import FIGURES, png
from helpers.report.tables import TABLES, appendix_layouts, appendix_table
from helpers.specs import outline

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
    ):
        self.sy = sy
        self.data_dir = data_dir
        self.figures = disclose.check_policy(figures)
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
        """Another year of the same school (loaded once, validated)."""
        if year not in self._years:
            self._years[year] = load_school_year(self.sy.school_id, year, self.data_dir)
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

    @cached_property
    def numbers(self) -> dict[tuple[str, str], int]:
        available = {("figure", k): len(self.figure_data(k)) > 0 for k in FIGURES}
        available.update({("table", k): t.available(self) for k, t in TABLES.items()})
        return outline.numbering(available)

    # ---------------------------------------------------------------- rendering
    def title_page(self) -> Html:
        return Html(
            '<header class="nb-title">'
            f'<div class="nb-title-school">{markup.esc(self.sy.school_name)}</div>'
            f'<h1 class="nb-title-main">{markup.esc(outline.report_title(self.year))}</h1>'
            f'<div class="nb-title-year">{markup.esc(self.sy.school_year or "")}</div></header>'
        )

    def chapter(self, key: str) -> Html:
        c = outline.chapter(key)
        head = markup.heading(1, c.heading, f"ch-{c.id}", "nb-chapter")
        return Html((self.title_page().html if c.id == "0" else "") + head)

    def section(self, number: str) -> Html:
        """A section and all its subsections (e.g. ``1.1`` renders 1.1.1–1.1.4)."""
        sections = [
            s
            for c in outline.outline()
            for s in c.sections
            if s.number == number or s.number.startswith(number + ".")
        ]
        if not sections:
            raise KeyError(f"specs/report.yaml 中没有第 {number} 节")
        return Html("".join(self._render_section(s) for s in sections))

    def _render_section(self, s: outline.Section) -> str:
        head = ""
        if s.title:
            numbered = s.number[0].isdigit()
            text = f"{s.number} {s.title}" if numbered else s.title
            head = markup.heading(min(s.depth, 4) if numbered else 2, text, markup.slug(s.number))
        if not s.blocks:
            return head
        prose = self._narratives(s.number, ("section", "preface"))
        body = "".join(self._render_block(s, b) for b in s.blocks if not self._stated_by(b, prose))
        if not body.strip():
            body = markup.para(
                f"本年度未填报{markup.esc(s.title or outline.chapter(s.chapter).title)}相关内容。",
                cls="nb-missing-section",
            )
        return head + body

    @staticmethod
    def _stated_by(b: dict, prose: list) -> bool:
        """True when the section's prose already gives this block, which is then left out.

        A ``text`` template whose figures the prose states (same placeholder ids), a
        ``heading`` the prose has, a ``table`` / ``figure`` the prose places: so a year with
        the school's own text reads as the school wrote it, and a year without prose still
        gets the generated sentences.
        """
        if not prose:
            return False
        if "text" in b:
            figures = {
                m.group(1) for m in PLACEHOLDER.finditer(str(b["text"]))
            } - narrative.META_NAMES
            return bool(figures & set().union(*(n.placeholders for n in prose)))
        if "heading" in b:
            return str(b["heading"]) in set().union(*(n.headings for n in prose))
        for kind in narrative.EMBED_KINDS:
            if kind in b:
                return (kind, str(b[kind])) in set().union(*(n.embeds for n in prose))
        return False

    def _render_block(self, s: outline.Section, b: dict) -> str:
        if "narrative" in b:
            return "".join(
                self._prose(n)
                for n in self._narratives(str(b["narrative"]), ("section", "preface"))
            )
        if "case" in b:
            cases = [n for n in self.sy.narratives if n.kind == "case" and n.number == b["case"]]
            return "".join(
                '<section class="nb-case">'
                + markup.heading(4, f"案例{n.number} {n.title}", f"case-{n.number}")
                + self._prose(n)
                + "</section>"
                for n in cases
            )
        if "challenges" in b:
            items = sorted(
                (n for n in self.sy.narratives if n.kind == "challenge"), key=lambda n: n.number
            )
            return "".join(
                markup.heading(4, f"挑战{n.number}", f"challenge-{n.number}") + self._prose(n)
                for n in items
            )
        if "heading" in b:
            return markup.heading(min(s.depth + 1, 5), b["heading"])
        if "text" in b:
            return textgen.template(b["text"], self, s.number)
        if "figure" in b:
            return self._figure(b["figure"])
        if "table" in b:
            number = self.numbers.get(("table", b["table"]))
            return TABLES[b["table"]].render(self, number) if number else ""
        if "appendix_tables" in b:
            return "".join(appendix_table(self, layout) for layout in appendix_layouts())
        if "generated" in b:
            g = b["generated"]
            if isinstance(g, dict) and "standards" in g:
                return textgen.standards(self, g["standards"])
            return {
                "denominator_note": textgen.denominator_note,
                "awards_summary": textgen.awards_summary,
                "audit": textgen.audit_section,
                "derivations": textgen.derivations_section,
            }[g](self)
        raise ValueError(f"specs/report.yaml: 无法识别的内容块 {b!r}")

    def _narratives(self, section: str, kinds: tuple[str, ...]):
        return sorted(
            (n for n in self.sy.narratives if n.section == section and n.kind in kinds),
            key=lambda n: n.order,
        )

    def _prose(self, n) -> str:
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
            if kind == "table" and ident:
                number = self.numbers.get(("table", ident))
                out.append(TABLES[ident].render(self, number) if number else "")
            elif kind == "figure" and ident:
                out.append(self._figure(ident))
            else:
                folder = n.path.parent if n.path is not None else Path(".")
                out.append(markup.photo(alt, folder / src if src else None))
        return "</div>" + "".join(out) + '<div class="nb-prose">'

    def _figure(self, fid: str) -> str:
        number = self.numbers.get(("figure", fid))
        if not number:
            return ""
        f = FIGURES[fid]
        df = self.figure_data(fid)
        charts.set_theme()
        title = f.title(self)
        return markup.figure_png(png(f.draw(df)), number, title, alt=title, note=f.note(self))


def open_report(
    school_id: str = "huichang",
    year: int | str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    figures: str = disclose.RECOMPUTED,
) -> Report:
    """Load and validate a school-year (the latest when ``year`` is None) for a notebook.

    ``figures``: ``recomputed`` (default) prints figures recomputed from the raw counts and
    discloses where the school printed others; ``published`` prints the school's figures,
    flagged, with the recomputed ones beside them (helpers.indicators.disclose).
    """
    paths.check_school_id(school_id)
    if year is None:
        year = paths.latest_year(school_id, data_dir)
    # the build's validated data when still fresh (helpers.ingest.processed), else raw data
    sy = load_fresh(school_id, int(year), data_dir) or load_school_year(
        school_id, int(year), data_dir
    )
    return Report(sy, data_dir, figures)
