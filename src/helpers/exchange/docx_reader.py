"""A Word draft (.docx) as Markdown blocks, split at its numbered headings.

python-docx reads the document (a pure Python package: no pandoc binary to install, so it
runs in CI and on staff machines as is). Kept: paragraphs, bullet and numbered lists, bold,
tables (Markdown pipe tables) and pictures (their bytes, with the caption: the picture's alt
text, or the 图… caption paragraph under it). Headings: ``1.1.1 学校概况`` opens the prose of
that section, ``案例 3 …`` a case, ``挑战 2 …`` a challenge; other headings stay inside the
block as sub-headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECTION_RE = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*(.*)$")
CASE_RE = re.compile(r"^案例\s*(\d+)\s*[：:、.．]?\s*(.*)$")
CHALLENGE_RE = re.compile(r"^挑战\s*(\d+)\s*[：:、.．]?\s*(.*)$")
CAPTION_RE = re.compile(r"^图\s*\d*[\s:：.、]")


@dataclass
class Picture:
    name: str  # file name under images/
    data: bytes
    caption: str


@dataclass
class Block:
    """The prose of one section, case or challenge."""

    kind: str  # section | case | challenge
    section: str
    title: str
    heading: str  # as the draft wrote it
    number: int | None = None
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Draft:
    blocks: list[Block] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)  # every heading, in order
    orphans: list[str] = field(default_factory=list)  # text before the first heading


def _is_heading(p: Any) -> int | None:
    name = (p.style.name if p.style is not None else "") or ""
    m = re.match(r"^(?:Heading|标题)\s*(\d)", name)
    if m:
        return int(m.group(1))
    return 0 if name == "Title" else None


def _runs_markdown(p: Any) -> str:
    """A paragraph's text with bold runs as **…** (adjacent bold runs joined)."""
    out: list[tuple[bool, str]] = []
    for run in p.runs:
        if not run.text:
            continue
        bold = bool(run.bold)
        if out and out[-1][0] == bold:
            out[-1] = (bold, out[-1][1] + run.text)
        else:
            out.append((bold, run.text))
    text = ""
    for bold, t in out:
        if bold and t.strip():
            # punctuation at either end goes outside the ** (CommonMark does not open or
            # close emphasis between a CJK letter and a punctuation mark: 其中**“双师型”**)
            lead, core, trail = re.match(r"^([\s\W]*)(.*?)([\s\W]*)$", t, re.S).groups()
            text += f"{lead}**{core}**{trail}" if core else t
        else:
            text += t
    return text.strip()


def _list_prefix(p: Any) -> str | None:
    name = (p.style.name if p.style is not None else "") or ""
    if name.startswith("List Number"):
        return "1. "
    if name.startswith("List Bullet") or name.startswith("List Paragraph"):
        return "- "
    ppr = p._p.pPr
    if ppr is not None and ppr.numPr is not None:
        return "- "
    return None


def _pictures(p: Any, doc: Any, stem: str, start: int) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, alt text) of every picture inline in a paragraph."""
    from docx.oxml.ns import qn

    out = []
    for blip in p._p.iter(qn("a:blip")):
        rid = blip.get(qn("r:embed"))
        part = doc.part.related_parts.get(rid) if rid else None
        if part is None:
            continue
        ext = Path(str(part.partname)).suffix.lower() or ".png"
        alt = ""
        for pr in p._p.iter(qn("wp:docPr")):
            alt = (pr.get("descr") or pr.get("title") or "").strip()
        out.append((f"{stem}-{start + len(out) + 1}{ext}", part.blob, alt))
    return out


def _table_markdown(table: Any) -> str:
    rows = [
        [c.text.strip().replace("|", "\\|").replace("\n", " ") for c in r.cells] for r in table.rows
    ]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _classify(text: str, current_section: str | None) -> Block | None:
    if m := CASE_RE.match(text):
        return Block("case", current_section or "", m.group(2).strip(), text, int(m.group(1)))
    if m := CHALLENGE_RE.match(text):
        n = int(m.group(1))
        return Block("challenge", "7", f"挑战{n}", text, n)
    if m := SECTION_RE.match(text):
        return Block("section", m.group(1), m.group(2).strip(), text)
    return None


def read_draft(path: str | Path, stem: str = "docx") -> Draft:
    """Split a .docx into blocks (see the module docstring); pictures named ``<stem>-N.ext``."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    draft = Draft()
    current: Block | None = None
    section: str | None = None
    previous_list = False
    pending_caption: list[int] = []  # pictures still waiting for a caption paragraph
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            md = _table_markdown(Table(child, doc))
            if current is not None and md:
                current.paragraphs.append(md)
            previous_list = False
            continue
        if child.tag != qn("w:p"):
            continue
        p = Paragraph(child, doc)
        text = p.text.strip()
        level = _is_heading(p)
        if level is not None and text:
            draft.headings.append(text)
            block = _classify(text, section)
            if block is not None:
                if block.kind == "section":
                    section = block.section
                current = block
                draft.blocks.append(block)
            elif current is not None:
                current.paragraphs.append(f"#### {text}")
            else:
                draft.orphans.append(text)
            previous_list = False
            continue
        pictures = _pictures(p, doc, stem, len(draft.pictures))
        for name, data, alt in pictures:
            draft.pictures.append(Picture(name, data, alt))
            if current is not None:
                current.paragraphs.append(f"![{alt}](images/{name})")
                if not alt:
                    pending_caption.append(len(current.paragraphs) - 1)
        name = (p.style.name if p.style is not None else "") or ""
        if text and pending_caption and (name == "Caption" or CAPTION_RE.match(text)):
            # the caption under a picture becomes its alt text, without Word's own number
            # (图 1): the report numbers its figures itself (图N, with the charts)
            caption = CAPTION_RE.sub("", text).strip() or text
            for i in pending_caption:
                current.paragraphs[i] = current.paragraphs[i].replace("![]", f"![{caption}]", 1)
            pending_caption = []
            continue
        pending_caption = [] if text else pending_caption
        body = _runs_markdown(p)
        if not body:
            continue
        if current is None:
            draft.orphans.append(text)
            continue
        prefix = _list_prefix(p)
        if prefix is not None:
            item = prefix + body
            if previous_list:
                current.paragraphs[-1] += "\n" + item
            else:
                current.paragraphs.append(item)
            previous_list = True
            continue
        previous_list = False
        current.paragraphs.append(body)
    for pic in draft.pictures:  # pictures without any caption keep a neutral one
        pic.caption = pic.caption or "图片"
    for b in draft.blocks:
        b.paragraphs = [x.replace("![](images/", "![图片](images/") for x in b.paragraphs]
    return draft
