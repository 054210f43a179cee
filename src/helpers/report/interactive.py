"""The report's look inside JupyterLab: an analyst who runs a chapter notebook sees the
chapter styled as the reviewer's page (the report's stylesheet and the bundled CJK font, so
Chinese renders even on a machine without a CJK font).

Only outside a build: ``nianbao build`` renders pages with its own template, and sets
``NIANBAO_BUILD`` for its kernels so executed notebooks do not carry the 2 MB font.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from helpers.report.fonts import FONT_FAMILY, FONT_FILE
from helpers.report.markup import TEMPLATES_DIR

_shown = False


@lru_cache(maxsize=1)
def _style() -> str:
    css = (TEMPLATES_DIR / "nianbao" / "static" / "report.css").read_text(encoding="utf-8")
    font = base64.b64encode(FONT_FILE.read_bytes()).decode("ascii")
    face = (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-display: swap; '
        f'src: url("data:font/otf;base64,{font}") format("opentype"); }}'
    )
    return f'<style class="nb-lab-style">{face}\n{css}</style>'


def style_once() -> str:
    """The stylesheet for the first chapter heading of an interactive session, else ""."""
    global _shown
    if _shown or os.environ.get("NIANBAO_BUILD"):
        return ""
    _shown = True
    return _style()
