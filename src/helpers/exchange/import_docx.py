"""``nianbao import-docx``: a Word draft becomes the year's ``text/*.md`` (and ``images/``).

Each numbered heading the chapter notebooks know (``1.1.1 学校概况``) gives ``s1_1_1.md``, each
``案例 N`` ``caseNN.md`` (in the section it stands in), each ``挑战 N`` ``challengeN.md``, with the
front matter of :mod:`helpers.ingest.narrative`. Pictures go to ``images/`` and are referred to
as ``![说明](images/<file>)``. A number followed by its unit that equals exactly one fact of
the year (``203 人`` = 专任教师数) becomes that fact's placeholder; a number next to a fact's
name that differs from the data is reported. Headings the notebooks do not know, and the
sections they give prose to that the draft lacks, are listed. The files are validated like
every narrative before anything is written; replacing different existing files needs ``yes``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpers import paths
from helpers.atomic import write_bytes, write_text
from helpers.errors import DataValidationError, Problem
from helpers.exchange.docx_reader import Block, Draft, read_draft
from helpers.ingest.load import load_school_year
from helpers.ingest.narrative import load_narratives
from helpers.specs.dictionary import load_dictionary

_HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\s+(.+?)\s*$")
_NARRATIVE = re.compile(r"rep\.narrative\(\s*[\"']([^\"']+)[\"']")
_NUMBER = re.compile(
    r"(?<![\d.,{])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s?)(%|％|[\u4e00-\u9fff]{1,3})?"
)


@dataclass
class DocxResult:
    files: dict[str, str] = field(default_factory=dict)  # text/<name>.md → Markdown
    images: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # headings not in the notebooks
    missing: list[str] = field(default_factory=list)  # sections with prose the draft lacks
    placeholders: list[str] = field(default_factory=list)  # numbers made placeholders
    contradictions: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    needs_yes: bool = False
    written: list[str] = field(default_factory=list)


def known_sections(notebooks: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """(section number → title) of the chapter notebooks' headings, and the sections whose
    prose they show (``rep.narrative("1.1.1")``), read from the notebook files."""
    from helpers.specs.outline import outline

    folder = notebooks or paths.repo_root() / "notebooks"
    titles: dict[str, str] = {c.id: c.title for c in outline() if c.id[0].isdigit()}
    prose: list[str] = []
    for nb in sorted(folder.glob("0*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8")).get("cells", []):
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            if cell.get("cell_type") == "markdown":
                for line in src.splitlines():
                    if m := _HEADING.match(line.strip()):
                        titles.setdefault(m.group(1), m.group(2))
            else:
                prose += [s for s in _NARRATIVE.findall(src) if s not in prose]
    return titles, prose


def file_name(b: Block) -> str:
    if b.kind == "case":
        return f"case{b.number:02d}.md"
    if b.kind == "challenge":
        return f"challenge{b.number}.md"
    return "s" + b.section.replace(".", "_") + ".md"


def _front(b: Block, order: int) -> str:
    head: dict[str, object] = {"section": b.section, "title": b.title or b.heading}
    head["kind"] = b.kind
    if b.kind in ("case", "challenge"):
        head[b.kind] = b.number
    head["order"] = order
    text = yaml.safe_dump(head, allow_unicode=True, sort_keys=False, width=10**9)
    text = re.sub(
        r"^section: (.*)$", lambda m: f'section: "{m.group(1).strip(chr(39))}"', text, flags=re.M
    )
    return f"---\n{text}---\n"


def _core(label: str) -> str:
    return re.sub(r"(人数|数量|数)$", "", label).strip("“”")


def _numbers(text: str, facts: dict[str, tuple[float, str, str]], out: DocxResult, where: str):
    """Numbers with a unit that equal exactly one fact become its placeholder; a number right
    after a fact's name that differs from the data is reported."""
    by_value: dict[tuple[float, str], list[str]] = {}
    for name, (value, unit, _label) in facts.items():
        by_value.setdefault((round(value, 6), unit), []).append(name)

    def replace(m: re.Match[str]) -> str:
        unit = (m.group(3) or "").replace("％", "%")
        value = round(float(m.group(1).replace(",", "")), 6)
        for u in sorted(
            {u for _, u in by_value if u and unit.startswith(u)}, key=len, reverse=True
        ):
            names = by_value.get((value, u), [])
            if len(names) == 1:
                out.placeholders.append(f"{where}：{m.group(0).strip()} → {{{{ {names[0]} }}}}")
                return "{{ " + names[0] + " }}" + unit[len(u) :]
            if names:
                return m.group(0)
        return m.group(0)

    for value, unit, label in facts.values():
        core = _core(label)
        if len(core) < 2 or not unit:
            continue
        for m in re.finditer(
            re.escape(core) + r"[^\d{}。；]{0,6}?(\d+(?:\.\d+)?)\s?" + re.escape(unit), text
        ):
            if abs(float(m.group(1)) - value) > 1e-6:
                out.contradictions.append(
                    f"{where}：“{m.group(0)}”与数据中的{label} {value:g} {unit}不符"
                )
    parts = re.split(r"(!\[[^\]]*\]\([^)]*\)|\{\{.*?\}\})", text)
    return "".join(p if i % 2 else _NUMBER.sub(replace, p) for i, p in enumerate(parts))


def _year_facts(school_id: str, year: int, data_dir) -> dict[str, tuple[float, str, str]]:
    try:
        sy = load_school_year(school_id, year, data_dir, with_previous=False)
    except (DataValidationError, OSError, ValueError):
        return {}
    d = load_dictionary()
    return {n: (f.value, d.unit(n), d.label(n)) for n, f in sy.facts.items()}


def render(draft: Draft, facts: dict[str, tuple[float, str, str]], out: DocxResult) -> None:
    titles, prose = known_sections()
    orders: dict[str, int] = {}
    seen = set()
    for b in draft.blocks:
        if b.kind == "section" and b.section not in titles:
            if any(t.startswith(b.section + ".") for t in titles) and not b.paragraphs:
                continue  # a heading above the report's sections, without prose of its own
            out.unknown.append(f"{b.heading}（章节号 {b.section} 不在报告的章节中，未导入）")
            continue
        if b.kind == "case" and not b.section:
            out.unknown.append(f"{b.heading}（案例前没有带编号的章节标题，未导入）")
            continue
        if not b.paragraphs:
            continue
        orders[b.section] = orders.get(b.section, 0) + 1
        name = file_name(b)
        if b.kind in ("section", "challenge"):
            seen.add(b.section)
        body = "\n\n".join(_numbers(p, facts, out, f"{name}") for p in b.paragraphs)
        out.files[name] = _front(b, orders[b.section]) + body + "\n"
    out.missing = [
        f"{s} {titles.get(s, '')}".strip() for s in prose if s not in seen and s[0].isdigit()
    ]


def import_docx(
    path: str | os.PathLike[str],
    school_id: str,
    year: int,
    data_dir: str | os.PathLike[str] | None = None,
    yes: bool = False,
) -> DocxResult:
    """Import a Word draft into the year's text/ and images/ (see the module docstring)."""
    school_id = paths.check_school_id(school_id)
    folder = paths.raw_root(data_dir) / school_id / str(year)
    out = DocxResult()
    try:
        draft = read_draft(path, stem=f"{Path(path).stem}")
    except Exception as e:  # python-docx raises several kinds for a file that is no .docx
        out.problems.append(
            Problem(Path(path).name, "not_docx", f"无法作为 Word 文档（.docx）打开：{e}")
        )
        return out
    render(draft, _year_facts(school_id, year, data_dir), out)
    out.unknown += [f"{t}（在第一个带编号的标题之前，未导入）" for t in draft.orphans[:5]]
    with tempfile.TemporaryDirectory(prefix="nianbao-docx-") as tmp:
        stage = Path(tmp) / str(year)
        (stage / "text").mkdir(parents=True)
        (stage / "images").mkdir()
        for name, text in out.files.items():
            (stage / "text" / name).write_text(text, encoding="utf-8")
        for pic in draft.pictures:
            (stage / "images" / pic.name).write_bytes(pic.data)
        _, problems = load_narratives(stage, lambda p: f"text/{p.name}")
        out.problems += [p for p in problems if p.severity == "error"]
        if out.problems:
            return out
        for name, text in out.files.items():
            old = folder / "text" / name
            if old.is_file() and old.read_text(encoding="utf-8") != text:
                out.changes.append(f"text/{name}")
        if out.changes and not yes:
            out.needs_yes = True
            return out
        # every file is checked above; each is written atomically (pictures first, so the
        # prose never refers to a picture not yet on file)
        for pic in draft.pictures:
            write_bytes(folder / "images" / pic.name, pic.data)
            out.images.append(f"images/{pic.name}")
        for name, text in out.files.items():
            write_text(folder / "text" / name, text)
            out.written.append(f"text/{name}")
    return out
