"""Numbers as Chinese reports print them.

The rules, in one place (generated text and tables alike):

- half-up rounding (never banker's rounding), applied only at display;
- decimals only where they carry information: percentages and money to two decimals, but a
  whole number without them (``100%``, ``2000 元/生·年``, not ``100.00%``);
- ratios (生师比) as ``15.21:1``, students first, as the measure's name reads;
- amounts the source prints in 万 (fields.yaml ``wan``) in 万: ``713.475 万元``;
- no thousands separators, in text or tables (``25901641.90 元``);
- one space between a number and its unit or adjacent Chinese text (``共 9 个专业``), none
  before ``%`` or inside a ratio (:func:`helpers.report.textgen.autospace` applies it where
  a figure meets a template's text);
- a missing value is written 未填报, never NaN or None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

MISSING = "未填报"


def is_missing(value: object) -> bool:
    """True for None, NaN and pandas NA."""
    if value is None:
        return True
    try:
        return bool(math.isnan(value))  # type: ignore[arg-type]
    except TypeError:
        return value is getattr(__import__("pandas"), "NA", object())


def round_half_up(value: float | Decimal, decimals: int = 0) -> Decimal:
    """Round half away from zero at ``decimals`` places, on the shortest decimal repr.

    ``repr`` gives the shortest string that round-trips (0.145 → '0.145'), so a figure a person
    typed as 0.145 rounds to 0.15 as on paper, not to 0.14 as binary floating point would.
    """
    quantum = Decimal(1).scaleb(-decimals)
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(quantum, rounding=ROUND_HALF_UP)


def number(
    value: float | None, decimals: int = 0, thousands: bool = False, trim: bool = True
) -> str:
    """A number with fixed decimals, half-up; 未填报 when missing.

    ``trim``: a whole number drops its zeros (100.00 → 100), as running text writes it. A
    table cell keeps them (``trim=False``), so that every figure of a column or row has the
    same decimals and ``20`` never stands among ``18.23`` and ``23.01``.
    """
    if is_missing(value):
        return MISSING
    d = round_half_up(value, decimals)
    if d == 0:
        d = abs(d)  # no "-0.00"
    if trim and decimals > 0 and d == d.to_integral_value():
        decimals = 0  # 100.00 → 100: zeros that carry no information in a sentence
    return f"{d:,.{decimals}f}" if thousands else f"{d:.{decimals}f}"


def percent(value: float | None, decimals: int = 2, trim: bool = True) -> str:
    """``51.72%``."""
    return MISSING if is_missing(value) else f"{number(value, decimals, trim=trim)}%"


def ratio(value: float | None, decimals: int = 2, trim: bool = True) -> str:
    """A students-per-teacher ratio (生师比) printed ``15.21:1``."""
    return MISSING if is_missing(value) else f"{number(value, decimals, trim=trim)}:1"


def ratio_teacher_first(value: float | None, decimals: int = 2) -> str:
    """The same ratio as 师生比 reads (teachers first), ``1:15.21``: only where the school's
    own prose calls it 师生比 (placeholder filter ``师生比``)."""
    return MISSING if is_missing(value) else f"1:{number(value, decimals)}"


def with_unit(
    value: float | None, unit: str, decimals: int = 0, thousands: bool = False, trim: bool = True
) -> str:
    """Value and unit as in running text: ``203 人``, ``51.72%``, ``1:15.21``, ``6077.36 元/生``
    (``trim``: as :func:`number`)."""
    if is_missing(value):
        return MISSING
    if unit == "%":
        return percent(value, decimals, trim)
    if unit == "ratio":
        return ratio(value, decimals, trim)
    return f"{number(value, decimals, thousands, trim)} {unit}".rstrip()


def wan_number(value: float, decimals: int | None = None) -> str:
    """The number of 万 (ten thousands): ``713.475``; trailing zeros dropped unless decimals
    are given."""
    scaled = Decimal(repr(float(value))) / Decimal(10000)
    if decimals is None:
        return format(scaled.normalize(), "f")
    return f"{round_half_up(float(scaled), decimals):.{decimals}f}"


def wan(value: float | None, unit: str, decimals: int | None = None) -> str:
    """Value in 万 (ten thousands): ``4195.2 万元``; trailing zeros dropped unless decimals given."""
    if is_missing(value):
        return MISSING
    return f"{wan_number(float(value), decimals)} 万{unit}"


_WORDS_FIRST = re.compile(r"^[^\d]*[\u4e00-\u9fff]")  # "师生比 1:15.44", not "36册/生"


def words_first(text: str) -> bool:
    """Whether a printed figure begins with its own words (``师生比 1:15.44``, not ``36册/生``)."""
    return _WORDS_FIRST.match(text) is not None


def printed_as(printed: str | Sequence[str], verb: str = "印为") -> str:
    """What a source printed, after ``verb``: ``印为 15.44``, ``印为 99.85%、99.85``, but
    ``印为“师生比 1:15.44”`` when the printed text begins with its own words, so that two
    Chinese words never meet across a space (one wording for the text and the audit)."""
    items = [printed] if isinstance(printed, str) else list(printed)
    shown = "、".join(f"“{t}”" if words_first(t) else t for t in items)
    return f"{verb}{shown}" if shown.startswith("“") else f"{verb} {shown}"


def decimals_for(value: float) -> int:
    """Decimals needed to show a stored raw value as typed (25901641.9 → 1, 203 → 0).

    Validation keeps nan and inf out of the data; should one arrive anyway it needs none.
    """
    if not math.isfinite(value):
        return 0
    text = repr(float(value))
    if "e" in text or text.endswith(".0"):
        return 0
    return len(text.split(".")[1])


def school_year(year: int) -> str:
    """The 学年 a report year covers, as meta.yaml states it: 2024 → ``2023-2024学年``."""
    return f"{int(year) - 1}-{int(year)}学年"


BEIJING = timezone(timedelta(hours=8))  # China Standard Time, no daylight saving


def beijing_time(iso: str | None, zone: bool = True) -> str:
    """An ISO timestamp as a reader writes it, in 北京时间: ``2026年12月2日 11:22（北京时间）``
    (without ``zone``: the time alone). A time without a zone is read as UTC; an empty or
    unreadable value gives ""."""
    try:
        t = datetime.fromisoformat(str(iso))
    except (TypeError, ValueError):
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    t = t.astimezone(BEIJING)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}" + ("（北京时间）" if zone else "")
