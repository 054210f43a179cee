"""Problem records for bad input, and the exception that carries them.

Every check reports a :class:`Problem` naming file, row, column, value and the rule broken,
so an analyst can find and fix the cell without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding about one cell (or file) of the raw data."""

    file: str
    rule: str
    message: str
    row: int | None = None
    column: str | None = None
    value: Any = None
    severity: str = "error"  # "error" stops a build; "warning" does not
    hint: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"第 {self.row} 行")
        if self.column is not None:
            where.append(f"列 {self.column}")
        if self.value is not None:
            where.append(f"值 {self.value!r}")
        text = f"{'，'.join(where)}：{self.message} [规则 {self.rule}]"
        if self.hint:
            text += f"（{self.hint}）"
        return text


@dataclass
class DataValidationError(Exception):
    """Raised when raw data breaks one or more rules; holds every problem found."""

    problems: list[Problem] = field(default_factory=list)
    context: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"数据校验未通过{('：' + self.context) if self.context else ''}，共 {len(errors)} 个错误"
        return "\n".join([head, *(f"  - {p}" for p in errors)])

    def __str__(self) -> str:
        return self.render()

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: the problems, nothing from pandas."""
        return self.render().splitlines()


class SchoolNotFoundError(LookupError):
    """No data folder for the requested school or year."""

    def _render_traceback_(self) -> list[str]:
        return [f"SchoolNotFoundError: {self}"]


def raise_if_errors(problems: Iterable[Problem], context: str = "") -> None:
    """Raise :class:`DataValidationError` if any problem is an error."""
    problems = list(problems)
    if any(p.severity == "error" for p in problems):
        raise DataValidationError(problems, context)
