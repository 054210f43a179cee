"""A YAML loader that keeps line numbers: every mapping key and value maps to the line where
it starts, so a problem in a spec names the line an analyst sees in an editor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LinedYaml:
    """The parsed data and the 1-based line of every path in it (``("indicators", "x")``)."""

    data: Any
    lines: dict[Loc, int]

    def line(self, loc: Loc) -> int | None:
        """The line of loc, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return 1


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


def load(path: Path) -> LinedYaml:
    """Parse a YAML file with line numbers (yaml.YAMLError on a syntax error)."""
    text = path.read_text(encoding="utf-8")
    node = yaml.compose(text, Loader=_LOADER)
    lines: dict[Loc, int] = {}
    _walk(node, (), lines)
    return LinedYaml(yaml.load(text, Loader=_LOADER), lines)


def _walk(node: yaml.Node | None, loc: Loc, lines: dict[Loc, int]) -> None:
    if node is None:
        return
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            lines[(*loc, key)] = k.start_mark.line + 1
            _walk(v, (*loc, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines[(*loc, i)] = v.start_mark.line + 1
            _walk(v, (*loc, i), lines)
