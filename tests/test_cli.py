"""Issue 5: the `nianbao` command's chores and its error exits (no tracebacks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.cli import app
from helpers.dictionary import render_markdown

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
