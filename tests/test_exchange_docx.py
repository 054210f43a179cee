"""A Word draft (made here with python-docx: headings, bold, a list, a table, a picture) is
split into text/*.md with images/, and builds into the report."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Inches

from helpers.exchange.import_docx import import_docx
from helpers.ingest.load import load_school_year
from tests.factories import BUNDLED


def png(width: int = 4, height: int = 3) -> bytes:
    """A tiny red PNG (no image library needed)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def draft(tmp_path: Path) -> Path:
    picture = tmp_path / "photo.png"
    picture.write_bytes(png())
    d = Document()
    d.add_heading("1 人才培养", 1)
    d.add_heading("1.1.3 教师队伍", 3)
    p = d.add_paragraph("学校重视教师队伍建设，其中")
    p.add_run("“双师型”教师 105 人").bold = True
    p.add_run("。另有在编专任教师 210 人。")
    d.add_paragraph("师德师风建设常态化", style="List Bullet")
    d.add_paragraph("教学能力比赛全员参与", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {
        (0, 0): "项目",
        (0, 1): "说明",
        (1, 0): "青蓝工程",
        (1, 1): "以老带新",
    }.items():
        table.cell(r, c).text = text
    d.add_picture(str(picture), width=Inches(1))
    d.add_paragraph("图 1 青年教师汇报课", style="Caption")
    d.add_heading("1.3.6 师资队伍建设", 3)
    d.add_paragraph("学校每学期组织校本培训。")
    d.add_heading("案例 4 创新团队建设情况", 4)
    d.add_paragraph("财经商贸部成立创新团队，开展教学改革。")
    d.add_heading("9.9 附录草稿", 2)
    d.add_paragraph("不属于报告的内容。")
    d.add_heading("挑战 1", 3)
    d.add_paragraph("生源质量呈现多样化趋势。")
    path = tmp_path / "draft.docx"
    d.save(str(path))
    return path


def test_docx_splits_into_markdown_with_images(raw_copy, tmp_path):
    path = draft(tmp_path)
    folder = raw_copy / BUNDLED / "2024"
    before = (folder / "text" / "s1_1_3.md").read_bytes()
    denied = import_docx(path, BUNDLED, 2024, raw_copy)
    assert denied.needs_yes and "text/s1_1_3.md" in denied.changes
    assert (folder / "text" / "s1_1_3.md").read_bytes() == before
    result = import_docx(path, BUNDLED, 2024, raw_copy, yes=True)
    assert not result.problems
    assert sorted(result.written) == [
        "text/case04.md",
        "text/challenge1.md",
        "text/s1_1_3.md",
        "text/s1_3_6.md",
    ]
    text = (folder / "text" / "s1_1_3.md").read_text(encoding="utf-8")
    assert text.startswith('---\nsection: "1.1.3"\ntitle: 教师队伍\nkind: section\norder: 1\n---\n')
    # 105 人 is 双师型教师数 (and no other fact of 2024 with unit 人): a placeholder
    assert "其中“**双师型”教师 {{ dual_qualified_teachers }}**。" in text
    assert "- 师德师风建设常态化\n- 教学能力比赛全员参与" in text
    assert "| 项目 | 说明 |\n|---|---|\n| 青蓝工程 | 以老带新 |" in text
    assert "![青年教师汇报课](images/draft-1.png)" in text  # Word's 图 1 left to the report
    assert (folder / "images" / "draft-1.png").read_bytes() == png()
    case = (folder / "text" / "case04.md").read_text(encoding="utf-8")
    assert 'section: "1.3.6"' in case and "case: 4" in case and "title: 创新团队建设情况" in case
    assert result.contradictions == ["s1_1_3.md：“专任教师 210 人”与数据中的专任教师数 203 人不符"]
    assert [u for u in result.unknown if u.startswith("9.9")]
    assert not [u for u in result.unknown if u.startswith("1 人才培养")]
    assert "1.1.1 学校概况" in result.missing
    sy = load_school_year(BUNDLED, 2024, raw_copy)  # the year still validates
    assert {n.number for n in sy.narratives if n.kind == "case"} >= {4}


@pytest.mark.slow
def test_imported_docx_builds_into_the_report(raw_copy, tmp_path):
    from helpers.build.core import build

    result = import_docx(draft(tmp_path), BUNDLED, 2024, raw_copy, yes=True)
    assert not result.problems
    out = tmp_path / "reports"
    built = build(
        schools=[BUNDLED],
        years=[2024],
        chapters=["01_talent", "07_challenges"],
        data_dir=raw_copy,
        out_dir=out,
        jobs=2,
    )
    assert built.ok, [c.error for c in built.failed]
    html = (out / BUNDLED / "2024" / "01_talent.html").read_text(encoding="utf-8")
    # the placeholder shows the figure of the data (a tooltip span), inside the bold run
    assert re.search(r"“<strong>双师型”教师 (<[^>]+>)*105 人(<[^>]+>)*</strong>", html)
    assert "<li>师德师风建设常态化</li>" in html
    assert "<td>青蓝工程</td>" in html
    # the picture, embedded (re-encoded by helpers.report.photos) and numbered with the charts
    photo = re.search(
        r'<figure class="nb-photo" id="fig-(\d+)"><img [^>]*src="data:image/[a-z]+;base64,[^"]+"'
        r"[^>]*/?><figcaption>图(\d+) 青年教师汇报课</figcaption>",
        html,
    )
    assert photo and photo.group(1) == photo.group(2), "the photo is not embedded with 图N"
    assert "财经商贸部成立创新团队" in html
    assert "生源质量呈现多样化趋势" in (out / BUNDLED / "2024" / "report.html").read_text(
        encoding="utf-8"
    )
