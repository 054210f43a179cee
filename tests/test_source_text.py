"""Issues 9 and 10: the bundled 2024 report keeps the school's own report, sentence by sentence.

The seed (the school's 2024 report as text) is walked from 前言 to 面临挑战: every heading,
sentence, photo caption, chart and table must be found in the built report.html, in the
source's order, after the normalisation described in tests/source_match.py (numbers by
value, disclosed corrections only as the audit lists them, punctuation and whitespace,
表N/图N renumbered by the report). Exceptions are data (tests/data/sentence_exceptions.yaml),
each with its reason; an exception no longer needed fails the test too.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from helpers.indicators.audit import report_findings
from helpers.report.api import open_report
from tests.factories import SEED
from tests.report_text import blocks, prose
from tests.seed_text import units
from tests.source_match import NUM, PHOTO, Corpus, Matcher, audit_lists, decimals, same_value

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),  # shares the session's build with the browser tests
    pytest.mark.skipif(not SEED.exists(), reason="the seed report is in ../shared"),
]
EXCEPTIONS = Path(__file__).parent / "data" / "sentence_exceptions.yaml"
# The source's own tables and charts, by their number in the source → the report's block ids
# (the report numbers its own 表N / 图N; photos of the source are not charts).
SOURCE_IDS = {
    "table": {1: "satisfaction", 2: "employment", 3: "sectors", 4: "funding"},
    "figure": {1: "enrollment_graduates", 2: "dual_structure", 11: "destinations", 12: "awards"},
}


@pytest.fixture(scope="module")
def report_2024(built_reports) -> list:
    return blocks((built_reports / "2024" / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report_2023(built_reports) -> list:
    return blocks((built_reports / "2023" / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def findings():
    return report_findings(open_report("huichang", 2024).sy)


def exceptions() -> list[dict]:
    items = yaml.safe_load(EXCEPTIONS.read_text(encoding="utf-8")) or []
    for e in items:
        assert set(e) == {"text", "reason"} and e["reason"].strip(), e
    return items


def test_seed_walk_finds_the_whole_body():
    """The seed parser itself: it must see the parts a reviewer would compare."""
    u = units()
    kinds = {k: [x for x in u if x.kind == k] for k in ("heading", "sentence", "caption", "table")}
    assert [x.text for x in kinds["heading"][:4]] == [
        "前言",
        "一、编制目的",
        "二、编制过程",
        "三、年度特点及亮点",
    ]
    assert kinds["heading"][-1].text == "挑战 4："
    assert [t.number for t in kinds["table"]] == [1, 2, 3, 4]
    assert [c.number for c in kinds["caption"]] == list(range(1, 42))
    assert len(kinds["sentence"]) > 280
    # lines joined across wraps and a page break (举 / 办了…) before splitting
    assert any(s.text.startswith("举办了职业教育活动月、毕业作品展") for s in kinds["sentence"])
    assert not any("— 25 —" in s.text or "报告（2024 年度）" in s.text for s in kinds["sentence"])


def test_every_source_sentence_is_in_the_2024_report(report_2024, findings):
    rep = open_report("huichang", 2024)
    matcher = Matcher(Corpus(report_2024), findings, rep.numbers, SOURCE_IDS)
    allowed = exceptions()
    used = set()
    missing, corrections = [], []
    for unit in units():
        result = matcher.find(unit)
        if result.ok:
            corrections += [f"{unit.section}: {c}" for c in result.corrections]
            continue
        hit = [i for i, e in enumerate(allowed) if e["text"] in unit.text]
        if hit:
            used.update(hit)
            continue
        missing.append(f"{unit}\n    → {result.why}")
    print("\n".join(["disclosed corrections accepted:", *corrections]))
    assert not missing, f"{len(missing)} 处原文在报告中找不到：\n" + "\n".join(missing)
    unused = [e["text"] for i, e in enumerate(allowed) if i not in used]
    assert not unused, f"例外清单中不再需要的条目：{unused}"
    assert len(allowed) <= 5


def test_photo_captions_are_shown_and_not_numbered(report_2024):
    captions = [u for u in units() if u.kind == "caption" and u.number not in SOURCE_IDS["figure"]]
    shown = [b.text for b in report_2024 if "nb-photo-missing" in b.classes]
    assert len(captions) == 37 and len(shown) == 37
    assert all(s.startswith(PHOTO) for s in shown)
    assert shown[0] == PHOTO + "拟获 2024 年江西省“红色基因传承示范校”"
    assert PHOTO + "学校教师定期赴深圳二职跟岗学习" in shown and PHOTO + "加入省电商协会" in shown
    # the report's own charts stay numbered 图1… in order; photos take no number
    figs = [
        int(m)
        for b in report_2024
        for m in re.findall(r"^图(\d+) ", b.text)
        if b.tag == "figcaption"
    ]
    assert figs == list(range(1, len(figs) + 1)) and len(figs) == 6
    tabs = [
        int(m)
        for b in report_2024
        for m in re.findall(r"^表(\d+) ", b.text)
        if b.tag == "figcaption"
    ]
    assert tabs == list(range(1, len(tabs) + 1)) and len(tabs) == 5


def _report_numbers(bs) -> list[str]:
    """Numbers the report shows up to its 数据核验 appendix (which quotes the source's own
    figures, so searching it would find every printed number); disclosures left out."""
    out = []
    for b in bs:
        if b.heading and b.text.strip() == "数据核验":
            break
        out += [t.replace(",", "") for t in NUM.findall(b.text)]
    return out


def _source_numbers():
    """(token, 万?, context) of every number in the seed's body text and tables."""
    out = []
    for u in units():
        if u.kind == "heading":
            continue
        text = u.body if u.kind == "table" else u.text
        for m in NUM.finditer(text):
            before = text[: m.start()].rstrip()
            if u.kind != "table" and re.search(r"(图|表|案例|挑战)$", before):
                continue  # a reference to a figure or table, renumbered by the report
            wan = text[m.end() :].lstrip().startswith("万")
            out.append(
                (m.group(0), wan, f"{u.section}：…{text[max(0, m.start() - 12) : m.end() + 6]}…")
            )
    return out


def test_the_seeds_numbers_reach_the_2024_report(report_2024, findings):
    values = _report_numbers(report_2024)
    missing, corrected = [], []
    source = _source_numbers()
    assert len(source) > 200
    for tok, wan, ctx in source:
        cands = [tok]
        if wan:
            cands.append(str(Decimal(tok) * 10000))
        if any(same_value(c, v) for c in cands for v in values):
            continue
        reason = next(
            (
                f.message
                for f in findings
                if f.rule in ("published_mismatch", "conflicting_fact")
                and any(
                    same_value(tok, t) and decimals(t) == decimals(tok)
                    for r in f.facts
                    for t in NUM.findall(r.value)
                )
            ),
            None,
        )
        if reason is None:
            missing.append(ctx)
        else:
            corrected.append(f"{tok}（{ctx}）：{reason}")
    print("\n".join(["numbers of the source the report corrects:", *corrected]))
    assert not missing, missing
    assert audit_lists(findings, "15.44", "15.21")  # the helper sees the known correction


@pytest.mark.parametrize("year", [2024, 2023])
def test_no_placeholder_in_running_prose(year, report_2024, report_2023):
    bs = report_2024 if year == 2024 else report_2023
    bad = []
    for b in bs:
        if not prose(b):
            continue
        text = " ".join(b.text.split())
        placeholder = (
            "nb-missing" in b.spans  # a figure rendered as 未填报
            or "暂无" in text
            or re.search(r"(?<![—\d])—(?![—\d])", text)  # a lone dash, not —— or 2023—2024
            or ("nb-prose" in b.classes and "未填报" in text)
        )
        if placeholder:
            bad.append(text)
    assert not bad, bad
    # the check saw the prose: 2024 has the school's text; 2023, generated sentences only
    # (its sections without data are left out of the page)
    assert sum(prose(b) for b in bs) > (120 if year == 2024 else 8)
