"""The year's narrative prose: Markdown files with a small front-matter header.

``data/raw/<school>/<year>/text/*.md`` each start with ``section``, ``title``, ``kind``
(preface | section | case | challenge) and ``order`` (plus ``case`` / ``challenge`` numbers).
Prose is rendered with raw HTML disabled, so a case that contains ``<script>`` shows as text;
``{{ id }}`` placeholders are replaced by figures afterwards (see :mod:`helpers.report.textgen`).

Besides facts and indicators, a placeholder may name ``prev.<id>`` (the previous year's
value), ``y2021.<id>`` (the value of that year) or ``table.<id>`` / ``figure.<id>`` (the report's 表N / 图N of that block). A paragraph
that is only an image places something where the source shows it:

- ``![原文图题](figure:<id>)`` / ``![原文表题](table:<id>)``: the report's own chart or table
  of that id (a block of the same section in specs/report.yaml), here instead of there;
- ``![图片说明]()``: a photo of the source that is not on file: its caption is kept and shown
  as 原报告配图（本报告未收录图片）；
- ``![图片说明](images/photo.jpg)``: the photo, a file in the year's ``images/`` folder
  (``data/raw/<school>/<year>/images/``; it must exist and be a PNG, JPEG or WebP image),
  shown with its caption as 图N, numbered with the report's charts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import yaml
from markdown_it import MarkdownIt

from helpers.errors import Problem
from helpers.memo import kept_cache
from helpers.specs import sentences

KINDS = {"preface", "section", "case", "challenge"}
IMAGES_DIR = "images"  # the year's photos: data/raw/<school>/<year>/images/
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
EMBED_KINDS = ("table", "figure")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


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
    path: Path | None = None  # the Markdown file (in the year's text/ folder)

    def html(self) -> str:
        """The prose as HTML (headings shifted below the section heading)."""
        html = _MD.render(self.text)
        # headings inside prose sit below the report's h1–h4: '#'–'###' → h5, '####' → h6
        return re.sub(r"<(/?)h([1-6])>", lambda m: f"<{m[1]}h{5 if int(m[2]) <= 3 else 6}>", html)

    @property
    def text(self) -> str:
        """The Markdown without comments."""
        return _COMMENT.sub("", self.body).strip()

    @property
    def placeholders(self) -> frozenset[str]:
        """The ids of the figures the prose states (``{{ id }}``, any filter)."""
        return sentences.names(self.text)

    @property
    def images(self) -> tuple[tuple[str, str], ...]:
        """Every image of the prose as (target, text): ``table:x``, ``figure:x``, "" or a file."""
        return _images(self.text)

    def image_file(self, target: str) -> Path | None:
        """The file of a photo's target (``images/x.jpg``: in the year folder), else None."""
        if not target or target.partition(":")[0] in EMBED_KINDS or self.path is None:
            return None
        return self.path.parent.parent / target

    @property
    def embeds(self) -> frozenset[tuple[str, str]]:
        """The report's tables and charts this prose places: ``("table", "employment")``."""
        out = set()
        for target, _ in self.images:
            kind, _, ident = target.partition(":")
            if kind in EMBED_KINDS and ident:
                out.add((kind, ident))
        return frozenset(out)

    @property
    def captions(self) -> tuple[str, ...]:
        """Captions of the source's photos that the prose keeps (images that are not charts)."""
        return tuple(
            text for target, text in self.images if target.partition(":")[0] not in EMBED_KINDS
        )

    @property
    def headings(self) -> frozenset[str]:
        """The text of the Markdown headings inside the prose."""
        tokens = _MD.parse(self.text)
        return frozenset(
            tokens[i + 1].content.strip()
            for i, t in enumerate(tokens)
            if t.type == "heading_open" and i + 1 < len(tokens)
        )


@kept_cache(4096)
def _images(text: str) -> tuple[tuple[str, str], ...]:
    """The images of a Markdown text (parsed once per text)."""
    out = []
    for tok in _MD.parse(text):
        for child in tok.children or ():
            if child.type == "image":
                src = unquote(str(child.attrs.get("src") or "")).strip()
                out.append((src, child.content))
    return tuple(out)


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
        head = yaml.load(m.group(1), Loader=_SAFE_LOADER) or {}
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
        path,
    )
    if not check:
        return out, []
    return out, _check_placeholders(out, body_start) + _check_images(out, path, body_start)


def _line_of(n: Narrative, first_line: int, needle: str) -> int:
    at = n.body.find(needle)
    return first_line + (n.body[:at].count("\n") if at >= 0 else 0)


def _check_images(n: Narrative, path: Path, first_line: int) -> list[Problem]:
    """Charts and tables placed in prose are named by an id; a photo is a PNG, JPEG or WebP
    file of the year's ``images/`` folder that exists. (Whether the id is one of the report's
    charts or tables is checked where they are defined: the report layer, when the prose is
    rendered, and ``nianbao validate``.)"""
    problems = []
    for target, _text in n.images:
        kind, sep, ident = target.partition(":")
        line = _line_of(n, first_line, f"({target}")

        def problem(rule: str, message: str, line: int = line, target: str = target) -> Problem:
            return Problem(n.file, rule, message, row=line, column="text", value=target)

        if sep and kind in EMBED_KINDS:
            if not ident.isidentifier():
                what = "表格" if kind == "table" else "图表"
                problems.append(problem("unknown_embed", f"{what}编号应为字母、数字和下划线"))
            continue
        if not target:
            continue  # a caption kept, the photo not on file
        parts = target.split("/")
        if len(parts) < 2 or parts[0] != IMAGES_DIR or any(p in ("", ".", "..") for p in parts):
            problems.append(
                problem(
                    "image_path",
                    f"图片应放在本年度的 {IMAGES_DIR}/ 文件夹中（data/raw/<学校>/<年度>/{IMAGES_DIR}/），"
                    f"写作 ![说明]({IMAGES_DIR}/文件名)；未收录图片时请留空：![说明]()",
                )
            )
            continue
        file = path.parent.parent / target
        if not file.is_file():
            problems.append(
                problem(
                    "missing_image",
                    f"图片文件不存在：{file.parent.parent.name}/{target}"
                    f"（未收录图片时请留空：![说明]()）",
                )
            )
        elif file.suffix.lower() not in IMAGE_SUFFIXES or not _readable_image(file):
            problems.append(problem("bad_image", "不是可读取的图片（应为 PNG、JPEG 或 WebP 格式）"))
    return problems


def _readable_image(file: Path) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as im:
            im.verify()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError):
        return False
    return True


def _known_placeholder(name: str) -> bool:
    from helpers.specs.dictionary import load_dictionary
    from helpers.specs.registry import registry

    kind, _, ident = name.partition(".")
    if kind in EMBED_KINDS and ident:
        return ident.isidentifier()  # checked against the report's ids by the report layer
    base = re.sub(r"^(prev|y\d{4})\.", "", name)
    return base in load_dictionary().facts or base in registry().indicators or name in META_NAMES


def _check_placeholders(n: Narrative, first_line: int) -> list[Problem]:
    try:
        found = sentences.placeholders(n.body)
    except sentences.TemplateError as e:
        return [
            Problem(
                n.file,
                "bad_placeholder",
                str(e),
                row=first_line + e.line - 1,
                column="text",
                value=n.body.splitlines()[e.line - 1] if n.body.splitlines() else "",
            )
        ]
    problems = []
    for p in found:
        line = first_line + p.line - 1
        if not _known_placeholder(p.name):
            problems.append(
                Problem(
                    n.file,
                    "unknown_placeholder",
                    "占位符不是已定义的事实、指标（可加 prev. 表示上年）或报告中的 table./figure. 编号",
                    row=line,
                    column="text",
                    value=p.source,
                )
            )
        if p.filter and p.filter not in FILTERS:
            problems.append(
                Problem(
                    n.file,
                    "unknown_filter",
                    f"占位符过滤器只能是 {'、'.join(sorted(FILTERS))}",
                    row=line,
                    column="text",
                    value=p.source,
                )
            )
    return problems


META_NAMES = sentences.META_NAMES
FILTERS = set(sentences.FILTERS)


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
