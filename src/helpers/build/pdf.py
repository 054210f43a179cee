"""Print report.html to PDF with headless Chromium (optional: ``nianbao build --pdf``).

Chromium is not a Python package; on Debian/Ubuntu it is ``apt-get install chromium``. When it
is missing the build says so and how to install it; nothing else depends on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from helpers.atomic import atomic_path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium as root on a closed network: no sandbox, no background connections
BROWSER_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FLAGS = (
    "--headless",
    *BROWSER_FLAGS,
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)
INSTALL_HINT = (
    "未找到 Chromium，无法生成 PDF。请安装后重试：Debian/Ubuntu 运行 "
    "`sudo apt-get install chromium`；或设置环境变量 NIANBAO_CHROMIUM 指向 Chromium/Chrome 可执行文件。"
    "（HTML 报告已生成，不受影响。）"
)


class PdfUnavailable(RuntimeError):
    """No Chromium to print with."""


def find_chromium() -> str | None:
    """The Chromium/Chrome executable: $NIANBAO_CHROMIUM, else the first on PATH."""
    env = os.environ.get("NIANBAO_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: Path, pdf: Path, timeout: float = 180) -> Path:
    """Print ``html`` to ``pdf`` (A4, the report's print stylesheet), atomically."""
    exe = find_chromium()
    if exe is None:
        raise PdfUnavailable(INSTALL_HINT)
    with (
        tempfile.TemporaryDirectory(prefix="nianbao-chromium-") as profile,
        atomic_path(pdf) as tmp,
    ):
        cmd = [
            exe,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            Path(html).resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            raise RuntimeError(
                f"Chromium 打印 PDF 失败（退出码 {proc.returncode}）：{proc.stderr[-500:]}"
            )
    return pdf


def page_count(pdf: Path) -> int:
    """Pages in a PDF written by Chromium (counts page objects; enough for a check)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", Path(pdf).read_bytes()))
