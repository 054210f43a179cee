"""Issue 5: the `nianbao` command's chores and its error exits (no tracebacks)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.cli import app
from helpers.specs.dictionary import render_markdown
from tests.factories import SECOND_NAME

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def test_list_shows_schools_and_years(raw_copy):
    result = invoke("list", "--data-dir", str(raw_copy))
    assert result.exit_code == 0, result.output
    assert "huichang" in result.output and "会昌中等专业学校" in result.output
    assert "2021, 2022, 2023, 2024" in result.output


def test_validate_prints_findings_table(raw_copy):
    result = invoke("validate", "--data-dir", str(raw_copy))
    assert result.exit_code == 0, result.output
    for word in ("级别", "规则", "说明", "yoy_jump", "warning", "错误 0"):
        assert word in result.output
    assert invoke("audit", "--data-dir", str(raw_copy), "--year", "2023").exit_code == 0


def test_validate_invalid_data_exits_2(raw_copy):
    meta = raw_copy / "huichang" / "2024" / "meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("year: 2024", "year: 2023"), "utf-8")
    result = invoke("validate", "--data-dir", str(raw_copy), "--year", "2024")
    assert result.exit_code == 2
    assert "数据校验未通过" in result.output and "year_mismatch" in result.output


@pytest.mark.parametrize("command", ["build", "validate", "process"])
def test_unknown_school_lists_known_ones(raw_copy, command):
    result = invoke(command, "--data-dir", str(raw_copy), "--school", "nosuch")
    assert result.exit_code == 2
    assert "nosuch" in result.output and "已有数据的学校：huichang" in result.output


def test_unknown_year_and_bad_id_and_chapter(raw_copy, tmp_path):
    result = invoke("build", "--data-dir", str(raw_copy), "--year", "1999", "--out", str(tmp_path))
    assert result.exit_code == 2 and "已有年度：2021, 2022, 2023, 2024" in result.output
    result = invoke("build", "--data-dir", str(raw_copy), "--school", "../etc")
    assert result.exit_code == 2 and "无效" in result.output
    result = invoke(
        "build", "--data-dir", str(raw_copy), "--chapters", "99_nope", "--out", str(tmp_path)
    )
    assert result.exit_code == 2 and "没有章节 '99_nope'" in result.output


@pytest.mark.slow
def test_unknown_school_via_the_installed_script(raw_copy):
    script = Path(sys.executable).with_name("nianbao")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "helpers.cli"]
    proc = subprocess.run(
        [*cmd, "build", "--data-dir", str(raw_copy), "--school", "nosuch"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "已有数据的学校：huichang" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_process_writes_parquet(raw_copy, tmp_path):
    result = invoke("process", "--data-dir", str(raw_copy), "--out-dir", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "huichang" / "2024" / "facts.parquet").is_file()


def test_dictionary_write_and_check(tmp_path):
    target = tmp_path / "docs" / "data-dictionary.md"
    assert invoke("dictionary", "--check", "--output", str(target)).exit_code == 1  # missing
    assert invoke("dictionary", "--output", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == render_markdown()
    assert not list(target.parent.glob("*.tmp")) and not list(target.parent.glob(".*.tmp"))
    assert invoke("dictionary", "--check", "--output", str(target)).exit_code == 0
    target.write_text(render_markdown() + "手改\n", encoding="utf-8")
    result = invoke("dictionary", "--check", "--output", str(target))
    assert result.exit_code == 1 and "nianbao dictionary" in result.output


def test_clean_removes_reports_only(tmp_path):
    out = tmp_path / "reports"
    (out / "huichang" / "2024" / ".build").mkdir(parents=True)
    (out / ".nianbao.lock").write_text("")
    (out / "huichang" / "2024" / "index.html").write_text("x")
    result = invoke("clean", "--out", str(out))
    assert result.exit_code == 0 and not out.exists()
    assert "没有需要删除的内容" in invoke("clean", "--out", str(out)).output
    # a folder that is not a report folder is never deleted
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.docx").write_text("x")
    result = invoke("clean", "--out", str(other))
    assert result.exit_code == 2 and (other / "thesis.docx").exists()


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("build", "validate", "audit", "list", "process", "dictionary", "clean"):
        assert name in result.output


def _options(command: str) -> dict[str, dict[str, object]]:
    """A command's options by long name: short forms, help, default, flag, bounds."""
    import typer

    params = typer.main.get_command(app).commands[command].params
    return {
        p.opts[0]: {
            "opts": sorted(p.opts + p.secondary_opts),
            "help": p.help,
            "default": p.default,
            "flag": p.is_flag,
            "multiple": p.multiple,
            "required": p.required,
            "range": (p.min, p.max),
        }
        for p in params
    }


# summary's own wording (where its pages and notebooks are); --year is one required year there
SUMMARY_WORDING = {
    "--out": "报告目录；默认：reports（写入 <目录>/summary/<年度>/）",
    "--notebooks": "汇总笔记本目录；默认：notebooks/summary",
}


def test_build_and_summary_options_cannot_drift_apart():
    """Every option ``nianbao build`` and ``nianbao summary`` both have is declared once
    (helpers.cli.common): the same short forms, help, default and bounds, except the two
    help texts that say where the summary differs (and which extend build's wording)."""
    build, summary = _options("build"), _options("summary")
    shared = set(build) & set(summary) - {"--year", "--help"}
    assert shared == {
        "--school",
        "--data-dir",
        "--out",
        "--notebooks",
        "--jobs",
        "--force",
        "--pdf",
    }
    for name in sorted(shared):
        ours, theirs = dict(build[name]), dict(summary[name])
        if name in SUMMARY_WORDING:
            assert theirs.pop("help") == SUMMARY_WORDING[name], name
            ours.pop("help")
        assert ours == theirs, name
    assert build["--jobs"]["opts"] == ["--jobs", "-j"] and build["--jobs"]["range"] == (1, None)
    assert build["--jobs"]["help"] == "并行进程数；默认：CPU 核数"
    assert build["--out"]["help"] == "报告目录；默认：reports"
    assert SUMMARY_WORDING["--out"].startswith(build["--out"]["help"])
    assert build["--notebooks"]["help"] == "章节笔记本目录；默认：notebooks"
    assert build["--force"]["help"] == "全部重新执行" and build["--force"]["flag"]
    # and the rendered --help of each shows them
    for command, options in (("build", build), ("summary", summary)):
        text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "300"}).output
        for name in shared:
            assert name in text and str(options[name]["help"]) in text, (command, name)


# --------------------------------------------------------------------------- issue 10: validate


@pytest.fixture
def wide(monkeypatch):
    """Wide consoles, so a message is one line of output (no wrapping inside it)."""
    import helpers.cli as cli

    for c in (cli.console, cli.err_console):
        monkeypatch.setattr(c, "width", 400)


def mutate(raw: Path, name: str, old: str, new: str) -> None:
    path = raw / "huichang" / "2024" / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def validate_2024(raw: Path):
    return invoke("validate", "--data-dir", str(raw), "--school", "huichang", "--year", "2024")


@pytest.mark.parametrize(
    "name, old, new, expected",
    [
        (
            "awards.csv",
            "一等奖,12,",
            "一等奖,nan,",
            "awards.csv，第 2 行，列 count，值 'nan'：数值不能是 nan 或 inf",
        ),
        (
            "awards.csv",
            "一等奖,12,",
            "一等奖,inf,",
            "awards.csv，第 2 行，列 count，值 'inf'：数值不能是 nan 或 inf",
        ),
        ("awards.csv", "一等奖,12,", '一等奖,"",', "awards.csv，第 2 行，列 count：数值为空"),
        (
            "facts.yaml",
            "graduates: {value: 1340,",
            "graduates: {value: .nan,",
            "facts.yaml，第 70 行，列 graduates，值 nan：数值不能是 nan 或 inf",
        ),
        (
            "facts.yaml",
            "graduates: {value: 1340,",
            "graduates: {value: .inf,",
            "facts.yaml，第 70 行，列 graduates，值 inf：数值不能是 nan 或 inf",
        ),
        (
            "facts.yaml",
            "graduates: {value: 1340,",
            'graduates: {value: "",',
            "facts.yaml，第 70 行，列 graduates，值 ''：数值为空",
        ),
        (
            "facts.yaml",
            "land_area_m2: {value: 154800,",
            "land_area_m2: {value: .nan,",
            "facts.yaml，第 22 行，列 land_area_m2，值 nan：数值不能是 nan 或 inf",
        ),
        (
            "facts.yaml",
            "students_male: {value: 1679,",
            "students_male: {value: 1,67,",
            "facts.yaml，第 15 行，列 students_male，值 '1,67'：数值中的逗号不是规范的千位分隔符",
        ),
        (
            "facts.yaml",
            "  - value: 3088\n",
            "  - value: 3O88\n",
            "facts.yaml，第 11 行，列 students_full_time，值 '3O88'：此项应为数字（计数），却填写了文字",
        ),
        (
            "published.csv",
            "student_teacher_ratio,15.44,",
            "student_teacher_ratio,15.44%,",
            "published.csv，第 2 行，列 value，值 '15.44%'：此列不是百分比，数值不能带 % 号",
        ),
    ],
)
def test_validate_bad_value_exits_2_with_one_message(raw_copy, wide, name, old, new, expected):
    mutate(raw_copy, name, old, new)
    lines = (raw_copy / "huichang" / "2024" / name).read_text(encoding="utf-8").splitlines()
    row = int(re.search(r"第 (\d+) 行", expected)[1])
    assert new.strip() in lines[row - 1]  # the message names the line that was changed
    result = validate_2024(raw_copy)
    assert result.exit_code == 2, result.output
    assert "数据校验未通过：huichang 2024，共 1 个错误" in result.output
    assert expected in result.output


@pytest.mark.parametrize(
    "name, old, new, expected",
    [
        (
            "awards.csv",
            None,
            "competition,level,prize,count,source,note\n",
            ["empty_table", "awards.csv", "只有表头"],
        ),
        (
            "facts.yaml",
            "students_male: {value: 1679,",
            "students_male: {value: 1,679,",
            ["number_format", "第 15 行，列 students_male，值 '1,679'", "千位分隔符", "读作 1679"],
        ),
        (
            "awards.csv",
            "一等奖,12,",
            "一等奖,１２,",
            ["number_format", "awards.csv，第 2 行，列 count，值 '１２'", "全角数字", "读作 12"],
        ),
        (
            "published.csv",
            "dual_qualified_share,51.72,",
            "dual_qualified_share,51.72%,",
            ["published.csv，第 3 行，列 value，值 '51.72%'", "百分号", "读作 51.72"],
        ),
    ],
)
def test_validate_lists_normalisations_and_warnings_and_exits_0(
    raw_copy, wide, name, old, new, expected
):
    if old is None:
        (raw_copy / "huichang" / "2024" / name).write_text(new, encoding="utf-8")
    else:
        mutate(raw_copy, name, old, new)
    result = validate_2024(raw_copy)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


def test_validate_ignores_excel_empty_rows_and_columns(raw_copy, wide):
    path = raw_copy / "huichang" / "2024" / "awards.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(ln + "," for ln in [*lines, ",,,,,"]) + "\n", encoding="utf-8")
    clean = validate_2024(raw_copy)
    assert clean.exit_code == 0, clean.output
    for word in ("awards.csv", "Unnamed", "重复", "nan"):
        assert word not in clean.output


def test_list_and_validate_with_two_schools(second_school, wide):
    result = invoke("list", "--data-dir", str(second_school))
    assert result.exit_code == 0, result.output
    assert "huichang" in result.output and "会昌中等专业学校" in result.output
    assert "demo2" in result.output and SECOND_NAME in result.output
    # validate without --school checks every school's latest year
    result = invoke("validate", "--data-dir", str(second_school))
    assert result.exit_code == 0, result.output
    squashed = re.sub(r"\s+", "", result.output)  # a table title wraps at the table's width
    assert f"demo2（{SECOND_NAME}）2024年度" in squashed
    assert "huichang（会昌中等专业学校）2024年度" in squashed
    # bad data in the second school fails validate, and names its file
    meta = second_school / "demo2" / "2024" / "meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("year: 2024", "year: 2023"), "utf-8")
    result = invoke("validate", "--data-dir", str(second_school))
    assert result.exit_code == 2, result.output
    assert "demo2/2024/meta.yaml" in result.output
    assert (
        invoke("validate", "--data-dir", str(second_school), "--school", "huichang").exit_code == 0
    )


def test_list_and_validate_a_bare_school(bare_school, wide):
    result = invoke("list", "--data-dir", str(bare_school))
    assert result.exit_code == 0, result.output
    assert "bare" in result.output and "简易学校" in result.output and "2024" in result.output
    result = invoke("validate", "--data-dir", str(bare_school))
    assert result.exit_code == 0, result.output
    assert "bare（简易学校）2024年度" in re.sub(r"\s+", "", result.output)
