"""Issue 2: every kind of bad input gets a clear message naming file, row, column, value, rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.errors import DataValidationError, SchoolNotFoundError
from helpers.load import load_school_year
from helpers.processed import process


def load_errors(raw: Path, year: int = 2024) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_school_year("huichang", year, data_dir=raw)
    return info.value


def only(err: DataValidationError, rule: str):
    found = [p for p in err.problems if p.rule == rule]
    assert found, f"no {rule} in {err}"
    return found[0]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_missing_file(raw_copy, year2024):
    (year2024 / "meta.yaml").unlink()
    p = only(load_errors(raw_copy), "missing_file")
    assert p.file.endswith("huichang/2024/meta.yaml")
    assert "缺少必需的文件 meta.yaml" in str(load_errors(raw_copy))


def test_missing_required_column(raw_copy, year2024):
    path = year2024 / "awards.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join(",".join(ln.split(",")[:3] + ln.split(",")[4:]) for ln in lines) + "\n",
        encoding="utf-8",
    )
    p = only(load_errors(raw_copy), "missing_column")
    assert (p.file.endswith("2024/awards.csv"), p.column, p.row) == (True, "count", 1)
    assert "缺少必需的列" in str(p)


def test_unknown_column_typo_suggests_name(raw_copy, year2024):
    edit(year2024 / "awards.csv", "competition,level,prize,count", "competition,level,prize,cuont")
    err = load_errors(raw_copy)
    p = only(err, "unknown_column")
    assert p.column == "cuont" and "'count'" in p.hint
    assert "awards.csv" in str(err) and "cuont" in str(err)


def test_unknown_fact_typo_suggests_name(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "fulltime_teachers:\n", "fulltime_teachrs:\n")
    p = only(load_errors(raw_copy), "unknown_field")
    assert p.column == "fulltime_teachrs" and "fulltime_teachers" in p.hint
    text = (year2024 / "facts.yaml").read_text(encoding="utf-8").splitlines()
    assert text[p.row - 1].startswith("fulltime_teachrs:")


def test_text_where_a_count_belongs_csv(raw_copy, year2024):
    edit(year2024 / "awards.csv", "一等奖,12,", "一等奖,十二,")
    p = only(load_errors(raw_copy), "not_a_number")
    assert (p.row, p.column, p.value) == (2, "count", "十二")
    assert "文字" in p.message


def test_text_where_a_count_belongs_yaml(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "graduates: {value: 1340,", "graduates: {value: 一千三百四十,")
    p = only(load_errors(raw_copy), "not_a_number")
    assert (p.column, p.value) == ("graduates", "一千三百四十")
    assert "facts.yaml" in p.file and p.row is not None


def test_decimal_where_a_count_belongs(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "graduates: {value: 1340,", "graduates: {value: 1340.5,")
    p = only(load_errors(raw_copy), "not_an_integer")
    assert p.value == 1340.5


def test_negative_count(raw_copy, year2024):
    edit(year2024 / "awards.csv", "二等奖,7,", "二等奖,-7,")
    p = only(load_errors(raw_copy), "not_negative")
    assert (p.row, p.column, p.value) == (3, "count", -7)
    edit(year2024 / "facts.yaml", "cloud_pcs: {value: 275,", "cloud_pcs: {value: -275,")
    assert any(
        q.column == "cloud_pcs" and q.rule == "not_negative" for q in load_errors(raw_copy).problems
    )


def test_percentage_above_100(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "{value: 93.73,", "{value: 103.73,")
    p = only(load_errors(raw_copy), "percent_range")
    assert (p.column, p.value) == ("satisfaction_overall_pct", 103.73)
    assert "0 到 100" in p.message


def test_parts_exceed_whole_students(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "students_male: {value: 1679,", "students_male: {value: 1779,")
    p = only(load_errors(raw_copy), "parts_equal")
    assert "1779" in p.value and "3188" in p.value and "3088" in p.value
    assert p.column == "students_male + students_female"


def test_parts_do_not_add_up_dual_qualified(raw_copy, year2024):
    edit(
        year2024 / "facts.yaml",
        "dual_qualified_senior: {value: 12,",
        "dual_qualified_senior: {value: 21,",
    )
    err = load_errors(raw_copy)
    p = only(err, "parts_equal")
    assert "dual_qualified_senior" in p.column and "114" in p.value and "105" in p.value


def test_duplicate_rows(raw_copy, year2024):
    append(year2024 / "awards.csv", "赣州市中等职业学校技能大赛,市级,一等奖,12,1.2.5,\n")
    p = only(load_errors(raw_copy), "duplicate_row")
    assert p.row == 5 and "第 2 行" in p.message


def test_duplicate_yaml_key(raw_copy, year2024):
    append(year2024 / "facts.yaml", "cloud_pcs: {value: 276, source: '6.5.3'}\n")
    p = only(load_errors(raw_copy), "duplicate_key")
    assert p.column == "cloud_pcs" and "第一次" in p.message


def test_gbk_csv_is_read_correctly_with_a_warning(raw_copy, year2024):
    path = year2024 / "awards.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.table("awards")["competition"].iloc[0] == "赣州市中等职业学校技能大赛"
    warning = [w for w in sy.warnings if w.rule == "encoding_gbk"]
    assert warning and "UTF-8" in warning[0].hint and warning[0].file.endswith("awards.csv")


def test_utf8_bom_csv_is_read(raw_copy, year2024):
    path = year2024 / "awards.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.table("awards").columns[0] == "competition"
    assert sy.warnings == []


def test_undecodable_file(raw_copy, year2024):
    (year2024 / "awards.csv").write_bytes(b"competition,level\n\xff\xfe\xfa\xfb\xfc,x\n")
    p = only(load_errors(raw_copy), "encoding")
    assert p.row == 2 and "CSV UTF-8" in p.hint


def test_empty_file(raw_copy, year2024):
    (year2024 / "awards.csv").write_text("", encoding="utf-8")
    p = only(load_errors(raw_copy), "empty_file")
    assert p.file.endswith("awards.csv") and "为空" in p.message


def test_year_folder_missing_lists_years(raw_copy):
    with pytest.raises(SchoolNotFoundError) as info:
        load_school_year("huichang", 2019, data_dir=raw_copy)
    assert "2019" in str(info.value) and "2021, 2022, 2023, 2024" in str(info.value)


def test_unknown_school_lists_schools(raw_copy):
    with pytest.raises(SchoolNotFoundError) as info:
        load_school_year("nosuch", 2024, data_dir=raw_copy)
    assert "huichang" in str(info.value)


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "Huichang", "x y", "", "/etc", 7])
def test_school_id_with_path_characters_rejected_before_file_access(bad, monkeypatch, tmp_path):
    touched = []
    for name in ("exists", "is_dir", "iterdir", "read_bytes"):
        original = getattr(Path, name)
        monkeypatch.setattr(
            Path, name, lambda self, *a, _o=original, **k: touched.append(self) or _o(self, *a, **k)
        )
    with pytest.raises(ValueError, match="学校编号"):
        load_school_year(bad, 2024, data_dir=tmp_path)
    assert touched == []


def test_numeric_looking_school_id_stays_a_string(raw_copy):
    (raw_copy / "huichang").rename(raw_copy / "007")
    sy = load_school_year("007", 2024, data_dir=raw_copy)
    assert sy.school_id == "007" and isinstance(sy.school_id, str)


def test_ambiguous_fact_asks_for_use_flag(raw_copy, year2024):
    edit(
        year2024 / "facts.yaml",
        "    period: 2023-2024学年\n    note: 与男女生",
        "    note: 与男女生",
    )
    p = only(load_errors(raw_copy), "ambiguous_fact")
    assert p.column == "students_full_time" and "use: true" in p.hint
    assert "3527" in p.message and "3088" in p.message


def test_unknown_file_in_year_folder(raw_copy, year2024):
    (year2024 / "awards.csv").rename(year2024 / "award.csv")
    p = only(load_errors(raw_copy), "unknown_file")
    assert "awards.csv" in p.hint


def test_all_problems_reported_at_once(raw_copy, year2024):
    edit(year2024 / "awards.csv", "一等奖,12,", "一等奖,十二,")
    edit(year2024 / "awards.csv", "三等奖,21,", "三等奖,-21,")
    edit(year2024 / "facts.yaml", "{value: 93.73,", "{value: 193.73,")
    err = load_errors(raw_copy)
    assert {"not_a_number", "not_negative", "percent_range"} <= {p.rule for p in err.problems}
    text = str(err)
    assert re.search(r"awards\.csv，第 2 行，列 count，值 '十二'", text)
    assert "共 3 个错误" in text


def test_failed_validation_writes_nothing(raw_copy, year2024, tmp_path):
    out = tmp_path / "processed"
    process("huichang", 2024, data_dir=raw_copy, out_dir=out)
    before = {p.name: p.read_bytes() for p in (out / "huichang" / "2024").iterdir()}
    edit(year2024 / "awards.csv", "一等奖,12,", "一等奖,十二,")
    with pytest.raises(DataValidationError):
        process("huichang", 2024, data_dir=raw_copy, out_dir=out)
    after = {p.name: p.read_bytes() for p in (out / "huichang" / "2024").iterdir()}
    assert after == before
    with pytest.raises(DataValidationError):
        process("huichang", 2024, data_dir=raw_copy, out_dir=tmp_path / "fresh")
    assert not (tmp_path / "fresh" / "huichang" / "2024").exists()


def test_warnings_do_not_stop_processing(raw_copy, year2024, tmp_path):
    path = year2024 / "awards.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    out = process("huichang", 2024, data_dir=raw_copy, out_dir=tmp_path)
    assert (out / "awards.parquet").exists()
