"""Benchmark ``nianbao summary`` over N synthetic schools (helpers.demo).

    .venv/bin/python bench/summary.py [--schools 1 30 100] [--jobs 2] [--seed 0]

For each N, in a temporary folder: generate N schools (2023–2024), then time the real
command: a cold summary (every school-year validated and its processed data written, both
summary notebooks executed), and a rebuild with nothing changed. School reports are not
built (the summary then says 报告尚未生成 beside each school).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schools", type=int, nargs="+", default=[1, 30, 100])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from helpers.demo import generate

    print("| schools | generate (s) | cold summary (s) | no change (s) |\n|---:|---:|---:|---:|")
    for n in args.schools:
        with tempfile.TemporaryDirectory(prefix="nianbao-summary-bench-") as tmp:
            raw, out = Path(tmp) / "raw", Path(tmp) / "reports"
            t0 = time.perf_counter()
            generate(raw, n, [2023, 2024], args.seed)
            gen = time.perf_counter() - t0
            cmd = [str(BIN / "nianbao"), "summary", "--year", "2024", "--data-dir", str(raw)]
            cmd += ["--out", str(out), "--jobs", str(args.jobs)]
            cold, again = timed(cmd), timed(cmd)
            print(f"| {n} | {gen:.2f} | {cold:.1f} | {again:.2f} |", flush=True)


if __name__ == "__main__":
    main()
