"""Issue 11: an analyst's own analysis cell in a chapter notebook — a tidy DataFrame from
``rep.data``, pandas and seaborn, then ``rep.figure_from`` — becomes a numbered 图N of the
report, and every later figure's number shifts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from helpers.build.core import build
from helpers.report import open_report
from helpers.report.analysis import DataNotAvailable

ROOT = Path(__file__).resolve().parents[1]

ANALYSIS = """import seaborn as sns

df = rep.data("awards")
by_level = df.groupby(["year", "level"], as_index=False)["count"].sum()
sns.set_theme()  # resets matplotlib's fonts: figure_from draws Chinese anyway
ax = sns.barplot(by_level, x="year", y="count", hue="level", errorbar=None)
ax.set_title("历年技能大赛获奖（按级别）")
rep.figure_from(ax, title="历年技能大赛获奖（按级别）")"""


def _add_analysis(folder: Path) -> None:
    path = folder / "01_talent.ipynb"
    nb = nbformat.read(path, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.source == 'rep.figure("awards")')
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(ANALYSIS))
    nbformat.write(nb, path)


def test_data_is_tidy_over_the_years():
    rep = open_report("huichang", 2024)
    df = rep.data("awards")
    assert list(df.columns[:1]) == ["year"] and set(df["year"]) == {2023, 2024}
    # 2023: 1 + 1 national, 3 + 7 + 12 provincial; 2024: 12 + 7 + 21 city (seed §1.2.5)
    assert df.groupby("year")["count"].sum().to_dict() == {2023: 24, 2024: 40}
    facts = rep.data("facts")
    row = facts[(facts.year == 2024) & (facts.field == "fulltime_teachers")].iloc[0]
    assert row.value == 203 and row.label == "专任教师数"


def test_data_says_clearly_what_is_not_there():
    rep = open_report("huichang", 2021)
    with pytest.raises(DataNotAvailable, match=r"没有任何年度填报.*awards"):
        rep.data("awards")
    with pytest.raises(DataNotAvailable, match="是否应为 'awards'"):
        rep.data("award")


@pytest.mark.slow
def test_an_analysts_figure_is_numbered_with_the_rest(raw_copy, tmp_path):
    nbs = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", nbs)
    out = tmp_path / "out"
    r = build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=out, jobs=2)
    assert r.ok, [c.error for c in r.failed]
    page = (out / "huichang" / "2024" / "report.html").read_text(encoding="utf-8")
    before = re.findall(r"<figcaption>图(\d+) ([^<]*)</figcaption>", page)
    assert [n for n, _ in before] == ["1", "2", "3", "4", "5", "6"]
    assert before[4][1].endswith("技能大赛获奖情况") and "财政拨款" in before[5][1]

    _add_analysis(nbs)
    r = build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=out, jobs=2)
    assert r.ok, [c.error for c in r.failed]
    # every chapter showing a figure or table after it is renumbered, so rebuilt
    assert {"01_talent", "06_support"} <= {c.chapter for c in r.executed}
    page = (out / "huichang" / "2024" / "report.html").read_text(encoding="utf-8")
    after = re.findall(r"<figcaption>图(\d+) ([^<]*)</figcaption>", page)
    assert [n for n, _ in after] == ["1", "2", "3", "4", "5", "6", "7"]
    assert after[5][1] == "历年技能大赛获奖（按级别）"
    assert after[6][1] == before[5][1]  # the funding chart moved from 图6 to 图7
    # it is in the list of figures too
    assert re.search(r'nb-toc-figs"><a href="#fig-6">图6 历年技能大赛获奖', page)
