"""Issue 3: the audit finds the seed's inconsistencies, each with provenance."""

from __future__ import annotations

import pytest

from helpers.audit import audit, findings_frame
from helpers.load import load_school_year
from tests.test_properties import make_sy


@pytest.fixture(scope="module")
def findings_2024():
    return audit(load_school_year("huichang", 2024))


@pytest.fixture(scope="module")
def findings_2023():
    return audit(load_school_year("huichang", 2023))


def by_rule(findings, rule):
    return [f for f in findings if f.rule == rule]


def test_student_count_conflict_pinned(findings_2024):
    f = next(
        f
        for f in by_rule(findings_2024, "conflicting_fact")
        if f.facts[0].name == "students_full_time"
    )
    assert f.severity == "warning"
    assert "3527（§1.1.1）" in f.message and "3088（§1.1.2" in f.message
    assert "报告统一采用 3088" in f.message
    # the rejected value is shown not to match its parts
    assert "1679 + 女生人数 1409 = 3088 ≠ 全日制在校生数 3527" in f.message
    assert [r.provenance.split("（")[0] for r in f.facts] == ["r2024 §1.1.1", "r2024 §1.1.2"]


def test_2023_primary_sector_rounding_slip_pinned(findings_2023):
    f = next(f for f in by_rule(findings_2023, "published_mismatch") if "第一产业" in f.message)
    assert "印为 13.67" in f.message and "复算为 13.64%" in f.message
    refs = {r.name: r for r in f.facts}
    assert refs["employed_primary"].value == "60 人"
    assert "published.csv 第 3 行" in refs["sector_share_primary"].provenance


def test_2023_shares_do_not_sum_to_100(findings_2023):
    (f,) = by_rule(findings_2023, "shares_sum")
    assert "100.04%" in f.message


def test_other_seed_inconsistencies_found_without_being_told(findings_2024):
    mismatched = {f.facts[0].name for f in by_rule(findings_2024, "published_mismatch")}
    assert {
        "student_teacher_ratio",
        "equipment_per_student",
        "books_per_student",
        "funding_excl_tuition_waiver",
    } <= mismatched
    conflicts = {f.facts[0].name for f in by_rule(findings_2024, "conflicting_fact")}
    assert conflicts == {"students_full_time", "articulation_colleges", "articulation_majors"}
    (den,) = by_rule(findings_2024, "implied_denominators")
    assert "约 3134 人" in den.message  # 1:15.44 × 203
    assert "约 3527 人" in den.message  # 4195.2 万 / 11894.66
    assert "约 3567 人" in den.message  # 713.475 万 / 2000
    assert "与 §1.1.2 的 3088 人一致" in den.message  # 生均拨款 6077.4
    assert any("专任教师占教职工比例" in f.message for f in by_rule(findings_2024, "implausible"))


def test_consistent_published_figures_raise_nothing(findings_2024):
    text = " ".join(f.message for f in by_rule(findings_2024, "published_mismatch"))
    for ok in (
        "“双师型”教师占专任教师比例",
        "就业率",
        "升学率",
        "财政拨款增幅",
        "生均财政拨款（不含",
    ):
        assert ok not in text


def test_reported_only_figures_are_info(findings_2024):
    info = by_rule(findings_2024, "not_recomputable")
    assert {f.facts[0].name for f in info} == {"practice_stations_per_student", "retention_rate"}
    assert all(f.severity == "info" for f in info)


def test_yoy_jump_uses_configurable_bound():
    sy = load_school_year("huichang", 2024)
    names = {f.facts[0].name for f in audit(sy) if f.rule == "yoy_jump"}
    assert "satisfaction_overall_pct" in names and "employment_rate" not in names
    tight = {f.facts[0].name for f in audit(sy, yoy_points=2) if f.rule == "yoy_jump"}
    assert "employment_rate" in tight  # +2.49 points
    loose = {f.facts[0].name for f in audit(sy, yoy_points=50, yoy_percent=500)}
    assert "satisfaction_overall_pct" not in loose


def test_fixing_the_data_clears_the_finding(raw_copy):
    pub = raw_copy / "huichang" / "2023" / "published.csv"
    pub.write_text(
        pub.read_text(encoding="utf-8").replace("13.67,13.67", "13.64,13.64"), encoding="utf-8"
    )
    findings = audit(load_school_year("huichang", 2023, data_dir=raw_copy))
    assert not by_rule(findings, "published_mismatch") and not by_rule(findings, "shares_sum")


def test_impossible_value_is_an_error():
    sy = make_sy({"graduates": 100, "employed_incl_further_study": 120})  # not validated
    errors = [f for f in audit(sy) if f.severity == "error"]
    assert errors and errors[0].rule == "out_of_bounds" and "就业率" in errors[0].message


def test_findings_frame_is_readable(findings_2024):
    df = findings_frame(findings_2024)
    assert list(df.columns) == ["severity", "rule", "year", "message", "facts"]
    assert (df["facts"].str.len() > 0).all()
    assert df["severity"].iloc[0] in {"error", "warning"}
