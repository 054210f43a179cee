"""Issue 11: specs and notebooks are checked before anything runs (typed spec models,
cross-checked ids, a static scan of the notebooks' ``rep.…`` calls, JSON Schemas)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml
from typer.testing import CliRunner

from helpers.build import preflight
from helpers.cli import app
from helpers.report import nbcheck
from helpers.report.nbcheck import check_notebooks, report_methods
from helpers.specs import check as spec_check
from helpers.specs.check import check_specs, reference_sections
from helpers.specs.dictionary import SPECS
from helpers.specs.models import MODELS
from helpers.specs.registry import registry
from helpers.specs.schema import modeline, rendered
from tests.factories import descendants, process_gone

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The notebook API of the new chapter notebooks (notes for issue 11), for fixture notebooks.
API = {
    "chapter", "narrative", "text", "denominator_note", "standards", "figure", "table",
    "heading", "case", "challenges", "appendix_tables", "audit", "derivations", "data",
    "figure_from", "section",
}  # fmt: skip


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of path containing needle."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    """A writable copy of the spec folder."""
    dst = tmp_path / "specs"
    shutil.copytree(SPECS, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__", "schema"))
    return dst


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def only(problems, rule: str):
    hits = [p for p in problems if p.rule == rule]
    assert len(hits) == 1, [str(p) for p in problems]
    return hits[0]


# ---------------------------------------------------------------- the bundled specs


def test_bundled_specs_and_notebooks_are_clean():
    assert check_specs() == []
    assert preflight.problems(NOTEBOOKS) == []


def test_indicator_tables_follow_the_appendix_rows():
    """The 10 wrong `table:` fields, fixed: 附表1 lists the sector shares and 对口就业率; the
    teacher-level shares, 兼职教师比例, 获奖总数 and 生均免学费补助 are in no 附表."""
    ind = registry().indicators
    for iid in ("sector_share_primary", "sector_share_secondary", "sector_share_tertiary"):
        assert ind[iid].table == "附表1"
    assert ind["in_field_employment_rate"].table == "附表1"
    for iid in (
        "dual_qualified_senior_share",
        "dual_qualified_intermediate_share",
        "dual_qualified_junior_share",
        "parttime_teacher_ratio",
        "awards_total",
        "tuition_waiver_per_student",
    ):
        assert ind[iid].table is None, iid
    assert ind["direct_employment"].table == "附表1"  # listed in 附表1 and 附表3


# ---------------------------------------------------------------- spec files


def test_unknown_key_names_file_line_and_suggestion(specs):
    f = specs / "indicators.yaml"
    edit(f, '    chapter: "1.1.2"\n    table: 附表1', '    chaptr: "1.1.2"\n    table: 附表1')
    p = only(check_specs(specs), "spec_unknown_key")
    assert p.file.endswith("indicators.yaml") and p.column == "chaptr"
    assert p.row == line_of(f, "chaptr:")
    assert "chapter" in p.hint and "indicators.retention_rate.chaptr" in p.message


def test_unknown_key_in_report_yaml_chapter(specs):
    f = specs / "report.yaml"
    edit(f, "notebook: 02_service", "notbook: 02_service")
    p = only(check_specs(specs), "spec_unknown_key")
    assert p.row == line_of(f, "notbook:") and "notebook" in p.hint


def test_slim_report_yaml_is_accepted(specs):
    f = specs / "report.yaml"
    raw = yaml.safe_load(f.read_text(encoding="utf-8"))
    slim = {
        "title": raw["title"],
        "chapters": [{k: c[k] for k in ("id", "notebook", "title")} for c in raw["chapters"]],
    }
    f.write_text(yaml.safe_dump(slim, allow_unicode=True), encoding="utf-8")
    assert check_specs(specs) == []


@pytest.mark.parametrize(
    ("file", "old", "new", "bad", "hint"),
    [
        ("thresholds.yaml", "indicator: senior_title_share", "indicator: senior_titel_share",
         "senior_titel_share", "senior_title_share"),
        ("indicators.yaml", "formula: books_print / students_full_time",
         "formula: books_printed / students_full_time", "books_printed", "books_print"),
        ("appendix_tables.yaml", "      - ebooks_new", "      - ebook_new", "ebook_new", "ebooks_new"),
        ("indicators.yaml", "share_groups:\n  sector_shares: [sector_share_primary,",
         "share_groups:\n  sector_shares: [sector_share_primry,", "sector_share_primry",
         "sector_share_primary"),
        ("fields.yaml", "parts: [students_male, students_female]",
         "parts: [students_male, students_femal]", "students_femal", "students_female"),
    ],
)  # fmt: skip
def test_unknown_id_in_spec_names_file_line_and_suggestion(specs, file, old, new, bad, hint):
    f = specs / file
    edit(f, old, new)
    p = only(check_specs(specs), "spec_unknown_id")
    assert p.file.endswith(file) and p.value == bad and hint in p.hint
    assert p.row == line_of(f, new.split("\n")[-1])


def test_indicator_table_not_matching_appendix_is_an_error(specs):
    f = specs / "indicators.yaml"
    text = f.read_text(encoding="utf-8")
    start = text.index("  in_field_employment_rate:")
    at = text.index("    table: 附表1", start)
    f.write_text(text[:at] + "    table: 表2" + text[at + len("    table: 附表1") :], "utf-8")
    p = only(check_specs(specs), "spec_table_mismatch")
    assert p.value == "表2" and "附表1" in p.hint and "in_field_employment_rate" in p.message
    assert p.row == line_of(f, "table: 表2")


def test_every_reference_resolves_to_a_heading():
    sections = reference_sections()
    assert {"2", "2.1", "3.1", "3.2", "3.3", "3.4", "3.5"} <= sections
    cited = []
    for spec in MODELS:
        text = (SPECS / spec).read_text(encoding="utf-8")
        assert "indicators.md" not in text, spec  # the file outside the repository
        cited += re.findall(r"docs/references\.md\s*§\s*(\d+(?:\.\d+)*)", text)
    assert len(cited) >= 25 and set(cited) <= sections
    for ind in registry().indicators.values():
        assert ind.reference.startswith(("docs/references.md §", "[推断]")), ind.id


def test_a_reference_to_a_missing_section_is_an_error(specs):
    f = specs / "indicators.yaml"
    edit(f, "docs/references.md §3.4", "docs/references.md §3.9")
    p = only(check_specs(specs), "spec_reference")
    assert p.row == line_of(f, "§3.9") and "3.9" in p.message


def test_references_quote_the_reference_notes():
    text = (ROOT / "docs" / "references.md").read_text(encoding="utf-8")
    assert "### 3.4 巩固率" in text and "**[S]**" in text and "[I]" in text


def test_generic_specs_hold_no_school_wording():
    specs = "".join((SPECS / s).read_text(encoding="utf-8") for s in MODELS)
    notes = (ROOT / "data" / "raw" / "huichang" / "NOTES.md").read_text(encoding="utf-8")
    for words in ("18 个专业", "每生每年 2000 元", "积分卡", "斩获", "教学设施设备总价值"):
        assert words in notes, words
    for words in ("18 个专业", "每生每年 2000 元", "按原报告", "与原文一致", "斩获", "按原文保留"):
        assert words not in specs, words


# ---------------------------------------------------------------- schemas


def test_committed_schemas_are_up_to_date():
    for path, text in rendered().items():
        assert path.read_text(encoding="utf-8") == text, f"{path}: run `nianbao schema`"
    assert CliRunner().invoke(app, ["schema", "--check"]).exit_code == 0


def test_specs_name_their_schema_and_satisfy_it():
    for spec in MODELS:
        path = SPECS / spec
        assert path.read_text(encoding="utf-8").splitlines()[0] == modeline(spec)
        schema = json.loads((SPECS / "schema" / f"{path.stem}.json").read_text("utf-8"))
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_schema_rejects_unknown_keys_and_ids():
    schema = json.loads((SPECS / "schema" / "thresholds.json").read_text("utf-8"))
    good = {
        "standards": [{"indicator": "books_per_student", "min": 30, "text": "t", "source": "s"}]
    }
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"standards": [{**good["standards"][0], "mni": 3}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        bad = {"standards": [{**good["standards"][0], "indicator": "books_per_studnt"}]}
        jsonschema.validate(bad, schema)


# ---------------------------------------------------------------- report.yaml blocks


def test_misspelt_ids_in_the_real_chapter_notebook(tmp_path):
    """The issue's typos, made in a copy of the real chapter notebook: each is found."""
    folder = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS[0].parent, folder)
    path = folder / "01_talent.ipynb"
    text = path.read_text(encoding="utf-8")
    text = text.replace('rep.figure(\\"dual_structure\\")', 'rep.figure(\\"dual_structructure\\")')
    text = text.replace('rep.narrative(\\"1.2.4\\")', 'rep.narativ(\\"1.2.4\\")')
    text = text.replace("{{ students_boarding }}", "{{ students_borading }}")
    path.write_text(text, encoding="utf-8")
    problems = check_notebooks(sorted(folder.glob("*.ipynb")))
    fig = only(problems, "nb_unknown_figure")
    assert fig.value == "dual_structructure" and "dual_structure" in fig.hint
    assert "01_talent.ipynb" in fig.file
    assert only(problems, "nb_unknown_method").value == "narativ"
    assert only(problems, "nb_unknown_placeholder").value == "students_borading"


# ---------------------------------------------------------------- notebooks


def chapter_nb(path: Path, cells: list[tuple[str, str]]) -> Path:
    """A notebook of (kind, source) cells: "md" or "code"."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        for kind, src in cells
    ]
    nbformat.write(nb, path)
    return path


GOOD = [
    ("code", 'school_id = "huichang"; year = None; data_dir = None; figures = "recomputed"'),
    ("code", "from helpers.report import open_report\nrep = open_report(school_id, year)\n"
             'rep.chapter("5")'),
    ("md", "## 5 产教融合"),
    ("md", "### 5.1 产教融合的具体实施情况"),
    ("code", 'rep.narrative("5.1")'),
    ("code", 'rep.text("{{ school_year }}招生 {{ enrollment }}{{ enrollment | change }}，"\n'
             '         "上年 {{ prev.enrollment }}，2023 年 {{ y2023.graduates }}，见{{ table.employment }}。")'),
    ("code", 'rep.standards(["student_teacher_ratio", "books_per_student"])'),
    ("code", 'rep.figure("dual_structure")\nrep.table("employment")'),
    ("code", '%matplotlib inline\nrep.narrative("4")\nrep.narrative("preface")'),
]  # fmt: skip


def test_clean_fixture_notebook_has_no_problems(tmp_path):
    nb = chapter_nb(tmp_path / "05_industry.ipynb", GOOD)
    assert check_notebooks([nb], API) == []


@pytest.mark.parametrize(
    ("cell", "old", "new", "rule", "bad", "hint", "line"),
    [
        (7, 'figure("dual_structure")', 'figure("dual_structructure")', "nb_unknown_figure",
         "dual_structructure", "dual_structure", 1),
        (7, 'table("employment")', 'table("employmnet")', "nb_unknown_table", "employmnet",
         "employment", 2),
        (5, "{{ y2023.graduates }}", "{{ y2023.graduats }}", "nb_unknown_placeholder",
         "y2023.graduats", "graduates", 2),
        (5, "{{ enrollment }}", "{{ enrolment }}", "nb_unknown_placeholder", "enrolment",
         "enrollment", 1),
        (4, 'narrative("5.1")', 'narrative("5.11")', "nb_unknown_section", "5.11", "5.1", 1),
        (4, 'rep.narrative("5.1")', 'rep.narativ("5.1")', "nb_unknown_method", "narativ",
         "narrative", 1),
        (6, '"books_per_student"', '"books_per_studnt"', "nb_unknown_standard",
         "books_per_studnt", "books_per_student", 1),
    ],
)  # fmt: skip
def test_misspelt_id_in_a_notebook_cell(tmp_path, cell, old, new, rule, bad, hint, line):
    cells = list(GOOD)
    kind, src = cells[cell]
    assert old in src
    cells[cell] = (kind, src.replace(old, new))
    nb = chapter_nb(tmp_path / "05_industry.ipynb", cells)
    p = only(check_notebooks([nb], API), rule)
    assert p.value == bad and hint in p.hint and p.row == line
    assert p.file.endswith(f"05_industry.ipynb cells[{cell}]")
    assert f"cells[{cell}]，第 {line} 行" in str(p) and bad in str(p)


def test_a_heading_in_another_notebook_counts(tmp_path):
    a = chapter_nb(tmp_path / "01_a.ipynb", [("code", 'rep.narrative("5.6")')])
    b = chapter_nb(tmp_path / "02_b.ipynb", [("md", "### 5.6 产教融合新增一节")])
    assert check_notebooks([a, b], API) == []
    assert only(check_notebooks([a], API), "nb_unknown_section").value == "5.6"


def test_default_methods_are_the_report_api():
    methods = report_methods()
    assert {"chapter", "section"} <= methods and "_render_block" not in methods
    nb = Path(NOTEBOOKS[0])
    assert check_notebooks([nb], {"chapter"})  # rep.section is then unknown


# ---------------------------------------------------------------- validate and build


def bad_notebooks(tmp_path: Path) -> tuple[Path, int]:
    """The real notebooks plus one whose cell 2 names a misspelt figure on line 2."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    for nb in NOTEBOOKS:
        shutil.copy(nb, folder / nb.name)
    chapter_nb(
        folder / "09_extra.ipynb",
        [
            ("md", "## 附"),
            ("code", "x = 1"),
            ("code", 'rep.chapter("1")\nrep.figure("dual_structructure")'),
        ],
    )
    return folder, 2


def test_validate_with_notebooks_dir_names_id_file_cell_and_line(tmp_path, raw_copy):
    folder, cell = bad_notebooks(tmp_path)
    result = CliRunner().invoke(
        app, ["validate", "--data-dir", str(raw_copy), "--notebooks", str(folder)]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"09_extra.ipynb cells[{cell}]，第 2 行" in result.output
    assert "dual_structructure" in result.output and "dual_structure”" in result.output


def test_validate_names_a_spec_typo(monkeypatch, specs, raw_copy):
    edit(
        specs / "thresholds.yaml", "indicator: senior_title_share", "indicator: senior_titel_share"
    )
    monkeypatch.setattr(spec_check, "SPECS", specs)
    result = CliRunner().invoke(app, ["validate", "--data-dir", str(raw_copy)])
    assert result.exit_code == 2
    line = line_of(specs / "thresholds.yaml", "senior_titel_share")
    assert (
        f"thresholds.yaml，第 {line} 行" in result.output and "senior_titel_share" in result.output
    )


@pytest.mark.slow  # the workers start while the notebooks are checked
def test_build_refuses_before_any_chapter_runs(tmp_path, raw_copy):
    folder, cell = bad_notebooks(tmp_path)
    out = tmp_path / "out"
    before = {p for p in descendants(os.getpid()) if not process_gone(p)}
    result = CliRunner().invoke(
        app,
        ["build", "--data-dir", str(raw_copy), "--notebooks", str(folder), "--out", str(out)],
    )
    assert result.exit_code == 2, result.output
    assert f"09_extra.ipynb cells[{cell}]，第 2 行" in result.output
    assert "dual_structructure" in result.output and "构建未开始" in result.output
    assert not list(out.rglob("*.ipynb")) and not list(out.rglob("*.html"))

    # the workers (and their kernels) started meanwhile are gone; multiprocessing's
    # resource tracker lives as long as this process, by design
    def left() -> list[str]:
        cmds = []
        for p in descendants(os.getpid()) - before:
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{p}/cmdline").read_text().replace("\0", " ")
                if not process_gone(p) and "resource_tracker" not in cmd:
                    cmds.append(cmd)
        return cmds

    deadline = time.monotonic() + 20
    while left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left()


def test_build_names_a_file_that_is_not_a_notebook(tmp_path, raw_copy):
    """A chapter file that is not JSON stops build and validate with its name and line (no
    traceback), before any worker starts."""
    folder = tmp_path / "nbs"
    shutil.copytree(ROOT / "notebooks", folder)
    (folder / "03_culture.ipynb").write_text('{"cells": [\n', encoding="utf-8")
    common = ["--data-dir", str(raw_copy), "--notebooks", str(folder)]
    for args in (["build", *common, "--out", str(tmp_path / "out")], ["validate", *common]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert "03_culture.ipynb，第 2 行" in result.output, result.output
        assert "notebook_file" in result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.html"))


def test_build_refuses_a_spec_typo(monkeypatch, specs, tmp_path, raw_copy):
    from helpers.build.core import BuildError, build

    edit(specs / "appendix_tables.yaml", "      - ebooks_new", "      - ebook_new")
    monkeypatch.setattr(spec_check, "SPECS", specs)
    out = tmp_path / "out"
    with pytest.raises(BuildError) as exc:
        build(data_dir=raw_copy, out_dir=out)
    line = line_of(specs / "appendix_tables.yaml", "ebook_new")
    assert f"appendix_tables.yaml，第 {line} 行" in str(exc.value) and "ebooks_new" in str(
        exc.value
    )
    assert not out.exists() or not list(out.rglob("*.ipynb"))


def test_scanner_executes_nothing(tmp_path):
    nb = chapter_nb(
        tmp_path / "01_x.ipynb", [("code", 'raise SystemExit("ran")\nrep.chapter("1")')]
    )
    assert nbcheck.calls(nb)[0][0].method == "chapter"


def test_checker_and_numbering_read_the_notebook_through_one_scanner(tmp_path):
    """A magic line is blanked for both; a cell that does not parse is reported once and
    shows nothing to the numbering; the checker names the line the scanner found."""
    from helpers.report import notebooks

    nb = chapter_nb(
        tmp_path / "01_x.ipynb",
        [
            ("md", "### 1.1 节"),
            ("code", '%matplotlib inline\nrep.figure("dual_structure")\nrep.figure("nosuch")'),
            ("code", "rep.table(("),
        ],
    )
    scanned = notebooks.scan_notebook(nb)
    assert [(c.method, c.line, c.section) for c in scanned.calls] == [
        ("figure", 2, "1.1"),
        ("figure", 3, "1.1"),
    ]
    assert [(e.cell, e.line) for e in scanned.syntax_errors] == [(2, 1)]
    assert scanned.numbered == {"1.1"}
    found = check_notebooks([nb])
    unknown = only(found, "nb_unknown_figure")
    assert (unknown.value, unknown.row) == ("nosuch", scanned.calls[1].line)
    assert only(found, "nb_syntax").file.endswith("01_x.ipynb cells[2]")
    assert [c.block for c in nbcheck.calls(nb)[0]] == [c.block for c in scanned.calls]


def test_notebooks_that_passed_are_not_checked_again(tmp_path, monkeypatch):
    """A rebuild with the same notebooks and code does not check them (nor import the report
    layer) again; a changed notebook or code is checked, and a refusal is never remembered."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    path = folder / "09_extra.ipynb"
    chapter_nb(path, [("md", "## 附"), ("code", 'rep.chapter("1")')])
    nbs = [path]
    record = tmp_path / "out" / preflight.CHECKED
    calls: list[int] = []
    real = preflight.check_notebooks
    monkeypatch.setattr(preflight, "check_notebooks", lambda n: calls.append(1) or real(n))
    assert preflight.notebook_errors(nbs, record, "code-1") == ""
    assert preflight.notebook_errors(nbs, record, "code-1") == ""
    assert len(calls) == 1 and record.is_file()
    assert preflight.notebook_errors(nbs, record, "code-2") == "" and len(calls) == 2
    chapter_nb(
        path, [("md", "## 附"), ("code", 'rep.chapter("1")\nrep.figure("dual_structructure")')]
    )
    for attempt in (3, 4):  # checked, refused, and not remembered as passed
        assert "dual_structructure" in preflight.notebook_errors(nbs, record, "code-2")
        assert len(calls) == attempt
    assert preflight.notebook_errors(nbs, None, "") == preflight.notebook_errors(nbs, record, "")
