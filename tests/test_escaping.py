"""Report HTML is built by autoescaping Jinja templates: data text never becomes markup.

A case whose prose contains ``<script>`` and ``&``, a report.yaml-style sentence with them, and
a fact whose provenance contains ``<b>`` (shown in the figure's tooltip) all reach the page as
text; the sentence syntax is Jinja's, with unknown names an error that names them.
"""

from __future__ import annotations

import html
import re

import pytest
from bs4 import BeautifulSoup

from helpers.report import markup, render, textgen
from helpers.report.api import open_report
from helpers.specs import sentences
from tests.factories import edit

SCRIPT = "<script>alert(1)</script> & 校企"


def test_case_prose_with_script_and_ampersand_shows_as_text(raw_copy, year2024):
    case = year2024 / "text" / "case01.md"
    case.write_text(case.read_text(encoding="utf-8") + f"\n{SCRIPT}\n", encoding="utf-8")
    page = open_report("huichang", 2024, raw_copy).section("1.2.1").html
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 校企" in page
    assert SCRIPT in BeautifulSoup(page, "html.parser").get_text()
    # the figure of the same prose is still a figure, with its derivation
    assert 'class="nb-num"' in page


def test_sentence_template_escapes_its_text_not_its_figures():
    rep = open_report("huichang", 2024)
    out = textgen.template("<b>全日制</b> & 在校生 {{ students_full_time }}。", rep)
    soup = BeautifulSoup(out, "html.parser")
    assert soup.find("b") is None and soup.get_text().startswith("<b>全日制</b> & 在校生 3088")
    assert soup.find("span", class_="nb-num").get_text() == "3088 人"


def test_fact_provenance_with_markup_is_escaped_in_the_tooltip(raw_copy, year2024):
    edit(
        year2024 / "facts.yaml",
        "    period: 2023-2024学年",
        '    period: 2023-2024学年\n    doc: "<b>年报</b> & 附件"',
    )
    rep = open_report("huichang", 2024, raw_copy)
    out, filled, missing = textgen.fill("在校生 {{ students_full_time }}", rep)
    assert (filled, missing) == (1, 0)
    span = BeautifulSoup(out, "html.parser").find("span", class_="nb-num")
    assert span.find("b") is None
    assert "《<b>年报</b> & 附件》第1.1.2节" in span["title"] == span["data-derivation"]
    assert "&lt;b&gt;年报&lt;/b&gt; &amp; 附件" in out and "<b>" not in out


def test_markup_pieces_escape_text_arguments():
    assert markup.heading(2, "A & <i>B</i>") == "<h2>A &amp; &lt;i&gt;B&lt;/i&gt;</h2>"
    cell = markup.num("1<2", 'x"<b>')
    assert cell.count("x&#34;&lt;b&gt;") == 2 and ">1&lt;2</span>" in cell
    t = markup.table(1, "T<", ["h&"], [[markup.esc("<c>")]], note="n<")
    assert "<c>" not in t and "表1 T&lt;" in t and "h&amp;" in t and "n&lt;" in t
    assert markup.photo('a"<img>') == (
        '<p class="nb-photo-missing"><span class="nb-photo-label">'
        f"{markup.PHOTO_NOT_INCLUDED}</span>a&#34;&lt;img&gt;</p>"
    )


def test_page_templates_escape_school_name_and_footer():
    page = render.index_page(
        [("01_talent.html", "1. <人才> & 培养"), (None, "2. 服务")],
        school_name="<script>x</script>",
        year=2024,
        footer="a & <b>",
        built_at="2024-05-01T00:00:00",
    )
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find("script") is None and soup.find("b") is None
    assert soup.find("div", class_="nb-title-school").get_text() == "<script>x</script>"
    assert soup.find("footer").get_text() == "a & <b>"
    links = re.findall(r'<li class="nb-toc-1"><a href="([^"]+)">(.*?)</a>', page)
    assert links[0] == ("01_talent.html", html.escape("1. <人才> & 培养", quote=False))
    assert "2. 服务（尚未生成）" in soup.find("ol", class_="nb-index").get_text()


def test_unknown_name_is_an_error_naming_it():
    rep = open_report("huichang", 2024)
    with pytest.raises(KeyError, match="nosuch"):
        textgen.fill("甲 {{ nosuch }}", rep)
    with pytest.raises(KeyError, match="nosuch"):
        textgen.fill("甲 {{ prev.nosuch }}", rep)


def test_placeholders_are_read_by_jinjas_parser():
    found = sentences.placeholders("甲 {{ a }}\n乙 {{ prev.b | change }}{{ table.t }}")
    assert [(p.name, p.filter, p.line) for p in found] == [
        ("a", None, 1),
        ("prev.b", "change", 2),
        ("table.t", None, 2),
    ]
    assert found[1].source == "{{ prev.b | change }}"
    with pytest.raises(sentences.TemplateError) as e:
        sentences.placeholders("一\n二 {{ a + 1 }}")
    assert e.value.line == 2
    with pytest.raises(sentences.TemplateError):
        sentences.placeholders("{{ a ")
