"""Reading raw files as people save them.

CSV: UTF-8 with or without a BOM (Excel's "CSV UTF-8"); GBK/GB18030 (Excel's default "CSV" on
Chinese Windows) is read correctly with a warning that says how to re-save. YAML: parsed with
line numbers and with duplicate keys reported instead of silently overwritten.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import Problem

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

    The index of the frame is the 1-based line number in the file (header = line 1), so
    problems can name the row a person sees in an editor or Excel.
    """
    text, problems = decode(path, shown)
    if text is None:
        return None, problems
    try:
        df = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problems.append(
            Problem(
                shown,
                "csv_format",
                f"CSV 格式错误：某行的列数与表头不符（{exc}）",
                row=int(m.group(1)) if m else None,
            )
        )
        return None, problems
    except pd.errors.EmptyDataError:
        problems.append(Problem(shown, "empty_file", "文件为空（没有表头也没有数据）"))
        return None, problems
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip())
    df = df.replace("", pd.NA)
    # line numbers: header is line 1; skip_blank_lines keeps data order
    lines = _data_line_numbers(text, len(df))
    df.index = pd.Index(lines, name="line")
    return df, problems


def _data_line_numbers(text: str, n: int) -> list[int]:
    numbers = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip()]
    return numbers[1 : n + 1] if len(numbers) > n else list(range(2, n + 2))


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that reports duplicate keys and records each key's line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            loader.duplicates.append((key, key_node.start_mark.line + 1, lines[key]))
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
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
