"""Typed models of the YAML specs of this folder (pydantic v2, unknown keys forbidden).

They describe each file's shape; :mod:`helpers.specs.check` validates the files against them
and cross-checks the ids they name. The JSON Schemas in ``schema/`` are generated from them
(``nianbao schema``), so an editor completes and checks keys while an analyst types.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Spec(BaseModel):
    """Base: unknown keys are errors (a misspelt key must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------- fields.yaml
FieldType = Literal["integer", "number", "percent", "decimal", "text", "category"]


class FieldModel(Spec):
    label: str = Field(min_length=1, description="中文名称")
    type: FieldType = "text"
    description: str = Field(min_length=1, description="含义")
    unit: str = ""
    ref: str = Field("", description="统计口径：时点 | 时期 | 年度")
    min: float | None = None
    max: float | None = None
    allowed: list[str] = []
    required: bool = True
    wan: bool = Field(False, description="原文以“万”为单位印出（万元、万平方米），报告照此显示")


class TableModel(Spec):
    label: str
    description: str
    key: list[str] = []
    columns: dict[str, FieldModel]


class ObservationKey(Spec):
    label: str
    description: str


class CheckModel(Spec):
    id: str
    whole: str = Field(description="事实 id 或事实的算式")
    parts: list[str]
    rule: Literal["equal", "at_most"]
    breakdown: bool = False


class FileKey(Spec):
    """One key of school.yaml or meta.yaml (validated by helpers.ingest.meta)."""

    label: str
    type: str
    description: str
    required: bool = True


class FileDoc(Spec):
    """school.yaml or meta.yaml: where it lives, what it is for, its keys."""

    path: str
    description: str
    keys: dict[str, FileKey]


class FieldsFile(Spec):
    """specs/fields.yaml: the data dictionary."""

    files: dict[str, FileDoc] = {}
    facts: dict[str, FieldModel]
    tables: dict[str, TableModel]
    common_columns: dict[str, FieldModel] = {}
    observation_keys: dict[str, ObservationKey] = {}
    checks: list[CheckModel] = []


# ----------------------------------------------------------------- indicators.yaml
class Aggregate(Spec):
    table: str
    sum: str | None = None
    count: Literal["rows"] | None = None
    where: dict[str, list[str]] = {}


Kind = Literal["share", "rate", "ratio", "per_student", "count", "amount", "growth", "difference"]


class IndicatorModel(Spec):
    name: str
    kind: Kind
    unit: str
    decimals: int = Field(ge=0, le=6)
    reference: str = Field(description="docs/references.md §x.y，或 [推断] 说明")
    formula: str | None = None
    aggregate: Aggregate | None = None
    note: str | None = None
    chapter: str | None = None
    table: str | None = Field(None, description="所在附表，如“附表1”（须与附表行目一致）")
    per_student: bool = False
    stated_by: str | None = None
    plausible: tuple[float, float] | None = None
    bounds: tuple[float, float] | None = None
    share_group: str | None = None


class IndicatorsFile(Spec):
    """specs/indicators.yaml: the indicator registry."""

    indicators: dict[str, IndicatorModel]
    share_groups: dict[str, list[str]] = {}


# ----------------------------------------------------------------- thresholds.yaml
class Yoy(Spec):
    points: float
    percent: float


class Standard(Spec):
    indicator: str
    min: float | None = None
    max: float | None = None
    text: str
    source: str


class ThresholdsFile(Spec):
    """specs/thresholds.yaml: national standards (达标)."""

    standards: list[Standard]


class AuditFile(Spec):
    """specs/audit.yaml: audit settings."""

    yoy: Yoy


# ----------------------------------------------------------------- appendix_tables.yaml
class AppendixRow(Spec):
    id: str
    label: str | None = None


class AppendixTable(Spec):
    id: str
    title: str
    note: str | None = None
    rows: list[str | AppendixRow]


class AppendixFile(Spec):
    """specs/appendix_tables.yaml: layouts of 附表1–5."""

    tables: list[AppendixTable]


# ----------------------------------------------------------------- report.yaml
class SectionModel(Spec):
    number: str
    title: str = ""
    blocks: list[dict[str, object]] = []


class ChapterModel(Spec):
    id: str
    notebook: str
    title: str
    sections: list[SectionModel] | None = Field(None, description="旧格式，将被删除")


class ReportFile(Spec):
    """specs/report.yaml: the report title and its chapters in order."""

    title: str
    chapters: list[ChapterModel]


MODELS: dict[str, type[Spec]] = {
    "fields.yaml": FieldsFile,
    "indicators.yaml": IndicatorsFile,
    "thresholds.yaml": ThresholdsFile,
    "audit.yaml": AuditFile,
    "appendix_tables.yaml": AppendixFile,
    "report.yaml": ReportFile,
}
