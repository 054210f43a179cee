"""How a report was made: content hashes for incremental builds, and ``manifest.json``.

Everything here is cheap and imports nothing heavy (no pandas, papermill or nbconvert), so a
rebuild with nothing changed can decide that in well under a second.

Hashes are sha256 of file *contents* (never file times). A chapter's key combines:

- its notebook: cell types, sources and tags only (outputs, execution counts and metadata
  ignored, so opening and saving a notebook in Jupyter does not trigger a rebuild);
- the code: every file under ``src/helpers`` (modules, specs/*.yaml, templates, fonts);
- its data: the raw files ``helpers.build.inputs.chapter_inputs`` names for it;
- the parameters (school id, year, absolute data folder);
- the versions of the packages that shape the output, and the Python version.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from helpers import atomic, fmt

HELPERS_DIR = Path(__file__).resolve().parents[1]
PACKAGES = (
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "pandas",
    "matplotlib",
    "seaborn",
    "pandera",
)
SCHEMA = 1  # bump to invalidate every cached chapter key


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (helpers.atomic)."""
    return atomic.write_text(path, text)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes atomically (helpers.atomic)."""
    return atomic.write_bytes(path, data)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj: Any) -> str:
    """Hash of a JSON-able object in a canonical form (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256_bytes(text.encode("utf-8"))


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's contents."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _ignored(path: Path) -> bool:
    return (
        "__pycache__" in path.parts
        or path.suffix in (".pyc", ".pyo", ".tmp")
        or any(part.startswith(".") for part in path.parts)
    )


def tree_files(root: str | os.PathLike[str]) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file under ``root`` (dot files skipped)."""
    root = Path(root)
    if not root.is_dir():
        return {}
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not _ignored(rel):
            out[rel.as_posix()] = file_digest(p)
    return out


def code_hash() -> str:
    """Hash of everything under src/helpers (code, specs, templates, fonts)."""
    return sha256_json(tree_files(HELPERS_DIR))


def notebook_hash(path: str | os.PathLike[str]) -> str:
    """Hash of a notebook's content: cell types, sources and tags; outputs/metadata ignored."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        tags = sorted((cell.get("metadata") or {}).get("tags") or [])
        cells.append([cell.get("cell_type"), source, tags])
    spec = (nb.get("metadata") or {}).get("kernelspec") or {}
    return sha256_json({"cells": cells, "kernel": spec.get("name"), "nbformat": nb.get("nbformat")})


def package_versions() -> dict[str, str | None]:
    """Versions of the packages that shape a chapter's output, plus Python's."""
    from importlib import metadata

    wanted = {p.lower().replace("_", "-") for p in PACKAGES}
    found: dict[str, str | None] = dict.fromkeys(PACKAGES)
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in wanted:
            key = next(p for p in PACKAGES if p.lower().replace("_", "-") == name)
            found[key] = found[key] or dist.version
    found["python"] = platform.python_version()
    return found


def _git(root: str | os.PathLike[str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=True
    ).stdout


def git_info(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the repository at ``root``, or None without git."""
    try:
        commit = _git(root, "rev-parse", "HEAD").strip()
        status = _git(root, "status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())}


def now_iso() -> str:
    """The current time in ISO 8601 with the local time zone, e.g. 2025-01-05T10:00:00+08:00."""
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def read_json(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when missing or unreadable (a cache miss)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write a JSON object atomically (UTF-8, indented, keys in insertion order)."""
    return write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def files_digest(entries: Iterable[tuple[str, str | None]]) -> str:
    """Hash of ``(name, sha256 or None for a missing file)`` pairs, order-independent."""
    return sha256_json(sorted([name, digest] for name, digest in entries))


def code_version(manifest: Mapping[str, Any]) -> str:
    """``0.1.0 (git 1a2b3c4d, 含未提交修改)`` from a manifest's code record."""
    code = manifest.get("code") or {}
    text = str(code.get("helpers_version", "?"))
    git = code.get("git")
    if git:
        text += f"（git {str(git.get('commit', ''))[:8]}{'，含未提交修改' if git.get('dirty') else ''}）"
    return text


def footer_text(manifest: Mapping[str, Any]) -> str:
    """The provenance line at the foot of index.html and report.html, for a reader: when (北京
    时间) and from which data version. The code version and git commit stay in manifest.json."""
    when = fmt.beijing_time(str(manifest.get("built_at", "")), zone=False)
    data = str(manifest.get("data_hash", ""))[:8]
    out = f"本报告生成于 {when}（北京时间）" if when else "本报告"
    if data:
        out += f"，所用数据版本为 {data}（原始数据内容的校验码，数据有任何改动都会变化）"
    return out + "。"
