"""Issue 6: the reviewers' HTML, opened in a real headless Chromium (Playwright driving the
system's /usr/bin/chromium; no browser download).

CI (CI=true) installs Debian's chromium in .ci/run and these tests must run there; on a
developer machine without Chromium they are skipped with that reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers.build.core import build
from helpers.build.pdf import BROWSER_FLAGS, PdfUnavailable, find_chromium, page_count, print_pdf

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def _need_chromium() -> str:
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium); CI runs these tests")
    return exe


@pytest.fixture(scope="module")
def reports(built_reports) -> Path:
    """The bundled school's 2024 and 2023 reports (built once per session)."""
    return built_reports


@pytest.fixture(scope="module")
def browser():
    exe = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=list(BROWSER_FLAGS))
        yield b
        b.close()


def open_page(browser, path: Path, width: int = 1400, height: int = 1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


@pytest.mark.parametrize("year", [2024, 2023])
@pytest.mark.parametrize(
    "name", ["report.html", "index.html", "01_talent.html", "08_appendix.html"]
)
def test_page_loads_cleanly(browser, reports, year, name):
    page, problems = open_page(browser, reports / str(year) / name)
    assert problems == []
    broken = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)"
    )
    assert broken == []
    # nothing of code or prompts visible, nothing of the parameters anywhere in the markup
    visible_code = page.evaluate("""[...document.querySelectorAll(
        '.jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .highlight, pre code, .jp-Cell-inputWrapper')]
        .filter(e => e.offsetParent !== null).length""")
    assert visible_code == 0
    markup = page.content()
    for leak in (
        "injected-parameters",
        "school_id =",
        "data_dir =",
        "open_report(",
        "rep.section(",
    ):
        assert leak not in markup
    assert re.search(r"\b(nan|NaN|None)\b", page.inner_text("body")) is None
    page.close()


@pytest.mark.parametrize("year", [2024, 2023])
def test_every_toc_link_lands_on_a_heading(browser, reports, year):
    page, problems = open_page(browser, reports / str(year) / "report.html")
    targets = page.evaluate("""[...document.querySelectorAll('nav.nb-toc a[href^="#"]')].map(a => {
        const el = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
        return [a.getAttribute('href'), el ? el.tagName : null];
    })""")
    # 2024: every section; 2023 (partial data): only the sections its data covers
    assert len(targets) > (40 if year == 2024 else 20)
    assert all(tag in {"H1", "H2", "H3", "H4", "FIGURE"} for _, tag in targets), targets
    # clicking an entry scrolls its heading into view
    page.click('nav.nb-toc a[href="#s-6-5-1"]')  # 经费投入: in both years' data
    page.wait_for_function(
        "() => Math.abs(document.getElementById('s-6-5-1').getBoundingClientRect().top) < 200",
        timeout=5000,
    )
    assert problems == []
    page.close()


def test_derivation_of_dual_qualified_share_on_hover_and_focus(browser, reports):
    page, _ = open_page(browser, reports / "2024" / "report.html")
    span = page.locator("#ch-01_talent .nb-num", has_text="51.72%").first
    span.scroll_into_view_if_needed()
    hidden = page.evaluate("e => getComputedStyle(e, '::after').content", span.element_handle())
    assert hidden in ("none", "normal", "")  # not shown until hovered
    span.hover()
    shown = page.evaluate("e => getComputedStyle(e, '::after').content", span.element_handle())
    assert "105" in shown and "203" in shown and "《2024年度质量报告》第1.1.3节" in shown
    page.mouse.move(0, 0)
    span.focus()  # keyboard users get it too
    shown = page.evaluate("e => getComputedStyle(e, '::after').content", span.element_handle())
    assert "105" in shown and "203" in shown
    page.close()


def test_print_to_pdf_has_pages(browser, reports):
    page, _ = open_page(browser, reports / "2024" / "report.html")
    pdf = page.pdf(format="A4")
    path = reports / "2024" / "playwright.pdf"
    path.write_bytes(pdf)
    assert page_count(path) > 10
    nav_printed = page.evaluate("""() => { const s = [...document.styleSheets].flatMap(x => [...x.cssRules])
        .filter(r => r.media && r.media.mediaText === 'print').map(r => r.cssText).join(' ');
        return s.includes('.nb-toc') && s.includes('display: none'); }""")
    assert nav_printed  # the sidebar is hidden in print
    page.close()


def test_build_pdf_with_chromium(reports):
    _need_chromium()
    pdf = print_pdf(reports / "2024" / "report.html", reports / "2024" / "report.pdf")
    assert page_count(pdf) > 10


def test_pdf_without_chromium_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("NIANBAO_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(PdfUnavailable, match="apt-get install chromium"):
        print_pdf(tmp_path / "report.html", tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_narrow_screen_puts_the_toc_on_top(browser, reports):
    page, _ = open_page(browser, reports / "2024" / "01_talent.html", width=480, height=900)
    nav = page.locator("nav.nb-toc").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav["y"] + nav["height"] <= main["y"] + 1 and nav["width"] > 400
    page.close()


def test_screenshots_for_reviewers(browser, reports):
    ARTIFACTS.mkdir(exist_ok=True)
    for year in (2024, 2023):
        page, _ = open_page(browser, reports / str(year) / "report.html")
        page.screenshot(path=str(ARTIFACTS / f"report-{year}-first-screen.png"))
        page.close()
        page, _ = open_page(browser, reports / str(year) / "01_talent.html")
        page.screenshot(path=str(ARTIFACTS / f"chapter-01-{year}.png"), full_page=True)
        page.close()
    assert (ARTIFACTS / "report-2024-first-screen.png").stat().st_size > 20_000


def test_report_is_one_file_under_10_mb_and_offline(reports):
    html = (reports / "2024" / "report.html").read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 10 * 1024 * 1024
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from the network
    assert 'src: url("data:font/otf;base64,' in html  # the CJK font travels with the file
    assert html.count("data:image/png;base64,") >= 6


def test_script_in_a_case_study_shows_as_text(browser, raw_copy, tmp_path):
    case = raw_copy / "huichang" / "2024" / "text" / "case01.md"
    case.write_text(
        case.read_text(encoding="utf-8") + "\n<script>window.__pwned = 1</script>\n",
        encoding="utf-8",
    )
    result = build(
        schools=["huichang"],
        years=[2024],
        chapters=["01_talent"],
        data_dir=raw_copy,
        out_dir=tmp_path / "out",
        jobs=1,
    )
    assert result.ok
    page, problems = open_page(browser, tmp_path / "out" / "huichang" / "2024" / "01_talent.html")
    assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned = 1</script>" in page.inner_text("#case-1 ~ .nb-prose, .nb-case")
    assert problems == []
    page.close()


def test_overview_lists_every_built_report(browser, reports):
    overview = reports.parent / "index.html"
    page, problems = open_page(browser, overview)
    links = page.evaluate(
        "[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
    )
    assert links == ["huichang/2024/index.html", "huichang/2023/index.html"]
    assert "会昌中等专业学校" in page.inner_text("body") and problems == []
    page.close()
