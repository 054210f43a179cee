"""Throughput of many school-years against the plain-Python floor (issue 14).

    .venv/bin/python bench/throughput.py [--school-years 1,10,30] [--jobs 2]
                                         [--cluster] [--floor-only] [--markdown]

On temporary copies of the bundled school under other ids (``<school>``, ``<school>01``, …):

1. **floor** — every chapter notebook's code for one school-year run as plain Python scripts
   in one process (no kernels, no papermill, no HTML), after the school-year was validated
   once and its processed data written, as the build does. Measured in one interpreter over
   several school-years: the first includes the imports, the later ones (the median) are the
   steady-state cost of one school-year, the floor per school-year;
2. **build** — ``nianbao build`` (cold, empty output folder) of N school-years for each N;
3. ``--cluster`` — the same cold build of the largest N on a ``dask scheduler`` with two
   ``dask worker --nworkers 1 --nthreads 1`` processes started here on 127.0.0.1.

The ratio printed is build ÷ (N × floor ÷ jobs): 1.0 would be the floor on ``jobs`` cores.
The load average is printed with every run (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def school_copies(data: Path, school: str, n: int) -> list[str]:
    """n copies of the bundled school in ``data`` (ids ``school``, ``school01``, …)."""
    from helpers import paths

    ids = [school] + [f"{school}{i:02d}" for i in range(1, n)]
    for sid in ids:
        if not (data / sid).exists():
            shutil.copytree(paths.raw_root() / school, data / sid)
            yml = data / sid / "school.yaml"
            text = yml.read_text(encoding="utf-8")
            yml.write_text(text.replace(f"school_id: {school}", f"school_id: {sid}", 1), "utf-8")
    return ids


FLOOR_CODE = r"""
import json, statistics, sys, time
import nbformat
from helpers.indicators.processed import write
from helpers.ingest.load import load_school_year

nbdir, data_dir, year, ids = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
from pathlib import Path
chapters = []
for p in sorted(Path(nbdir).glob("[0-9]*.ipynb")):
    nb = nbformat.read(p, as_version=4)
    chapters.append((p.stem, [c.source for c in nb.cells if c.cell_type == "code"]))
times = []
for sid in ids:
    t0 = time.perf_counter()
    write(load_school_year(sid, year, data_dir))  # validated once, as the build does
    for stem, cells in chapters:
        ns = {"__name__": "__main__"}
        params = f"school_id = {sid!r}\nyear = {year}\ndata_dir = {data_dir!r}\n"
        code = "\n\n".join([cells[0], params, *cells[1:]])
        exec(compile(code, stem, "exec"), ns)
        import matplotlib.pyplot as plt
        plt.close("all")
    times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def floor(nbdir: Path, data: Path, year: int, ids: list[str]) -> list[float]:
    """Seconds per school-year, in one interpreter (the first one pays the imports)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-c", FLOOR_CODE, str(nbdir), str(data), str(year), *ids]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(
    data: Path, nbdir: Path, out: Path, year: int, ids: list[str], extra: list[str]
) -> tuple[float, str]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(BIN / "nianbao"), "build", "--data-dir", str(data), "--notebooks", str(nbdir)]
    cmd += ["--out", str(out), "--year", str(year), *extra]
    for sid in ids:
        cmd += ["--school", sid]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    where = next((ln for ln in proc.stdout.splitlines() if ln.startswith("已执行")), "")
    return elapsed, where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster(workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A dask scheduler and ``workers`` single-threaded workers on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(BIN / "dask")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **quiet,
        )
    ]
    for _ in range(workers):
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                **quiet,
            )
        )
    return address, procs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    ap.add_argument("--school-years", default="1,10,30", help="comma-separated N")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--floor-years", type=int, default=4, help="school-years for the floor")
    ap.add_argument("--cluster", action="store_true", help="also the largest N on 2 dask workers")
    ap.add_argument("--floor-only", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    ns = [int(x) for x in args.school_years.split(",") if x.strip()]

    from helpers import paths

    school = paths.list_schools()[0]
    year = paths.latest_year(school)
    rows: list[tuple[str, float, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="nianbao-throughput-") as tmp:
        tmp = Path(tmp)
        nbdir = tmp / "notebooks"
        shutil.copytree(args.notebooks, nbdir)
        data = tmp / "raw"
        data.mkdir()
        ids = school_copies(data, school, max([args.floor_years, *ns]))
        la = load_average()
        per = floor(nbdir, data, year, ids[: args.floor_years])
        steady = statistics.median(per[1:]) if len(per) > 1 else per[0]
        print(
            f"floor: first school-year {per[0]:.2f} s (with imports), then "
            f"{', '.join(f'{t:.2f}' for t in per[1:])} s → floor {steady:.2f} s  [load {la}]",
            flush=True,
        )
        rows.append(("floor, 1 school-year, first in its process", per[0], "", la))
        rows.append(("floor, 1 school-year, steady state (median)", steady, "1.00", la))
        if args.floor_only:
            return
        for n in ns:
            la = load_average()
            t, where = build(data, nbdir, tmp / "out", year, ids[:n], ["--jobs", str(args.jobs)])
            ratio = t / (n * steady / args.jobs)
            print(f"build {n:3d} school-years: {t:7.2f} s  ratio {ratio:.2f}  [load {la}]  {where}")
            rows.append((f"build, {n} school-years, --jobs {args.jobs}", t, f"{ratio:.2f}", la))
        if args.cluster:
            n = max(ns)
            address, procs = cluster(2)
            try:
                la = load_average()
                t, where = build(data, nbdir, tmp / "out", year, ids[:n], ["--scheduler", address])
            finally:
                for p in reversed(procs):
                    p.terminate()
                for p in procs:
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
            ratio = t / (n * steady / 2)
            print(
                f"cluster {n:3d} school-years: {t:7.2f} s  ratio {ratio:.2f}  [load {la}]  {where}"
            )
            rows.append((f"build, {n} school-years, 2 dask workers", t, f"{ratio:.2f}", la))
    if args.markdown:
        print("\n| run | time (s) | ÷ (N × floor ÷ jobs) | load average (1, 5, 15 min) |")
        print("|---|---:|---:|---|")
        for name, t, ratio, la in rows:
            print(f"| {name} | {t:.2f} | {ratio} | {la} |")


if __name__ == "__main__":
    main()
