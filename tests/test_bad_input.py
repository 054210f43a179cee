"""Issue 2: every kind of bad input gets a clear message naming file, row, column, value, rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.errors import DataValidationError, SchoolNotFoundError
from helpers.indicators.processed import process
from helpers.ingest.load import load_school_year
from tests.factories import append, edit, load_errors, only


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
    edit(raw_copy / "007" / "school.yaml", "school_id: huichang", 'school_id: "007"')
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
    folder = out / "huichang" / "2024"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert folder / "earlier" / "2023" / "awards.parquet" in before
    edit(year2024 / "awards.csv", "一等奖,12,", "一等奖,十二,")
    with pytest.raises(DataValidationError):
        process("huichang", 2024, data_dir=raw_copy, out_dir=out)
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    with pytest.raises(DataValidationError):
        process("huichang", 2024, data_dir=raw_copy, out_dir=tmp_path / "fresh")
    assert not (tmp_path / "fresh" / "huichang" / "2024").exists()


def test_warnings_do_not_stop_processing(raw_copy, year2024, tmp_path):
    path = year2024 / "awards.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    out = process("huichang", 2024, data_dir=raw_copy, out_dir=tmp_path)
    assert (out / "awards.parquet").exists()


# --------------------------------------------------------------------------- issue 10: ingest
# Finding 5: non-finite input is a validation error (file, row, field, value), never a crash.


def errors_of(err: DataValidationError):
    return [p for p in err.problems if p.severity == "error"]


def line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, 1) if ln.startswith(start))


@pytest.mark.parametrize(
    "cell, rule",
    [
        ("nan", "non_finite"),
        ("NaN", "non_finite"),
        ("inf", "non_finite"),
        ("-inf", "non_finite"),
        (".nan", "non_finite"),
        (".inf", "non_finite"),
        ('""', "empty_value"),
        ("", "empty_value"),
    ],
)
def test_non_finite_csv_count_is_one_error(raw_copy, year2024, cell, rule):
    edit(year2024 / "awards.csv", "一等奖,12,", f"一等奖,{cell},")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.row, p.column) == (rule, 2, "count")
    assert p.file.endswith("huichang/2024/awards.csv")
    if rule == "non_finite":
        assert p.value == cell and "nan 或 inf" in p.message and f"值 {cell!r}" in str(p)
    else:
        assert p.value is None and "数值为空" in p.message and "不记 0" in p.hint


@pytest.mark.parametrize(
    "raw, rule, shown",
    [
        (".nan", "non_finite", "nan"),
        (".NaN", "non_finite", "nan"),
        (".inf", "non_finite", "inf"),
        ("-.inf", "non_finite", "-inf"),
        ("nan", "non_finite", "'nan'"),
        ("NaN", "non_finite", "'NaN'"),
        ("inf", "non_finite", "'inf'"),
        ('""', "empty_value", "''"),
        ("null", "empty_value", None),
    ],
)
def test_non_finite_fact_is_one_error(raw_copy, year2024, raw, rule, shown):
    facts = year2024 / "facts.yaml"
    edit(facts, "graduates: {value: 1340,", f"graduates: {{value: {raw},")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.column, p.row) == (rule, "graduates", line_of(facts, "graduates:"))
    assert p.file.endswith("huichang/2024/facts.yaml")
    assert ("nan 或 inf" if rule == "non_finite" else "数值为空") in p.message
    if shown is not None:
        assert f"值 {shown}" in str(p)


def test_nan_land_area_is_rejected_before_the_audit(raw_copy, year2024, monkeypatch):
    import helpers.indicators.audit

    monkeypatch.setattr(
        helpers.indicators.audit, "audit", lambda sy: pytest.fail("audit saw the data")
    )
    facts = year2024 / "facts.yaml"
    edit(facts, "land_area_m2: {value: 154800,", "land_area_m2: {value: .nan,")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.column, p.row) == ("non_finite", "land_area_m2", line_of(facts, "land_area"))


def test_decimals_for_a_non_finite_value_does_not_crash():
    from helpers.fmt import decimals_for

    assert [decimals_for(v) for v in (float("nan"), float("inf"), 25901641.9)] == [0, 0, 1]


# Finding 6: an empty table is "none reported", the same as an absent one, never 0.

AWARDS_HEADER = "competition,level,prize,count,source,note\n"


def visible_text(html: str) -> str:
    html = re.sub(r'(title|data-derivation|src|alt)="[^"]*"', "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def awards_values(sy) -> dict[str, float | None]:
    from helpers.indicators.evaluate import get

    ids = ("awards_national", "awards_provincial", "awards_city", "awards_total")
    return {i: get(sy, i).value for i in ids}


def test_header_only_awards_is_none_reported_not_zero(raw_copy, year2024):
    from helpers.report.api import open_report

    (year2024 / "awards.csv").write_text(AWARDS_HEADER, encoding="utf-8")
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    (w,) = sy.warnings
    assert (w.rule, w.severity) == ("empty_table", "warning")
    assert w.file.endswith("huichang/2024/awards.csv") and "只有表头" in w.message
    assert "不记为 0" in w.message
    assert sy.table("awards") is None
    assert set(awards_values(sy).values()) == {None}
    rep = open_report("huichang", 2024, raw_copy)
    text = visible_text("".join(rep.section(n).html for n in ("1.2.5", "A")))
    assert not re.search(r"获奖[^。；]{0,20}\b0 项", text)
    assert "技能大赛获奖总数：未填报" in text  # was "技能大赛获奖总数 0 项"
    # 附表1: 2023 | 2024 columns; the 2024 city-level awards are not reported
    assert re.search(r"市级技能大赛获奖数 项 未填报 (\S+)", text).group(1) == "未填报"
    assert "2024 年度未填报技能大赛获奖数据" in text


def test_header_only_equals_absent_and_differs_from_zeros(raw_copy, year2024):
    awards = year2024 / "awards.csv"
    awards.write_text(AWARDS_HEADER, encoding="utf-8")
    header_only = awards_values(load_school_year("huichang", 2024, data_dir=raw_copy))
    awards.unlink()
    absent = awards_values(load_school_year("huichang", 2024, data_dir=raw_copy))
    assert header_only == absent == dict.fromkeys(absent)
    awards.write_text(AWARDS_HEADER + "赣州市中等职业学校技能大赛,市级,一等奖,0,1.2.5,\n", "utf-8")
    zeros = awards_values(load_school_year("huichang", 2024, data_dir=raw_copy))
    assert zeros == {
        "awards_national": None,
        "awards_provincial": None,
        "awards_city": 0.0,
        "awards_total": 0.0,
    }


def test_deleted_awards_report_says_the_year_has_no_awards_data(raw_copy, year2024):
    from helpers.report.api import open_report

    (year2024 / "awards.csv").unlink()
    html = open_report("huichang", 2024, raw_copy).section("1.2.5").html
    text = visible_text(html)
    summary = re.search(r"学生参加技能大赛获奖情况：.*?未填报技能大赛获奖数据。", text).group(0)
    assert "2023 年，" in summary and "2024 年，" not in summary
    assert summary.endswith("2024 年度未填报技能大赛获奖数据。")
    # the chart shows 2023 only, and its note says why 2024 is not there
    caption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S).group(1)
    assert "2023 年技能大赛获奖情况" in caption
    note = visible_text(html.split("</figcaption>", 1)[1])
    assert "2024 年度未填报技能大赛获奖数据" in note


def test_year_with_awards_has_no_missing_note(raw_copy):
    from helpers.report.api import open_report

    text = visible_text(open_report("huichang", 2024, raw_copy).section("1.2.5").html)
    assert "未填报技能大赛获奖数据" not in text
    assert "2024 年，赣州市中等职业学校技能大赛（市级）获奖 40 项" in text


# Finding 7: Excel habits are normalised with a note, or rejected naming the habit.


def notes(sy, rule: str = "number_format"):
    return [w for w in sy.warnings if w.rule == rule]


@pytest.mark.parametrize(
    "new",
    [
        "students_male: {value: 1,679,",
        'students_male: {value: "1,679",',
        "students_male: {value: '1,679',",
        "students_male: {value: 1，679,",
    ],
)
def test_thousands_separator_in_yaml_is_read_with_a_note(raw_copy, year2024, new):
    facts = year2024 / "facts.yaml"
    edit(facts, "students_male: {value: 1679,", new)
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.value("students_male") == 1679
    (n,) = notes(sy)
    assert (n.column, n.row, n.severity) == (
        "students_male",
        line_of(facts, "students_male"),
        "warning",
    )
    assert "千位分隔符" in n.message and "读作 1679" in n.message and n.hint == "请写作 1679"
    assert not [w for w in sy.warnings if w is not n]


def test_thousands_separator_in_block_yaml_is_read_with_a_note(raw_copy, year2024):
    facts = year2024 / "facts.yaml"
    edit(
        facts,
        'students_male: {value: 1679, source: "1.1.2", period: 2023-2024学年}',
        'students_male:\n  value: 1,679\n  source: "1.1.2"\n  period: 2023-2024学年',
    )
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    (n,) = notes(sy)
    assert sy.value("students_male") == 1679 and "千位分隔符" in n.message
    assert n.row == line_of(facts, "  value: 1,679")


@pytest.mark.parametrize("typed", ["1,67", "1, 679", "16,79"])
def test_comma_that_is_not_a_thousands_separator_is_one_error(raw_copy, year2024, typed):
    edit(
        year2024 / "facts.yaml", "students_male: {value: 1679,", f"students_male: {{value: {typed},"
    )
    (p,) = errors_of(load_errors(raw_copy))  # no unknown key, no part-whole error
    assert (p.rule, p.column, p.value) == ("thousands_separator", "students_male", typed)
    assert "千位分隔符" in p.message and "1679" in p.hint


def test_full_width_digits_in_a_csv_count_are_read_with_a_note(raw_copy, year2024):
    edit(year2024 / "awards.csv", "一等奖,12,", "一等奖,１２,")
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.table("awards").loc[2, "count"] == 12
    (n,) = notes(sy)
    assert (n.file.endswith("awards.csv"), n.row, n.column, n.value) == (True, 2, "count", "１２")
    assert "全角数字" in n.message and "读作 12" in n.message


def test_full_width_decimal_and_minus_in_yaml(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "{value: 93.73,", "{value: ９３．７３,")
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.value("satisfaction_overall_pct") == 93.73 and "全角" in notes(sy)[0].message
    edit(year2024 / "facts.yaml", "cloud_pcs: {value: 275,", "cloud_pcs: {value: －275,")
    p = only(load_errors(raw_copy), "not_negative")
    assert p.column == "cloud_pcs"


def test_percent_sign_in_a_percent_field(raw_copy, year2024):
    edit(year2024 / "published.csv", "dual_qualified_share,51.72,", "dual_qualified_share,51.72%,")
    edit(year2024 / "facts.yaml", "{value: 93.73,", "{value: 93.73%,")
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    row = sy.published.loc[3]
    assert (row["indicator"], row["value"], row["decimals"]) == ("dual_qualified_share", 51.72, 2)
    assert sy.value("satisfaction_overall_pct") == 93.73
    yaml_note, csv_note = sorted(notes(sy), key=lambda n: n.file)  # facts.yaml, published.csv
    assert (csv_note.row, csv_note.column, csv_note.value) == (3, "value", "51.72%")
    assert (yaml_note.column, yaml_note.value) == ("satisfaction_overall_pct", "93.73%")
    assert all("百分号" in n.message for n in (csv_note, yaml_note))


def test_percent_sign_outside_a_percent_field_is_rejected(raw_copy, year2024):
    edit(
        year2024 / "published.csv", "student_teacher_ratio,15.44,", "student_teacher_ratio,15.44%,"
    )
    edit(year2024 / "facts.yaml", "cloud_pcs: {value: 275,", "cloud_pcs: {value: 275%,")
    found = {(p.file.rsplit("/", 1)[1], p.column): p for p in errors_of(load_errors(raw_copy))}
    assert set(found) == {("published.csv", "value"), ("facts.yaml", "cloud_pcs")}
    assert {p.rule for p in found.values()} == {"percent_sign"}
    assert found["published.csv", "value"].row == 2
    assert all("% 号" in p.message for p in found.values())


def test_surrounding_spaces_are_trimmed_with_an_info_note(raw_copy, year2024):
    edit(year2024 / "awards.csv", "一等奖,12,", "一等奖, 12 ,")
    edit(year2024 / "facts.yaml", "cloud_pcs: {value: 275,", 'cloud_pcs: {value: " 275 ",')
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.table("awards").loc[2, "count"] == 12 and sy.value("cloud_pcs") == 275
    by_file = {w.file.rsplit("/", 1)[1]: w for w in sy.warnings}
    assert set(by_file) == {"awards.csv", "facts.yaml"}
    assert {w.severity for w in by_file.values()} == {"info"}
    assert (by_file["awards.csv"].row, by_file["awards.csv"].column) == (2, "count")
    assert "空格" in by_file["awards.csv"].message and "首尾空格" in by_file["facts.yaml"].message


@pytest.mark.parametrize(
    "cell, rule, habit",
    [("1.2E+01", "scientific_notation", "科学计数法"), ("#DIV/0!", "excel_error", "Excel")],
)
def test_excel_display_values_are_rejected_naming_the_habit(raw_copy, year2024, cell, rule, habit):
    edit(year2024 / "awards.csv", "一等奖,12,", f"一等奖,{cell},")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.row, p.column, p.value) == (rule, 2, "count", cell)
    assert habit in p.message


def test_all_empty_rows_are_ignored_and_lines_stay_right(raw_copy, year2024):
    path = year2024 / "awards.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([*lines[:2], ",,,,,", *lines[2:], ",,,,,", " , ,,,,"]) + "\n", "utf-8"
    )
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.warnings == [] and list(sy.table("awards").index) == [2, 4, 5]
    assert sy.table("awards")["count"].sum() == 40
    edit(path, "三等奖,21,", "三等奖,二十一,")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.row, p.value) == ("not_a_number", 5, "二十一")


def test_trailing_empty_columns_are_ignored(raw_copy, year2024):
    path = year2024 / "awards.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(ln + ",," for ln in lines) + "\n", encoding="utf-8")
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.warnings == []
    assert list(sy.table("awards").columns) == lines[0].split(",")
    assert sy.table("awards")["count"].sum() == 40


def test_data_in_a_column_without_header_is_reported(raw_copy, year2024):
    path = year2024 / "awards.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",", lines[1] + ",", lines[2] + ",多余", *(ln + "," for ln in lines[3:])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.row, p.column, p.value) == ("unnamed_column", 3, "第 7 列", "多余")
    assert "Unnamed" not in str(p)


def test_rows_wider_than_the_header(raw_copy, year2024):
    path = year2024 / "awards.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # trailing commas on data rows only: read as they are, not shifted one column
    path.write_text("\n".join([lines[0], *(ln + "," for ln in lines[1:])]) + "\n", "utf-8")
    sy = load_school_year("huichang", 2024, data_dir=raw_copy)
    assert sy.table("awards").loc[2, "competition"] == "赣州市中等职业学校技能大赛"
    assert sy.warnings == []
    edit(path, "一等奖,12,1.2.5,,", "一等奖,12,1.2.5,,x")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.row, p.value) == ("csv_format", 2, "x") and "多于表头" in p.message


def test_one_bad_student_count_gives_one_error(raw_copy, year2024):
    facts = year2024 / "facts.yaml"
    edit(facts, "  - value: 3088\n", "  - value: 3O88\n")
    (p,) = errors_of(load_errors(raw_copy))  # not also two sums against the other count 3527
    assert (p.rule, p.column, p.value) == ("not_a_number", "students_full_time", "3O88")
    assert p.row == line_of(facts, "  - value: 3O88")


def test_bad_part_gives_one_error(raw_copy, year2024):
    edit(year2024 / "facts.yaml", "students_male: {value: 1679,", "students_male: {value: 1,679.5,")
    (p,) = errors_of(load_errors(raw_copy))
    assert (p.rule, p.column, p.value) == ("not_an_integer", "students_male", "1,679.5")


def test_good_values_still_get_their_part_whole_check(raw_copy, year2024):
    # the skip is per rule: a bad value elsewhere does not silence an unrelated sum
    edit(year2024 / "facts.yaml", "students_male: {value: 1679,", "students_male: {value: 1779,")
    edit(year2024 / "facts.yaml", "graduates: {value: 1340,", "graduates: {value: .nan,")
    rules = sorted(p.rule for p in errors_of(load_errors(raw_copy)))
    assert rules == ["non_finite", "parts_equal"]
