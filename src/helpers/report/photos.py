"""Photos of a year's prose, made fit to embed in the one-file report.

A photo is ``data/raw/<school>/<year>/images/<file>`` (referred to from the Markdown as
``![说明](images/<file>)``; checked by :mod:`helpers.ingest.narrative`). Camera files are
often several megabytes: the report embeds each one scaled down to at most
:data:`MAX_WIDTH` × :data:`MAX_HEIGHT` pixels (twice the size it is shown at, so it stays sharp
in print) and re-encoded — JPEG for photos, PNG for images with transparency — so that a year
with many photos keeps ``report.html`` under its size limit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_WIDTH = 1400  # px: shown at up to 700 CSS px
MAX_HEIGHT = 1100
JPEG_QUALITY = 80
SHOWN_WIDTH = MAX_WIDTH // 2  # CSS px at most (narrower screens scale it down further)


@dataclass(frozen=True)
class Photo:
    """An image ready to embed: its bytes, MIME type and the size to show it at (CSS px)."""

    data: bytes
    mime: str
    width: int
    height: int


def prepare(path: Path) -> Photo:
    """The photo at ``path``, scaled down and re-encoded (cached while the file is unchanged)."""
    st = path.stat()
    return _prepare(path.resolve(), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _prepare(path: Path, size: int, mtime: int) -> Photo:
    from PIL import Image, ImageOps

    with Image.open(path) as src:
        im = ImageOps.exif_transpose(src)  # a phone's portrait photo stands upright
        im.thumbnail((MAX_WIDTH, MAX_HEIGHT), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        if im.mode in ("RGBA", "LA", "P") and _has_alpha(im):
            im.save(buf, format="PNG", optimize=True)
            mime = "image/png"
        else:
            im.convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
            mime = "image/jpeg"
        width, height = im.size
    scale = min(1.0, SHOWN_WIDTH / width)
    return Photo(buf.getvalue(), mime, max(1, round(width * scale)), max(1, round(height * scale)))


def _has_alpha(im) -> bool:  # type: ignore[no-untyped-def]
    if im.mode == "P":
        return "transparency" in im.info
    return im.getchannel("A").getextrema()[0] < 255
