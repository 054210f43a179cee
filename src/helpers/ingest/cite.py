"""Citations for a reader: a source document by its title and section, never a file or line.

The raw data records where each value came from twice over: the document and section the
school printed it in (``doc: r2024``, ``source: "1.2.3 表2"``) and the data file and line it
was transcribed to. Developer outputs (``nianbao validate``, the manifest) show both; the
reviewer's page shows only the first, in words: ``《2024年度质量报告》第1.2.3节表2``.
"""

from __future__ import annotations

import re
from typing import Any

_SECTION = re.compile(r"^(\d+(?:\.\d+)*)\s*(.*)$")
_IN_TEXT = re.compile(r"§\s*(\d+(?:\.\d+)*)(\s*表\d+)?")


def section(source: str | None) -> str:
    """A section as a reader writes it: ``1.1.2`` → 第1.1.2节, ``1.2.3 表2`` → 第1.2.3节表2,
    ``1.2.3（2）`` → 第1.2.3节（2）; anything else (``案例4``) as it stands."""
    if not source:
        return ""
    text = str(source).strip()
    m = _SECTION.match(text)
    if m is None:
        return text
    rest = m.group(2).strip()
    return f"第{m.group(1)}节{rest}"


def sections_in(text: str) -> str:
    """Every ``§1.2.3`` / ``§1.2.3 表2`` in a message written the reader's way."""
    return _IN_TEXT.sub(lambda m: section(m.group(1) + (m.group(2) or "")), text)


def document(doc: str | None, documents: dict[str, Any] | None) -> str:
    """A source document by its (short) title in 《》; the school's report when unnamed."""
    if not doc:
        return "原报告"
    entry = (documents or {}).get(doc)
    if not isinstance(entry, dict):
        return f"《{doc}》"  # not described in school.yaml: its name as the data gives it
    title = entry.get("short_title") or entry.get("title") or ""
    return f"《{title}》" if title else "原报告"


def cite(doc: str | None, source: str | None, documents: dict[str, Any] | None) -> str:
    """Document and section: ``《2024年度质量报告》第1.1.2节``."""
    return document(doc, documents) + section(source)
