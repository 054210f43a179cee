"""The CJK font shipped with the package, and how matplotlib is told to use it.

Charts carry Chinese labels, and CI machines have no CJK font installed: without a
font, matplotlib draws empty boxes and warns "Glyph ... missing from font(s)". The
package therefore ships a subset of Noto Sans CJK SC (SIL OFL 1.1; see
``fonts/README.md`` and ``scripts/make_font_subset.py``) and registers it at runtime.
"""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"
FONT_FILE = FONT_DIR / "NotoSansSC-nianbao-subset.otf"
# The family name in the font's name table (kept from the original; see fonts/README.md).
FONT_FAMILY = "Noto Sans CJK SC"
FALLBACK_FAMILY = "DejaVu Sans"  # bundled with matplotlib: Latin, Greek, math symbols


def _is_registered(path: Path) -> bool:
    """Whether matplotlib's font manager already knows the font file at *path*."""
    target = str(path)
    from matplotlib import font_manager

    return any(entry.fname == target for entry in font_manager.fontManager.ttflist)


def register_cjk_font() -> str:
    """Make matplotlib render Chinese with the shipped font; return its family name.

    Adds the font file to matplotlib's font manager (once per process; calling again
    is cheap) and, on every call, sets ``font.family`` to sans-serif (then DejaVu Sans
    for per-glyph fallback) with the CJK family first in ``font.sans-serif``, plus
    ``axes.unicode_minus`` (the subset contains U+2212 MINUS SIGN). Re-applying the rc
    settings on each call matters because ``seaborn.set_theme`` resets them.
    """
    import matplotlib as mpl  # here, so that the font path can be imported without matplotlib
    from matplotlib import font_manager

    if not FONT_FILE.is_file():
        raise FileNotFoundError(
            f"CJK font not found at {FONT_FILE}; it must be installed as package data "
            "(helpers/fonts/*) or regenerated with scripts/make_font_subset.py"
        )
    if not _is_registered(FONT_FILE):
        font_manager.fontManager.addfont(str(FONT_FILE))

    others = [
        name
        for name in mpl.rcParams["font.sans-serif"]
        if name not in (FONT_FAMILY, FALLBACK_FAMILY)
    ]
    # "sans-serif" resolves to ONE font (the CJK one); listing DejaVu Sans after it makes
    # matplotlib fall back glyph by glyph (e.g. for CO₂) instead of drawing a box.
    mpl.rcParams["font.family"] = ["sans-serif", FALLBACK_FAMILY]
    mpl.rcParams["font.sans-serif"] = [FONT_FAMILY, FALLBACK_FAMILY, *others]
    mpl.rcParams["axes.unicode_minus"] = True
    return FONT_FAMILY
