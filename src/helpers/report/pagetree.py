"""Chapter pages as parsed trees, parsed once: serialisation in written attribute order, and
the parts of a page that ``report.html`` and ``index.html`` are assembled from (``PageParts``).

A chapter page is parsed once, in the worker that renders it (helpers.report.render): the
tweaks nbconvert's HTMLExporter makes on a parse of its own are made on that tree
(``finish_export``), and the parts assembly needs are cut from the page's one serialisation
(``serialise``). The build keeps them beside the page (helpers.build.pages), so assembling a
school-year's pages parses no chapter page; a page without them (a stale notice added, a page
from an earlier version) is parsed once (``page_parts``).

html.parser throughout: lxml gives a different tree of the same pages (a parse of its own
output is not the identity) and is hardly faster here, since bs4 builds the tree in Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.formatter import HTMLFormatter

NO_ALT = "No description has been provided for this image"  # nbconvert's own wording


class _KeepOrder(HTMLFormatter):
    """Serialise a parsed page with its attributes in their written order (bs4 sorts them)."""

    def attributes(self, tag: Tag):  # type: ignore[override]
        return list(tag.attrs.items())


FORMATTER = _KeepOrder(entity_substitution=HTMLFormatter.REGISTRY["minimal"].entity_substitution)


def html(tree: Tag) -> str:
    return tree.decode(formatter=FORMATTER)


def inner(tree: Tag) -> str:
    return tree.decode_contents(formatter=FORMATTER)


def parse(page: str) -> BeautifulSoup:
    return BeautifulSoup(page, "html.parser")


def text(tag: Tag) -> str:
    return tag.get_text().replace("¶", "").strip()


def _classes(tag: Tag) -> Any:
    return tag.get("class") or ()


def finish_export(soup: BeautifulSoup) -> int:
    """What nbconvert's HTMLExporter does after its template, on a parse of its own, done on
    ours: ``alt`` on images without one, ``tabindex`` on the cells' input wrappers and outputs,
    and its serialisation's attribute order (bs4's default formatter sorts them by name).
    Returns the number of images that had no ``alt`` (nbconvert warns about them)."""
    missing_alt = 0
    for tag in soup.find_all(True):
        attrs = tag.attrs
        if tag.name == "img" and "alt" not in attrs:
            attrs["alt"] = NO_ALT
            missing_alt += 1
        elif tag.name == "div":
            classes = _classes(tag)
            focusable = "jp-Cell-inputWrapper" in classes or "jp-OutputArea-output" in classes
            if focusable and any("jp-Notebook" in _classes(p) for p in tag.parents):
                attrs["tabindex"] = "0"
        if len(attrs) > 1:
            tag.attrs = dict(sorted(attrs.items()))
    return missing_alt


def toc_entries(content: Tag) -> tuple[list[tuple[int, str, str]], list[tuple[str, str]]]:
    """The headings (h1–h3 with ids: level, anchor, text) and the 图/表 captions (anchor,
    text) of a page, in document order."""
    headings = []
    for h in content.find_all(("h1", "h2", "h3"), id=True):
        label = text(h)
        if label:
            headings.append((int(h.name[1]), str(h["id"]), label))
    figures = []
    for f in content.find_all("figure", id=True):
        if not set(_classes(f)) & {"nb-figure", "nb-table", "nb-photo"}:
            continue
        cap = f.find("figcaption")
        if cap is not None:
            figures.append((str(f["id"]), text(cap)))
    return headings, figures


# ----------------------------------------------------------------------------- parts

Span = tuple[int, int]


@dataclass(frozen=True)
class PageParts:
    """What the one-file report and the title page take from a chapter page.

    ``source`` is the serialised page the spans index (the page itself when it comes from the
    renderer): ``body`` is the content of its <main> (the whole page without one), ``cover``
    the preface's title block (``header.nb-title`` in <main>) and ``title`` the first one of the
    page (index.html's); ``*_dated``: it carries its 编制日期 already. ``head``: the <head>'s
    content without <title> and @font-face (None: no <head>). ``shows_nothing``: the content
    is headings only (a chapter the year's data does not cover).
    """

    source: str
    body: Span
    cover: Span | None
    cover_dated: bool
    title: Span | None
    title_dated: bool
    head: str | None
    headings: tuple[tuple[int, str, str], ...]
    figures: tuple[tuple[str, str], ...]
    shows_nothing: bool

    def piece(self, span: Span) -> str:
        return self.source[span[0] : span[1]]

    def to_json(self) -> dict[str, Any]:
        """The parts as a JSON record, keyed by the page's sha256 (without the page)."""
        return {
            "sha256": _sha256(self.source),
            "body": list(self.body),
            "cover": list(self.cover) if self.cover else None,
            "cover_dated": self.cover_dated,
            "title": list(self.title) if self.title else None,
            "title_dated": self.title_dated,
            "head": self.head,
            "headings": [list(h) for h in self.headings],
            "figures": [list(f) for f in self.figures],
            "shows_nothing": self.shows_nothing,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any], page: str) -> PageParts | None:
        """The parts of ``page`` from its record; None when the record is of another page
        (or not a record)."""
        try:
            if record.get("sha256") != _sha256(page):
                return None

            def span(v: Any) -> Span | None:
                if v is None:
                    return None
                a, b = int(v[0]), int(v[1])
                if not 0 <= a <= b <= len(page):
                    raise ValueError(v)
                return a, b

            head = record["head"]
            if head is not None and not isinstance(head, str):
                return None

            return cls(
                page,
                span(record["body"]),  # type: ignore[arg-type]
                span(record["cover"]),
                bool(record["cover_dated"]),
                span(record["title"]),
                bool(record["title_dated"]),
                head,
                tuple((int(a), str(b), str(c)) for a, b, c in record["headings"]),
                tuple((str(a), str(b)) for a, b in record["figures"]),
                bool(record["shows_nothing"]),
            )
        except (KeyError, TypeError, ValueError, IndexError):
            return None


def _sha256(page: str) -> str:
    return hashlib.sha256(page.encode("utf-8")).hexdigest()


def _main(soup: BeautifulSoup) -> Tag:
    return soup.find("main") or soup


def _shows_nothing(main: Tag) -> bool:
    if main.find(("img", "table", "figure", "svg")) is not None:
        return False
    for s in main.find_all(string=True):
        if isinstance(s, Comment) or not s.strip():
            continue
        if s.find_parent(("h1", "h2", "h3", "h4", "h5", "h6", "style", "script")) is None:
            return False
    return True


def _css_head(soup: BeautifulSoup) -> str | None:
    """The template's <head>, minus its title and font face (destructive: call last)."""
    head = soup.find("head")
    if head is None:
        return None
    for t in head.find_all("title"):
        t.decompose()
    for st in head.find_all("style"):
        if st.get_text().lstrip().startswith("@font-face"):
            st.decompose()
    return inner(head)


def _marked(
    soup: BeautifulSoup, places: list[tuple[str, Tag]], avoid: str
) -> tuple[str, list[int]]:
    """The page serialised once, and where each of ``places`` falls in it: ("start"|"end", tag)
    is the start/end of the tag's content, ("before"|"after", tag) just outside it.

    Each place gets a marker string (its number between two private-use characters absent
    from the page) for the serialisation, taken out again; markers that do not come out
    exactly once each (an entity in the page yielding that character) make it try the next
    character.
    """
    for code in range(0xE000, 0xF900):
        mark = chr(code)
        if mark in avoid:
            continue
        strings = []
        for i, (where, tag) in enumerate(places):
            s = NavigableString(f"{mark}{i}{mark}")
            if where == "start":
                tag.insert(0, s)
            elif where == "end":
                tag.append(s)
            elif where == "before":
                tag.insert_before(s)
            else:
                tag.insert_after(s)
            strings.append(s)
        try:
            out = html(soup)
        finally:
            for s in strings:
                s.extract()
        pieces = out.split(mark)
        if len(pieces) != 2 * len(places) + 1:
            continue
        found = pieces[1::2]
        if sorted(found) != sorted(str(i) for i in range(len(places))):
            continue
        offsets = [0] * len(places)
        at = 0
        for text_piece, number in zip(pieces[0::2], found, strict=False):
            at += len(text_piece)
            offsets[int(number)] = at
        return "".join(pieces[0::2]), offsets
    raise ValueError("chapter page: no marker character left for its parts")


def serialise(
    soup: BeautifulSoup, entries: tuple[list[Any], list[Any]] | None = None, source: str = ""
) -> tuple[str, PageParts]:
    """The page and its parts, from one serialisation of its tree (which it then spoils:
    ``head`` is cut from it). ``entries``: the content's ``toc_entries`` when known;
    ``source``: text the page was parsed from (the markers avoid its characters)."""
    main = _main(soup)
    title = soup.find("header", class_="nb-title")
    in_main = title is not None and (main is soup or any(p is main for p in title.parents))
    cover = title if in_main else main.find("header", class_="nb-title")
    cover = cover if cover else None  # an empty title block is no cover
    places: list[tuple[str, Tag]] = [("start", main), ("end", main)]
    if cover is not None:
        places += [("before", cover), ("after", cover)]
    if title is not None and title is not cover:
        places += [("before", title), ("after", title)]
    page, at = _marked(soup, places, source)
    cover_span = (at[2], at[3]) if cover is not None else None
    if title is None:
        title_span = None
    elif title is cover:
        title_span = (at[2], at[3])
    else:
        title_span = (at[-2], at[-1])
    headings, figures = entries if entries is not None else toc_entries(main)

    def dated(t: Tag | None) -> bool:
        return t is not None and t.find("div", class_="nb-title-date") is not None

    cover_dated, title_dated, shows_nothing = dated(cover), dated(title), _shows_nothing(main)
    parts = PageParts(
        page,
        (at[0], at[1]),
        cover_span,
        cover_dated,
        title_span,
        title_dated,
        _css_head(soup),  # last: it cuts the head
        tuple(headings),
        tuple(figures),
        shows_nothing,
    )
    return page, parts


def page_parts(page: str) -> PageParts:
    """The parts of a page kept from an earlier build (one parse). Its <main> loses any
    footer and table of contents (report.html has its own), so ``source`` may differ from
    ``page``."""
    soup = parse(page)
    main = _main(soup)
    for t in main.find_all("footer", class_="nb-footer") + main.find_all("nav", class_="nb-toc"):
        t.decompose()
    return serialise(soup, source=page)[1]
