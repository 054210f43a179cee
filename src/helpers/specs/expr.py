"""A tiny, safe arithmetic language for formulas kept as data.

Formulas in the specs (``dual_qualified_teachers / fulltime_teachers * 100``) are parsed with
:mod:`ast` and only names, numbers, ``+ - * /``, parentheses and ``prev.<name>`` (the same
quantity in the previous report year) are allowed. A missing input gives a missing result
(``None``), never an error and never 0.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

Lookup = Callable[[str], float | None]

_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b if b != 0 else None,
}


class FormulaError(ValueError):
    """The formula text uses something outside the allowed language."""


@lru_cache(maxsize=512)
def parse(formula: str) -> ast.Expression:
    """Parse and check a formula; raises FormulaError naming what is not allowed."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"公式无法解析：{formula!r}（{exc.msg}）") from None
    for node in ast.walk(tree):
        ok = isinstance(
            node,
            ast.Expression
            | ast.BinOp
            | ast.UnaryOp
            | ast.Name
            | ast.Constant
            | ast.Load
            | ast.Attribute
            | ast.USub
            | ast.UAdd
            | ast.operator,
        )
        if isinstance(node, ast.BinOp) and type(node.op) not in _OPS:
            ok = False
        if isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name) and node.value.id == "prev"
        ):
            ok = False
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            ok = False
        if not ok:
            raise FormulaError(f"公式 {formula!r} 含不允许的写法：{ast.dump(node)[:60]}")
    return tree


def names(formula: str) -> list[str]:
    """Input names of a formula in order of appearance (``prev.x`` kept as such), no repeats."""
    out: list[str] = []
    for node in ast.walk(parse(formula)):
        name = None
        if isinstance(node, ast.Attribute):
            name = f"prev.{node.attr}"
        elif isinstance(node, ast.Name) and node.id != "prev":
            name = node.id
        if name and name not in out:
            out.append(name)
    # ast.walk visits prev (Name) under Attribute: drop bare 'prev'
    return out


class _ZeroDenominator(Exception):
    def __init__(self, denominator: str):
        self.denominator = denominator


@dataclass(frozen=True)
class Outcome:
    """A formula's result: a value, missing (an input absent), or not applicable.

    ``zero_denominator`` is set (to the denominator's formula text, e.g. ``graduates``) when
    every input is present but a divisor is 0: the figure is 不适用, which is neither a
    missing input nor a number.
    """

    value: float | None
    zero_denominator: str | None = None


def _ev(node: ast.AST, get: Lookup, strict: bool) -> float | None:
    if isinstance(node, ast.Expression):
        return _ev(node.body, get, strict)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name | ast.Attribute):
        v = get(node.id if isinstance(node, ast.Name) else f"prev.{node.attr}")
        return None if v is None else float(v)
    if isinstance(node, ast.UnaryOp):
        v = _ev(node.operand, get, strict)
        if v is None:
            return None
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = _ev(node.left, get, strict), _ev(node.right, get, strict)
        if a is None or b is None:
            return None
        if strict and isinstance(node.op, ast.Div) and b == 0:
            raise _ZeroDenominator(ast.unparse(node.right))
        return _OPS[type(node.op)](a, b)
    raise FormulaError(f"不支持的节点 {ast.dump(node)[:60]}")  # pragma: no cover


def evaluate(formula: str, lookup: Lookup | Mapping[str, float | None]) -> float | None:
    """Evaluate a formula; any missing input (or division by zero) gives None."""
    get = lookup.get if isinstance(lookup, Mapping) else lookup
    return _ev(parse(formula), get, strict=False)


def outcome(formula: str, lookup: Lookup | Mapping[str, float | None]) -> Outcome:
    """Evaluate a formula telling a missing input apart from a zero denominator."""
    get = lookup.get if isinstance(lookup, Mapping) else lookup
    if any(get(n) is None for n in names(formula)):
        return Outcome(None)
    try:
        return Outcome(_ev(parse(formula), get, strict=True))
    except _ZeroDenominator as z:
        return Outcome(None, z.denominator)


_SYMBOL = {ast.Add: " + ", ast.Sub: " − ", ast.Mult: " × ", ast.Div: " ÷ "}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}


def render(formula: str, word: Callable[[str], str]) -> str:
    """The formula in words, e.g. ``“双师型”教师数 ÷ 专任教师数 × 100``.

    ``word`` maps an input name (``prev.x`` included) to its text; parentheses are added only
    where precedence needs them.
    """

    def rd(node: ast.AST, parent: int = 0, right: bool = False) -> str:
        if isinstance(node, ast.Expression):
            return rd(node.body)
        if isinstance(node, ast.Constant):
            return f"{node.value:g}" if isinstance(node.value, float) else str(node.value)
        if isinstance(node, ast.Name):
            return word(node.id)
        if isinstance(node, ast.Attribute):
            return word(f"prev.{node.attr}")
        if isinstance(node, ast.UnaryOp):
            return (
                f"−{rd(node.operand, 3)}" if isinstance(node.op, ast.USub) else rd(node.operand, 3)
            )
        if isinstance(node, ast.BinOp):
            p = _PRECEDENCE[type(node.op)]
            text = rd(node.left, p) + _SYMBOL[type(node.op)] + rd(node.right, p, right=True)
            if p < parent or (right and p == parent):
                text = f"（{text}）"
            return text
        raise FormulaError(ast.dump(node)[:60])  # pragma: no cover

    return rd(parse(formula))
