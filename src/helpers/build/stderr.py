"""What an executed chapter wrote to stderr (Python warnings included), for the build summary.

In a kernel, ``warnings.warn`` and ``print(..., file=sys.stderr)`` become ``stderr`` stream
outputs of the cell; the reader's HTML leaves them out, so the build reports them instead:
:func:`collect` lists one message per warning or stderr line, :func:`group` counts alike
messages (matplotlib's ``Glyph 23398 (\\N{CJK …}) missing from font(s)`` warnings differ
only in the glyph) so the summary prints ``7 条 UserWarning: Glyph … missing …``.
"""

from __future__ import annotations

import re
from typing import Any

# "/path/to/file.py:12: UserWarning: message" (the next line, indented, is the source line)
_WARNING = re.compile(r"^(?:.*?):\d+: (?P<category>\w*(?:Warning|Error)\w*): (?P<message>.*)$")


def collect(nb: Any) -> list[str]:
    """Every warning (``Category: message``) and other stderr line the notebook's cells
    printed, in order; the parameters cell papermill injected included."""
    out: list[str] = []
    for cell in getattr(nb, "cells", None) or []:
        for o in cell.get("outputs", []) or []:
            if o.get("output_type") != "stream" or o.get("name") != "stderr":
                continue
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            skip_source = False
            for line in text.splitlines():
                m = _WARNING.match(line)
                if m:
                    out.append(f"{m['category']}: {m['message'].strip()}")
                    skip_source = True
                elif skip_source and line.startswith((" ", "\t")):
                    skip_source = False  # the source line shown under a warning
                elif line.strip():
                    out.append(line.strip())
                    skip_source = False
    return out


def _shape(message: str) -> str:
    """What alike messages share: numbers and parenthesised details become …"""
    shape = re.sub(r"\s+\([^()]*\)", " …", message)
    shape = re.sub(r"\d+(?:\.\d+)?", "…", shape)
    return re.sub(r"(?:\s*…)+", " …", shape).strip()


def group(messages: list[str]) -> list[tuple[int, str]]:
    """(count, message) per kind of message, first seen first; a kind seen once keeps its
    own text, several alike ones show their common shape."""
    counts: dict[str, list[str]] = {}
    for m in messages:
        counts.setdefault(_shape(m), []).append(m)
    out = []
    for shape, alike in counts.items():
        text = alike[0] if len(set(alike)) == 1 else shape
        out.append((len(alike), text if len(text) <= 100 else text[:99] + "…"))
    return out
