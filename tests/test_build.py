"""Issue 5: `nianbao build` — papermill really runs; incremental, safe, and clean HTML.

Most tests use small fake chapter notebooks (fast kernels) and a private copy of the raw
data; one test builds the real notebooks with the real ``helpers.build.inputs.chapter_inputs``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

import helpers.build.core as build_mod
from helpers.build.core import BuildError, build
from helpers.cli import app
from helpers.report.render import unmark_stale
from tests.factories import SECOND_NAME, cli_command, notebook, process_gone

ROOT = Path(__file__).resolve().parents[1]
# a 1x1 PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
# which raw files each fake chapter reads (relative to data/raw/huichang)
INPUTS = {
    "01_alpha": ["school.yaml"],
    "02_beta": ["2024/facts.yaml"],
    "03_gamma": ["2024/awards.csv", "school.yaml"],
}


def add_cell(path: Path, cell: nbformat.NotebookNode, index: int | None = None) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(len(nb.cells) if index is None else index, cell)
    nbformat.write(nb, path)


ALPHA = [
    "import sys, warnings\nimport helpers\nfrom IPython.display import HTML, display",
    'warnings.warn("注意：这是一条警告")\nprint("写到 stderr 的话", file=sys.stderr)\n'
    "display(HTML(f\"<p class='alpha'>甲章 学校 {school_id} 年度 {year}</p>\"))",
    f'display(HTML(\'<img alt="图" src="data:image/png;base64,{PNG}"/>\'))',
]
BETA = [
    "import base64\nfrom IPython.display import Image, display",
    f'display(Image(data=base64.b64decode("{PNG}")))\nprint("乙章 stdout")',
]
GAMMA = [
    "from IPython.display import HTML",
    "HTML(\"<h1>第三章 丙</h1><p class='gamma'>丙章内容</p>\")",
]


@pytest.fixture
def fake_nbs(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook(folder / "01_alpha.ipynb", ALPHA, "第一章 甲")
    notebook(folder / "02_beta.ipynb", BETA, "第二章 乙")
    notebook(folder / "03_gamma.ipynb", GAMMA)
    return folder


@pytest.fixture
def fake_inputs(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    def chapter_inputs(chapter, school_id, year, data_dir, notebooks_dir=None):
        return [Path(data_dir) / school_id / rel for rel in INPUTS[chapter]]

    monkeypatch.setattr(build_mod, "chapter_inputs", chapter_inputs)
    return INPUTS


def run(raw: Path, nbs: Path, out: Path, **kw):
    kw.setdefault("jobs", 2)
    return build(data_dir=raw, notebooks_dir=nbs, out_dir=out, **kw)


def cli_build(raw: Path, nbs: Path, out: Path, *extra: str):
    """``nianbao build`` through the CLI (typer's test runner), on these folders."""
    args = ["build", "--data-dir", str(raw), "--notebooks", str(nbs), "--out", str(out), *extra]
    return CliRunner().invoke(app, args)


def executed(result) -> list[str]:
    return sorted(c.chapter for c in result.executed)


def touch(path: Path, text: str = "\n# touched by a test\n") -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


# --------------------------------------------------------------------------- full + incremental


@pytest.mark.slow
def test_build_then_incremental(raw_copy, fake_nbs, fake_inputs, tmp_path):
    out = tmp_path / "reports"
    r = run(raw_copy, fake_nbs, out)
    assert r.ok and executed(r) == ["01_alpha", "02_beta", "03_gamma"]
    folder = out / "huichang" / "2024"
    assert r.school_years[0].index == folder / "index.html"
    for stem in INPUTS:
        assert (folder / f"{stem}.html").is_file()
        assert (folder / "notebooks" / f"{stem}.ipynb").is_file()
    assert not list(folder.rglob("*.tmp")) and not list(folder.rglob(".*.tmp"))

    # executed notebooks carry the parameters papermill injected
    nb = nbformat.read(folder / "notebooks" / "01_alpha.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'school_id = "huichang"' in injected[0].source
    assert "year = 2024" in injected[0].source
    assert f'data_dir = "{raw_copy.resolve()}"' in injected[0].source

    # the reader's HTML: outputs only
    for page in [*(folder / f"{s}.html" for s in INPUTS), folder / "report.html"]:
        html = page.read_text(encoding="utf-8")
        assert 'school_id = "huichang"' not in html and "data_dir = " not in html
        assert "injected-parameters" not in html and 'school_id = "demo"' not in html
        assert "display(HTML(" not in html and "import base64" not in html
        assert 'class="highlight' not in html  # no syntax-highlighted code
        for cell in re.findall(r'<div class="jp-Cell jp-CodeCell[^"]*"', html):
            assert "jp-mod-noInput" in cell
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
        assert "写到 stderr 的话" not in html and "注意：这是一条警告" not in html
        assert "In&nbsp;[" not in html and 'jp-InputPrompt jp-InputArea-prompt">In' not in html
    alpha = (folder / "01_alpha.html").read_text(encoding="utf-8")
    assert "甲章 学校 huichang 年度 2024" in alpha

    report = (folder / "report.html").read_text(encoding="utf-8")
    assert report.index("甲章 学校") < report.index("乙章 stdout") < report.index("丙章内容")
    assert report.count("data:image/png;base64,") >= 2  # HTML <img> and an image/png output
    assert "生成于" in report and "（北京时间）" in report and "所用数据版本为" in report
    nav = re.search(r'<nav class="nb-toc".*?</nav>', report, re.S).group(0)
    assert ">第二章 乙</a>" in nav and ">第三章 丙</a>" in nav
    for target in re.findall(r'href="#([^"]+)"', nav):  # every TOC link lands on an element
        assert f'id="{target}"' in report, target
    assert not re.search(r'<img[^>]+src="(?!data:)', report)  # every image embedded

    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "会昌中等专业学校" in index and "中等职业教育质量年度报告（2024年度）" in index
    assert 'href="01_alpha.html"' in index and ">第一章 甲<" in index
    assert ">第三章 丙<" in index  # title from the first <h1> output
    assert 'href="report.html"' in index and "所用数据版本为" in index

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"] == {
        "school_id": "huichang",
        "year": 2024,
        "data_dir": str(raw_copy.resolve()),
        "figures": "recomputed",
        "notebooks_dir": str(fake_nbs),
    }
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["data_hash"])
    assert manifest["code"]["helpers_version"] == "0.1.0"
    assert manifest["packages"]["papermill"] and manifest["packages"]["nbconvert"]
    assert re.search(r"T\d\d:\d\d:\d\d[+-]\d\d:\d\d$", manifest["built_at"])
    assert [c["chapter"] for c in manifest["chapters"]] == list(INPUTS)
    assert all(re.fullmatch(r"[0-9a-f]{64}", c["key"]) for c in manifest["chapters"])
    assert manifest["data_hash"][:8] in index  # the footer names the data version by 8 characters

    # nothing changed: nothing runs, the data is not even re-validated, pages untouched
    before = {p: p.read_bytes() for p in folder.glob("*.html")}
    r = run(raw_copy, fake_nbs, out)
    assert r.executed == [] and r.up_to_date and len(r.skipped) == 3
    assert not r.school_years[0].validated and not r.school_years[0].regenerated
    assert {p: p.read_bytes() for p in folder.glob("*.html")} == before

    # saving a notebook with other outputs/metadata is not a change
    nb = nbformat.read(fake_nbs / "02_beta.ipynb", as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="old")]
    nb.cells[-1].execution_count = 7
    nb.cells[-1].metadata["scrolled"] = True
    nb.metadata["language_info"] = {"name": "python", "version": "3.0"}
    nbformat.write(nb, fake_nbs / "02_beta.ipynb")
    assert executed(run(raw_copy, fake_nbs, out)) == []

    # one notebook's content changes: exactly that chapter runs, pages are rewritten
    add_cell(fake_nbs / "02_beta.ipynb", nbformat.v4.new_markdown_cell("补充说明"))
    r = run(raw_copy, fake_nbs, out)
    assert executed(r) == ["02_beta"] and r.school_years[0].regenerated, r.chapters
    assert "补充说明" in (folder / "report.html").read_text(encoding="utf-8")
    assert (folder / "01_alpha.html").read_bytes() == before[folder / "01_alpha.html"]

    # one data file changes: exactly the chapters that read it
    touch(raw_copy / "huichang" / "2024" / "facts.yaml")
    r = run(raw_copy, fake_nbs, out)
    assert executed(r) == ["02_beta"] and r.school_years[0].validated
    touch(raw_copy / "huichang" / "school.yaml")
    assert executed(run(raw_copy, fake_nbs, out)) == ["01_alpha", "03_gamma"]
    touch(raw_copy / "huichang" / "2024" / "majors.csv", "")  # unchanged content
    assert executed(run(raw_copy, fake_nbs, out)) == []

    # --chapters and --force
    r = run(raw_copy, fake_nbs, out, chapters=["03"], force=True)
    assert executed(r) == ["03_gamma"] and [c.chapter for c in r.chapters] == ["03_gamma"]
    assert executed(run(raw_copy, fake_nbs, out, force=True)) == list(INPUTS)


@pytest.mark.slow
def test_kernel_reuse_leaks_no_state(raw_copy, tmp_path, fake_inputs):
    """A warm kernel reused for the next notebook gives the same notebook as a fresh one."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(
        nbs / "01_alpha.ipynb",
        [
            "import os, sys, warnings, decimal\nimport matplotlib as mpl, numpy as np, pandas as pd"
            "\nimport helpers\nimport matplotlib.pyplot as plt",
            'mpl.rcParams["lines.linewidth"] = 9\npd.set_option("display.max_rows", 3)\n'
            'np.seterr(all="raise")\nos.environ["NIANBAO_LEAK"] = "1"\nsys.path.append("/leak")\n'
            'warnings.simplefilter("error")\ndecimal.getcontext().prec = 3\nhelpers.LEAK = 1\n'
            "LEAK = 42\nfig = plt.figure()\nget_ipython().run_line_magic('config', "
            "\"InlineBackend.figure_formats = ['svg']\")",
            # what a notebook can do to helpers itself, kept imported by a warm kernel
            "from helpers import fmt\nfrom helpers.ingest import numbers\n"
            "from helpers.report.api import Report\nfrom helpers.specs import dictionary\n"
            'fmt.UTC = "leak"\nnumbers.FULL_WIDTH[ord("x")] = "leak"\nReport.leak = 1\n'
            'object.__setattr__(dictionary.load_dictionary(), "leak", 1)\nimport sys\n'
            'print(id(sys.modules["helpers"]), file=sys.stderr)',
        ],
    )
    probe = (
        "import os, sys, warnings, decimal\nimport matplotlib as mpl, numpy as np, pandas as pd\n"
        "import helpers\nimport matplotlib.pyplot as plt\n"
        'print(mpl.rcParams["lines.linewidth"], pd.get_option("display.max_rows"),\n'
        '      np.geterr()["divide"], os.environ.get("NIANBAO_LEAK"), "/leak" in sys.path,\n'
        '      "LEAK" in globals(), hasattr(helpers, "LEAK"), decimal.getcontext().prec,\n'
        "      len(plt.get_fignums()), get_ipython().execution_count)\n"
        'warnings.warn("still a warning")\n'
        "fig, ax = plt.subplots()\nax.plot([1, 2])",
        "from helpers import fmt\nfrom helpers.ingest import numbers\n"
        "from helpers.report.api import Report\nfrom helpers.specs import dictionary\n"
        'print(fmt.UTC, ord("x") in numbers.FULL_WIDTH, hasattr(Report, "leak"),\n'
        '      hasattr(dictionary.load_dictionary(), "leak"))\n'
        'print(id(sys.modules["helpers"]), file=sys.stderr)',
    )
    notebook(nbs / "02_beta.ipynb", list(probe))
    warm = run(raw_copy, nbs, tmp_path / "warm", jobs=1, kernel_reuse=True)
    fresh = run(raw_copy, nbs, tmp_path / "fresh", jobs=2, kernel_reuse=False)
    assert warm.ok and fresh.ok

    def cells(out: Path) -> list:
        nb = nbformat.read(out / "huichang/2024/notebooks/02_beta.ipynb", as_version=4)
        shown = []
        for c in nb.cells:
            outputs = [
                json.loads(re.sub(r" at 0x[0-9a-f]+", "", json.dumps(o)))  # object addresses
                for o in c.get("outputs", [])
                if o.get("name") != "stderr"
            ]
            shown.append((c.cell_type, c.source, c.get("execution_count"), outputs))
        return shown

    assert cells(tmp_path / "warm") == cells(tmp_path / "fresh")
    text = "".join(o["text"] for o in cells(tmp_path / "warm")[-2][3] if "text" in o)
    # none of what 01_alpha changed is visible in 02_beta
    assert text.split()[:9] == ["1.5", "60", "warn", "None", "False", "False", "False", "28", "0"]
    outputs = cells(tmp_path / "warm")[-2][3]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # not svg: config restored
    text = "".join(o["text"] for o in cells(tmp_path / "warm")[-1][3] if "text" in o)
    assert text.split() == ["UTC", "False", "False", "False"]  # helpers as after its import

    def helpers_ids(out: Path) -> set[str]:
        ids = set()
        for stem in ("01_alpha", "02_beta"):
            nb = nbformat.read(out / f"huichang/2024/notebooks/{stem}.ipynb", as_version=4)
            for c in nb.cells:
                for o in c.get("outputs", []):
                    if o.get("name") == "stderr" and o["text"].strip().isdigit():
                        ids.add(o["text"].strip())
        return ids

    # the warm kernel kept helpers imported (the point: no import per notebook)
    assert len(helpers_ids(tmp_path / "warm")) == 1


# --------------------------------------------------------------------------- failures


@pytest.mark.slow
def test_failing_chapter_keeps_previous_html(raw_copy, fake_nbs, fake_inputs, tmp_path):
    out = tmp_path / "reports"
    assert run(raw_copy, fake_nbs, out).ok
    folder = out / "huichang" / "2024"
    good = (folder / "03_gamma.html").read_bytes()
    good_nb = (folder / "notebooks" / "03_gamma.ipynb").read_bytes()
    add_cell(
        fake_nbs / "03_gamma.ipynb", nbformat.v4.new_code_cell('raise ValueError("故意的错误")')
    )
    add_cell(fake_nbs / "01_alpha.ipynb", nbformat.v4.new_markdown_cell("甲章新增"))

    result = cli_build(raw_copy, fake_nbs, out, "--jobs", "2")
    text = result.output
    assert result.exit_code == 1, text
    assert "Traceback" not in text
    # school, year, chapter, cell (index in the source notebook) and first line, error
    assert re.search(r"huichang 2024 03_gamma", text)
    assert "cell 3" in text and 'raise ValueError("故意的错误")' in text
    assert "ValueError: 故意的错误" in text
    failed = folder / "notebooks" / "03_gamma.failed.ipynb"
    assert failed.is_file() and str(failed) in text.replace("\n", "")
    # the previous page is kept, now with a notice that it is an earlier version (issue 10)
    kept = (folder / "03_gamma.html").read_text(encoding="utf-8")
    assert kept != good.decode("utf-8") and "本章沿用" in kept
    assert unmark_stale(kept).encode("utf-8") == good
    assert (folder / "notebooks" / "03_gamma.ipynb").read_bytes() == good_nb
    # the other chapter still ran, and the report was rewritten with the old gamma page
    assert "甲章新增" in (folder / "report.html").read_text(encoding="utf-8")
    assert "丙章内容" in (folder / "report.html").read_text(encoding="utf-8")
    assert not list(folder.rglob(".*.tmp"))

    # fixed: the chapter is rebuilt and the failed notebook removed
    nb = nbformat.read(fake_nbs / "03_gamma.ipynb", as_version=4)
    nb.cells[-1].source = 'print("修好了")'
    nbformat.write(nb, fake_nbs / "03_gamma.ipynb")
    r = run(raw_copy, fake_nbs, out)
    assert executed(r) == ["03_gamma"] and not failed.exists()
    assert (folder / "03_gamma.html").read_bytes() != good


STALE = "本章沿用"  # the notice on a chapter kept from an earlier build


def notices(page: str) -> list[str]:
    return re.findall(r'<div class="nb-stale"[^>]*>(.*?)</div>', page, re.S)


def report_sections(report: str) -> dict[str, str]:
    """report.html's chapter sections by notebook stem."""
    parts = re.split(r'(?=<section class="nb-chapter-page" id="ch-)', report)
    return {
        re.match(r'<section class="nb-chapter-page" id="ch-([^"]+)"', p).group(1): p
        for p in parts
        if p.startswith("<section")
    }


def index_entries(index: str) -> dict[str, str]:
    """index.html's list of chapters (the body, not the sidebar) by notebook stem."""
    body = index.split('<ol class="nb-index">', 1)[1].split("</ol>", 1)[0]
    return dict(re.findall(r'<li class="nb-toc-1"><a href="([^"]+)\.html">(.*?)</li>', body, re.S))


def test_beijing_time_of_a_kept_version():
    from helpers.fmt import beijing_time
    from helpers.report.render import stale_text

    assert beijing_time("2026-12-01T02:32:59+00:00") == "2026年12月1日 10:32（北京时间）"
    assert beijing_time("2026-11-30T21:05:00-05:00") == "2026年12月1日 10:05（北京时间）"
    assert beijing_time("2026-12-01T02:32:59", zone=False) == "2026年12月1日 10:32"  # naive: UTC
    assert beijing_time("") == beijing_time(None) == ""
    assert stale_text("2026-12-01T10:32:00+08:00").startswith(
        "本章沿用 2026年12月1日 10:32（北京时间）生成的版本，最新构建失败"
    )


@pytest.mark.slow
def test_stale_chapter_is_marked_everywhere_and_strict_refuses(
    raw_copy, fake_nbs, fake_inputs, tmp_path
):
    from datetime import datetime, timedelta, timezone

    out = tmp_path / "reports"
    assert run(raw_copy, fake_nbs, out).ok
    folder = out / "huichang" / "2024"
    for page in folder.glob("*.html"):
        assert not notices(page.read_text(encoding="utf-8")), page
    good = {name: (folder / name).read_bytes() for name in ("report.html", "index.html")}
    built = json.loads((folder / ".build/02_beta.json").read_text(encoding="utf-8"))["executed_at"]
    d = datetime.fromisoformat(built).astimezone(timezone(timedelta(hours=8)))
    when = f"{d.year}年{d.month}月{d.day}日 {d.hour:02d}:{d.minute:02d}（北京时间）"
    original = (fake_nbs / "02_beta.ipynb").read_bytes()
    add_cell(fake_nbs / "02_beta.ipynb", nbformat.v4.new_code_cell('raise RuntimeError("坏了")'))
    add_cell(fake_nbs / "01_alpha.ipynb", nbformat.v4.new_markdown_cell("甲章新增"))

    # --strict: the report is not written at all; the previous one stays byte for byte
    result = cli_build(raw_copy, fake_nbs, out, "--jobs", "2", "--strict")
    text = result.output.replace("\n", "")
    assert result.exit_code == 1, result.output
    assert "严格模式：未写出 report.html 和 index.html" in text and "02_beta" in text
    assert "Traceback" not in text
    assert {name: (folder / name).read_bytes() for name in good} == good
    assert "甲章新增" in (folder / "01_alpha.html").read_text(encoding="utf-8")  # it did run
    assert not notices((folder / "02_beta.html").read_text(encoding="utf-8"))

    # without --strict: the kept chapter is marked on every page that shows it, only it
    result = cli_build(raw_copy, fake_nbs, out, "--jobs", "2")
    text = result.output.replace("\n", "")
    assert result.exit_code == 1, result.output
    assert f"沿用旧版本 huichang 2024 02_beta（第二章 乙）：本章沿用 {when}生成的版本" in text
    assert "沿用旧版本 huichang 2024 01_alpha" not in text
    banner = f"本章沿用 {when}生成的版本，最新构建失败"
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "甲章新增" in report
    sections = report_sections(report)
    assert list(sections) == ["01_alpha", "02_beta", "03_gamma"]
    assert [s for s, html in sections.items() if STALE in html] == ["02_beta"]
    (in_chapter,) = notices(sections["02_beta"])
    assert in_chapter.startswith(banner)
    assert "乙章 stdout" in sections["02_beta"]  # the kept (earlier) version is shown
    top = notices(report.split('<section class="nb-chapter-page"', 1)[0])
    assert len(top) == 1 and "本报告有 1 章沿用" in top[0] and "第二章 乙" in top[0]
    assert "第一章" not in top[0] and "第三章" not in top[0]
    for shown in [in_chapter, top[0]]:  # words for a reader: no paths, no code words
        assert not re.search(r"[A-Za-z_/\\]", shown), shown
    assert [
        n.startswith(banner) for n in notices((folder / "02_beta.html").read_text("utf-8"))
    ] == [True]
    for stem in ("01_alpha", "03_gamma"):
        assert not notices((folder / f"{stem}.html").read_text(encoding="utf-8")), stem
    entries = index_entries((folder / "index.html").read_text(encoding="utf-8"))
    assert [s for s, html in entries.items() if STALE in html] == ["02_beta"]
    assert banner in entries["02_beta"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [c["chapter"] for c in manifest["chapters"] if c["stale"]] == ["02_beta"]

    # building other chapters only: 02_beta is still the failed one, still marked
    add_cell(fake_nbs / "03_gamma.ipynb", nbformat.v4.new_markdown_cell("丙章新增"))
    r = run(raw_copy, fake_nbs, out, chapters=["03"])
    assert executed(r) == ["03_gamma"] and [c.chapter for c in r.school_years[0].stale] == [
        "02_beta"
    ]
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "丙章新增" in report and [
        s for s, h in report_sections(report).items() if STALE in h
    ] == ["02_beta"]

    # fixed: rebuilt, and no page says "kept" any more
    (fake_nbs / "02_beta.ipynb").write_bytes(original)
    add_cell(fake_nbs / "02_beta.ipynb", nbformat.v4.new_markdown_cell("乙章修好了"))
    r = run(raw_copy, fake_nbs, out)
    assert r.ok and executed(r) == ["02_beta"] and not r.school_years[0].stale
    for page in folder.glob("*.html"):
        assert not notices(page.read_text(encoding="utf-8")), page
    assert "乙章修好了" in (folder / "report.html").read_text(encoding="utf-8")
    result = cli_build(raw_copy, fake_nbs, out, "--strict")
    assert result.exit_code == 0 and "沿用旧版本" not in result.output, result.output


@pytest.mark.slow
def test_reverted_chapter_is_up_to_date_again(raw_copy, fake_nbs, fake_inputs, tmp_path):
    """Undoing a breaking change brings back the last good key: nothing to run."""
    out = tmp_path / "reports"
    assert run(raw_copy, fake_nbs, out).ok
    original = (fake_nbs / "02_beta.ipynb").read_bytes()
    add_cell(fake_nbs / "02_beta.ipynb", nbformat.v4.new_code_cell("1 / 0"))
    r = run(raw_copy, fake_nbs, out)
    assert [c.chapter for c in r.failed] == ["02_beta"] and "ZeroDivisionError" in r.failed[0].error
    folder = out / "huichang/2024"
    assert STALE in (folder / "report.html").read_text(encoding="utf-8")
    (fake_nbs / "02_beta.ipynb").write_bytes(original)
    r = run(raw_copy, fake_nbs, out)
    assert r.up_to_date and r.ok
    assert not (folder / "notebooks/02_beta.failed.ipynb").exists()
    # the page shown is the last good one of these very inputs again: no longer marked
    assert not r.school_years[0].stale and r.school_years[0].regenerated
    for page in ("report.html", "index.html", "02_beta.html"):
        assert STALE not in (folder / page).read_text(encoding="utf-8"), page


@pytest.mark.slow
def test_error_without_papermill_raising(raw_copy, tmp_path, fake_inputs):
    """`raise SystemExit(0)` stops papermill silently; the error output still fails it."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(nbs / "01_alpha.ipynb", ["print(1)", "raise SystemExit(0)", "print('never')"])
    r = run(raw_copy, nbs, tmp_path / "out")
    assert [c.chapter for c in r.failed] == ["01_alpha"]
    assert "cell 2" in r.failed[0].error and "SystemExit" in r.failed[0].error
    assert r.failed[0].failed_notebook.is_file()
    assert not (tmp_path / "out/huichang/2024/01_alpha.html").exists()
    # no earlier version to keep: the report says the chapter is missing, and why
    report = (tmp_path / "out/huichang/2024/report.html").read_text(encoding="utf-8")
    assert "本报告缺少 1 章（构建失败，尚无可用的版本）：01_alpha" in report
    index = (tmp_path / "out/huichang/2024/index.html").read_text(encoding="utf-8")
    assert "01_alpha（最新构建失败，尚未生成）" in index
    assert [(c.chapter, c.kept) for c in r.school_years[0].stale] == [("01_alpha", False)]


@pytest.mark.slow
def test_audit_errors_stop_the_build(raw_copy, tmp_path, fake_inputs, monkeypatch):
    import helpers.indicators.audit
    from helpers.indicators.audit import Finding

    real = helpers.indicators.audit.audit
    monkeypatch.setattr(
        helpers.indicators.audit,
        "audit",
        lambda sy: [Finding("error", "out_of_bounds", "不可能的取值（测试）", sy.year), *real(sy)],
    )
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(nbs / "02_beta.ipynb", BETA)
    with pytest.raises(BuildError, match="不可能的取值（测试）"):
        run(raw_copy, nbs, tmp_path / "out")
    assert not (tmp_path / "out/huichang/2024/02_beta.html").exists()
    r = run(raw_copy, nbs, tmp_path / "out", allow_audit_errors=True)
    assert r.ok and executed(r) == ["02_beta"]
    assert any(f["rule"] == "out_of_bounds" for f in r.school_years[0].findings)


@pytest.mark.slow
def test_invalid_data_exits_2_without_traceback(raw_copy, fake_nbs, tmp_path):
    meta = raw_copy / "huichang" / "2024" / "meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("year: 2024", "year: 2023"), "utf-8")
    result = cli_build(raw_copy, fake_nbs, tmp_path / "out")
    assert result.exit_code == 2
    assert "数据校验未通过" in result.output and "year_mismatch" in result.output
    assert "Traceback" not in result.output


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


BROKEN = [  # (file, original text, broken text, how the message shows the value)
    ("awards.csv", "一等奖,12,", "一等奖,nan,", "awards.csv，第 2 行，列 count，值 'nan'"),
    ("facts.yaml", "land_area_m2: {value: 154800,", "land_area_m2: {value: .nan,", "值 nan"),
    ("facts.yaml", "students_male: {value: 1679,", "students_male: {value: 1,67,", "'1,67'"),
]


@pytest.mark.slow
def test_bad_value_leaves_reports_and_processed_untouched(
    raw_copy, fake_nbs, fake_inputs, tmp_path
):
    out, processed = tmp_path / "reports", tmp_path / "processed"  # raw_copy is tmp_path/raw
    assert run(raw_copy, fake_nbs, out).ok
    before = (tree_bytes(out), tree_bytes(processed))
    assert before[0] and "huichang/2024/awards.parquet" in before[1]
    for name, old, new, shown in BROKEN:
        path = raw_copy / "huichang" / "2024" / name
        good = path.read_text(encoding="utf-8")
        path.write_text(good.replace(old, new, 1), encoding="utf-8")
        result = cli_build(raw_copy, fake_nbs, out, "--force")
        output = re.sub(r"\s+", "", result.output)
        assert result.exit_code == 2 and "Traceback" not in result.output, name
        assert "数据校验未通过" in output and re.sub(r"\s+", "", shown) in output
        assert (tree_bytes(out), tree_bytes(processed)) == before, new
        path.write_text(good, encoding="utf-8")


@pytest.mark.slow
def test_kernel_that_dies_at_startup_is_retried_once(raw_copy, tmp_path, fake_inputs, monkeypatch):
    """Two kernels can be handed the same free port; the loser dies at start-up. Simulated
    with a kernelspec whose first launch exits at once."""
    launches = tmp_path / "launches"
    launcher = tmp_path / "flaky.py"
    launcher.write_text(
        "import os, sys\n"
        f"log = {str(launches)!r}\n"
        "first = not os.path.exists(log)\n"
        "open(log, 'a').write('x')\n"
        "if first:\n"
        "    sys.exit(1)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[1:]])\n"
    )
    spec = tmp_path / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, str(launcher), "-f", "{connection_file}"],
                "display_name": "flaky",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    path = notebook(nbs / "02_beta.ipynb", BETA)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "flaky", "display_name": "flaky", "language": "python"}
    nbformat.write(nb, path)
    r = run(raw_copy, nbs, tmp_path / "out", jobs=1)
    assert r.ok and executed(r) == ["02_beta"]
    assert launches.read_text() == "xx"


# --------------------------------------------------------------------------- interrupt


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find processes")
def test_interrupt_leaves_no_partial_files_or_kernels(raw_copy, tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    marker = tmp_path / "kernel.json"
    notebook(
        nbs / "01_sleep.ipynb",
        [
            "import json, os, time\n"
            f"open({str(marker)!r} + '.part', 'w').write(json.dumps([os.getpid(), os.getppid()]))\n"
            f"os.replace({str(marker)!r} + '.part', {str(marker)!r})\n"
            "time.sleep(120)"
        ],
    )
    notebook(nbs / "02_quick.ipynb", ['print("quick")'])
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            *cli_command(),
            "build",
            "--data-dir",
            str(raw_copy),
            "--notebooks",
            str(nbs),
            "--out",
            str(out),
            "--jobs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal job
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "the kernel never started"
            time.sleep(0.2)
        kernel, worker = json.loads(marker.read_text())
        assert not process_gone(kernel)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, output
    assert "Traceback" not in output
    deadline = time.monotonic() + 10
    while not (process_gone(kernel) and process_gone(worker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(kernel), "the kernel survived the interrupt"
    assert process_gone(worker), "a worker process survived the interrupt"
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not (out / "huichang/2024/01_sleep.html").exists()


# --------------------------------------------------------------------------- real notebooks


@pytest.mark.slow
def test_real_notebooks_rebuild_exactly_their_inputs(raw_copy, tmp_path):
    """With the real notebooks and helpers.build.inputs.chapter_inputs: changing one file
    re-executes exactly the chapters whose inputs include it."""
    try:
        from helpers.build.inputs import chapter_inputs
    except ImportError:  # pragma: no cover - issue 4 not merged
        pytest.skip("helpers.build.inputs.chapter_inputs does not exist yet")
    nbs = ROOT / "notebooks"
    stems = [p.stem for p in sorted(nbs.glob("*.ipynb"))]
    if not stems:  # pragma: no cover
        pytest.skip("no chapter notebooks in notebooks/")
    out = tmp_path / "out"
    r = build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=out, jobs=2)
    assert r.ok, [c.error for c in r.failed]
    year = raw_copy / "huichang" / "2024"
    inputs = {
        s: {Path(p).resolve() for p in chapter_inputs(s, "huichang", 2024, raw_copy)} for s in stems
    }
    users = {f: {s for s in stems if f.resolve() in inputs[s]} for f in sorted(year.rglob("*.md"))}
    # a Markdown file some but not all chapters read
    changed = next(f for f, u in users.items() if u and len(u) < len(stems))
    touch(changed, "\n")
    r = build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=out, jobs=2)
    assert r.ok and executed(r) == sorted(users[changed])
    assert build(data_dir=raw_copy, notebooks_dir=nbs, out_dir=out, jobs=2).executed == []
    # the disclosure policy reaches the notebooks as a parameter (and is part of the cache key)
    r = build(
        data_dir=raw_copy,
        notebooks_dir=nbs,
        out_dir=out,
        jobs=2,
        chapters=["01"],
        figures="published",
    )
    assert r.ok and executed(r) == ["01_talent"]
    page = (out / "huichang" / "2024" / "01_talent.html").read_text(encoding="utf-8")
    assert (
        '1:15.44</span><span class="nb-disclosure">（学校填报值；按全日制在校生 3088 人复算为 1:15.21）'
        in page
    )


def test_unknown_figures_policy_stops_before_anything_runs(raw_copy, tmp_path):
    with pytest.raises(BuildError, match="figures"):
        build(data_dir=raw_copy, out_dir=tmp_path / "out", figures="typed")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- issue 11

GLYPHS = r"""import sys, warnings
for code in (23398, 26657, 24180):
    warnings.warn(f"Glyph {code} (\\N{{CJK UNIFIED IDEOGRAPH-{code:X}}}) missing from font(s) DejaVu Sans.")
print("写到 stderr 的话", file=sys.stderr)"""


@pytest.mark.slow
def test_cell_warnings_become_build_warnings(raw_copy, tmp_path, fake_inputs):
    """What a chapter writes to stderr (warnings included) is left out of the pages but
    reported by the build, alike messages grouped."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(nbs / "01_alpha.ipynb", [GLYPHS])
    notebook(nbs / "02_beta.ipynb", BETA)
    result = cli_build(raw_copy, nbs, tmp_path / "out", "--jobs", "1")
    assert result.exit_code == 0, result.output
    output = re.sub(r"\s+", "", result.output)
    assert "章节运行时的警告4条" in output
    assert "⚠huichang202401_alpha：3条UserWarning:Glyph…missingfromfont(s)DejaVuSans." in output
    assert "⚠huichang202401_alpha：1条写到stderr的话" in output
    assert "02_beta：" not in output
    r = run(raw_copy, nbs, tmp_path / "again", jobs=1)
    alpha = next(c for c in r.chapters if c.chapter == "01_alpha")
    assert alpha.warnings == [
        "UserWarning: Glyph 23398 (\\N{CJK UNIFIED IDEOGRAPH-5B66}) missing from font(s) DejaVu Sans.",
        "UserWarning: Glyph 26657 (\\N{CJK UNIFIED IDEOGRAPH-6821}) missing from font(s) DejaVu Sans.",
        "UserWarning: Glyph 24180 (\\N{CJK UNIFIED IDEOGRAPH-5E74}) missing from font(s) DejaVu Sans.",
        "写到 stderr 的话",
    ]
    assert next(c for c in r.chapters if c.chapter == "02_beta").warnings == []
    html = (tmp_path / "again/huichang/2024/01_alpha.html").read_text(encoding="utf-8")
    assert "Glyph" not in html


@pytest.mark.slow
def test_chapter_kernels_load_the_validated_data(raw_copy, tmp_path, fake_inputs):
    """The build writes processed data beside the raw folder; open_report in the chapter
    kernel reads it back and never re-validates the raw files (every way into validation
    raises in the kernel)."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    probe = (
        "import helpers.ingest.load as load\n"
        "import helpers.report.api as api\n"
        "def no_raw(*a, **k):\n    raise RuntimeError('raw data re-validated')\n"
        "load.read_csv = load.validate_table = load.parse_observations = no_raw\n"
        "rep = api.open_report(school_id, year, data_dir)\n"
        "print('学生', rep.sy.value('students_full_time'))"
    )
    notebook(nbs / "02_beta.ipynb", [probe])
    r = run(raw_copy, nbs, tmp_path / "out", jobs=1)
    assert r.ok, [c.error for c in r.failed]
    assert (tmp_path / "processed/huichang/2024/stamp.json").is_file()
    nb = nbformat.read(tmp_path / "out/huichang/2024/notebooks/02_beta.ipynb", as_version=4)
    assert "学生 3088" in "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_processed_folder_that_cannot_be_written_stops_the_build(raw_copy, tmp_path, fake_inputs):
    (tmp_path / "processed").write_text("not a folder", encoding="utf-8")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    notebook(nbs / "03_gamma.ipynb", GAMMA)
    with pytest.raises(BuildError, match=r"无法写出处理后的数据 .*processed/huichang/2024"):
        run(raw_copy, nbs, tmp_path / "out", jobs=1)
    assert not (tmp_path / "out/huichang/2024/03_gamma.html").exists()


def test_stderr_messages_are_grouped_by_shape():
    from helpers.build.stderr import group

    msgs = ["UserWarning: Glyph 1 (\\N{A}) missing", "UserWarning: Glyph 2 (\\N{B}) missing", "x"]
    assert group(msgs) == [(2, "UserWarning: Glyph … missing"), (1, "x")]
    assert group(["同一条", "同一条"]) == [(2, "同一条")]


# --------------------------------------------------------------------------- two schools


@pytest.mark.slow
def test_build_every_school_of_a_data_folder_with_two(
    second_school, fake_nbs, fake_inputs, tmp_path
):
    """Without --school the build makes each school's latest report, and the bureau index
    lists both; --school builds only the one named."""
    out = tmp_path / "reports"
    r = run(second_school, fake_nbs, out)
    assert r.ok
    assert sorted((c.school_id, c.chapter) for c in r.executed) == [
        (s, c) for s in ("demo2", "huichang") for c in INPUTS
    ]
    assert sorted((sy.school_id, sy.year) for sy in r.school_years) == [
        ("demo2", 2024),
        ("huichang", 2024),
    ]
    second = (out / "demo2" / "2024" / "index.html").read_text(encoding="utf-8")
    assert SECOND_NAME in second and "会昌中等专业学校" not in second
    alpha = (out / "demo2" / "2024" / "01_alpha.html").read_text(encoding="utf-8")
    assert "甲章 学校 demo2 年度 2024" in alpha
    bureau = (out / "index.html").read_text(encoding="utf-8")
    assert SECOND_NAME in bureau and "会昌中等专业学校" in bureau

    # the second school's data changes: only its chapters that read that file run again
    touch(second_school / "demo2" / "2024" / "facts.yaml")
    r = run(second_school, fake_nbs, out)
    assert sorted((c.school_id, c.chapter) for c in r.executed) == [("demo2", "02_beta")]

    result = cli_build(second_school, fake_nbs, tmp_path / "one", "--school", "demo2")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "one" / "demo2" / "2024" / "index.html").is_file()
    assert not (tmp_path / "one" / "huichang").exists()


@pytest.mark.slow
def test_a_school_years_pages_are_written_when_its_last_chapter_returns(
    second_school, fake_nbs, fake_inputs, tmp_path
):
    """Each school-year's index/report/manifest are written as soon as its last chapter
    returned, while the other school-year's chapters still run (issue 14: not all at the
    end, when only the main process works)."""
    out = tmp_path / "reports"
    done: list[str] = []  # the school of each chapter, in the order they returned
    pages: list[set[str]] = []  # the school-years with an index.html at each of those moments

    def on_event(kind: str, info: dict) -> None:
        if kind == "chapter_done":
            done.append(info["result"].school_id)
            pages.append({p.parents[1].name for p in out.glob("*/2024/index.html")})

    r = run(second_school, fake_nbs, out, jobs=1, on_event=on_event)
    assert r.ok and len(done) == 2 * len(INPUTS)
    for i in range(len(done)):
        finished = {s for s in ("huichang", "demo2") if done[:i].count(s) == len(INPUTS)}
        assert pages[i] == finished, (i, done)
    assert {p.parents[1].name for p in out.glob("*/2024/index.html")} == {"huichang", "demo2"}


@pytest.mark.slow
def test_build_a_bare_school(bare_school, fake_nbs, tmp_path, monkeypatch):
    """A school with only school.yaml, meta.yaml and facts.yaml builds (fallback inputs)."""
    r = run(bare_school, fake_nbs, tmp_path / "out")
    assert r.ok, [c.error for c in r.failed]
    assert [(sy.school_id, sy.year) for sy in r.school_years] == [("bare", 2024)]
    index = (tmp_path / "out" / "bare" / "2024" / "index.html").read_text(encoding="utf-8")
    assert "简易学校" in index
