"""The data dictionary: every raw field with its Chinese label, unit, type and range.

Loaded once from ``specs/fields.yaml``. Validation, the generated
``docs/data-dictionary.md`` and the report's labels all read it, so a field is described in
exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.specs.cache import cached

SPECS = Path(__file__).resolve().parent
TYPES = {"integer", "number", "percent", "decimal", "text", "category"}


@dataclass(frozen=True)
class FieldSpec:
    """One field (a scalar fact, or a table column)."""

    name: str
    label: str
    type: str
    description: str
    unit: str = ""
    ref: str = ""
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] = ()
    required: bool = True
    wan: bool = False  # the source prints it in 万 (万元): the report shows it so

    @property
    def numeric(self) -> bool:
        return self.type in {"integer", "number", "percent", "decimal"}

    @property
    def lower(self) -> float | None:
        """Lowest allowed value: counts, amounts and percentages are never negative."""
        if self.min is not None:
            return self.min
        return 0.0 if self.type in {"integer", "number", "percent"} else None

    @property
    def upper(self) -> float | None:
        return 100.0 if self.type == "percent" and self.max is None else self.max


@dataclass(frozen=True)
class TableSpec:
    """A CSV table of a school-year."""

    name: str
    label: str
    description: str
    key: tuple[str, ...]
    columns: dict[str, FieldSpec]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


@dataclass(frozen=True)
class Check:
    """A part–whole rule (see the `checks` section of fields.yaml)."""

    id: str
    whole: str
    parts: tuple[str, ...]
    rule: str  # equal | at_most
    breakdown: bool = False  # the source names these parts as a breakdown of the whole


@dataclass(frozen=True)
class KeySpec:
    """One key of school.yaml or meta.yaml (nested keys dotted: ``documents.<id>.title``)."""

    name: str
    label: str
    type: str  # text | integer | list | mapping
    description: str
    required: bool = True


@dataclass(frozen=True)
class FileSpec:
    """school.yaml or meta.yaml: where it lives and its keys."""

    name: str
    path: str
    description: str
    keys: dict[str, KeySpec]


@dataclass(frozen=True)
class Dictionary:
    facts: dict[str, FieldSpec]
    tables: dict[str, TableSpec]
    checks: tuple[Check, ...]
    observation_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, FileSpec] = field(default_factory=dict)

    def label(self, name: str) -> str:
        spec = self.facts.get(name)
        return spec.label if spec else name

    def unit(self, name: str) -> str:
        spec = self.facts.get(name)
        return spec.unit if spec else ""


def _field(name: str, raw: dict[str, Any]) -> FieldSpec:
    ftype = raw.get("type", "text")
    if ftype not in TYPES:
        raise ValueError(f"fields.yaml: field {name} has unknown type {ftype!r}")
    for key in ("label", "description"):
        if not raw.get(key):
            raise ValueError(f"fields.yaml: field {name} has no {key}")
    return FieldSpec(
        name=name,
        label=raw["label"],
        type=ftype,
        description=raw["description"],
        unit=raw.get("unit", ""),
        ref=raw.get("ref", ""),
        min=raw.get("min"),
        max=raw.get("max"),
        allowed=tuple(raw.get("allowed", ())),
        required=raw.get("required", True),
        wan=bool(raw.get("wan", False)),
    )


@cached
def load_dictionary() -> Dictionary:
    """Parse specs/fields.yaml (cached)."""
    from helpers.specs.check import read_spec

    raw = read_spec("fields.yaml")
    facts = {n: _field(n, f) for n, f in raw["facts"].items()}
    common = {n: _field(n, f) for n, f in raw.get("common_columns", {}).items()}
    tables = {}
    for name, t in raw["tables"].items():
        cols = {n: _field(n, c) for n, c in t["columns"].items()}
        cols.update(common)
        tables[name] = TableSpec(
            name=name,
            label=t["label"],
            description=t["description"],
            key=tuple(t.get("key", ())),
            columns=cols,
        )
    checks = tuple(
        Check(
            id=c["id"],
            whole=c["whole"],
            parts=tuple(c["parts"]),
            rule=c["rule"],
            breakdown=bool(c.get("breakdown", False)),
        )
        for c in raw.get("checks", [])
    )
    files = {
        name: FileSpec(
            name=name,
            path=f["path"],
            description=f["description"],
            keys={
                k: KeySpec(
                    name=k,
                    label=v["label"],
                    type=v["type"],
                    description=v["description"],
                    required=v.get("required", True),
                )
                for k, v in f["keys"].items()
            },
        )
        for name, f in raw.get("files", {}).items()
    }
    return Dictionary(facts, tables, checks, raw.get("observation_keys", {}), files)


def render_markdown() -> str:
    """The data dictionary as Markdown (written to docs/data-dictionary.md)."""
    d = load_dictionary()
    lines = [
        "# 数据字典 (data dictionary)",
        "",
        "Generated from `src/helpers/specs/fields.yaml` by `nianbao dictionary`; do not edit by",
        "hand (a test fails when this file is out of date). 统计时点 = a stock as of a date",
        "(学年初 9月1日); 统计时期 = a flow over the school year (9/1–8/31); 年度 = calendar year.",
        "",
    ]
    for spec in d.files.values():
        lines += [
            f"## File `{spec.name}` (`{spec.path}`)",
            "",
            spec.description + " Unknown keys are errors; nested keys are dotted.",
            "",
            "| key | 中文名称 | 类型 | 必填 | 含义 |",
            "|---|---|---|---|---|",
        ]
        for k in spec.keys.values():
            lines.append(
                f"| `{k.name}` | {k.label} | {k.type} | {'是' if k.required else '否'} | "
                f"{k.description} |"
            )
        lines.append("")
    lines += [
        "## Scalar facts (`data/raw/<school>/<year>/facts.yaml`)",
        "",
        "| field | 中文名称 | 单位 | 类型 | 取值范围 | 统计口径 | 含义 |",
        "|---|---|---|---|---|---|---|",
    ]

    def rng(f: FieldSpec) -> str:
        if f.allowed:
            return " / ".join(f.allowed)
        lo, hi = f.lower, f.upper
        if lo is None and hi is None:
            return ""
        return f"{'' if lo is None else f'{lo:g}'} – {'' if hi is None else f'{hi:g}'}"

    for f in d.facts.values():
        lines.append(
            f"| `{f.name}` | {f.label} | {f.unit} | {f.type} | {rng(f)} | {f.ref} | {f.description} |"
        )
    lines += ["", "Each fact is one observation or a list of them, with these keys:", ""]
    lines += ["| key | 含义 | 说明 |", "|---|---|---|"]
    for k, v in d.observation_keys.items():
        lines.append(f"| `{k}` | {v['label']} | {v['description']} |")
    for t in d.tables.values():
        lines += [
            "",
            f"## Table `{t.name}` — {t.label} (`{t.file}`)",
            "",
            t.description + (f" Key (no duplicates): {', '.join(t.key)}." if t.key else ""),
            "",
            "| column | 中文名称 | 单位 | 类型 | 取值范围 | 必填 | 含义 |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in t.columns.values():
            lines.append(
                f"| `{c.name}` | {c.label} | {c.unit} | {c.type} | {rng(c)} | "
                f"{'是' if c.required else '否'} | {c.description} |"
            )
    lines += [
        "",
        "## Part–whole checks",
        "",
        "`breakdown`: the source names the parts as a breakdown of the whole (其中……); when they",
        "add up to less than the whole, the audit reports the unexplained rest.",
        "",
        "| id | whole | parts | rule |",
        "|---|---|---|---|",
    ]
    for c in d.checks:
        rule = f"{c.rule}, breakdown" if c.breakdown else c.rule
        lines.append(
            f"| `{c.id}` | `{c.whole}` | {', '.join(f'`{p}`' for p in c.parts)} | {rule} |"
        )
    return "\n".join(lines) + "\n"
