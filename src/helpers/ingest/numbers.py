"""Numbers as people type them (Excel, YAML by hand): one parser for CSV cells and YAML values.

Habits whose meaning is unambiguous are normalised and named, so the loader can say what it
did: thousands separators (``1,679``), full-width digits and signs (``１６７９``, ``－``, ``．``),
a ``%`` sign in a percent field, surrounding spaces. Anything else is rejected with a message
that names the habit (a comma that is not a thousands separator, scientific notation, an Excel
error value). Non-finite values (``nan``, ``inf``, YAML ``.nan``) are always rejected: a value
the source does not give is left out of the data, never written as nan, blank or 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "．": ".",
        "－": "-",
        "＋": "+",
        "，": ",",
        "％": "%",
    }
)
NON_FINITE = {
    "nan",
    ".nan",
    "inf",
    ".inf",
    "infinity",
    "+inf",
    "+.inf",
    "+infinity",
    "-inf",
    "-.inf",
    "-infinity",
    "-nan",
    "+nan",
}
EXCEL_ERRORS = {"#div/0!", "#n/a", "#num!", "#value!", "#ref!", "#name?", "#null!"}
_PLAIN = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_SCIENTIFIC = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")

# the habits, as messages name them
SPACES = "首尾空格"
FULL_WIDTH_DIGITS = "全角数字或符号"
THOUSANDS = "千位分隔符"
PERCENT_SIGN = "百分号 %"


@dataclass(frozen=True)
class Parsed:
    """The outcome of parsing one value: a number (with the habits normalised) or a rejection."""

    value: float | None
    text: str | None = None  # the value as plain ASCII digits, e.g. "1679" for "1,679"
    habits: tuple[str, ...] = ()
    rule: str | None = None
    message: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.rule is None

    @property
    def severity(self) -> str:
        """A normalisation is "info" when only spaces were trimmed, else a "warning"."""
        return "info" if self.habits == (SPACES,) else "warning"

    def note(self) -> str:
        """The message of a normalisation: which habits, and what the value was read as."""
        return f"数值写法已规范化（{'、'.join(self.habits)}），读作 {self.text}"


def _reject(rule: str, message: str, hint: str | None = None) -> Parsed:
    return Parsed(None, rule=rule, message=message, hint=hint)


def non_finite() -> Parsed:
    return _reject(
        "non_finite",
        "数值不能是 nan 或 inf（不是有限的数）",
        "原文未给出的数请删去（不写 nan，也不记 0）",
    )


def empty() -> Parsed:
    return _reject(
        "empty_value",
        "数值为空",
        "原文未给出的数请删去（不留空，也不记 0）",
    )


def parse_number(
    raw: str | int | float, kind: str, *, percent_ok: bool = False, noun: str = "此列"
) -> Parsed:
    """Parse a value typed by a person into a finite number of field type ``kind``.

    ``kind`` is the data dictionary type (integer, number, percent, decimal); ``percent_ok``
    allows a trailing ``%`` (the field's unit is already %); ``noun`` is how messages name the
    place ("此列" for a CSV column, "此项" for a YAML fact).
    """
    if isinstance(raw, bool):
        return _reject("not_a_number", "应为数字")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            return non_finite()
        return _integral(float(raw), repr(raw), (), kind, noun)
    habits: list[str] = []
    s = raw.strip()
    if s != raw:
        habits.append(SPACES)
    if not s:
        return empty()
    wide = s.translate(FULL_WIDTH)
    if wide != s:
        habits.append(FULL_WIDTH_DIGITS)
        s = wide.strip()
    low = s.lower()
    if low in NON_FINITE:
        return non_finite()
    if low in EXCEL_ERRORS:
        return _reject(
            "excel_error",
            f"单元格是 Excel 的错误值 {s}，不是数值",
            "请在 Excel 中修正公式，或填写原文给出的数值",
        )
    if s.endswith("%"):
        if not percent_ok:
            return _reject(
                "percent_sign", f"{noun}不是百分比，数值不能带 % 号", "请写出原文的数值本身"
            )
        habits.append(PERCENT_SIGN)
        s = s[:-1].rstrip()
    if "," in s:
        if not _THOUSANDS.fullmatch(s):
            return _reject(
                "thousands_separator",
                "数值中的逗号不是规范的千位分隔符（应每三位一个），无法确定数值",
                "请去掉逗号写出完整数字，如 1679；小数点请用“.”",
            )
        habits.append(THOUSANDS)
        s = s.replace(",", "")
    if _SCIENTIFIC.fullmatch(s):
        return _reject(
            "scientific_notation",
            "数值写成了科学计数法（Excel 列宽不足时的显示），可能已丢失位数",
            "请把单元格格式设为“数值”后重新导出，或写出完整数字",
        )
    if not _PLAIN.fullmatch(s):
        return _reject("not_a_number", _text_message(kind, noun))
    return _integral(float(s), s, tuple(habits), kind, noun)


def _integral(value: float, text: str, habits: tuple[str, ...], kind: str, noun: str) -> Parsed:
    if kind == "integer" and value != int(value):
        return _reject("not_an_integer", f"{noun}应为整数（计数），却填写了小数")
    return Parsed(value, text, habits)


def _text_message(kind: str, noun: str) -> str:
    return (
        f"{noun}应为数字（计数），却填写了文字"
        if kind == "integer"
        else f"{noun}应为数字，却填写了文字"
    )
