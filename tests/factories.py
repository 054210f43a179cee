"""Test data factories and small helpers shared by test files (never imported from a test_
file: every test module imports what it shares from here, fixtures come from conftest.py).

Every test that builds or lists schools does so on a data folder made here (a copy of the
bundled school, a second school, a bare school), never on whatever ``data/raw`` holds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from helpers.errors import DataValidationError
from helpers.ingest.facts import Fact, Observation
from helpers.ingest.load import SchoolYear, load_school_year

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
BUNDLED = "huichang"
SECOND = "demo2"  # the second school of the `second_school` fixture
SECOND_NAME = "会昌第二职业学校"
SEED = ROOT.parent / "shared" / "seeds" / "000_e7d1589b0c592feb.txt"


# ----------------------------------------------------------------------------- data folders


def copy_school(
    raw: Path, school_id: str = BUNDLED, *, name: str | None = None, source: str = BUNDLED
) -> Path:
    """Copy the bundled school's folder to ``raw/<school_id>``; with another id (or ``name``)
    its school.yaml gets that ``school_id`` and ``name``. Returns the school folder."""
    dst = raw / school_id
    shutil.copytree(RAW / source, dst)
    if school_id != source or name is not None:
        path = dst / "school.yaml"
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"school_id: {source}", f"school_id: {school_id}", 1)
        if name is not None:
            old = yaml.safe_load(text)["name"]
            text = text.replace(f"name: {old}", f"name: {name}", 1)
        path.write_text(text, encoding="utf-8")
    return dst


def make_school(
    raw: Path,
    school_id: str,
    *,
    name: str = "演示学校",
    years: tuple[int, ...] = (2024,),
    facts: dict[str, float] | None = None,
) -> Path:
    """A bare school: school.yaml, and per year only meta.yaml + facts.yaml (one source
    document ``d1``). ``facts`` are written as single observations of section 1.1.2."""
    folder = raw / school_id
    folder.mkdir(parents=True)
    school = {
        "school_id": school_id,
        "name": name,
        "documents": {"d1": {"title": f"{name}质量年度报告", "file": "report.pdf"}},
    }
    _dump(folder / "school.yaml", school)
    for year in years:
        (folder / str(year)).mkdir()
        meta = {"year": year, "school_year": f"{year - 1}-{year}学年", "default_document": "d1"}
        _dump(folder / str(year) / "meta.yaml", meta)
        values = facts if facts is not None else {"students_full_time": 1000, "graduates": 300}
        observations = {k: {"value": v, "source": "1.1.2"} for k, v in values.items()}
        _dump(folder / str(year) / "facts.yaml", observations)
    return folder


def _dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ----------------------------------------------------------------------------- editing files


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def set_facts(year_dir: Path, **values: float) -> None:
    """Replace facts in a copy's facts.yaml with one observation each."""
    path = year_dir / "facts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, value in values.items():
        data[name] = {"value": value, "source": "1.2.3"}
    _dump(path, data)


# ----------------------------------------------------------------------------- loading


def assert_same(a: SchoolYear | None, b: SchoolYear | None) -> None:
    """Equal in content, down the previous-year chain."""
    while a is not None or b is not None:
        assert a is not None and b is not None
        assert (a.school_id, a.year, a.school, a.meta, a.folder) == (
            b.school_id,
            b.year,
            b.school,
            b.meta,
            b.folder,
        )
        assert a.observations == b.observations and a.facts == b.facts
        for name, fact in a.facts.items():  # the chosen observation is one of its own
            assert any(o is b.facts[name].chosen for o in b.facts[name].observations), name
            assert fact.value == b.facts[name].value
        assert sorted(a.tables) == sorted(b.tables)
        for name in a.tables:
            pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
        pd.testing.assert_frame_equal(a.published, b.published)
        assert a.narratives == b.narratives and a.warnings == b.warnings
        a, b = a.previous, b.previous


def load_errors(raw: Path, year: int = 2024, school_id: str = BUNDLED) -> DataValidationError:
    """The validation error loading this school-year raises (fails when it loads)."""
    with pytest.raises(DataValidationError) as info:
        load_school_year(school_id, year, data_dir=raw)
    return info.value


def only(err: DataValidationError, rule: str):
    """The first problem of this rule (fails when there is none)."""
    found = [p for p in err.problems if p.rule == rule]
    assert found, f"no {rule} in {err}"
    return found[0]


def make_sy(values: dict[str, float]) -> SchoolYear:
    """A school-year holding just these facts (no tables, no previous year)."""
    facts = {}
    for name, v in values.items():
        obs = Observation(field=name, value=float(v), source="test", file="test.yaml")
        facts[name] = Fact(name, float(v), obs, (obs,), "唯一取值")
    published = pd.DataFrame(
        columns=["indicator", "value", "decimals", "printed", "source", "note"]
    )
    return SchoolYear("t", 2024, {}, {}, [], facts, {}, published, Path("."))


# ----------------------------------------------------------------------------- HTML


def need_chromium() -> str:
    """The Chromium to test pages in: skipped on a developer machine without one, a failure
    in CI (CI=true), where .ci/run installs Debian's chromium."""
    from helpers.build.pdf import find_chromium

    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium); CI runs these tests")
    return exe


class _Text(HTMLParser):
    """Visible text of an HTML fragment (attributes such as tooltips left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible(html: str) -> str:
    """The text a reader sees in an HTML fragment (no tags, no attributes)."""
    p = _Text()
    p.feed(str(html))
    return "".join(p.parts)


# ----------------------------------------------------------------------------- reviewer text


def audit_rule_ids() -> set[str]:
    """Every rule id the audit can report (specs/audit.yaml configures the audit; the ids
    are the rules of helpers.indicators.audit, read from its source)."""
    import inspect
    import re

    import helpers.indicators.audit as audit

    return set(
        re.findall(r'Finding\(\s*"(?:error|warning|info)",\s*"(\w+)"', inspect.getsource(audit))
    )


_CODE_WORDS = (
    "r2024",
    "use: true",
    "[推断]",
    "docs/",
    "data/raw",
    "indicators.md",
    "references.md",
    "“错误”会阻止报告生成",
    " 表中",
    "count 之和",
    "未查到",
    "未经官方模板核实",
)


class _All(HTMLParser):
    """Text and attribute values of a page (scripts and styles skipped; ``src``/``href`` of
    embedded images and links are addresses, not reader text)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []  # (where, text)
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for k, v in attrs:
            if v and k not in ("src", "href", "id", "class", "style", "for", "rel", "type"):
                self.items.append((f"<{tag} {k}>", v))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.items.append(("text", data))


def reviewer_text_problems(html: str) -> list[str]:
    """Developer words on a reviewer's page, in its text or any attribute (tooltips too): file
    paths and names (.yaml/.csv/.md), document ids (r2024), audit rule ids, None/nan/NaN and
    code words. Returns one line per occurrence (empty when the page is clean)."""
    import re

    rules = audit_rule_ids()
    patterns = [
        (re.compile(r"[\w/.-]+\.(?:ya?ml|csv|md|py|ipynb|parquet)\b"), "file name"),
        (re.compile(r"\b(?:None|nan|NaN)\b"), "None/nan"),
        (re.compile(r"\b(?:" + "|".join(sorted(rules)) + r")\b"), "audit rule id"),
        (re.compile(r"\b\w+\.csv\b|第 [\d, ]+ 行"), "data file line"),
        (re.compile(r"[A-Za-z_][\w./-]*:\d+"), "file:line"),
        (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"), "ISO timestamp"),
        (re.compile(r"\bgit\b"), "git"),
    ]
    out = []
    parser = _All()
    parser.feed(html)
    for where, text in parser.items:
        for rx, what in patterns:
            for m in rx.finditer(text):
                out.append(f"{what} {m.group(0)!r} in {where}: {text[:120]}")
        for word in _CODE_WORDS:
            if word in text:
                out.append(f"code word {word!r} in {where}: {text[:120]}")
    return out


PLACEHOLDERS = ("未填报", "暂无")


def placeholders_outside_tables(html: str) -> list[str]:
    """The placeholders (未填报, 暂无, a lone —) a page shows outside its tables and its table
    of contents, each with the text around it."""
    import re

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for t in soup(["table", "nav", "script", "style", "title", "head"]):
        t.decompose()
    text = soup.get_text(" ")
    rx = re.compile("|".join(PLACEHOLDERS) + r"|(?<![\d—])—(?![\d—])")
    return [text[max(m.start() - 20, 0) : m.end() + 20] for m in rx.finditer(text)]


def sections_saying_only_missing(html: str) -> list[str]:
    """Headings of a page whose section (up to the next heading) says nothing but that the
    data is missing (本年度未填报…, 未填报, 暂无) or says nothing at all."""
    import re

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for t in soup(["nav", "script", "style", "head"]):
        t.decompose()
    headings = soup.find_all(re.compile(r"^h[1-4]$"))
    out = []
    for h in headings:
        level = int(h.name[1])
        texts = []
        for el in h.find_all_next(string=True):
            parent = el.find_parent(re.compile(r"^h[1-6]$"))
            if parent is not None and parent is not h:
                if int(parent.name[1]) <= level:
                    break
                texts.append("§")  # a sub-section: its own check
                continue
            if parent is h:
                continue
            texts.append(el.strip())
        body = "".join(texts).replace("§", "")
        only_missing = re.fullmatch(r"(本年度)?(未填报|暂无|—)[^。]*。?", body)
        if (not body and "§" not in texts) or only_missing:
            out.append(h.get_text(strip=True))
    return out


# ----------------------------------------------------------------------------- synthetic schools


def raw_facts(raw: Path, school_id: str, year: int) -> dict[str, float]:
    """A school-year's facts.yaml read by hand (one observation per fact, as helpers.demo
    writes them): ``{field: value}``; for tests that recompute figures independently."""
    doc = yaml.safe_load((raw / school_id / str(year) / "facts.yaml").read_text("utf-8")) or {}
    return {k: float(v["value"]) for k, v in doc.items()}


def cli_command() -> list[str]:
    """How a test starts ``nianbao`` as a process of its own (the venv's script)."""
    script = Path(sys.executable).with_name("nianbao")
    return [str(script)] if script.exists() else [sys.executable, "-m", "helpers.cli"]


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie counts: it is already dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (read from /proc)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.update(kids)
        todo += kids
    return out


def notebook(path: Path, cells: list[str], title: str | None = None) -> Path:
    """A chapter notebook: optional Markdown title, a `parameters` cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('school_id = "demo"\nyear = 2000\ndata_dir = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = ([nbformat.v4.new_markdown_cell(f"# {title}")] if title else []) + [params]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return write_notebook(path, nb)


def write_notebook(path: Path, nb: nbformat.NotebookNode) -> Path:
    """Write ``nb`` to ``path`` for the python3 kernel."""
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path
