"""Reading raw files as people save them.

CSV: UTF-8 with or without a BOM (Excel's "CSV UTF-8"); GBK/GB18030 (Excel's default "CSV" on
Chinese Windows) is read correctly with a warning that says how to re-save. YAML: parsed with
line numbers and with duplicate keys reported instead of silently overwritten.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers.errors import Problem

BOM = b"\xef\xbb\xbf"


def rel(path: Path, base: Path | None = None) -> str:
    """A path as shown in messages: relative to base (or the cwd) when possible."""
    for root in (base, Path.cwd()):
        if root is None:
            continue
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            continue
    return str(path)


def decode(path: Path, shown: str) -> tuple[str | None, list[Problem]]:
    """Decode a text file: UTF-8 (BOM optional), else GB18030 with a warning."""
    data = path.read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if not data.strip():
        return None, [Problem(shown, "empty_file", "文件为空（没有表头也没有数据）")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            return None, [
                Problem(
                    shown,
                    "encoding",
                    "文件不是 UTF-8 编码，也不是 GBK 编码，无法读取",
                    row=line,
                    hint="请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”",
                )
            ]
        return text, [
            Problem(
                shown,
                "encoding_gbk",
                "文件按 GBK（GB18030）编码读取：它不是 UTF-8。内容已正确读取，但请改存为 UTF-8",
                row=line,
                severity="warning",
                hint="Excel：另存为 → “CSV UTF-8（逗号分隔）(*.csv)”；或 iconv -f GB18030 -t UTF-8",
            )
        ]


def read_csv(path: Path, shown: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV as strings (no type guessing), cells stripped, empty cells as NA.

    The index of the frame is the 1-based line number in the file where each row starts
    (header = line 1), so problems name the row a person sees in an editor. What Excel leaves
    behind is dropped silently: all-empty rows (``,,,,,``), and columns without a header whose
    cells are all empty (trailing commas). Surrounding spaces are trimmed with an "info" note.
    """
    text, problems = decode(path, shown)
    if text is None:
        return None, problems
    try:
        rows = _csv_rows(text)
    except csv.Error as exc:
        problems.append(Problem(shown, "csv_format", f"CSV 格式错误：{exc}"))
        return None, problems
    if not rows:
        problems.append(Problem(shown, "empty_file", "文件为空（没有表头也没有数据）"))
        return None, problems
    (header_line, header), data = rows[0], rows[1:]
    width = len(header)
    kept = [i for i, h in enumerate(header) if h.strip() or _filled(data, i)]
    for i in kept:
        if not header[i].strip():
            line, value = next((ln, r[i]) for ln, r in data if i < len(r) and r[i].strip())
            problems.append(
                Problem(
                    shown,
                    "unnamed_column",
                    f"第 {i + 1} 列没有表头（列名为空），却填有数据",
                    row=line,
                    column=f"第 {i + 1} 列",
                    value=value.strip(),
                    hint="请补上列名，或删除这一列",
                )
            )
    for line, cells in data:
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            problems.append(
                Problem(
                    shown,
                    "csv_format",
                    f"CSV 格式错误：这一行有 {len(cells)} 列，多于表头的 {width} 列",
                    row=line,
                    value=extra[0].strip(),
                    hint="单元格中的逗号需用英文双引号括起，或检查是否多写了一列",
                )
            )
    names = [header[i].strip() for i in kept]
    for name in sorted({n for n in names if n and names.count(n) > 1}):
        problems.append(
            Problem(shown, "duplicate_column", "表头中列名重复", row=header_line, column=name)
        )
    if any(p.severity == "error" for p in problems):
        return None, problems
    problems += _padding([(header_line, header), *data], kept, shown)
    records = [
        [(cells[i].strip() if i < len(cells) else "") or pd.NA for i in kept] for _, cells in data
    ]
    df = pd.DataFrame(records, columns=names, dtype=object)
    df.index = pd.Index([line for line, _ in data], name="line")
    return df, problems


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) of every row with content; blank and all-empty rows are skipped.

    A quoted cell spanning lines keeps the row's first line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, line = [], 1
    for cells in reader:
        if any(c.strip() for c in cells):
            rows.append((line, cells))
        line = reader.line_num + 1
    return rows


def _filled(data: list[tuple[int, list[str]]], i: int) -> bool:
    return any(i < len(cells) and cells[i].strip() for _, cells in data)


def _padding(rows: list[tuple[int, list[str]]], kept: list[int], shown: str) -> list[Problem]:
    """An "info" note for every header or cell whose surrounding spaces were trimmed."""
    header = rows[0][1]
    out = []
    for line, cells in rows:
        for i in kept:
            cell = cells[i] if i < len(cells) else ""
            if cell.strip() and cell != cell.strip():
                out.append(
                    Problem(
                        shown,
                        "whitespace",
                        "单元格首尾有空格，已去除",
                        row=line,
                        column=header[i].strip(),
                        value=cell,
                        severity="info",
                    )
                )
    return out


# libyaml's parser when PyYAML has it (several times faster; the same nodes and marks)
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """SafeLoader that reports duplicate keys, records each key's line and rejoins numbers that
    a flow mapping split at a thousands separator."""


_INT_TEXT = re.compile(r"[-+]?\d+")
_DIGITS_KEY = re.compile(r"\d+(\.\d+)?")


def _split_number(
    loader: _LineLoader,
    prev: tuple[Any, yaml.Node] | None,
    key_node: yaml.Node,
    value_node: yaml.Node,
) -> str | None:
    """The text of a number split by YAML, or None.

    In a flow mapping ``{value: 1,679}`` the comma ends the entry: YAML reads ``value: 1`` and a
    key ``679`` without a value. A digits-only key with no value right after a plain integer is
    that split; the text from the integer to the key is what the person typed (``1,679``).
    """
    if prev is None or not isinstance(key_node, yaml.ScalarNode):
        return None
    _, prev_value = prev
    if not (
        not key_node.style  # plain: None in PyYAML's parser, '' in libyaml's
        and _DIGITS_KEY.fullmatch(key_node.value)
        and isinstance(value_node, yaml.ScalarNode)
        and value_node.tag == "tag:yaml.org,2002:null"
        and value_node.value == ""
        and isinstance(prev_value, yaml.ScalarNode)
        and not prev_value.style
        and _INT_TEXT.fullmatch(prev_value.value)
    ):
        return None
    return loader.source[prev_value.start_mark.index : key_node.end_mark.index]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    prev: tuple[Any, yaml.Node] | None = None
    for key_node, value_node in node.value:
        split = _split_number(loader, prev, key_node, value_node) if node.flow_style else None
        if split is not None:
            mapping[prev[0]] = split  # the typed text; facts.yaml parsing names the habit
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            loader.duplicates.append((key, key_node.start_mark.line + 1, lines[key]))
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
        prev = (key, value_node)
    loader.lines[id(mapping)] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class YamlDoc:
    """A parsed YAML document with the line of every mapping key."""

    def __init__(self, data: Any, lines: dict[int, dict[Any, int]]):
        self.data = data
        self._lines = lines

    def line(self, mapping: Any, key: Any) -> int | None:
        return self._lines.get(id(mapping), {}).get(key)


def read_yaml(path: Path, shown: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse YAML with line numbers; syntax errors and duplicate keys become problems."""
    text, problems = decode(path, shown)
    if text is None:
        return None, problems
    loader = _LineLoader(text)
    loader.lines = {}
    loader.duplicates = []
    loader.source = text
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            Problem(
                shown,
                "yaml_syntax",
                f"YAML 语法错误：{getattr(exc, 'problem', exc)}",
                row=mark.line + 1 if mark else None,
            )
        )
        return None, problems
    finally:
        loader.dispose()
    for key, line, first in loader.duplicates:
        problems.append(
            Problem(
                shown,
                "duplicate_key",
                f"键重复出现（第一次在第 {first} 行）；后一个会覆盖前一个",
                row=line,
                column=str(key),
            )
        )
    # keep the lines alive with the objects they describe
    return YamlDoc(data, loader.lines), problems
