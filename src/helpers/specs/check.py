"""Check the YAML specs before anything runs: each file against its typed model
(:mod:`helpers.specs.models`; unknown keys are errors with a "did you mean"), then every id a
spec names against the ids that exist. Each problem names the file and the line."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from helpers.errors import Problem
from helpers.specs import expr, yamllines
from helpers.specs.models import MODELS

HOME = Path(__file__).resolve().parent
SPECS = HOME  # the folder check_specs() reads by default (tests point it at a copy)
REFERENCES = HOME.parents[2] / "docs" / "references.md"
_REF = re.compile(r"docs/references\.md\s*§\s*(\d+(?:\.\d+)*)")


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """A hint ``您是否想写 “x”？`` for the closest known id, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"您是否想写 “{close[0]}”？" if close else None


def shown(path: Path) -> str:
    """A spec path as messages show it (relative to the repository)."""
    try:
        return str(path.resolve().relative_to(HOME.parents[2]))
    except ValueError:
        return str(path)


class SpecError(ValueError):
    """A spec file breaks its model; the problems name file, line and key."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("规格文件有误：\n" + "\n".join(f"  - {p}" for p in problems))

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines()


def read_spec(name: str) -> Any:
    """The data of one of this package's spec files, checked against its model first (the
    loaders read specs through this, so an unknown key never passes silently)."""
    _, doc, problems = check_file(HOME / name, MODELS[name])
    if problems or doc is None:
        raise SpecError(problems)
    return doc.data


def _model_at(model: Any, loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that holds the key at the end of loc (for its known fields)."""
    ann: Any = model
    for part in loc:
        ann = _unwrap(ann, part)
        if ann is None:
            return None
    ann = _unwrap_model(ann)
    return ann


def _unwrap_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        m = _unwrap_model(arg)
        if m is not None:
            return m
    return None


def _unwrap(ann: Any, part: Any) -> Any:
    model = _unwrap_model(ann) if not _is_container(ann) else None
    if model is not None and isinstance(part, str) and part in model.model_fields:
        return model.model_fields[part].annotation
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(ann):
            got = _unwrap(arg, part)
            if got is not None:
                return got
        return None
    if origin in (dict, list, tuple):
        args = typing.get_args(ann)
        return args[-1] if args else None
    return None


def _is_container(ann: Any) -> bool:
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        return all(_is_container(a) for a in typing.get_args(ann) if a is not type(None))
    return origin in (dict, list, tuple)


def check_file(
    path: Path, model: type[BaseModel]
) -> tuple[Any, yamllines.LinedYaml | None, list[Problem]]:
    """Validate one spec file; returns (model instance or None, the lined YAML, problems)."""
    name = shown(path)
    try:
        doc = yamllines.load(path)
    except (OSError, yaml.YAMLError) as exc:
        return None, None, [Problem(name, "spec_yaml", f"无法读取 YAML：{exc}")]
    try:
        return model.model_validate(doc.data), doc, []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            where = ".".join(str(p) for p in loc)
            if err["type"] == "extra_forbidden":
                holder = _model_at(model, loc[:-1])
                known = list(holder.model_fields) if holder else []
                problems.append(
                    Problem(
                        name,
                        "spec_unknown_key",
                        f"未知的键 {loc[-1]!r}（{where}）；可用的键：{'、'.join(known)}",
                        row=doc.line(loc),
                        column=str(loc[-1]),
                        hint=suggest(str(loc[-1]), known),
                    )
                )
            else:
                problems.append(
                    Problem(
                        name,
                        "spec_invalid",
                        f"{where}：{err['msg']}",
                        row=doc.line(loc),
                        column=str(loc[-1]) if loc else None,
                        value=err.get("input") if not isinstance(err.get("input"), dict) else None,
                    )
                )
        return None, doc, problems


def _is_union_tag(part: Any) -> bool:
    """pydantic adds the union member's name (``str``, ``AppendixRow``) to an error's loc."""
    return isinstance(part, str) and (part in {"str", "int", "float"} or part[:1].isupper())


def check_specs(folder: Path | None = None) -> list[Problem]:
    """Every problem of the specs in folder (default: this package's), file and line named.

    The result is kept for the same contents of the spec files and of docs/references.md
    (``nianbao validate`` and every build check the specs; most runs change none)."""
    folder = Path(folder or SPECS)
    key = tuple((p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml")))
    refs = REFERENCES.read_bytes() if REFERENCES.is_file() else b""
    return list(_check_specs(folder, key, refs))


@lru_cache(maxsize=8)
def _check_specs(folder: Path, contents: tuple, references: bytes) -> tuple[Problem, ...]:
    loaded: dict[str, Any] = {}
    docs: dict[str, yamllines.LinedYaml] = {}
    problems: list[Problem] = []
    for fname, model in MODELS.items():
        obj, doc, found = check_file(folder / fname, model)
        problems += found
        if obj is not None and doc is not None:
            loaded[fname], docs[fname] = obj, doc
    if len(loaded) == len(MODELS):
        problems += _cross_check(folder, loaded, docs)
    return tuple(problems)


def _cross_check(
    folder: Path, s: dict[str, Any], docs: dict[str, yamllines.LinedYaml]
) -> list[Problem]:
    fields, ind = s["fields.yaml"], s["indicators.yaml"]
    facts = set(fields.facts)
    indicators = set(ind.indicators)
    ids = facts | indicators
    out: list[Problem] = []

    def bad(fname: str, loc: tuple, value: str, what: str, choices: Iterable[str]) -> None:
        out.append(
            Problem(
                shown(folder / fname),
                "spec_unknown_id",
                f"{what} {value!r} 不存在",
                row=docs[fname].line(loc),
                column=next((str(k) for k in reversed(loc) if isinstance(k, str)), None),
                value=value,
                hint=suggest(value, choices),
            )
        )

    for iid, spec in ind.indicators.items():
        loc = ("indicators", iid)
        if iid in facts:
            bad("indicators.yaml", loc, iid, "指标 id 与事实 id 重复：", [])
        if bool(spec.formula) == bool(spec.aggregate):
            out.append(
                Problem(
                    shown(folder / "indicators.yaml"),
                    "spec_invalid",
                    f"指标 {iid} 须有且只有 formula 或 aggregate 之一",
                    row=docs["indicators.yaml"].line(loc),
                )
            )
        if spec.formula:
            try:
                names = expr.names(spec.formula)
            except (SyntaxError, ValueError) as exc:
                names = []
                out.append(
                    Problem(
                        shown(folder / "indicators.yaml"),
                        "spec_formula",
                        f"公式无法解析：{exc}",
                        row=docs["indicators.yaml"].line((*loc, "formula")),
                        value=spec.formula,
                    )
                )
            for n in names:
                base = n.removeprefix("prev.")
                if base not in ids:
                    bad("indicators.yaml", (*loc, "formula"), n, "公式中的输入", ids)
        if spec.aggregate and spec.aggregate.table not in fields.tables:
            bad(
                "indicators.yaml",
                (*loc, "aggregate", "table"),
                spec.aggregate.table,
                "数据表",
                fields.tables,
            )
        elif spec.aggregate:
            cols = set(fields.tables[spec.aggregate.table].columns) | set(fields.common_columns)
            for col in [spec.aggregate.sum, *spec.aggregate.where]:
                if col and col not in cols:
                    bad("indicators.yaml", (*loc, "aggregate"), col, "数据表的列", cols)
        if spec.stated_by and spec.stated_by not in facts:
            bad("indicators.yaml", (*loc, "stated_by"), spec.stated_by, "事实", facts)
        if spec.share_group and spec.share_group not in ind.share_groups:
            bad(
                "indicators.yaml",
                (*loc, "share_group"),
                spec.share_group,
                "份额组",
                ind.share_groups,
            )
    for g, members in ind.share_groups.items():
        for i, m in enumerate(members):
            if m not in indicators:
                bad("indicators.yaml", ("share_groups", g, i), m, "份额组成员指标", indicators)
    for i, st in enumerate(s["thresholds.yaml"].standards):
        if st.indicator not in ids:
            bad("thresholds.yaml", ("standards", i, "indicator"), st.indicator, "指标", ids)
    for i, c in enumerate(fields.checks):
        for n in expr.names(c.whole):
            if n not in facts:
                bad("fields.yaml", ("checks", i, "whole"), n, "事实", facts)
        for j, p in enumerate(c.parts):
            if p not in facts:
                bad("fields.yaml", ("checks", i, "parts", j), p, "事实", facts)
    for tname, t in fields.tables.items():
        for j, k in enumerate(t.key):
            if k not in t.columns and k not in fields.common_columns:
                bad("fields.yaml", ("tables", tname, "key", j), k, "键列", t.columns)
    out += _check_appendix(folder, s, docs, ids, bad)
    out += check_references(folder, docs)
    return out


def _check_appendix(folder, s, docs, ids, bad) -> list[Problem]:
    """Appendix rows name ids; an indicator's ``table:`` is a 附表 whose rows list it."""
    ind = s["indicators.yaml"].indicators
    where: dict[str, list[str]] = {}
    for i, t in enumerate(s["appendix_tables.yaml"].tables):
        label = t.title.split()[0]
        for j, row in enumerate(t.rows):
            rid = row if isinstance(row, str) else row.id
            if rid not in ids:
                bad("appendix_tables.yaml", ("tables", i, "rows", j), rid, "附表行目", ids)
            where.setdefault(rid, []).append(label)
    out: list[Problem] = []
    f = shown(folder / "indicators.yaml")
    for iid, spec in ind.items():
        line = docs["indicators.yaml"].line(("indicators", iid, "table"))
        if spec.table and spec.table not in where.get(iid, []):
            listed = where.get(iid, [])
            out.append(
                Problem(
                    f,
                    "spec_table_mismatch",
                    f"指标 {iid} 的 table 为 {spec.table!r}，但 specs/appendix_tables.yaml "
                    + (f"把它列在{'、'.join(listed)}" if listed else "没有把它列入任何附表"),
                    row=line,
                    column="table",
                    value=spec.table,
                    hint=f"应为 “{listed[0]}”" if listed else "删去 table，或把它加入附表的 rows",
                )
            )
        elif not spec.table and iid in where:
            out.append(
                Problem(
                    f,
                    "spec_table_mismatch",
                    f"指标 {iid} 列在 {'、'.join(where[iid])}，却没有写 table",
                    row=docs["indicators.yaml"].line(("indicators", iid)),
                    column="table",
                )
            )
    return out


def reference_sections(path: Path = REFERENCES) -> set[str]:
    """Section numbers of the headings of docs/references.md (``### 3.4 巩固率`` → 3.4)."""
    if not path.is_file():
        return set()
    return set(re.findall(r"^#+\s+(\d+(?:\.\d+)*)\b", path.read_text(encoding="utf-8"), re.M))


def check_references(folder: Path, docs: dict[str, yamllines.LinedYaml]) -> list[Problem]:
    """Every ``docs/references.md §x.y`` in a spec names a heading of that file."""
    known = reference_sections()
    out = []
    for fname in docs:
        text = (folder / fname).read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if "indicators.md" in line:
                out.append(
                    Problem(
                        shown(folder / fname),
                        "spec_reference",
                        "引用了仓库外的 indicators.md；请改为 docs/references.md §x.y",
                        row=n,
                    )
                )
            for m in _REF.finditer(line):
                if m.group(1) not in known:
                    out.append(
                        Problem(
                            shown(folder / fname),
                            "spec_reference",
                            f"docs/references.md 中没有第 {m.group(1)} 节",
                            row=n,
                            value=m.group(0),
                            hint=suggest(m.group(1), known),
                        )
                    )
    return out
