"""The school workbook's layout as data: sheet names and columns, derived from the data
dictionary, so that export and import read one description and never disagree.

Sheets: 基本信息 (meta.yaml and the school's name), 基础数据 (one row per observation of a
fact), one sheet per table of fields.yaml (its Chinese label as the sheet name) and 填报说明.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.specs.dictionary import Dictionary, FieldSpec, TableSpec, load_dictionary

META_SHEET = "基本信息"
FACTS_SHEET = "基础数据"
GUIDE_SHEET = "填报说明"
SCHOOL_NAME_KEY = "school_name"  # 基本信息's row for school.yaml's name


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header, the key it fills and whether staff edit it."""

    key: str
    header: str
    width: float
    editable: bool = True
    hidden: bool = False


# 基础数据: one row per observation; value in E, reference (last year) in F
FACT_COLUMNS: tuple[Column, ...] = (
    Column("field", "字段编号", 12, editable=False, hidden=True),
    Column("label", "中文名称", 30, editable=False),
    Column("unit", "单位", 8, editable=False),
    Column("ref", "统计口径", 10, editable=False),
    Column("value", "本年数值", 14),
    Column("previous", "上年数值（参考）", 14, editable=False),
    Column("source", "来源章节", 12),
    Column("period", "统计时段", 16),
    Column("qualifier", "限定", 8),
    Column("use", "采用", 8),
    Column("note", "备注", 40),
    Column("doc", "来源文件", 10),
)
# 基本信息: one row per key
META_COLUMNS: tuple[Column, ...] = (
    Column("key", "键", 10, editable=False, hidden=True),
    Column("label", "项目", 16, editable=False),
    Column("value", "填写值", 30),
    Column("description", "说明", 70, editable=False),
)
USE_CHOICES = ("是", "否")
# spare rows at the end of 基础数据 for a second statement of a fact
SPARE_FACT_ROWS = 20
# table rows offered for filling beyond those already filed
SPARE_TABLE_ROWS = 100


def fact_column(key: str) -> Column:
    return next(c for c in FACT_COLUMNS if c.key == key)


def letter(columns: tuple[Column, ...], key: str) -> str:
    """The Excel column letter of a key (A, B, …)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter([c.key for c in columns].index(key) + 1)


def meta_rows(d: Dictionary | None = None) -> list[tuple[str, str, str, bool]]:
    """(key, label, description, editable) of 基本信息, in order: school id and name, then
    every key of meta.yaml (year is fixed by the command line)."""
    d = d or load_dictionary()
    rows = [
        ("school_id", "学校编号", "学校在 nianbao 中的编号（由命令行指定，不可修改）。", False),
        (
            SCHOOL_NAME_KEY,
            "学校名称",
            "学校全称，印在报告标题上。新学校必填；已有学校以 school.yaml 为准。",
            True,
        ),
    ]
    spec = d.files.get("meta.yaml")
    for key in spec.keys.values() if spec else ():
        rows.append((key.name, key.label, key.description, key.name != "year"))
    return rows


def table_sheets(d: Dictionary | None = None) -> dict[str, TableSpec]:
    """Sheet name → table, in the data dictionary's order (sheet names ≤ 31 characters)."""
    d = d or load_dictionary()
    return {t.label[:31]: t for t in d.tables.values()}


def header(col: FieldSpec) -> str:
    """A table column's header as the sheet shows it: label, with the unit in brackets."""
    return f"{col.label}（{col.unit}）" if col.unit else col.label


def required_sheets(d: Dictionary | None = None) -> list[str]:
    """Every sheet an import needs (填报说明 may be deleted)."""
    return [META_SHEET, FACTS_SHEET, *table_sheets(d)]
