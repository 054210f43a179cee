"""CPU seconds of one school-year's HTML: the workers' rendering and the main process's assembly.

    .venv/bin/nianbao build --out /tmp/out
    .venv/bin/python bench/render.py /tmp/out/huichang/2024 [--repeat 5]

On a built school-year's executed notebooks (``notebooks/*.ipynb``), in one process after a
warm-up: **render** — every chapter through ``render.render_chapter`` (what the workers do);
**assemble** — ``pages.assemble`` of index.html and report.html from the chapter pages with
their parts recorded beside them (``.build/<chapter>.parts.json``, the build's case) and,
**assemble-parsed**, without records (each page parsed once). The best of ``--repeat`` runs
(time.process_time), so that a shared machine's load matters less.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import nbformat

from helpers.build import pages
from helpers.build.execute import _chapter_title
from helpers.build.plan import CACHE_DIR
from helpers.report import render


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        run()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path, help="a built school-year (…/<school>/<year>)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    nbs = {}
    for p in sorted((args.folder / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        nbs[p.stem] = (nb, _chapter_title(p.stem, nb))
    if not nbs:
        raise SystemExit(f"{args.folder}: no executed notebooks (build it first)")
    done = {stem: render.render_chapter(nb, title) for stem, (nb, title) in nbs.items()}
    out = {"chapters": len(nbs)}
    out["render"] = best(args.repeat, lambda: [render.render_chapter(*v) for v in nbs.values()])
    chapters = [render.ChapterPage(s, nbs[s][1], r.html) for s, r in done.items()]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assemble = lambda: pages.assemble(folder, chapters, "学校", 2024, "", "2026-12-01")  # noqa: E731
        out["assemble-parsed"] = best(args.repeat, assemble)  # no .build/: nothing recorded
        (folder / CACHE_DIR).mkdir()
        for stem, r in done.items():
            pages.save_parts(folder, stem, r.parts.to_json())
        out["assemble"] = best(args.repeat, assemble)
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))


if __name__ == "__main__":
    main()
