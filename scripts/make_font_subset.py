"""Build the CJK font subset shipped in ``src/helpers/fonts/`` (reproducible).

Why: charts must render Chinese on machines with no CJK font installed (CI has none),
so the package ships its own font. The full Noto Sans CJK SC is ~16 MB; the subset
keeps only the characters a report can plausibly need (a few MB).

Source
    Noto Sans CJK SC Regular, version 1.004 (name table: "Version 1.004;PS 1.004;
    hotconv 1.0.82;makeotf.lib2.5.63406"), SIL Open Font License 1.1,
    © 2014, 2015 Adobe Systems Incorporated; "Noto" is a trademark of Google.
    Taken from the PyPI wheel ``mplfonts==0.0.11`` (file
    ``mplfonts/fonts/NotoSansCJKsc-Regular.otf``, SHA-256 ``SOURCE_SHA256`` below).
    mplfonts is only a carrier for the file; it is not a dependency of this project.

Character set (exactly; see ``build_charset``)
    * ASCII printable U+0020–U+007E;
    * Latin-1 punctuation and symbols U+00A0–U+00BF, plus × U+00D7 and ÷ U+00F7
      (includes ° U+00B0, · U+00B7);
    * General Punctuation U+2000–U+206F (includes — U+2014, … U+2026, ‰ U+2030);
    * minus sign U+2212 (matplotlib's ``axes.unicode_minus``);
    * CJK Symbols and Punctuation U+3000–U+303F;
    * Halfwidth and Fullwidth Forms U+FF00–U+FFEF;
    * every character of GB2312 (levels 1 and 2 plus its symbol rows), enumerated by
      decoding each two-byte code 0xA1–0xF7 × 0xA1–0xFE with the ``gb2312`` codec;
    * every character in the text files under ``data/raw/`` and in
      ``src/helpers/specs/*.yaml`` at the time the script is run.
    Code points the source font lacks are skipped and reported.

Output
    ``src/helpers/fonts/NotoSansSC-nianbao-subset.otf``: CFF-flavoured OpenType with the
    original family name ("Noto Sans CJK SC"; "Noto" is not a Reserved Font Name, so the
    OFL allows keeping it), cmap, name table (incl. licence records) and layout features.
    The ``head.modified`` timestamp is kept from the source, so the same inputs give a
    byte-identical file.

Usage
    python -m pip download --no-deps mplfonts==0.0.11 -d /tmp/mplfonts
    cd /tmp/mplfonts && unzip -o mplfonts-0.0.11-py3-none-any.whl 'mplfonts/fonts/*'
    python scripts/make_font_subset.py \
        --source /tmp/mplfonts/mplfonts/fonts/NotoSansCJKsc-Regular.otf

    or let the script fetch the wheel itself (needs network and pip):
    python scripts/make_font_subset.py --download
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "src" / "helpers" / "fonts" / "NotoSansSC-nianbao-subset.otf"
SOURCE_WHEEL = "mplfonts==0.0.11"
SOURCE_MEMBER = "mplfonts/fonts/NotoSansCJKsc-Regular.otf"
SOURCE_SHA256 = "1652500938055a232cfbfa321de6ebaadfc5635dd9f75e369bc991d14a6512dd"
SOURCE_VERSION = "Version 1.004;PS 1.004;hotconv 1.0.82;makeotf.lib2.5.63406"

# OpenType layout features kept in the subset (see make_subset).
LAYOUT_FEATURES = ["calt", "ccmp", "clig", "kern", "liga", "mark", "mkmk", "rclt", "rlig", "rvrn"]

# Files read for extra characters (on top of the fixed ranges and GB2312).
TEXT_SUFFIXES = {".csv", ".yaml", ".yml", ".json", ".md", ".txt", ".tsv"}


def fixed_ranges() -> set[int]:
    """The fixed Unicode ranges (Latin, punctuation, full-width forms)."""
    cps: set[int] = set(range(0x20, 0x7F))  # ASCII printable
    cps |= set(range(0xA0, 0xC0))  # Latin-1 punctuation and symbols
    cps |= {0xD7, 0xF7}  # × ÷
    cps |= set(range(0x2000, 0x2070))  # General Punctuation
    cps |= {0x2212, 0x2030, 0xB0}  # − ‰ ° (explicitly, though covered above)
    cps |= set(range(0x3000, 0x3040))  # CJK Symbols and Punctuation
    cps |= set(range(0xFF00, 0xFFF0))  # Halfwidth and Fullwidth Forms
    return cps


def gb2312_chars() -> set[int]:
    """Every character encoded in GB2312 (symbol rows, level 1 and level 2 hanzi)."""
    cps: set[int] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            text = bytes([hi, lo]).decode("gb2312", errors="ignore")
            cps.update(ord(c) for c in text)
    return cps


def project_chars(root: Path = ROOT) -> tuple[set[int], list[Path]]:
    """Characters used in data/raw text files and the field specs; also the files read."""
    files: list[Path] = []
    raw = root / "data" / "raw"
    if raw.is_dir():
        files += sorted(p for p in raw.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)
    files += sorted((root / "src" / "helpers" / "specs").glob("*.yaml"))
    cps: set[int] = set()
    for path in files:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        cps.update(ord(c) for c in text if c.isprintable() and c != "\ufffd")
    return cps, files


def build_charset(root: Path = ROOT) -> tuple[set[int], list[Path]]:
    """The full set of code points to keep, and the project files it was read from."""
    extra, files = project_chars(root)
    return fixed_ranges() | gb2312_chars() | extra, files


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_source(workdir: Path) -> Path:
    """Fetch the mplfonts wheel with pip and extract the Noto Sans CJK SC OTF."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", SOURCE_WHEEL, "-d", str(workdir)],
        check=True,
    )
    wheel = next(workdir.glob("mplfonts-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extract(SOURCE_MEMBER, workdir)
    return workdir / SOURCE_MEMBER


def make_subset(source: Path, output: Path, codepoints: set[int]) -> tuple[int, list[int]]:
    """Subset *source* to *codepoints*, write *output*; return (glyph count, missing cps)."""
    font = TTFont(source, recalcTimestamp=False, lazy=False)
    cmap = font.getBestCmap()
    missing = sorted(cp for cp in codepoints if cp not in cmap)

    options = subset.Options()
    options.name_IDs = ["*"]  # keep copyright, licence (13/14) and typographic family (16)
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    # Only the horizontal features a shaper applies by default. Left out on purpose:
    # 'locl' (would swap in Japanese/Korean/Traditional forms depending on the process
    # language), vertical forms and 'aalt'/width variants (many extra glyphs, unused).
    options.layout_features = LAYOUT_FEATURES
    options.hinting = True
    options.recalc_timestamp = False
    options.recalc_bounds = True

    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(cp for cp in codepoints if cp in cmap))
    subsetter.subset(font)

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    font.save(tmp)
    tmp.replace(output)
    return len(font.getGlyphOrder()), missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", type=Path, help="path to NotoSansCJKsc-Regular.otf")
    src.add_argument("--download", action="store_true", help=f"pip download {SOURCE_WHEEL}")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--allow-other-source",
        action="store_true",
        help="do not fail when the source file's SHA-256 differs from the documented one",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        source = download_source(Path(tmp)) if args.download else args.source
        digest = sha256(source)
        if digest != SOURCE_SHA256:
            msg = f"source SHA-256 {digest} != documented {SOURCE_SHA256}"
            if not args.allow_other_source:
                parser.error(msg + " (use --allow-other-source to proceed)")
            print("warning:", msg, file=sys.stderr)
        version = TTFont(source, lazy=True)["name"].getDebugName(5)
        if version != SOURCE_VERSION:
            print(f"warning: source version {version!r} != {SOURCE_VERSION!r}", file=sys.stderr)

        codepoints, files = build_charset()
        glyphs, missing = make_subset(source, args.output, codepoints)

    print(f"source:     {source} ({version}, sha256 {digest})")
    print(f"read chars: {len(files)} project files")
    print(f"requested:  {len(codepoints)} code points; not in source font: {len(missing)}")
    if missing:
        shown = " ".join(f"U+{cp:04X}" for cp in missing[:40])
        print(f"            {shown}{' …' if len(missing) > 40 else ''}")
    print(f"output:     {args.output} ({args.output.stat().st_size:,} bytes, {glyphs} glyphs)")
    print(f"sha256:     {sha256(args.output)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
