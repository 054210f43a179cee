"""What the regional summary shows: its key indicators, the totals and the pooled ratios.

Ids are facts (specs/fields.yaml) or indicators (specs/indicators.yaml); the national
standards come from specs/thresholds.yaml (helpers.specs.registry), so a standard added there
appears in the summary's 达标 tables without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass

# key indicators, in the order of the distribution table, with a short column header
KEY_INDICATORS: dict[str, str] = {
    "students_full_time": "在校生",
    "fulltime_teachers": "专任教师",
    "student_teacher_ratio": "生师比",
    "dual_qualified_share": "“双师型”占比",
    "senior_title_share": "高级职称比例",
    "bachelor_plus_share": "本科及以上学历比例",
    "equipment_per_student": "生均仪器设备值",
    "books_per_student": "生均纸质图书",
    "land_area_per_student": "生均占地面积",
    "building_area_per_student": "生均校舍面积",
    "practice_stations_per_student": "生均实践工位",
    "employment_rate": "就业率",
    "further_study_rate": "升学率",
    "satisfaction_overall_pct": "在校生满意度",
    "funding_per_student": "生均财政拨款",
}
# short headers for the other ids the standards name
SHORT: dict[str, str] = {
    **KEY_INDICATORS,
    "dual_qualified_share_of_professional": "“双师型”占专业课教师",
    "equipment_value_yuan": "仪器设备总值",
    "land_area_m2": "占地面积",
    "building_area_m2": "校舍面积",
}
# counts summed over the schools that report them
TOTALS: tuple[str, ...] = (
    "students_full_time",
    "enrollment",
    "graduates",
    "employed_incl_further_study",
    "further_study",
    "staff_total",
    "fulltime_teachers",
    "dual_qualified_teachers",
    "teachers_senior_title",
    "equipment_value_yuan",
    "books_print",
    "fiscal_appropriation_yuan",
)
# the charts: groups of key indicators drawn side by side
CHART_GROUPS: dict[str, tuple[str, ...]] = {
    "办学规模": ("students_full_time", "fulltime_teachers"),
    "师资队伍": (
        "student_teacher_ratio",
        "dual_qualified_share",
        "senior_title_share",
        "bachelor_plus_share",
    ),
    "办学条件": (
        "equipment_per_student",
        "books_per_student",
        "land_area_per_student",
        "building_area_per_student",
        "practice_stations_per_student",
    ),
    "学生发展": ("employment_rate", "further_study_rate", "satisfaction_overall_pct"),
    "经费投入": ("funding_per_student",),
}


@dataclass(frozen=True)
class Pooled:
    """A regional figure from summed counts: sum(numerator) / sum(denominator) × factor, over
    the schools that report both (so a school missing one count is left out, not taken as 0)."""

    id: str  # the indicator of the same definition for one school
    numerator: str
    denominator: str
    factor: float = 1.0


POOLED: tuple[Pooled, ...] = (
    Pooled("student_teacher_ratio", "students_full_time", "fulltime_teachers"),
    Pooled("dual_qualified_share", "dual_qualified_teachers", "fulltime_teachers", 100.0),
    Pooled("senior_title_share", "teachers_senior_title", "fulltime_teachers", 100.0),
    Pooled("equipment_per_student", "equipment_value_yuan", "students_full_time"),
    Pooled("books_per_student", "books_print", "students_full_time"),
    Pooled("employment_rate", "employed_incl_further_study", "graduates", 100.0),
    Pooled("further_study_rate", "further_study", "graduates", 100.0),
)

OUTLIER_K = 1.5  # Tukey's fences: outside [Q1 − k·IQR, Q3 + k·IQR]
OUTLIER_MIN_SCHOOLS = 4  # fewer reporting schools give no meaningful quartiles


def ids() -> list[str]:
    """Every id the summary reads for a school: key indicators, totals, pooled inputs and the
    standards' indicators."""
    from helpers.specs.registry import registry

    out = list(KEY_INDICATORS) + list(TOTALS)
    out += [p.numerator for p in POOLED] + [p.denominator for p in POOLED]
    out += [s["indicator"] for s in registry().standards]
    return list(dict.fromkeys(out))
