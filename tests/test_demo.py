"""Issue 14: synthetic schools (helpers.demo, ``nianbao demo-data``) validate, are the same
for the same seed, and vary the way a bureau's schools do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import paths
from helpers.cli import app
from helpers.demo import generate, parse_years
from helpers.demo.generate import MARKER
from helpers.indicators.audit import report_findings
from helpers.ingest.load import load_school_year
from tests.factories import raw_facts

runner = CliRunner()
YEARS = [2022, 2023, 2024]


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_generated_schools_pass_validation_and_the_audit_has_no_errors(tmp_path):
    raw = tmp_path / "raw"
    made = generate(raw, 8, YEARS, seed=11)
    assert [s.school_id for s in made] == paths.list_schools(raw)
    for s in made:
        assert paths.list_years(s.school_id, raw) == YEARS
        for y in YEARS:
            sy = load_school_year(s.school_id, y, raw)  # raises DataValidationError when invalid
            assert sy.school_name == s.name
            errors = [f.message for f in report_findings(sy) if f.severity == "error"]
            assert not errors, (s.school_id, y, errors)


def test_nianbao_validate_accepts_generated_schools(tmp_path):
    raw = tmp_path / "raw"
    generate(raw, 3, YEARS, seed=5)
    for y in YEARS:
        result = runner.invoke(app, ["validate", "--data-dir", str(raw), "--year", str(y)])
        assert result.exit_code == 0, result.output
        assert result.output.count("错误 0") == 3, result.output


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    a = files_of(generate(tmp_path / "a", 4, YEARS, seed=7)[0].folder.parent)
    b = files_of(generate(tmp_path / "b", 4, YEARS, seed=7)[0].folder.parent)
    c = files_of(generate(tmp_path / "c", 4, YEARS, seed=8)[0].folder.parent)
    assert a == b and len(a) > 30
    assert a != c


def test_generated_schools_vary(tmp_path):
    raw = tmp_path / "raw"
    made = generate(raw, 10, YEARS, seed=2)
    students = [raw_facts(raw, s.school_id, 2024)["students_full_time"] for s in made]
    assert all(300 <= n <= 6000 for n in students)
    assert len(set(students)) == len(students) and max(students) > 3 * min(students)
    teachers = [raw_facts(raw, s.school_id, 2024)["fulltime_teachers"] for s in made]
    assert len(set(teachers)) > 5
    # Chinese names, all different
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{6,}", s.name) for s in made)
    assert len({s.name for s in made}) == len(made)
    # a partial year: a handful of facts, no tables
    partial = [(s, y) for s in made for y in s.partial_years]
    assert partial
    s, y = partial[0]
    assert len(raw_facts(raw, s.school_id, y)) <= 5
    assert not list((raw / s.school_id / str(y)).glob("*.csv"))
    # tables missing in some school-years, present in others
    for table in ("awards.csv", "majors.csv"):
        present = [
            (s.school_id, y)
            for s in made
            for y in YEARS
            if (raw / s.school_id / str(y) / table).is_file()
        ]
        assert 0 < len(present) < len(made) * len(YEARS), table
    # a school missing key figures in the latest year (absent, not 0)
    lacking = [s for s in made if "books_print" not in raw_facts(raw, s.school_id, 2024)]
    assert lacking
    # an audit finding: a printed figure that differs from the recomputed one
    rules = {
        s.school_id: {f.rule for f in report_findings(load_school_year(s.school_id, 2024, raw))}
        for s in made
    }
    assert any("published_mismatch" in r for r in rules.values())
    assert "published_mismatch" in rules[made[0].school_id]


def test_demo_data_command_writes_replaces_and_refuses_foreign_folders(tmp_path):
    out = tmp_path / "demo"
    args = ["demo-data", "--schools", "2", "--years", "2023-2024", "--seed", "1", "--out", str(out)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "已生成 2 所学校" in first.output
    before = files_of(out)
    assert (out / "demo001" / MARKER).is_file() and "demo002/2024/facts.yaml" in before
    again = runner.invoke(app, args)  # a generated folder is replaced, identically
    assert again.exit_code == 0, again.output
    assert files_of(out) == before
    (out / "demo001" / MARKER).unlink()  # now it looks like someone's own data
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "不是生成的演示数据" in refused.output and "Traceback" not in refused.output


@pytest.mark.parametrize(
    ("text", "years"),
    [("2022-2024", [2022, 2023, 2024]), ("2024,2022", [2022, 2024]), ("2023", [2023])],
)
def test_parse_years(text, years):
    assert parse_years(text) == years


def test_parse_years_rejects_nonsense():
    with pytest.raises(ValueError, match="年度写法无效"):
        parse_years("二〇二四")
