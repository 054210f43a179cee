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


def print_pdf(html: Path, pdf: Path, timeout: float = 180, page_numbers: bool = True) -> Path:
    """Print ``html`` to ``pdf`` (A4, the report's print stylesheet, no browser header or
    footer), atomically.

    With ``page_numbers`` and poppler's ``pdftotext`` installed, the report is printed twice:
    the first printing tells on which page each entry of the printed table of contents starts,
    and the second prints the contents with those page numbers (Chromium has no
    ``target-counter``). Without pdftotext the contents list section numbers only.
    """
    exe = find_chromium()
    if exe is None:
        raise PdfUnavailable(INSTALL_HINT)
    html = Path(html)
    with (
        tempfile.TemporaryDirectory(prefix="nianbao-chromium-") as profile,
        atomic_path(pdf) as tmp,
    ):
        _print(exe, html, tmp, profile, timeout)
        if page_numbers and shutil.which("pdftotext"):
            paged = _with_page_numbers(html.read_text(encoding="utf-8"), tmp)
            if paged is not None:
                second = Path(profile) / "report-paged.html"
                second.write_text(paged, encoding="utf-8")
                _print(exe, second, tmp, profile, timeout)
    return pdf


def _print(exe: str, html: Path, target: Path, profile: str, timeout: float) -> None:
    cmd = [
        exe,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--print-to-pdf={target}",
        Path(html).resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        raise RuntimeError(
            f"Chromium 打印 PDF 失败（退出码 {proc.returncode}）：{proc.stderr[-500:]}"
        )


def page_texts(pdf: Path) -> list[list[str]]:
    """Each page's text lines (poppler's pdftotext), whitespace removed."""
    proc = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return []
    return [
        [squeezed for ln in page.splitlines() if (squeezed := "".join(ln.split()))]
        for page in proc.stdout.split("\f")
    ]


def locate(entries: list[str], pages: list[list[str]]) -> list[int | None]:
    """The page (1-based) on which each heading of the printed contents starts, in order.

    The contents come first and list every heading, so the search for the headings starts
    after the page that lists the last one; each heading is looked for from the page of the
    one before it (a heading wrapped over two lines is matched by its first line).
    """
    wanted = ["".join(e.split()) for e in entries]
    if not wanted:
        return []

    def on(page: list[str], text: str) -> bool:
        return any(ln == text or (len(ln) >= 6 and text.startswith(ln)) for ln in page)

    last_toc = next((i for i, p in enumerate(pages) if on(p, wanted[-1])), None)
    if last_toc is None:
        return [None] * len(wanted)
    out: list[int | None] = []
    at = last_toc + 1
    for text in wanted:
        found = next((i for i in range(at, len(pages)) if on(pages[i], text)), None)
        out.append(None if found is None else found + 1)
        if found is not None:
            at = found
    return out


def _with_page_numbers(page: str, pdf: Path) -> str | None:
    """report.html with the page numbers of the first printing in its printed contents."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    items = soup.select("nav.nb-print-toc li[data-anchor]")
    texts = [(li.find("span", class_="nb-ptoc-text") or li).get_text() for li in items]
    numbers = locate(texts, page_texts(pdf))
    if not items or not any(numbers):
        return None
    for li, number in zip(items, numbers, strict=True):
        if number is not None:
            span = soup.new_tag("span", attrs={"class": "nb-ptoc-page"})
            span.string = str(number)
            li.append(span)
    return str(soup)


def page_count(pdf: Path) -> int:
    """Pages in a PDF written by Chromium (counts page objects; enough for a check)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", Path(pdf).read_bytes()))
