"""The year's narrative prose: Markdown files with a small front-matter header.

``data/raw/<school>/<year>/text/*.md`` each start with ``section``, ``title``, ``kind``
(preface | section | case | challenge) and ``order`` (plus ``case`` / ``challenge`` numbers).
Prose is rendered with raw HTML disabled, so a case that contains ``<script>`` shows as text;
``{{ id }}`` placeholders are replaced by figures afterwards (see :mod:`helpers.textgen`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from .errors import Problem

KINDS = {"preface", "section", "case", "challenge"}
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*(?:\|\s*([a-z_]+)\s*)?\}\}")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD = MarkdownIt("commonmark", {"html": False, "typographer": False})


@dataclass(frozen=True)
class Narrative:
    """One Markdown block of prose."""

    file: str
    section: str
    title: str
    kind: str
    order: int
    body: str
    number: int | None = None  # case or challenge number

    def html(self) -> str:
        """The prose as HTML (headings shifted below the section heading)."""
        text = _COMMENT.sub("", self.body).strip()
        html = _MD.render(text)
        # '### x' inside prose becomes a level-5 heading below the report's h1–h4
        return re.sub(r"<(/?)h[1-6]>", r"<\1h5>", html)


def parse_file(
    path: Path, shown: str, check: bool = True
) -> tuple[Narrative | None, list[Problem]]:
    """Read one Markdown file with its front matter."""
    text = path.read_text(encoding="utf-8-sig")
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n?(.*)$", text, re.S)
    if not m:
        return None, [
            Problem(
                shown,
                "front_matter",
                "文件应以 --- 包围的头信息开始（section、title、kind、order）",
                row=1,
            )
        ]
    try:
        head = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        return None, [Problem(shown, "front_matter", f"头信息 YAML 语法错误：{exc}", row=1)]
    problems = []
    for key in ("section", "title", "kind"):
        if key not in head:
            problems.append(Problem(shown, "front_matter", f"头信息缺少 {key}", row=1, column=key))
    if head.get("kind") not in KINDS:
        problems.append(
            Problem(
                shown,
                "allowed_values",
                f"kind 只能是 {'、'.join(sorted(KINDS))}",
                row=1,
                column="kind",
                value=head.get("kind"),
            )
        )
    kind = head.get("kind")
    number = head.get(kind) if kind in {"case", "challenge"} else None
    if kind in {"case", "challenge"} and not isinstance(number, int):
        problems.append(
            Problem(shown, "front_matter", f"{kind} 文件需要整数编号 {kind}: N", row=1, column=kind)
        )
    if problems:
        return None, problems
    body_start = text[: m.start(2)].count("\n") + 1
    out = Narrative(
        shown,
        str(head["section"]),
        str(head["title"]),
        kind,
        int(head.get("order", 1)),
        m.group(2),
        number,
    )
    return out, (_check_placeholders(out, body_start) if check else [])


def _check_placeholders(n: Narrative, first_line: int) -> list[Problem]:
    from .dictionary import load_dictionary
    from .indicators import registry

    known = set(load_dictionary().facts) | set(registry().indicators)
    problems = []
    for m in PLACEHOLDER.finditer(n.body):
        line = first_line + n.body[: m.start()].count("\n")
        if m.group(1) not in known and m.group(1) not in META_NAMES:
            problems.append(
                Problem(
                    n.file,
                    "unknown_placeholder",
                    "占位符不是已定义的事实或指标",
                    row=line,
                    column="text",
                    value=m.group(0),
                )
            )
        if m.group(2) and m.group(2) not in FILTERS:
            problems.append(
                Problem(
                    n.file,
                    "unknown_filter",
                    f"占位符过滤器只能是 {'、'.join(sorted(FILTERS))}",
                    row=line,
                    column="text",
                    value=m.group(0),
                )
            )
    return problems


META_NAMES = {"year", "prev_year", "school_year", "school_name"}
FILTERS = {"wan", "num", "change", "history"}


def load_narratives(
    folder: Path, shown: Callable[[Path], str], check: bool = True
) -> tuple[list[Narrative], list[Problem]]:
    """Every narrative file of a year folder, ordered by section then order.

    ``check`` validates placeholders against the facts and indicators (which loads the
    registry); listing a chapter's inputs only needs the front matter and skips it.
    """
    text_dir = folder / "text"
    if not text_dir.is_dir():
        return [], []
    out, problems = [], []
    for path in sorted(text_dir.glob("*.md")):
        n, probs = parse_file(path, shown(path), check)
        problems += probs
        if n is not None:
            out.append(n)
    return out, problems
