"""Chart primitives render Chinese with the shipped font, and label shares half-up.

The glyph checks are what guard CI (no CJK font installed): matplotlib warns
"Glyph NNNN (...) missing from font(s) ..." whenever it has to draw a box, and every
render here fails on such a warning. `test_missing_glyph_is_detected` shows the check
can fail.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import matplotlib as mpl
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import seaborn as sns
from fontTools.ttLib import TTFont
from matplotlib.figure import Figure

from helpers import fmt
from helpers.report import charts, fonts

ROOT = Path(__file__).resolve().parents[1]
MISSING = re.compile(r"missing from font|Glyph \d+")


@pytest.fixture(autouse=True)
def _theme() -> Iterator[None]:
    """Apply the theme for each test and restore rcParams afterwards (other tests)."""
    with mpl.rc_context():
        charts.set_theme()
        yield


def render(fig: Figure, path: Path, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Save *fig* as PNG (glyphs are looked up at draw time); return glyph complaints."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts.save_figure(fig, path)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return [m for m in messages if MISSING.search(m)]


def texts(fig: Figure) -> list[str]:
    """Every piece of text drawn in *fig* (titles, labels, annotations, legend)."""
    return [t.get_text() for t in fig.findobj(mpl.text.Text) if t.get_text()]


def assert_png(path: Path) -> None:
    img = mpimg.imread(path)
    height, width = img.shape[:2]
    assert 500 <= width <= 2000, width
    assert 200 <= height <= 1500, height
    assert img.std() > 0.01  # not blank
    assert path.stat().st_size < 300_000  # ~8 charts must fit a < 10 MB report


# ----------------------------------------------------------------------------- data

YEARLY = pd.DataFrame(
    {
        "学年": [2021, 2021, 2022, 2022, 2023, 2023, 2024, 2024],
        "口径": ["招生人数", "毕业人数"] * 4,
        "人数": [700, 600, -20, 640, 905, float("nan"), 880, 702],
    }
)
INDUSTRY = pd.DataFrame(
    {
        "专业": ["幼儿保育"] * 3 + ["网络营销"] * 3,
        "产业": ["第一产业", "第二产业", "第三产业"] * 2,
        "人数": [1, 2, 5, 21.445, 0, 78.555],
    }
)
TITLES = pd.DataFrame({"职称": ["高级", "中级", "初级"], "人数": [1, 3, 4]})

CHARTS: dict[str, Callable[[], Figure]] = {
    "bar": lambda: charts.bar_chart(
        YEARLY, "学年", "人数", hue="口径", title="招生人数与毕业人数", ylabel="人数（人）"
    ),
    "bar_horizontal": lambda: charts.bar_chart(
        YEARLY[YEARLY["口径"] == "招生人数"],
        "学年",
        "人数",
        title="招生人数",
        xlabel="学年",
        ylabel="人",
        horizontal=True,
    ),
    "stacked_share": lambda: charts.stacked_share_chart(
        INDUSTRY, "专业", "产业", "人数", title="专业对接产业占比（同比 −3.5%）"
    ),
    "donut": lambda: charts.donut_chart(
        TITLES, "职称", "人数", title="双师型教师职称结构（增减 −2 人）", center_text="合计 8 人"
    ),
    "line": lambda: charts.line_chart(
        YEARLY, "学年", "人数", hue="口径", title="近四年第一产业相关招生", value_format="{:,.0f}"
    ),
}


# ---------------------------------------------------------------------------- glyphs


@pytest.mark.parametrize("name", list(CHARTS))
def test_chart_renders_chinese_and_minus(
    name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fig = CHARTS[name]()
    drawn = "".join(texts(fig))
    assert "\u2212" in drawn  # a true minus sign is drawn (tick label, bar label or title)
    assert re.search(r"[\u4e00-\u9fff]", drawn)

    path = tmp_path / f"{name}.png"
    assert render(fig, path, caplog) == []
    assert_png(path)


def test_missing_glyph_is_detected(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The glyph check is not vacuous: a character outside the subset is reported."""
    rare = "\U00020000"  # CJK Extension B, not in GB2312 nor in the subset
    cmap = TTFont(fonts.FONT_FILE).getBestCmap()
    assert ord(rare) not in cmap
    fig = charts.bar_chart(TITLES, "职称", "人数", title=f"招生人数 {rare}")
    problems = render(fig, tmp_path / "missing.png", caplog)
    assert problems, "expected matplotlib to report the missing glyph"
    assert any("131072" in p for p in problems)

    # ... and so is Chinese drawn without the shipped font (the situation on bare CI).
    fig = Figure(figsize=charts.FIGSIZE)
    fig.text(0.5, 0.5, "招生人数", family=["DejaVu Sans"])
    problems = render(fig, tmp_path / "dejavu.png", caplog)
    assert any("missing from font(s) DejaVu Sans" in p for p in problems)


def test_subset_covers_required_characters() -> None:
    cmap = TTFont(fonts.FONT_FILE).getBestCmap()
    required = "招生人数毕业人数第一产业双师型高级中级初级学年专业％，。（）—…·°‰\u2212−0-9%"
    assert [c for c in required if ord(c) not in cmap] == []
    # GB2312 level 2 (rare but standard) and a full-width form are in; Ext-B is not.
    assert ord("亍") in cmap and ord("\uff05") in cmap
    assert 0x20000 not in cmap


def test_subset_covers_project_texts() -> None:
    """Hanzi used in specs and raw data are in the font (else rerun make_font_subset.py)."""
    cmap = TTFont(fonts.FONT_FILE).getBestCmap()
    files = sorted((ROOT / "src" / "helpers" / "specs").glob("*.yaml"))
    raw = ROOT / "data" / "raw"
    if raw.is_dir():
        files += [p for p in raw.rglob("*") if p.suffix in {".csv", ".yaml", ".yml", ".json"}]
    hanzi = {
        c
        for p in files
        for c in p.read_text(encoding="utf-8", errors="ignore")
        if "\u3400" <= c <= "\u9fff"
    }
    missing = sorted(c for c in hanzi if ord(c) not in cmap)
    assert missing == [], f"not in the font subset, run scripts/make_font_subset.py: {missing}"


# ----------------------------------------------------------------------------- theme


def test_set_theme_keeps_cjk_font_first() -> None:
    sns.set_theme()  # seaborn's own reset drops the CJK family ...
    assert mpl.rcParams["font.sans-serif"][0] != fonts.FONT_FAMILY
    charts.set_theme()  # ... and set_theme puts it back
    assert mpl.rcParams["font.family"][0] == "sans-serif"
    assert mpl.rcParams["font.sans-serif"][0] == fonts.FONT_FAMILY
    assert mpl.rcParams["font.sans-serif"][1] == "DejaVu Sans"
    assert mpl.rcParams["axes.unicode_minus"] is True
    font = mpl.font_manager.findfont(mpl.font_manager.FontProperties(family=["sans-serif"]))
    assert Path(font) == fonts.FONT_FILE


def test_register_is_idempotent() -> None:
    count = len(mpl.font_manager.fontManager.ttflist)
    assert fonts.register_cjk_font() == fonts.FONT_FAMILY
    assert fonts.register_cjk_font() == fonts.FONT_FAMILY
    assert len(mpl.font_manager.fontManager.ttflist) == count


# ------------------------------------------------------------------------ half-up labels


def test_round_half_up() -> None:
    assert fmt.round_half_up(21.445, 2) == Decimal("21.45")
    assert fmt.round_half_up(0.125 * 100, 2) == Decimal("12.50")
    # Where plain formatting/round() go wrong (binary float, or half-even):
    assert f"{2.675:.2f}" == "2.67" and fmt.round_half_up(2.675, 2) == Decimal("2.68")
    assert f"{1.005:.2f}" == "1.00" and fmt.round_half_up(1.005, 2) == Decimal("1.01")
    assert f"{12.5:.0f}" == "12" and fmt.round_half_up(12.5, 0) == Decimal("13")
    assert round(0.125, 2) == 0.12 and fmt.round_half_up(0.125, 2) == Decimal("0.13")
    assert charts.format_percent(1, 8) == "12.50%"
    assert charts.format_percent(21.445, 100) == "21.45%"
    assert charts.format_percent(78.555, 100) == "78.56%"
    assert charts.format_percent(1, 3) == "33.33%"
    assert charts.format_percent(2.675, 100) == "2.68%"
    assert charts.format_percent(-1, 8) == "\u221212.50%"


def test_share_labels_are_half_up() -> None:
    labels = texts(charts.stacked_share_chart(INDUSTRY, "专业", "产业", "人数"))
    assert "12.50%" in labels  # 1 of 8
    assert "21.45%" in labels and "21.44%" not in labels
    assert "0.00%" not in labels  # empty segments are not labelled


def test_donut_labels_are_half_up() -> None:
    labels = texts(charts.donut_chart(TITLES, "职称", "人数"))
    assert {"12.50%", "37.50%", "50.00%"} <= set(labels)
    assert {"高级", "中级", "初级"} <= set(labels)  # legend


def test_shares_reject_negative_values() -> None:
    with pytest.raises(ValueError, match="negative"):
        charts.donut_chart(pd.DataFrame({"k": ["高级", "中级"], "v": [1, -1]}), "k", "v")
    bad = INDUSTRY.assign(人数=-INDUSTRY["人数"])
    with pytest.raises(ValueError, match="negative"):
        charts.stacked_share_chart(bad, "专业", "产业", "人数")


# ------------------------------------------------------------------------- bar and line


def test_bar_labels_skip_missing_and_use_minus() -> None:
    fig = charts.bar_chart(YEARLY, "学年", "人数", hue="口径")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    assert "nan" not in " ".join(labels).lower()
    assert len(labels) == YEARLY["人数"].notna().sum()
    assert "\u221220" in labels and "905" in labels


def test_bar_chart_refuses_duplicates() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        charts.bar_chart(pd.concat([TITLES, TITLES]), "职称", "人数")


def test_line_chart_year_ticks_are_integers(tmp_path: Path) -> None:
    df = pd.DataFrame({"学年": [2022, 2023], "招生人数": [812, 905]})
    fig = charts.line_chart(df, "学年", "招生人数")
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["2022", "2023"]


# ---------------------------------------------------------------------------------- save


def test_save_figure_is_atomic_and_closes(tmp_path: Path) -> None:
    fig = plt.figure()  # a pyplot-managed figure is closed too
    fig.add_subplot().plot([1, 2], [3, -4])
    target = tmp_path / "sub" / "chart.png"
    assert charts.save_figure(fig, target) == target
    assert not plt.fignum_exists(fig.number)
    assert [p.name for p in target.parent.iterdir()] == ["chart.png"]
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
