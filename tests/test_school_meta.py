"""Issue 11: school.yaml and meta.yaml have schemas, are documented, and are validated: a
missing name, a school_id that is not the folder, an undefined default_document, an unknown
key, a wrong year all stop `nianbao validate` (exit 2) naming file, line, key and value."""

from __future__ import annotations

import re

import pytest
import yaml
from typer.testing import CliRunner

from helpers.cli import app
from helpers.ingest.meta import MetaFile, SchoolFile, schema_keys
from helpers.specs.dictionary import load_dictionary
from tests.factories import BUNDLED, RAW, edit, load_errors, only


def validate(raw, school: str = BUNDLED) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["validate", "--data-dir", str(raw), "--school", school, "--year", "2024"]
    )
    assert "Traceback" not in result.output
    return result.exit_code, re.sub(r"\s+", "", result.output)  # rich wraps long lines


def line_of(path, text: str) -> int:
    return next(
        i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in ln
    )


def test_bundled_files_pass_the_schemas():
    SchoolFile.model_validate(yaml.safe_load((RAW / BUNDLED / "school.yaml").read_text("utf-8")))
    for meta in sorted((RAW / BUNDLED).glob("*/meta.yaml")):
        MetaFile.model_validate(yaml.safe_load(meta.read_text("utf-8")))


def test_dictionary_documents_exactly_the_schema_keys():
    files = load_dictionary().files
    assert list(files["school.yaml"].keys) == schema_keys(SchoolFile)
    assert list(files["meta.yaml"].keys) == schema_keys(MetaFile)
    assert "documents.<id>.title" in files["school.yaml"].keys
    for model, name in ((SchoolFile, "school.yaml"), (MetaFile, "meta.yaml")):
        for key, info in model.model_fields.items():
            assert files[name].keys[key].required == info.is_required(), (name, key)


def test_missing_name(raw_copy):
    path = raw_copy / BUNDLED / "school.yaml"
    edit(path, "name: 会昌中等专业学校\n", "")
    p = only(load_errors(raw_copy), "missing_key")
    assert p.file.endswith("huichang/school.yaml") and p.column == "name"
    assert "缺少必填的键 name" in str(p)
    code, out = validate(raw_copy)
    assert code == 2 and "huichang/school.yaml，列name：缺少必填的键name" in out


def test_school_id_that_is_not_the_folder(raw_copy):
    path = raw_copy / BUNDLED / "school.yaml"
    edit(path, "school_id: huichang", "school_id: huichan")
    p = only(load_errors(raw_copy), "school_id_mismatch")
    assert (p.row, p.column, p.value) == (line_of(path, "school_id:"), "school_id", "huichan")
    code, out = validate(raw_copy)
    assert code == 2 and "school.yaml，第2行，列school_id，值'huichan'" in out


def test_school_id_may_be_left_out(raw_copy):
    edit(raw_copy / BUNDLED / "school.yaml", "school_id: huichang\n", "")
    assert validate(raw_copy)[0] == 0


def test_default_document_not_defined(raw_copy, year2024):
    edit(year2024 / "meta.yaml", "default_document: r2024", "default_document: r2042")
    p = only(load_errors(raw_copy), "unknown_document")
    assert (p.row, p.column, p.value) == (4, "default_document", "r2042")
    assert "是否应为 'r2024'" in str(p)
    code, out = validate(raw_copy)
    assert code == 2 and "meta.yaml，第4行，列default_document，值'r2042'" in out


def test_unknown_keys_with_did_you_mean(raw_copy, year2024):
    school = raw_copy / BUNDLED / "school.yaml"
    edit(school, "campuses:", "campus:")
    edit(school, "    title: 会昌", "    titel: 会昌")
    edit(year2024 / "meta.yaml", "school_year:", "schoolyear:")
    err = load_errors(raw_copy)
    unknown = {p.column: p for p in err.problems if p.rule == "unknown_key"}
    assert set(unknown) == {"campus", "documents.r2024.titel", "schoolyear"}
    assert unknown["campus"].row == line_of(school, "campus:")
    assert "是否应为 'campuses'" in str(unknown["campus"])
    assert "是否应为 'title'" in str(unknown["documents.r2024.titel"])
    assert unknown["schoolyear"].value == "2023-2024学年"
    # the renamed required keys are reported missing, at the mapping that lacks them
    missing = {p.column: p.row for p in err.problems if p.rule == "missing_key"}
    assert missing == {"documents.r2024.title": line_of(school, "  r2024:"), "school_year": None}
    code, out = validate(raw_copy)
    assert code == 2 and "列campus，值['会昌县城校区','会昌珠兰示范学校校区']" in out


@pytest.mark.parametrize(
    ("old", "new", "rule", "column", "value"),
    [
        ("year: 2024", "year: 2023", "year_mismatch", "year", 2023),
        ("year: 2024", 'year: "2024"', "bad_value", "year", "2024"),
        (
            "school_year: 2023-2024学年",
            "school_year: 2022-2023学年",
            "school_year_mismatch",
            "school_year",
            "2022-2023学年",
        ),
        (
            "school_year: 2023-2024学年",
            "school_year: 2023/24",
            "bad_value",
            "school_year",
            "2023/24",
        ),
    ],
)
def test_wrong_year(raw_copy, year2024, old, new, rule, column, value):
    edit(year2024 / "meta.yaml", old, new)
    err = load_errors(raw_copy)
    p = only(err, rule)
    assert (p.column, p.value) == (column, value)
    assert p.row == line_of(year2024 / "meta.yaml", new)
    # one bad value, one error about that key
    assert [q.rule for q in err.problems if q.column == column] == [rule]
    code, out = validate(raw_copy)
    assert code == 2 and f"meta.yaml，第{p.row}行，列{column}" in out and f"[规则{rule}]" in out


def test_wrong_types_in_school_yaml(raw_copy):
    path = raw_copy / BUNDLED / "school.yaml"
    edit(path, "founded: 1985", "founded: 一九八五")
    edit(path, "  - 会昌县城校区", "  - {名称: 会昌县城校区}")
    err = load_errors(raw_copy)
    bad = {p.column: p for p in err.problems if p.rule == "bad_value"}
    assert set(bad) == {"founded", "campuses[0]"}
    assert "应为整数" in str(bad["founded"]) and bad["founded"].row == line_of(path, "founded:")
    assert "应为文字" in str(bad["campuses[0]"])


def test_a_file_that_is_not_a_mapping(raw_copy, year2024):
    (year2024 / "meta.yaml").write_text("- 2024\n", encoding="utf-8")
    p = only(load_errors(raw_copy), "not_mapping")
    assert p.file.endswith("2024/meta.yaml")
