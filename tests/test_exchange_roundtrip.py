"""Round trip through the school workbook: the bundled 2024 data exported to xlsx and imported
into a copy from which that year's facts, tables and meta were removed (its text/ stays)
builds the same report.

What may differ, and only that: the build time and the footer's data version (a checksum of
the raw files, which are written anew from the workbook). Everything else of the visible text
is compared, the reviewer's provenance (source document and section) included.
"""

from __future__ import annotations

import re

import pytest

from helpers.build.core import build
from helpers.exchange.apply import import_xlsx
from helpers.exchange.export_xlsx import export_xlsx
from tests.factories import BUNDLED, copy_school, visible

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

_LOCATIONS = [
    # the build time, in the footer and on the cover (北京时间)
    (re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"), "<time>"),
    # the footer's data version: a checksum of the raw files, rewritten from the workbook
    (re.compile(r"所用数据版本为 [0-9a-f]{8}"), "所用数据版本为 #"),
]


def normalised(html: str) -> str:
    text = visible(html)
    for pattern, repl in _LOCATIONS:
        text = pattern.sub(repl, text)
    return text


def test_round_trip_through_the_workbook_builds_the_same_report(built_reports, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    copy_school(raw, BUNDLED)
    book = export_xlsx(BUNDLED, 2024, tmp_path / "huichang-2024.xlsx", raw)
    folder = raw / BUNDLED / "2024"
    for p in [*folder.glob("*.csv"), folder / "facts.yaml", folder / "meta.yaml"]:
        p.unlink()
    assert sorted(p.name for p in folder.iterdir()) == ["text"]
    result = import_xlsx(book, BUNDLED, 2024, raw)
    assert result.ok, result.problems
    out = tmp_path / "reports"
    built = build(schools=[BUNDLED], years=[2024], data_dir=raw, out_dir=out, jobs=2)
    assert built.ok, [c.error for c in built.failed]
    before = normalised((built_reports / "2024" / "report.html").read_text(encoding="utf-8"))
    after = normalised((out / BUNDLED / "2024" / "report.html").read_text(encoding="utf-8"))
    assert len(after) > 50_000  # the whole report, not an error page
    if after != before:
        i = next((i for i, (a, b) in enumerate(zip(after, before, strict=False)) if a != b), 0)
        pytest.fail(
            f"差异：原报告 …{before[i - 300 : i + 300]}… 往返后 …{after[i - 300 : i + 300]}…"
        )
    # the provenance the reviewer reads still cites the source document and section
    assert "《2024年度质量报告》第1.1.2节" in after
