"""Issue 9: the school's prose comes first; generated sentences fill in only what it lacks.

Fast tests without a kernel: templates without missing clauses, the rule that leaves out a
generated block the prose already gives, placeholders that read other years or the report's
numbering, charts and tables placed in prose, photo captions and photo files.
"""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from helpers.indicators.processed import process
from helpers.report import markup, textgen
from helpers.report.api import open_report
from tests.factories import append, edit, load_errors, only

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def visible(html: str) -> str:
    html = re.sub(r'<span class="nb-disclosure">.*?</span>', "", html)
    return re.sub(r"<[^>]+>", "", html)


def test_clauses_split_only_at_the_top_level():
    assert textgen.clauses("甲 {{ a }}（口径：x，y；z），乙 {{ b }}；丙") == [
        ("甲 {{ a }}（口径：x，y；z）", "，"),
        ("乙 {{ b }}", "；"),
        ("丙", ""),
    ]


def test_template_leaves_out_clauses_with_missing_figures():
    rep = open_report("huichang", 2023)
    # 2023 has 生均仪器 and 工位 (published) but no book counts
    t = "{{ year }} 年生均教学科研仪器设备值 {{ equipment_per_student }}；生均校内实践教学工位数 {{ practice_stations_per_student }}；藏有纸质图书 {{ books_print }}，新增电子图书 {{ ebooks_new }}，生均纸质图书 {{ books_per_student }}。"
    html = textgen.template(t, rep)
    assert (
        visible(html)
        == "2023 年生均教学科研仪器设备值 9278.19 元/生；生均校内实践教学工位数 1.23 个/生。"
    )
    assert "nb-missing" not in html
    # 447 / 911 = 49.07%; the four 其中 counts are not on file for 2023
    t = "{{ year }} 年毕业生升学 {{ further_study }}，占毕业生总数的 {{ further_study_rate }}；其中通过贯通培养升学 {{ further_study_through }}，通过职教高考升学 {{ further_study_exam }}。"
    assert visible(textgen.template(t, rep)) == "2023 年毕业生升学 447 人，占毕业生总数的 49.07%。"
    # a dropped clause keeps the stronger break before the next one
    t = "{{ year }} 年毕业生 {{ graduates }}，调查 {{ survey_respondents }}；升学 {{ further_study }}。"
    assert visible(textgen.template(t, rep)) == "2023 年毕业生 911 人；升学 447 人。"
    assert textgen.template("调查 {{ survey_respondents }}。", rep) == ""


def test_prose_first_generated_text_only_without_prose():
    html24 = open_report("huichang", 2024).section("1.2.3").html
    text24 = visible(html24)
    assert "平均就业率为 99.85%" in text24
    assert "学校毕业生 1340 人" not in text24  # the template the prose replaces
    assert text24.count("（1）就业情况") == 1 and text24.count("（2）升学情况") == 1
    assert len(re.findall(r"<figcaption>表\d+ 就业人数", html24)) == 1
    # tables and the chart stand where the source shows them, between the prose
    order = [
        text24.index(s)
        for s in ("见表3", "表3 就业人数", "（1）就业情况", "表4 毕业生", "（2）升学情况", "图4 ")
    ]
    assert order == sorted(order)
    html23 = open_report("huichang", 2023).section("1.2.3").html
    assert "学校毕业生 911 人" in visible(html23) and "<h4>（1）就业情况</h4>" in html23


def test_placeholders_read_other_years_and_the_reports_numbering():
    rep = open_report("huichang", 2024)
    assert rep.numbers[("table", "employment")] == 3  # 表1 key indicators, 表2 satisfaction
    text = visible(rep.section("1.1.3").html)
    # one space where a figure meets Chinese text (helpers.fmt's spacing rule)
    assert "与 2021 年的 1:15.04 和 2022 年的 1:13.39 相比较呈现逐渐稳定状态" in text
    assert "见表3。" in visible(rep.section("1.2.3").html)
    text = visible(rep.section("1.1.4").html)
    assert "相较于 2023 年生均 9278.19 元/生" in text and "少 0.09 个/生" in text
    text = visible(rep.section("1.2.5").html)
    assert "荣获二等奖 1 个，三等奖 1 个" in text and "合计 22 项奖项" in text
    assert "共获得 12 个一等奖、7 个二等奖、21 个三等奖" in text


def test_photo_caption_without_image_is_marked_and_unnumbered():
    html = open_report("huichang", 2024).section("1.2.1").html
    assert (
        '<p class="nb-photo-missing"><span class="nb-photo-label">原报告配图（本报告未收录图片）：'
        "</span>运动会开场舞表演</p>"
    ) in html
    assert "<figcaption>图" not in html  # 1.2.1 has no chart of its own
    assert markup.photo("a<b") == (
        '<p class="nb-photo-missing"><span class="nb-photo-label">原报告配图（本报告未收录图片）：'
        "</span>a&lt;b</p>"
    )


def test_photo_file_must_exist_and_is_embedded(raw_copy, year2024):
    # the contract of issue 12: photos live in the year's images/ folder (tests/test_photos.py)
    md = year2024 / "text" / "s2_5.md"
    append(md, "\n![实训现场](images/x.png)\n")
    p = only(load_errors(raw_copy), "missing_image")
    assert p.file.endswith("2024/text/s2_5.md") and p.value == "images/x.png"
    assert p.row == len(md.read_text(encoding="utf-8").splitlines())
    (year2024 / "images").mkdir()
    (year2024 / "images" / "x.png").write_bytes(PNG)
    html = open_report("huichang", 2024, raw_copy).section("2.5").html
    assert re.search(
        r'<figure class="nb-photo" id="fig-\d+"><img src="data:image/jpeg;base64,', html
    )
    assert re.search(r"<figcaption>图\d+ 实训现场</figcaption>", html)


def test_prose_may_place_only_its_own_sections_blocks(raw_copy, year2024):
    # the chapter notebook shows rep.table("funding") in §6.5.1: prose of §1.2.2 may not
    append(year2024 / "text" / "s1_2_2.md", "\n![表](table:funding)\n")
    with pytest.raises(KeyError, match=r"第 1\.2\.2 节的文字放置了表格 funding.*第 6\.5\.1 节"):
        open_report("huichang", 2024, raw_copy).section("1.2.2")
    append(year2024 / "text" / "s1_2_4.md", "\n![表](table:fundng)\n")
    with pytest.raises(KeyError, match="是否应为 'funding'"):
        open_report("huichang", 2024, raw_copy).section("1.2.4")


def test_unknown_placeholders_in_prose(raw_copy, year2024):
    edit(
        year2024 / "text" / "s1_2_4.md", "{{ gyb_trainees }}", "{{ prev.nosuch }}{{ table.nosuch }}"
    )
    err = load_errors(raw_copy)
    values = {p.value for p in err.problems if p.rule == "unknown_placeholder"}
    assert values == {"{{ prev.nosuch }}"}
    # the report's own 表/图 ids are the report layer's: a wrong one stops the rendering
    edit(year2024 / "text" / "s1_2_4.md", "{{ prev.nosuch }}", "")
    with pytest.raises(KeyError, match="没有表格 'nosuch'"):
        open_report("huichang", 2024, raw_copy).section("1.2.4")


def test_captions_are_data(tmp_path):
    out = process("huichang", 2024, out_dir=tmp_path)
    caps = pd.read_parquet(out / "captions.parquet")
    assert len(caps) == 37
    row = caps[caps["caption"] == "学校教师定期赴深圳二职跟岗学习"].iloc[0]
    assert (row["section"], row["kind"]) == ("2.1.1", "section")
    assert set(caps[caps["case"] == 6]["caption"]) >= {"“传承长征精神 奋进再出发”徒步远足"}
