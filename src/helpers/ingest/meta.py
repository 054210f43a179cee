"""Schemas of ``school.yaml`` and ``<year>/meta.yaml``, and their checks.

The two files are small but everything else leans on them: the school's name heads every
page, ``default_document`` is the source a fact cites when it names none, ``year`` and
``school_year`` choose which of two stated values the report uses. The pydantic models below
are the schema (no coercion, no unknown keys); every key is documented in the ``files``
section of ``specs/fields.yaml`` (a test keeps the two in step). Errors become
:class:`~helpers.errors.Problem` records naming file, line, key and value, in Chinese, like
the rest of ingest.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helpers import fmt
from helpers.errors import Problem
from helpers.ingest.readers import YamlDoc

SCHOOL_YEAR_RE = re.compile(r"(\d{4})-(\d{4})学年")


class _Strict(BaseModel):
    """No type coercion ("2024" is not a year) and no keys the schema does not name."""

    model_config = ConfigDict(extra="forbid", strict=True)


class FormerName(_Strict):
    name: str = Field(min_length=1)
    source: str | None = None


class Document(_Strict):
    title: str = Field(min_length=1)
    short_title: str | None = None
    file: str | None = None


class SchoolFile(_Strict):
    """``data/raw/<school>/school.yaml``."""

    school_id: str | None = None
    name: str = Field(min_length=1)
    former_names: list[FormerName] = []
    founded: int | None = Field(default=None, ge=1800, le=2100)
    province: str | None = None
    city: str | None = None
    county: str | None = None
    type: str | None = None
    campuses: list[str] = []
    documents: dict[str, Document] = {}


class MetaFile(_Strict):
    """``data/raw/<school>/<year>/meta.yaml``."""

    year: int = Field(ge=1990, le=2100)
    school_year: str = Field(pattern=SCHOOL_YEAR_RE.pattern)
    default_document: str | None = None
    report_date: date | None = None  # the report's official date (编制日期) on its cover


def schema_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key a file may have, nested ones dotted (``former_names[].name``,
    ``documents.<id>.title``): what ``specs/fields.yaml`` documents."""
    out = []
    for name, info in model.model_fields.items():
        out.append(prefix + name)
        inner = _inner_model(info.annotation)
        if inner is not None:
            kind, sub = inner
            out += schema_keys(sub, f"{prefix}{name}{'[].' if kind == 'list' else '.<id>.'}")
    return out


def _inner_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    args = getattr(annotation, "__args__", ())
    origin = getattr(annotation, "__origin__", None)
    item = args[-1] if args else None
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        return None
    if origin is list:
        return "list", item
    if origin is dict:
        return "dict", item
    return None


# ----------------------------------------------------------------------------- checks


def check_school(doc: YamlDoc, shown: str, folder_id: str) -> list[Problem]:
    """Problems of a school.yaml: schema, and a ``school_id`` that is not the folder's name."""
    problems = _validate(SchoolFile, doc, shown)
    data = doc.data if isinstance(doc.data, dict) else {}
    sid = data.get("school_id")
    if isinstance(sid, str) and sid != folder_id:
        problems.append(
            Problem(
                shown,
                "school_id_mismatch",
                f"school.yaml 的 school_id 与学校文件夹名 {folder_id!r} 不一致",
                row=doc.line(data, "school_id"),
                column="school_id",
                value=sid,
                hint=f"改为 {folder_id!r}，或删除此键（学校编号即文件夹名）",
            )
        )
    return problems


def check_meta(
    doc: YamlDoc, shown: str, year: int, documents: dict[str, Any] | None
) -> list[Problem]:
    """Problems of a year's meta.yaml: schema, ``year`` and ``school_year`` against the folder,
    ``default_document`` against school.yaml's ``documents``."""
    problems = _validate(MetaFile, doc, shown)
    data = doc.data if isinstance(doc.data, dict) else {}
    failed = {p.column for p in problems}
    if "year" not in failed and "year" in data and data["year"] != year:
        problems.append(
            Problem(
                shown,
                "year_mismatch",
                "meta.yaml 的 year 与文件夹名不一致",
                row=doc.line(data, "year"),
                column="year",
                value=data["year"],
                hint=f"年度文件夹为 {year}",
            )
        )
    m = SCHOOL_YEAR_RE.fullmatch(str(data.get("school_year", "")))
    if "school_year" not in failed and m and (int(m[1]) + 1, int(m[2])) != (year, year):
        problems.append(
            Problem(
                shown,
                "school_year_mismatch",
                f"school_year 与年度 {year} 不符：{year} 年度的学年应为 {fmt.school_year(year)}",
                row=doc.line(data, "school_year"),
                column="school_year",
                value=data["school_year"],
            )
        )
    default = data.get("default_document")
    if isinstance(default, str) and documents is not None and default not in documents:
        guess = difflib.get_close_matches(default, list(documents), n=1, cutoff=0.5)
        problems.append(
            Problem(
                shown,
                "unknown_document",
                "default_document 不是 school.yaml 的 documents 中定义的来源文件编号",
                row=doc.line(data, "default_document"),
                column="default_document",
                value=default,
                hint=f"是否应为 {guess[0]!r}？"
                if guess
                else f"已定义的编号：{', '.join(documents) or '（无）'}",
            )
        )
    return problems


# ----------------------------------------------------------------------------- pydantic → Problem

_MESSAGES = {
    "missing": "缺少必填的键",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "list_type": "应为列表（每项一行，以 - 开头）",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "格式不对：应写作“2023-2024学年”",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "date_type": "应为日期，写作 2025-01-15（不加引号）",
}


def _validate(model: type[BaseModel], doc: YamlDoc, shown: str) -> list[Problem]:
    data = doc.data
    if not isinstance(data, dict):
        return [Problem(shown, "not_mapping", "文件内容应为映射（每行一个 键: 值）")]
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [_problem(e, model, doc, shown) for e in exc.errors()]
    return []


def _problem(err: dict[str, Any], model: type[BaseModel], doc: YamlDoc, shown: str) -> Problem:
    loc = tuple(err["loc"])
    line, parent = _locate(doc, loc)
    key = _dotted(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _keys_at(model, loc[:-1])
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        return Problem(
            shown,
            "unknown_key",
            "无法识别的键（其内容不会被读取）",
            row=line,
            column=key,
            value=err.get("input"),
            hint=f"是否应为 {guess[0]!r}？" if guess else f"可用的键：{', '.join(known)}",
        )
    if kind == "missing":
        return Problem(shown, "missing_key", f"缺少必填的键 {loc[-1]}", row=parent, column=key)
    message = _MESSAGES.get(kind, f"取值不符合要求（{err['msg']}）")
    return Problem(shown, "bad_value", message, row=line, column=key, value=err.get("input"))


def _locate(doc: YamlDoc, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """(line of the key at loc, line of the nearest enclosing key) in the YAML file."""
    node: Any = doc.data
    line = parent = None
    for part in loc:
        parent = line
        if isinstance(node, dict) and part in node:
            line = doc.line(node, part) or line
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            if isinstance(node, dict) and node:
                line = doc.line(node, next(iter(node))) or line
        else:
            return line, line
    return line, parent


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows in the mapping at loc."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int) or part not in current.model_fields:
            continue  # a list index or a documents id: the item's model is the next field's
        inner = _inner_model(current.model_fields[part].annotation)
        if inner is None:
            break
        current = inner[1]
    return list(current.model_fields)
