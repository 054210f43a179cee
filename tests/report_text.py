"""The visible text of a built report.html, block by block, read with a real HTML parser.

Attributes (tooltips, ``data-derivation``) are never text; ``<style>``, ``<script>``, the
table of contents (``<nav>``) and heading anchor links are skipped. Each disclosure of a
corrected figure (``<span class="nb-disclosure">（原报告印为 …；…）</span>``) is taken out of
the text and kept with its offset, so tests can read the report as running text and still
know where the report says that it changed a figure the school printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

SKIP = {"style", "script", "nav", "head", "title", "template", "svg"}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
BLOCK = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "figcaption", "caption",
    "div", "section", "header", "footer", "figure", "table", "tr", "ul", "ol", "main",
    "blockquote", "pre", "dt", "dd", "body",
}  # fmt: skip
DISCLOSURE = re.compile(r"^（原报告印为\s*(?P<printed>.+?)；(?P<reason>.+)）$", re.S)


@dataclass(frozen=True)
class Disclosure:
    """A corrected figure's note: where it stood in the block's text, and what it says."""

    offset: int
    printed: str
    reason: str
    text: str


@dataclass(frozen=True)
class Block:
    """One block of visible text with the elements and classes it sits in."""

    tag: str
    tags: frozenset[str]
    classes: frozenset[str]
    text: str
    disclosures: tuple[Disclosure, ...] = ()
    spans: frozenset[str] = frozenset()  # classes of the inline elements inside the block

    @property
    def in_table(self) -> bool:
        return "table" in self.tags

    @property
    def heading(self) -> bool:
        return self.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}


@dataclass
class _Open:
    tag: str
    classes: frozenset[str]
    skip: bool


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.stack: list[_Open] = []
        self.buf: list[str] = []
        self.disc: list[Disclosure] = []
        self.inline: set[str] = set()
        self.disc_buf: list[str] | None = None
        self.disc_depth = 0

    # ------------------------------------------------------------------ helpers
    def _skipping(self) -> bool:
        return any(o.skip for o in self.stack)

    def _flush(self) -> None:
        text = "".join(self.buf)
        if text.strip() or self.disc:
            inner = [o for o in self.stack if o.tag in BLOCK]
            self.blocks.append(
                Block(
                    inner[-1].tag if inner else "body",
                    frozenset(o.tag for o in self.stack),
                    frozenset(c for o in self.stack for c in o.classes),
                    text,
                    tuple(self.disc),
                    frozenset(self.inline),
                )
            )
        self.buf, self.disc, self.inline = [], [], set()

    # ------------------------------------------------------------------ events
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = frozenset((a.get("class") or "").split())
        if self.disc_buf is not None:
            if tag not in VOID:
                self.disc_depth += 1
            return
        if tag == "span" and "nb-disclosure" in classes and not self._skipping():
            self.disc_buf, self.disc_depth = [], 1
            return
        if tag in BLOCK and not self._skipping():
            self._flush()
        if tag == "br" and not self._skipping():
            self.buf.append("\n")
        if tag in VOID:
            return
        skip = tag in SKIP or (tag == "a" and "anchor-link" in classes)
        if tag not in BLOCK and not skip and not self._skipping():
            self.inline |= classes
        self.stack.append(_Open(tag, classes, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skipping() and self.disc_buf is None:
            self.buf.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.disc_buf is not None:
            self.disc_depth -= 1
            if self.disc_depth == 0:
                text = "".join(self.disc_buf).strip()
                m = DISCLOSURE.match(text)
                self.disc.append(
                    Disclosure(
                        len("".join(self.buf)),
                        m.group("printed").strip() if m else "",
                        m.group("reason").strip() if m else "",
                        text,
                    )
                )
                self.disc_buf = None
            return
        if tag in VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                if tag in BLOCK and not self._skipping():
                    self._flush()
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self.disc_buf is not None:
            self.disc_buf.append(data)
        elif not self._skipping():
            self.buf.append(data)


def blocks(html: str) -> list[Block]:
    """The page's visible text blocks in document order."""
    p = _Parser()
    p.feed(html)
    p.close()
    p._flush()
    return p.blocks


def prose(b: Block) -> bool:
    """Running prose: paragraphs and list items outside tables, figures' notes and captions."""
    return b.tag in {"p", "li"} and not b.in_table


def dump(html: str) -> str:
    """Plain text of the page, one block a line (for diffs between builds)."""
    return "\n".join(
        f"[{b.tag}{' T' if b.in_table else ''}] {' '.join(b.text.split())}" for b in blocks(html)
    )
