"""Load and validate one school-year of raw data.

``load_school_year`` reads ``data/raw/<school>/<year>/``, checks every file against the data
dictionary and returns a :class:`SchoolYear`. Any error raises
:class:`~helpers.errors.DataValidationError` listing all problems at once (file, row, column,
value, rule); warnings are kept on the object and do not stop anything.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import paths
from helpers.errors import Problem, raise_if_errors
from helpers.ingest.checks import failed_parts
from helpers.ingest.facts import Fact, Observation, parse_observations, resolve
from helpers.ingest.meta import check_meta, check_school
from helpers.ingest.narrative import Narrative, load_narratives
from helpers.ingest.numbers import parse_number
from helpers.ingest.readers import read_csv, read_yaml, rel
from helpers.ingest.schemas import validate_table
from helpers.specs.dictionary import load_dictionary

REQUIRED_FILES = ("meta.yaml", "facts.yaml")
# besides the data: prose, photos, notes, and the workbook cells of imported table rows
# (written by nianbao import-xlsx; provenance only, no data is read from it)
KNOWN_EXTRA = {"text", "images", "README.md", "NOTES.md", ".gitkeep", "imported_cells.csv"}


@dataclass
class SchoolYear:
    """Validated raw data of one school and one report year."""

    school_id: str
    year: int
    school: dict[str, Any]
    meta: dict[str, Any]
    observations: list[Observation]
    facts: dict[str, Fact]
    tables: dict[str, pd.DataFrame]
    published: pd.DataFrame
    folder: Path
    narratives: list[Narrative] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    previous: SchoolYear | None = None

    @property
    def school_name(self) -> str:
        return str(self.school.get("name", self.school_id))

    @property
    def school_year(self) -> str | None:
        return self.meta.get("school_year")

    def value(self, name: str) -> float | None:
        """The value the report uses for a fact, or None when the data does not give it."""
        fact = self.facts.get(name)
        return None if fact is None else fact.value

    def table(self, name: str) -> pd.DataFrame | None:
        """A table of this year, or None when it is not filed: the file is absent, or it has a
        header and no rows (none reported, which is not a table of zeros)."""
        return self.tables.get(name)

    def documents(self) -> dict[str, Any]:
        return self.school.get("documents", {}) or {}


def load_school_year(
    school_id: str,
    year: int | str,
    data_dir: str | os.PathLike[str] | None = None,
    with_previous: bool = True,
) -> SchoolYear:
    """Load, validate and return one school-year, linked to the years before it that have data
    (``previous``, ``previous.previous``, …)."""
    school_id = paths.check_school_id(school_id)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValueError(f"年度 {year!r} 无效：应为四位数字，如 2024") from None
    folder = paths.year_dir(school_id, year, data_dir)
    root = paths.raw_root(data_dir)
    dictionary = load_dictionary()
    problems: list[Problem] = []

    base = root.parent.parent if root.name == "raw" else root

    def shown(p: Path) -> str:
        try:  # every path here is made from root: no need to resolve each one
            return str(p.relative_to(base))
        except ValueError:
            return rel(p, base)

    school_doc, probs = (
        read_yaml(folder.parent / "school.yaml", shown(folder.parent / "school.yaml"))
        if (folder.parent / "school.yaml").exists()
        else (
            None,
            [
                Problem(
                    shown(folder.parent / "school.yaml"),
                    "missing_file",
                    "缺少学校基本信息文件 school.yaml",
                )
            ],
        )
    )
    problems += probs
    if school_doc is not None:
        problems += check_school(school_doc, shown(folder.parent / "school.yaml"), school_id)
    school = school_doc.data if school_doc and isinstance(school_doc.data, dict) else {}

    for name in REQUIRED_FILES:
        if not (folder / name).exists():
            problems.append(Problem(shown(folder / name), "missing_file", f"缺少必需的文件 {name}"))
    expected = set(REQUIRED_FILES) | {t.file for t in dictionary.tables.values()} | KNOWN_EXTRA
    for p in sorted(folder.iterdir()):
        if p.name not in expected and not p.name.startswith("."):
            guess = difflib.get_close_matches(p.name, sorted(expected), n=1, cutoff=0.6)
            problems.append(
                Problem(
                    shown(p),
                    "unknown_file",
                    "年度文件夹中有无法识别的文件（其数据不会被读取）",
                    hint=f"是否应为 {guess[0]!r}？"
                    if guess
                    else f"可用的文件：{', '.join(sorted(expected - KNOWN_EXTRA))}",
                )
            )

    meta: dict[str, Any] = {}
    if (folder / "meta.yaml").exists():
        meta_doc, probs = read_yaml(folder / "meta.yaml", shown(folder / "meta.yaml"))
        problems += probs
        meta = meta_doc.data if meta_doc and isinstance(meta_doc.data, dict) else {}
        if meta_doc is not None:
            # default_document is checked against school.yaml's documents when that was read
            documents = school.get("documents", {}) if school_doc is not None else None
            problems += check_meta(
                meta_doc,
                shown(folder / "meta.yaml"),
                year,
                documents if isinstance(documents, dict) else None,
            )

    observations: list[Observation] = []
    facts: dict[str, Fact] = {}
    if (folder / "facts.yaml").exists():
        facts_file = shown(folder / "facts.yaml")
        facts_doc, probs = read_yaml(folder / "facts.yaml", facts_file)
        problems += probs
        if facts_doc is not None:
            observations, probs = parse_observations(
                facts_doc, facts_file, dictionary, meta.get("default_document")
            )
            problems += probs
            facts, resolved = resolve(observations, meta.get("school_year"), facts_file)
            # a part-whole rule over a value that failed is not checked: one bad value, one error
            failed = {p.column for p in probs + resolved if p.severity == "error" and p.column}
            problems += resolved
            for failure in failed_parts(
                lambda n: facts[n].value if n in facts else None, skip=failed
            ):
                first = facts.get(failure.check.whole) or facts[next(iter(failure.parts))]
                problems.append(
                    Problem(
                        facts_file,
                        f"parts_{failure.check.rule}",
                        "分项之和与总数不符"
                        if failure.check.rule == "equal"
                        else "分项之和超过总数",
                        row=first.chosen.line,
                        column=" + ".join(failure.parts),
                        value=failure.describe(dictionary.label),
                        hint=f"规则 {failure.check.id}",
                    )
                )

    tables: dict[str, pd.DataFrame] = {}
    published = pd.DataFrame(
        columns=["indicator", "value", "decimals", "printed", "source", "note"]
    )
    for spec in dictionary.tables.values():
        path = folder / spec.file
        if not path.exists():
            continue
        df, probs = read_csv(path, shown(path))
        problems += probs
        if df is None:
            continue
        percent_ok = _percent_rows(df) if spec.name == "published" else None
        decimals = (
            pd.Series(
                [_decimals(v, bool(percent_ok[i])) for i, v in df["value"].items()],
                index=df.index,
                dtype=object,
            )
            if spec.name == "published" and "value" in df
            else None
        )
        typed, probs = validate_table(df, spec, shown(path), percent_ok)
        problems += probs
        if typed is None:
            continue
        if typed.empty:
            problems.append(_empty_table(shown(path), spec.label))
            continue
        if spec.name == "published":
            typed = typed.assign(decimals=decimals.astype("Int64"))
            published = typed
        else:
            tables[spec.name] = typed

    narratives, probs = load_narratives(folder, shown)
    problems += probs
    problems += _unknown_published(published, shown(folder / "published.csv"))

    raise_if_errors(problems, f"{school_id} {year}")
    previous = None
    if with_previous and year - 1 in paths.list_years(school_id, data_dir):
        # the previous year with its own previous year (and so on back), so that every
        # comparison the report prints for an earlier year can be made
        previous = load_school_year(school_id, year - 1, data_dir)
    return SchoolYear(
        school_id=school_id,
        year=year,
        school=school,
        meta=meta,
        observations=observations,
        facts=facts,
        tables=tables,
        published=published,
        folder=folder,
        narratives=narratives,
        warnings=[p for p in problems if p.severity != "error"],
        previous=previous,
    )


def _unknown_published(published: pd.DataFrame, shown: str) -> list[Problem]:
    from helpers.specs.registry import registry

    known = registry().indicators
    return [
        Problem(
            shown,
            "unknown_indicator",
            "指标编号不在 specs/indicators.yaml 中",
            row=int(line),
            column="indicator",
            value=iid,
            hint=(
                f"是否应为 {g[0]!r}？"
                if (g := difflib.get_close_matches(iid, list(known), n=1))
                else None
            ),
        )
        for line, iid in published["indicator"].items()
        if iid not in known
    ]


def _empty_table(shown: str, label: str) -> Problem:
    return Problem(
        shown,
        "empty_table",
        f"表格只有表头、没有数据行：按“未填报{label}”处理（与没有此文件相同），不记为 0",
        severity="warning",
        hint="若原文确有数据请补上各行；若确实为 0，请写一行数量为 0 的数据；若未填报可删除此文件",
    )


def _percent_rows(df: pd.DataFrame) -> pd.Series:
    """Rows of published.csv whose indicator is a percentage: their value may carry a % sign."""
    from helpers.specs.registry import registry

    known = registry().indicators
    if "indicator" not in df:
        return pd.Series(False, index=df.index)
    return df["indicator"].map(lambda i: i in known and known[i].unit == "%")


def _decimals(text: object, percent_ok: bool) -> int | None:
    """Decimals of a published value as printed (after normalising 51.72% or 1,234.5)."""
    if not isinstance(text, str):
        return None
    s = parse_number(text, "decimal", percent_ok=percent_ok).text
    if s is None:
        return None
    return len(s.split(".", 1)[1]) if "." in s else 0
