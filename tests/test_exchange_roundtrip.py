"""Round trip through the school workbook: the bundled 2024 data exported to xlsx and imported
into a copy from which that year's facts, tables and meta were removed (its text/ stays)
builds the same report.

What may differ, and only that: the build time, the path of the data folder, the line numbers
of values in the rewritten raw files (``facts.yaml:11``, ``published.csv 第 2 行``), which the
数据核验 appendix cites as provenance, and the footer's fingerprint of those files: the files
are written anew from the workbook. Everything else of the visible text is compared.
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
    (
        re.compile(r"(?:[A-Za-z0-9_.-]+/)*huichang/(\d{4})/([a-z_]+\.(?:yaml|csv))(?::\d+)?"),
        r"\2@\1",
    ),
    (re.compile(r"([a-z_]+\.csv) 第 \d+ 行"), r"\1 第 # 行"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?"), "<time>"),
    (re.compile(r"\d{4} 年 \d{1,2} 月 \d{1,2} 日 \d{2}:\d{2}"), "<time>"),
    # the footer's fingerprint of the raw files (rewritten) and the commit of the checkout
    (re.compile(r"数据指纹 [0-9a-f]+"), "数据指纹 #"),
    (re.compile(r"git [0-9a-f]{7,40}(\+dirty|（有未提交修改）)?"), "git #"),
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
    # the provenance the appendix prints still cites the source sections
    assert "r2024 §1.1.2（facts.yaml@2024）" in after
