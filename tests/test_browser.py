"""Issues 6 and 12: the reviewers' HTML, opened in a real headless Chromium (Playwright driving
the system's /usr/bin/chromium; no browser download), at 1366 px, 390 px and in print; the
printed PDF read back with poppler (tests/pdf_pages.py).

CI (CI=true) installs Debian's chromium in .ci/run and these tests must run there; on a
developer machine without Chromium they are skipped with that reason.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from helpers.build.core import build
from helpers.build.pdf import BROWSER_FLAGS, PdfUnavailable, page_count, print_pdf
from tests import pdf_pages
from tests.factories import need_chromium, reviewer_text_problems

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def reports(built_reports) -> Path:
    """The bundled school's 2024 and 2023 reports (built once per session)."""
    return built_reports


@pytest.fixture(scope="module")
def browser():
    exe = need_chromium()
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
        '.jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .highlight, pre code, .jp-CodeCell .jp-Cell-inputWrapper')]
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
        return [a.getAttribute('href'), el ? el.tagName : null, !!el && el.getClientRects().length > 0];
    })""")
    # 2024: every section; 2023 (partial data): only the sections its data covers
    assert len(targets) > (40 if year == 2024 else 20)
    assert all(tag in {"H1", "H2", "H3", "H4", "FIGURE"} for _, tag, _ in targets), targets
    assert all(shown for _, _, shown in targets), targets  # each target is on the page
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
    assert page.locator("#nb-tip:visible").count() == 0  # not shown until hovered
    span.hover()
    shown = page.locator("#nb-tip").inner_text()
    assert "105" in shown and "203" in shown and "《2024年度质量报告》第1.1.3节" in shown
    assert span.get_attribute("aria-describedby") == "nb-tip"
    page.mouse.move(0, 0)
    page.keyboard.press("Escape")
    assert page.locator("#nb-tip:visible").count() == 0
    span.focus()  # keyboard users get it too
    shown = page.locator("#nb-tip").inner_text()
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


def test_build_pdf_with_chromium(printed):
    assert page_count(printed[2024]) > 10  # printed by helpers.build.pdf, as build --pdf does


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


# ----------------------------------------------------------------------------- issue 12

SCHOOL = "会昌中等专业学校"
# the width of the printed column: A4 (210 mm) less the 1.8 cm side margins, in CSS px
PRINT_WIDTH = round((210 - 2 * 18) / 25.4 * 96)
VIEWS = {
    "desktop": (1366, 900, "screen"),
    "phone": (390, 844, "screen"),
    "print": (PRINT_WIDTH, 1000, "print"),
}


def open_view(browser, path: Path, view: str):
    width, height, media = VIEWS[view]
    page, problems = open_page(browser, path, width, height)
    page.emulate_media(media=media)
    return page, problems


OVERFLOW_JS = """() => {
  const bad = [];
  const de = document.documentElement;
  if (de.scrollWidth > de.clientWidth) bad.push(['document', de.scrollWidth, de.clientWidth]);
  const main = document.querySelector('main').getBoundingClientRect();
  for (const el of document.querySelectorAll('main *')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || el.clientWidth === 0) continue;
    const clips = ['auto', 'scroll', 'hidden', 'clip'].includes(cs.overflowX);
    if ((clips || el.matches('figure, table, td, th')) && el.scrollWidth > el.clientWidth + 1)
      bad.push([el.tagName, el.id || el.className, cs.overflowX, el.scrollWidth, el.clientWidth]);
    if (el.matches('table, figure, img')) {
      const r = el.getBoundingClientRect();
      if (r.right > main.right + 1 || r.left < main.left - 1)
        bad.push(['outside main', el.tagName, el.id || el.className, r.left, r.right]);
    }
  }
  return bad;
}"""


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("year", [2024, 2023])
def test_nothing_hidden_nothing_clipped(browser, reports, year, view):
    """No scrolling container, no clipped or hidden column, nothing wider than the page: at
    1366 px, at 390 px and in print (表4's seven columns, 数据核验, 指标口径与数据来源)."""
    page, problems = open_view(browser, reports / str(year) / "report.html", view)
    assert page.evaluate(OVERFLOW_JS) == []
    hidden_columns = page.evaluate("""[...document.querySelectorAll('main td, main th')]
        .filter(c => getComputedStyle(c).visibility === 'hidden'
                     || (getComputedStyle(c).display === 'none' && c.tagName === 'TD')).length""")
    assert hidden_columns == 0
    assert problems == []
    page.close()


TIPS_JS = """() => {
  const bad = [];
  const els = [...document.querySelectorAll('main [data-derivation]')];
  const de = document.documentElement;
  for (const el of els) {
    el.scrollIntoView({block: 'center', behavior: 'instant'});
    el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
    const tip = document.getElementById('nb-tip');
    if (!tip || tip.hidden || tip.textContent !== el.getAttribute('data-derivation')) {
      bad.push(['no tooltip', el.textContent]);
      continue;
    }
    const r = tip.getBoundingClientRect();
    const box = el.closest('figure.nb-table');
    const b = box ? box.getBoundingClientRect() : null;
    if (r.left < 0 || r.right > de.clientWidth || r.top < 0 || r.bottom > innerHeight)
      bad.push(['outside the viewport', el.textContent, r.left, r.right, r.top, r.bottom]);
    if (b && (r.left < b.left - 0.5 || r.right > b.right + 0.5))
      bad.push(['outside its table', el.textContent, r.left, r.right, b.left, b.right]);
    if (de.scrollWidth > de.clientWidth) bad.push(['page widened', el.textContent, de.scrollWidth]);
  }
  return [els.length, bad];
}"""


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("year", [2024, 2023])
def test_no_developer_words_in_what_a_reviewer_reads(browser, reports, year, view):
    """Issue 12: the live page (after its script ran: text and every attribute, tooltips
    included) and the text the browser lays out hold no file path, .yaml/.csv, r2024, rule id,
    None/nan or code word (the checker, tests.factories.reviewer_text_problems, is itself
    tested in test_reviewer.py)."""
    page, _ = open_view(browser, reports / str(year) / "report.html", view)
    shown = page.evaluate("() => document.body.innerText")
    problems = reviewer_text_problems(page.content())
    problems += reviewer_text_problems(f"<pre>{html.escape(shown)}</pre>")
    page.close()
    assert problems == [], "\n".join(problems[:20])


@pytest.mark.parametrize("view", ["desktop", "phone"])
@pytest.mark.parametrize("year", [2024, 2023])
def test_every_tooltip_inside_the_viewport_and_its_table(browser, reports, year, view):
    page, _ = open_view(browser, reports / str(year) / "report.html", view)
    count, bad = page.evaluate(TIPS_JS)
    assert count > 100 and bad == []
    # the real mouse on the figure nearest the right edge: the page does not widen (was 1543 px)
    right = page.evaluate("""() => { const els = [...document.querySelectorAll('main [data-derivation]')];
        let best = 0; els.forEach((e, i) => { if (e.getBoundingClientRect().right
            > els[best].getBoundingClientRect().right) best = i; }); return best; }""")
    span = page.locator("main [data-derivation]").nth(right)
    span.scroll_into_view_if_needed()
    span.hover()
    box = page.locator("#nb-tip").bounding_box()
    width = VIEWS[view][0]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()


@pytest.mark.parametrize("year", [2024, 2023])
def test_phone_folds_the_contents_and_does_not_justify(browser, reports, year):
    page, problems = open_view(browser, reports / str(year) / "report.html", "phone")
    fold = page.locator("nav.nb-toc details.nb-toc-fold")
    assert fold.get_attribute("open") is None  # the first screen is the report, not the TOC
    assert page.locator("main").bounding_box()["y"] < 120
    assert page.locator(".nb-title-main").is_visible()
    fold.locator("> summary").click()
    link = page.locator('nav.nb-toc a[href="#s-6-5-1"]')
    assert link.is_visible()
    link.click()  # an entry chosen: the contents fold again and the section shows
    assert fold.get_attribute("open") is None
    page.wait_for_function(
        "() => Math.abs(document.getElementById('s-6-5-1').getBoundingClientRect().top) < 200"
    )
    align = page.evaluate(
        "getComputedStyle(document.querySelector('main p:not([class])')).textAlign"
    )
    assert align in ("left", "start")
    assert problems == []
    page.close()
    page, _ = open_view(browser, reports / str(year) / "report.html", "desktop")
    assert page.locator("nav.nb-toc details.nb-toc-fold").get_attribute("open") == ""
    assert page.locator("nav.nb-toc details.nb-toc-fold > summary").is_hidden()
    align = page.evaluate(
        "getComputedStyle(document.querySelector('main p:not([class])')).textAlign"
    )
    assert align == "justify"
    page.close()


def test_a_wrapped_title_breaks_before_its_year_not_inside_it(browser, reports):
    """A cover title too long for its line keeps its （2024年度） whole on the next line; the
    regional summary's printed cover broke it as "…（2024年" / "度）". The title is given
    exactly the width of "…报告（2024年", where a plain line break falls inside the bracket."""
    narrow = """h => {
      const probe = document.createElement('span');
      probe.style.whiteSpace = 'nowrap';
      probe.textContent = h.textContent.slice(0, -2);
      h.appendChild(probe);
      const w = probe.getBoundingClientRect().width;
      probe.remove();
      h.style.width = (Math.ceil(w) + 1) + 'px';
      h.style.padding = '0';
      const r = document.createRange(); r.selectNodeContents(h);
      return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;
    }"""
    for name in ("report.html", "index.html"):
        page, problems = open_view(browser, reports / "2024" / name, "desktop")
        title = page.locator(".nb-title-main")
        assert title.inner_text() == "中等职业教育质量年度报告（2024年度）"
        assert title.evaluate(narrow) == 2, name
        keep = title.locator(".nb-keep")
        assert keep.inner_text() == "（2024年度）"
        assert keep.evaluate("e => e.getClientRects().length") == 1, name
        assert problems == []
        page.close()


CHART_LABEL_PX = 9 / 72 * 200  # a 9 pt chart label in the 2× PNG (200 px per inch)


@pytest.mark.parametrize("view", ["desktop", "phone"])
def test_chart_labels_legible(browser, reports, view):
    """Charts are 2× PNGs; on a phone the compact drawing is shown, so 9 pt labels come out at
    about 10 px instead of 6 px."""
    page, _ = open_view(browser, reports / "2024" / "report.html", view)
    charts = page.evaluate("""[...document.querySelectorAll('figure.nb-figure img')].map(i => {
        i.scrollIntoView({behavior: 'instant'}); return [i.alt, i.clientWidth, i.naturalWidth, i.currentSrc === i.src]; })""")
    assert len(charts) >= 5
    for alt, shown, natural, main_source in charts:
        assert main_source == (view == "desktop"), alt
        assert CHART_LABEL_PX * shown / natural >= 9, (alt, shown, natural)
    page.close()


def test_index_has_one_contents_and_the_reports_title(browser, reports):
    for year in (2024, 2023):
        index, problems = open_page(browser, reports / str(year) / "index.html")
        report, _ = open_page(browser, reports / str(year) / "report.html")
        assert (
            index.locator("nav.nb-toc").count() == 0 and index.locator("ol.nb-index").count() == 1
        )
        for part in (".nb-title-school", ".nb-title-main", ".nb-title-year", ".nb-title-date"):
            assert index.inner_text(part) == report.inner_text(f"main {part}"), part
        assert re.fullmatch(
            r"编制日期：\d{4}年\d{1,2}月\d{1,2}日", index.inner_text(".nb-title-date")
        )
        links = index.evaluate(
            "[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
        )
        assert "report.html" in links and len(links) >= 3
        for href in links:  # every link of index.html resolves
            file, _, anchor = href.partition("#")
            target = reports / str(year) / file
            assert target.is_file(), href
            if anchor:
                assert f'id="{anchor}"' in target.read_text(encoding="utf-8"), href
        assert problems == []
        index.close()
        report.close()


def _anchors(html: str) -> dict[str, str]:
    """Heading text → anchor of every chapter and section heading (h1–h3) of report.html."""
    from bs4 import BeautifulSoup

    main = BeautifulSoup(html, "html.parser").find("main")
    out = {}
    for h in main.find_all(("h1", "h2", "h3")):
        if "nb-title-main" in (h.get("class") or ()):
            continue  # the cover's title
        text = h.get_text().strip()
        assert h.get("id"), f"heading without anchor: {text}"
        assert text not in out, f"two headings {text}"
        out[text] = h["id"]
    return out


def test_anchors_are_stable_across_years(reports):
    a24 = _anchors((reports / "2024" / "report.html").read_text(encoding="utf-8"))
    a23 = _anchors((reports / "2023" / "report.html").read_text(encoding="utf-8"))
    shared = a24.keys() & a23.keys()
    assert len(shared) >= 10 and {"1. 人才培养", "6.5.1 经费投入", "数据核验"} <= shared
    assert {t: a24[t] for t in shared} == {t: a23[t] for t in shared}
    assert a24["1. 人才培养"] == "ch-1" and a24["6.5.1 经费投入"] == "s-6-5-1"
    assert a24["附表"] == "ch-A" and a24["数据核验"] == a23["数据核验"]
    assert len(set(a24.values())) == len(a24)  # one anchor per heading


# ----------------------------------------------------------------------------- print


@pytest.fixture(scope="module")
def printed(reports) -> dict[int, Path]:
    """Both years printed as `nianbao build --pdf` prints them."""
    need_chromium()
    missing = pdf_pages.missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"poppler-utils is required in CI (.ci/run installs it): {missing}")
        pytest.skip(f"poppler-utils not installed (apt-get install poppler-utils): {missing}")
    return {
        y: print_pdf(reports / str(y) / "report.html", reports / str(y) / "report.pdf")
        for y in (2024, 2023)
    }


HEADINGS = "main h1, main h2, main h3, main h4, main h5, main h6"


def _labels(report: Path, sel: str = HEADINGS + ", figcaption, .nb-photo-missing") -> set[str]:
    """Every heading and caption of the report (what a page must not hold alone)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(report.read_text(encoding="utf-8"), "html.parser")
    return {e.get_text(" ", strip=True) for e in soup.select(sel)}


@pytest.mark.parametrize("year", [2024, 2023])
def test_printed_pages_have_running_header_and_page_number(printed, year):
    pages = pdf_pages.pages(printed[year])
    assert len(pages) > 10
    title = f"中等职业教育质量年度报告（{year}年度）"
    cover, *rest = pages
    assert cover.header == "" and cover.footer == ""  # the cover has neither
    assert SCHOOL in "".join(cover.lines)
    for p in rest:
        assert p.header == SCHOOL + title, p.number
        assert pdf_pages.page_number(p) == p.number, (p.number, p.footer)


@pytest.mark.parametrize("year", [2024, 2023])
def test_no_printed_page_holds_only_a_caption_or_heading(printed, reports, year):
    labels = _labels(reports / str(year) / "report.html")
    pages = pdf_pages.pages(printed[year])
    alone = [(p.number, p.lines) for p in pages if pdf_pages.only_captions_or_headings(p, labels)]
    assert alone == []
    # and the check can fail: a page with a heading alone is caught
    fake = pdf_pages.Page(9, "", "—9—", ("6.5.1经费投入",), 0)
    assert pdf_pages.only_captions_or_headings(fake, labels)


@pytest.mark.parametrize("year", [2024, 2023])
def test_no_printed_page_ends_with_a_heading(printed, reports, year):
    """A heading is printed on the page of its section's first lines, never alone at the foot
    of the page before (it happened when a block with nothing to show sat between them)."""
    heads = {pdf_pages.squeeze(t) for t in _labels(reports / str(year) / "report.html", HEADINGS)}
    pages = pdf_pages.pages(printed[year])
    assert [(p.number, p.lines[-1]) for p in pages if p.lines and p.lines[-1] in heads] == []


def test_build_stamp_is_printed_on_the_cover_not_on_a_page_of_its_own(browser, printed, reports):
    """The build stamp (when, which data) ended the printed report on a page of its own, after
    a full last page; print shows it at the foot of the cover, the screen still at the end."""
    pages = pdf_pages.pages(printed[2024])
    assert "本报告生成于" in "".join(pages[0].lines) and "所用数据版本为" in "".join(pages[0].lines)
    assert [p.number for p in pages[1:] if "本报告生成于" in "".join(p.lines)] == []
    assert len(pages[-1].lines) > 3  # the last page is the report's, not the stamp's
    # its two lines are balanced: no "会变化）。" left alone on the second
    first, last = pages[0].lines[-2:]
    assert "本报告生成于" in first and last.endswith("）。")
    assert len(last) > len(first) / 2, (first, last)
    page, _ = open_page(browser, reports / "2024" / "report.html")
    assert page.locator(".nb-title-stamp").is_hidden()
    assert "本报告生成于" in page.locator("footer.nb-footer").inner_text()
    assert page.locator("footer.nb-footer").is_visible()
    page.close()
    # index.html has no stamp on its cover: printed, it keeps its footer
    page, _ = open_page(browser, reports / "2024" / "index.html")
    page.emulate_media(media="print")
    assert page.locator(".nb-title-stamp").count() == 0
    assert page.locator("footer.nb-footer").is_visible()
    page.close()


def test_printed_contents_give_each_sections_page(printed):
    pages = pdf_pages.pages(printed[2024])
    contents = [ln for p in pages[1:4] for ln in p.lines]
    assert contents[0] == "目录"
    entries = {}
    for line in contents[1:]:
        m = re.fullmatch(r"(.+?)(\d+)", line)
        if m:
            entries[m.group(1)] = int(m.group(2))
    for heading in (
        "1.人才培养",
        "1.1.2学生情况",
        "6.5.1经费投入",
        "数据核验",
        "指标口径与数据来源",
    ):
        number = entries[heading]  # the heading is on the page the contents give
        assert heading in pages[number - 1].lines, (heading, number)
    assert len(entries) >= 40


def test_printed_table_repeats_its_header_on_every_page(printed, reports):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(
        (reports / "2024" / "report.html").read_text(encoding="utf-8"), "html.parser"
    )
    header = "".join(th.get_text() for th in soup.select("#derivation-table thead th"))
    header = pdf_pages.squeeze(header)
    pages = pdf_pages.pages(printed[2024])
    starts = [p.number for p in pages if p.lines and p.lines[0] == header]
    assert len(starts) >= 2  # the table runs over pages, each beginning with its header row


def test_screenshots_for_reviewers(browser, reports, printed):
    """The first screen, one chapter, 数据核验 and two printed pages, for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    for year in (2024, 2023):
        for view in ("desktop", "phone"):
            page, _ = open_view(browser, reports / str(year) / "report.html", view)
            page.screenshot(path=str(ARTIFACTS / f"report-{year}-{view}-first-screen.png"))
            audit = page.locator("#s-数据核验")
            audit.scroll_into_view_if_needed()
            page.evaluate(
                "document.getElementById('s-数据核验').scrollIntoView({behavior: 'instant'})"
            )
            page.screenshot(path=str(ARTIFACTS / f"audit-{year}-{view}.png"))
            page.close()
        page, _ = open_page(browser, reports / str(year) / "01_talent.html", 1366, 900)
        page.screenshot(path=str(ARTIFACTS / f"chapter-01-{year}.png"), full_page=True)
        page.close()
    pages = pdf_pages.pages(printed[2024])
    table4 = next(p.number for p in pages if any(ln.startswith("表4") for ln in p.lines))
    for number, name in ((2, "contents"), (table4, "table4")):
        pdf_pages.save_png(printed[2024], number, ARTIFACTS / f"printed-2024-{name}.png")
    assert (ARTIFACTS / "report-2024-desktop-first-screen.png").stat().st_size > 20_000
    assert (ARTIFACTS / "printed-2024-table4.png").stat().st_size > 20_000
