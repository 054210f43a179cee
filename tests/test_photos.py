"""Issue 12: photos in a year's prose. They live in ``data/raw/<school>/<year>/images/``, the
Markdown refers to them as ``![说明](images/<file>)``, and the report shows them scaled down,
embedded, with a caption 图N numbered together with the charts. A missing or unreadable file
is a validation error naming the Markdown file, its line and the image path.

The test images are drawn here with Pillow (nothing is added to data/raw).
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from PIL import Image, ImageDraw

from helpers.build.inputs import chapter_inputs
from helpers.report import photos
from helpers.report.api import open_report
from tests.factories import append, load_errors, only


def draw_photo(path: Path, size: tuple[int, int] = (3000, 2000), mode: str = "RGB") -> Path:
    """A camera-sized test picture: a gradient with a few shapes."""
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert(mode)
    d = ImageDraw.Draw(im)
    for i in range(12):
        d.ellipse(
            (i * w // 14, h // 4, i * w // 14 + w // 10, h // 4 + h // 3), outline="red", width=9
        )
    if mode == "RGBA":
        d.rectangle((0, 0, w // 3, h // 3), fill=(0, 0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "RGBA":
        im.save(path, format="PNG")
    else:
        im.save(path, format="JPEG", quality=98)
    return path


def embedded_images(html: str) -> list[tuple[str, bytes]]:
    return [
        (mime, base64.b64decode(data))
        for mime, data in re.findall(r'src="data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)"', html)
    ]


def test_photo_is_scaled_embedded_and_numbered_with_the_charts(raw_copy, year2024):
    rep = open_report("huichang", 2024, raw_copy)
    assert rep.numbers[("figure", "enrollment_graduates")] == 1  # §1.1.2 places 图1
    assert rep.numbers[("figure", "dual_structure")] == 2  # §1.1.3
    original = draw_photo(year2024 / "images" / "实训.jpg")
    # after 图1 in the prose of §1.1.2, before the chart of §1.1.3
    append(year2024 / "text" / "s1_1_2.md", "\n![学生在实训室上课](images/实训.jpg)\n")
    rep = open_report("huichang", 2024, raw_copy)
    assert rep.numbers[("figure", "dual_structure")] == 3  # numbered after the photo
    html = rep.section("1.1.2").html
    assert "<figcaption>图2 学生在实训室上课</figcaption>" in html
    assert '<figure class="nb-photo" id="fig-2">' in html
    data = next(d for m, d in embedded_images(html) if m == "image/jpeg")
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (photos.MAX_WIDTH, 933)  # 3000 × 2000 scaled into 1400 × 1100
    assert len(data) < original.stat().st_size / 3
    assert 'width="700" height="466"' in html  # shown at half its pixels: sharp in print
    assert "<figcaption>图3 " in rep.section("1.1.3").html  # the chart after it moved on


def test_transparent_png_stays_png(raw_copy, year2024):
    draw_photo(year2024 / "images" / "logo.png", (800, 600), "RGBA")
    append(year2024 / "text" / "s2_5.md", "\n![校徽](images/logo.png)\n")
    html = open_report("huichang", 2024, raw_copy).section("2.5").html
    (mime, data), *_ = embedded_images(html)
    assert mime == "image/png"
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (800, 600) and im.mode == "RGBA"  # small enough: not scaled


def test_missing_photo_names_markdown_file_line_and_image(raw_copy, year2024):
    md = year2024 / "text" / "s1_1_2.md"
    append(md, "\n![学生在实训室上课](images/nope.jpg)\n")
    p = only(load_errors(raw_copy), "missing_image")
    assert p.file.endswith("huichang/2024/text/s1_1_2.md")
    assert p.row == len(md.read_text(encoding="utf-8").splitlines())
    assert p.value == "images/nope.jpg" and "2024/images/nope.jpg" in p.message


def test_photo_outside_the_images_folder_is_an_error(raw_copy, year2024):
    draw_photo(year2024 / "text" / "beside.jpg", (50, 40))  # the old place, next to the Markdown
    append(year2024 / "text" / "s1_1_2.md", "\n![旁边的图](beside.jpg)\n")
    p = only(load_errors(raw_copy), "image_path")
    assert p.value == "beside.jpg" and "images/" in p.message


def test_file_that_is_not_an_image_is_an_error(raw_copy, year2024):
    (year2024 / "images").mkdir()
    (year2024 / "images" / "x.jpg").write_bytes(b"not a picture")
    append(year2024 / "text" / "s1_1_2.md", "\n![坏图](images/x.jpg)\n")
    p = only(load_errors(raw_copy), "bad_image")
    assert p.value == "images/x.jpg"


def test_caption_without_photo_stays_caption_only(raw_copy, year2024):
    append(year2024 / "text" / "s2_5.md", "\n![未收录的照片]()\n")
    html = open_report("huichang", 2024, raw_copy).section("2.5").html
    assert "原报告配图（本报告未收录图片）：</span>未收录的照片</p>" in html
    assert not re.search(r"<figcaption>图\d+ 未收录的照片", html)


def test_a_chapter_rebuilds_when_a_photo_before_it_is_added(raw_copy, year2024):
    before = chapter_inputs("2", "huichang", 2024, raw_copy)
    photo = draw_photo(year2024 / "images" / "a.jpg", (60, 40))
    md = year2024 / "text" / "s1_1_2.md"
    append(md, "\n![图](images/a.jpg)\n")
    after = chapter_inputs("2", "huichang", 2024, raw_copy)
    assert md not in before and md in after  # chapter 2's 图N follow the photo of chapter 1
    assert photo in chapter_inputs("1", "huichang", 2024, raw_copy)  # the chapter showing it
