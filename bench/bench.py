"""Benchmark `nianbao build` against the naive papermill + nbconvert loop.

    .venv/bin/python bench/bench.py [--notebooks notebooks] [--jobs N] [--markdown]

Everything runs on temporary copies (notebooks, data/raw, output folder), with the bundled
school's latest year. Measured, each as a wall-clock time of the real commands:

1. cold build (empty output folder);
2. rebuild with nothing changed (median of 5);
3. rebuild after a harmless Markdown cell is appended to one chapter notebook;
4. the naive way: for each notebook, `papermill nb out.ipynb -p ...` and then
   `jupyter nbconvert --to html --no-input out.ipynb`, one after the other;
5. a cold build with a new kernel per chapter (`--fresh-kernels`), to show what the warm,
   reused kernels are worth;
6. ``--school-years N`` (default 10): a cold build, then a no-change rebuild, of N
   school-years (copies of the bundled school in a temporary data folder);
7. what a chapter kernel spends loading its school-year: validating raw data
   (``load_school_year``) vs reading the build's processed data (``load_fresh``: Parquet,
   no validation), with unpickling the same school-year for reference.

The load average is printed at the start and the end (the machine may be shared).

It also checks that the notebooks executed by (1) have the same outputs as those of (4) and
(5) (object addresses and kernel temp-file names aside).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGETS = {"cold": 3.0, "nochange": 30.0}


def nianbao() -> list[str]:
    script = BIN / "nianbao"
    return [str(script)] if script.exists() else [sys.executable, "-m", "helpers.cli"]


def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    return {
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def outputs(path: Path) -> list:
    """A notebook's cells as (type, source, outputs) without volatile details."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for c in nb["cells"]:
        tags = c.get("metadata", {}).get("tags", [])
        if "papermill-error-cell-tag" in tags:
            continue
        outs = []
        for o in c.get("outputs", []):
            o = {k: v for k, v in o.items() if k not in ("metadata", "execution_count")}
            text = json.dumps(o, sort_keys=True)
            text = re.sub(r" at 0x[0-9a-f]+", "", text)
            text = re.sub(r"ipykernel_\d+/\d+", "ipykernel", text)
            outs.append(text)
        source = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        cells.append((c["cell_type"], source, outs))
    return cells


def load_times(school: str, year: int, raw: Path) -> dict[str, float]:
    """Seconds a chapter kernel spends on its school-year, in a fresh interpreter as a kernel
    does it (median of 5 each): validating the raw data (``load_school_year``, what every
    chapter paid before issue 11) vs reading the processed data the build wrote
    (``load_fresh``: stamp check + Parquet, no validation); the first ``load_fresh`` of the
    interpreter (it imports pyarrow.parquet) on its own; and, for reference, unpickling the
    same school-year (the format the processed folder held before) and the stamp check
    alone (``fresh_folder``, part of ``load_fresh``)."""
    code = (
        "import pickle, statistics, time\n"
        "from helpers.ingest import schemas\n"
        "from helpers.ingest.load import load_school_year\n"
        "from helpers.ingest.processed import load_fresh\n"
        "from helpers.ingest.stamp import fresh_folder\n"
        f"args = ({school!r}, {year}, {str(raw)!r})\n"
        "def t(f, n=5):\n"
        "    ts = []\n"
        "    for _ in range(n):\n"
        "        t0 = time.perf_counter(); sy = f(*args); ts.append(time.perf_counter() - t0)\n"
        "        assert sy is not None\n"
        "    return statistics.median(ts)\n"
        "def validate(*a):  # as a kernel's first load: no table validated before\n"
        "    schemas._MEMO.clear()\n"
        "    return load_school_year(*a)\n"
        "first = t(load_fresh, 1)\n"
        "raw, processed, stamp = t(validate), t(load_fresh), t(fresh_folder)\n"
        "blob = pickle.dumps(load_school_year(*args), protocol=pickle.HIGHEST_PROTOCOL)\n"
        "print(raw, processed, first, t(lambda *a: pickle.loads(blob)), stamp)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    keys = ("load_raw", "load_processed", "load_processed_first", "load_pickle", "load_stamp")
    return dict(zip(keys, map(float, out.stdout.split()), strict=True))


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages (the machine may be shared)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def many_school_years(
    tmp: Path, nbs: Path, school: str, year: int, n: int, jobs: int
) -> dict[str, float]:
    """A cold build and a no-change rebuild of n copies of the bundled school."""
    from helpers import paths

    data = tmp / "many" / "raw"
    ids = [school] + [f"{school}{i:02d}" for i in range(1, n)]
    for sid in ids:
        shutil.copytree(paths.raw_root() / school, data / sid)
        meta = data / sid / "school.yaml"  # its school_id must match the folder
        text = meta.read_text(encoding="utf-8")
        meta.write_text(text.replace(f"school_id: {school}", f"school_id: {sid}", 1), "utf-8")
    cmd = [*nianbao(), "build", "--data-dir", str(data), "--notebooks", str(nbs)]
    cmd += ["--out", str(tmp / "many" / "reports"), "--jobs", str(jobs), "--year", str(year)]
    for sid in ids:
        cmd += ["--school", sid]
    return {"many_cold": timed(cmd), "many_nochange": timed(cmd)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--markdown", action="store_true", help="print the results as Markdown")
    ap.add_argument("--school-years", type=int, default=10, help="0 to skip (6)")
    ap.add_argument("--skip-naive", action="store_true", help="skip (4) and (5)")
    args = ap.parse_args()

    from helpers import paths

    school = paths.list_schools()[0]
    year = paths.latest_year(school)
    notebooks = sorted(args.notebooks.glob("*.ipynb"))
    if not notebooks:
        sys.exit(f"no notebooks in {args.notebooks}")

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        tmp = Path(tmp)
        nbs = tmp / "notebooks"
        shutil.copytree(args.notebooks, nbs)
        raw = tmp / "data" / "raw"
        shutil.copytree(paths.raw_root(), raw)
        out = tmp / "reports"
        build = [
            *nianbao(),
            "build",
            "--school",
            school,
            "--year",
            str(year),
            "--data-dir",
            str(raw),
            "--notebooks",
            str(nbs),
            "--out",
            str(out),
            "--jobs",
            str(args.jobs),
        ]
        times: dict[str, float] = {}
        print(f"{len(notebooks)} notebooks, {school} {year}, --jobs {args.jobs}", flush=True)
        print(f"load average at start {loadavg()}", flush=True)

        times["cold"] = timed(build)
        print(f"cold build            {times['cold']:7.2f} s", flush=True)

        runs = [timed(build) for _ in range(5)]
        times["nochange"] = statistics.median(runs)
        print(f"no change (median/5)  {times['nochange']:7.2f} s", flush=True)

        touched = notebooks[len(notebooks) // 2].name
        nb = json.loads((nbs / touched).read_text(encoding="utf-8"))
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["基准测试"]})
        (nbs / touched).write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        times["touch"] = timed(build)
        print(f"one notebook changed  {times['touch']:7.2f} s  ({touched})", flush=True)
        ours = out / school / str(year) / "notebooks"

        times.update(load_times(school, year, raw))
        print(
            f"kernel data load      raw (validate) {times['load_raw']:.3f} s, processed "
            f"(Parquet) {times['load_processed']:.3f} s (first in a process "
            f"{times['load_processed_first']:.3f} s; stamp check {times['load_stamp']:.3f} s), "
            f"unpickle {times['load_pickle']:.3f} s",
            flush=True,
        )
        if args.school_years:
            many = many_school_years(tmp, nbs, school, year, args.school_years, args.jobs)
            times.update(many)
            print(
                f"{args.school_years} school-years     cold {many['many_cold']:7.2f} s, "
                f"no change {many['many_nochange']:.2f} s",
                flush=True,
            )
        if args.skip_naive:
            print(f"load average at end   {loadavg()}", flush=True)
            return
        naive = tmp / "naive"
        naive.mkdir()
        t0 = time.perf_counter()
        for path in sorted(nbs.glob("*.ipynb")):
            executed = naive / path.name
            timed(
                [
                    str(BIN / "papermill"),
                    str(path),
                    str(executed),
                    "-p",
                    "school_id",
                    school,
                    "-p",
                    "year",
                    str(year),
                    "-p",
                    "data_dir",
                    str(raw),
                    # the build's other parameters (helpers.build.plan) and its environment
                    # (outputs without the interactive styling), so that the outputs compare
                    "-p",
                    "figures",
                    "recomputed",
                    "-p",
                    "notebooks_dir",
                    str(nbs),
                ],
                env={**os.environ, "NIANBAO_BUILD": "1"},
            )
            timed([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)])
        times["naive"] = time.perf_counter() - t0
        print(f"naive loop            {times['naive']:7.2f} s", flush=True)

        fresh_out = tmp / "fresh"
        fresh = [*build[:-4], "--out", str(fresh_out), "--jobs", str(args.jobs), "--fresh-kernels"]
        times["fresh"] = timed(fresh)
        print(f"cold, fresh kernels   {times['fresh']:7.2f} s", flush=True)

        diff_naive = [
            p.name for p in nbs.glob("*.ipynb") if outputs(ours / p.name) != outputs(naive / p.name)
        ]
        diff_fresh = [
            p.name
            for p in nbs.glob("*.ipynb")
            if outputs(ours / p.name)
            != outputs(fresh_out / school / str(year) / "notebooks" / p.name)
        ]

    ratio_cold = times["naive"] / times["cold"]
    ratio_nochange = times["naive"] / times["nochange"]
    ratio_touch = times["naive"] / times["touch"]
    m = machine()
    rows = [
        ("cold build (warm kernels, reused)", times["cold"], ratio_cold, f"≥ {TARGETS['cold']:g}×"),
        (
            "rebuild, nothing changed",
            times["nochange"],
            ratio_nochange,
            f"≥ {TARGETS['nochange']:g}×",
        ),
        (f"rebuild, one notebook changed ({touched})", times["touch"], ratio_touch, ""),
        (
            "cold build, fresh kernel per chapter",
            times["fresh"],
            times["naive"] / times["fresh"],
            "",
        ),
        ("naive papermill + nbconvert loop", times["naive"], 1.0, ""),
    ]
    print()
    print(f"machine: nproc {m['nproc']}, {m['cpu']}, Python {m['python']}, {m['platform']}")
    print(f"load average at end: {loadavg()}")
    if args.markdown:
        print("\n| run | time (s) | naive ÷ this | target |\n|---|---:|---:|---|")
        for name, t, ratio, target in rows:
            print(f"| {name} | {t:.2f} | {ratio:.1f}× | {target} |")
    else:
        for name, t, ratio, target in rows:
            print(f"{name:48s} {t:7.2f} s  {ratio:6.1f}×  {target}")
    print()
    print(
        "executed notebooks identical to the naive run: "
        + ("yes" if not diff_naive else f"NO: {', '.join(diff_naive)}")
    )
    print(
        "executed notebooks identical to fresh-kernel build: "
        + ("yes" if not diff_fresh else f"NO: {', '.join(diff_fresh)}")
    )
    ok = ratio_cold >= TARGETS["cold"] and ratio_nochange >= TARGETS["nochange"]
    print("targets met" if ok else "targets NOT met")


if __name__ == "__main__":
    main()
