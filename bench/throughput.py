"""Throughput of many school-years against the plain-Python floor (issue 14).

    .venv/bin/python bench/throughput.py [--school-years 1,10,30] [--jobs 2]
                                         [--cluster] [--floor-only] [--refloor] [--markdown]
    .venv/bin/python bench/throughput.py --pairs 4 [--pair-years 10]

On temporary copies of the bundled school under other ids (``<school>``, ``<school>01``, …):

1. **floor** — every chapter notebook's code for one school-year run as plain Python scripts
   in one process (no kernels, no papermill, no pages: the chapters still draw their charts and
   make their HTML fragments), after the school-year was validated
   once and its processed data written, as the build does. Measured in one interpreter over
   several school-years: the first includes the imports, the later ones (the median) are the
   steady-state cost of one school-year, the floor per school-year; the **rendered floor**
   runs the same cells in an in-process IPython shell with a build kernel's warm-up and its
   reset before every notebook (``helpers.build.reset``), i.e. a kernel without its process,
   messages and pages;
2. **build** — ``nianbao build`` (cold, empty output folder) of N school-years for each N;
3. ``--local-cluster`` — the same cold build of ``--cluster-years`` N with ``--scheduler local``
   (a ``distributed.LocalCluster`` of ``--jobs`` workers instead of the local pool);
4. ``--cluster`` — the same cold build of ``--cluster-years`` N on a ``dask scheduler`` with two
   ``dask worker --nworkers 1 --nthreads 1`` processes started here on 127.0.0.1;
5. ``--pairs K`` (alone) — floor, build of ``--pair-years`` N, floor, build, …, floor: each
   build's ratio against the mean of the floors just before and just after it.

The ratios printed are build ÷ (N × floor ÷ jobs), 1.0 being the floor on ``jobs`` cores
(with ``--refloor``, the floor measured again just before that build: a shared virtual
machine's speed drifts by 10–20% within minutes),
and the build's CPU seconds (the command and every process it waited for: workers and
kernels; for ``--cluster`` the Dask processes are not counted) ÷ N × the floor's CPU
seconds, which a shared machine's load does not change much. The load average is printed
with every run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def children_cpu() -> float:
    """CPU seconds (user + system) of every waited-for child process so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


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

rendered = sys.argv[1] == "rendered"
nbdir, data_dir, year, ids = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
from pathlib import Path
chapters = []
for p in sorted(Path(nbdir).glob("[0-9]*.ipynb")):
    nb = nbformat.read(p, as_version=4)
    chapters.append((p.stem, [c.source for c in nb.cells if c.cell_type == "code"]))
shell = None
if rendered:  # the cells run as a build's kernel runs them: IPython, the kernel's reset
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.display_pub.publish = lambda data, metadata=None, **kw: None
    shell.displayhook.write_output_prompt = lambda: None
    shell.displayhook.write_format_data = lambda *a, **k: None
    from helpers.build import reset

    reset.install(reset.WARM_MODULES, reset.WARM_SKIP)  # the kernel's warm-up and snapshot
times = []
for sid in ids:
    t0, c0 = time.perf_counter(), time.process_time()
    write(load_school_year(sid, year, data_dir))  # validated once, as the build does
    for stem, cells in chapters:
        params = f"school_id = {sid!r}\nyear = {year}\ndata_dir = {data_dir!r}\n"
        if shell is not None:
            reset.reset()  # what a warm kernel does before every notebook
            for source in [cells[0], params, *cells[1:]]:
                res = shell.run_cell(source, store_history=False)
                if not res.success:
                    raise SystemExit(f"{stem}: {res.error_in_exec or res.error_before_exec}")
        else:
            ns = {"__name__": "__main__"}
            code = "\n\n".join([cells[0], params, *cells[1:]])
            exec(compile(code, stem, "exec"), ns)
        import matplotlib.pyplot as plt
        plt.close("all")
    times.append((time.perf_counter() - t0, time.process_time() - c0))
print(json.dumps(times))
"""


def floor(
    nbdir: Path, data: Path, year: int, ids: list[str], rendered: bool = False
) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per school-year, in one interpreter (the first pays the imports);
    ``rendered``: run the cells in an in-process IPython shell, so that their outputs (HTML,
    PNG charts) are rendered as in a kernel."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if rendered:
        env["NIANBAO_BUILD"] = "1"  # as in a build's kernels
    mode = "rendered" if rendered else "plain"
    cmd = [sys.executable, "-c", FLOOR_CODE, mode, str(nbdir), str(data), str(year), *ids]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(
    data: Path, nbdir: Path, out: Path, year: int, ids: list[str], extra: list[str]
) -> tuple[float, float, str]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(BIN / "nianbao"), "build", "--data-dir", str(data), "--notebooks", str(nbdir)]
    cmd += ["--out", str(out), "--year", str(year), *extra]
    for sid in ids:
        cmd += ["--school", sid]
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode:
        sys.exit(f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    text = " ".join(proc.stdout.split())
    where = text[text.rfind("已执行 ") :].split("报告：")[0].strip()
    return elapsed, cpu, where


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


def steady(per: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall and CPU seconds of the school-years after the first (imports); the
    first alone when there is no other."""
    rest = per[1:] or per
    return statistics.median(t for t, _ in rest), statistics.median(c for _, c in rest)


def pairs(
    args: argparse.Namespace, nbdir: Path, data: Path, year: int, ids: list[str], tmp: Path
) -> None:
    """Floor, build, floor, build, …, floor: on a machine whose speed drifts within minutes,
    each build is compared with the floors measured just before and just after it."""
    n, jobs = args.pair_years, args.jobs
    floors = [steady(floor(nbdir, data, year, ids[:4]))]
    rows = []
    for _ in range(args.pairs):
        t, c, _where = build(data, nbdir, tmp / "out", year, ids[:n], ["--jobs", str(jobs)])
        floors.append(steady(floor(nbdir, data, year, ids[:4])))
        (w0, c0), (w1, c1) = floors[-2], floors[-1]
        fw, fc = (w0 + w1) / 2, (c0 + c1) / 2
        rows.append((t, c, fw, fc, t / (n * fw / jobs), c / (n * fc)))
        print(
            f"floor {w0:.2f} / {w1:.2f} s; build of {n}: {t:.2f} s, CPU {c:.2f} s; "
            f"ratio {rows[-1][4]:.2f} (CPU {rows[-1][5]:.2f})  [load {load_average()}]",
            flush=True,
        )
    print(
        f"median ratio {statistics.median(r[4] for r in rows):.2f} "
        f"(CPU {statistics.median(r[5] for r in rows):.2f}) over {len(rows)} builds"
    )
    if args.markdown:
        print(f"\n| floor before / after (s) | build of {n} (s) | CPU (s) | ratio | CPU ratio |")
        print("|---|---:|---:|---:|---:|")
        for i, (t, c, _fw, _fc, r, cr) in enumerate(rows):
            (w0, _), (w1, _) = floors[i], floors[i + 1]
            print(f"| {w0:.2f} / {w1:.2f} | {t:.2f} | {c:.2f} | {r:.2f} | {cr:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    ap.add_argument("--school-years", default="1,10,30", help="comma-separated N")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--floor-years", type=int, default=8, help="school-years for the floor")
    ap.add_argument("--cluster", action="store_true", help="also the largest N on 2 dask workers")
    ap.add_argument("--cluster-years", type=int, default=10, help="N for the cluster runs")
    ap.add_argument("--local-cluster", action="store_true", help="also --scheduler local")
    ap.add_argument("--floor-only", action="store_true")
    ap.add_argument(
        "--pairs",
        type=int,
        default=0,
        help="K rounds of floor then a build of --pair-years; each build's ratio against the "
        "mean of the floors just before and just after it (no other runs)",
    )
    ap.add_argument("--pair-years", type=int, default=10)
    ap.add_argument(
        "--refloor",
        action="store_true",
        help="measure the floor again (3 steady school-years) just before each build, for its ratio",
    )
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    ns = [int(x) for x in args.school_years.split(",") if x.strip()]

    from helpers import paths

    school = paths.list_schools()[0]
    year = paths.latest_year(school)
    rows: list[tuple[str, float, float, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="nianbao-throughput-") as tmp:
        tmp = Path(tmp)
        nbdir = tmp / "notebooks"
        shutil.copytree(args.notebooks, nbdir)
        data = tmp / "raw"
        data.mkdir()
        ids = school_copies(data, school, max([args.floor_years, *ns]))
        if args.pairs:
            pairs(args, nbdir, data, year, ids, tmp)
            return
        la = load_average()
        per = floor(nbdir, data, year, ids[: args.floor_years])
        wall, cpu = steady(per)
        print(
            f"floor: first school-year {per[0][0]:.2f} s (with imports), then "
            f"{', '.join(f'{t:.2f}' for t, _ in per[1:])} s → floor {wall:.2f} s, "
            f"CPU {cpu:.2f} s  [load {la}]",
            flush=True,
        )
        rows.append(("floor, first school-year in its process", *per[0], "", "", la))
        rows.append(("floor, 1 school-year, steady state (median)", wall, cpu, "1.00", "1.00", la))
        la = load_average()
        per_r = floor(nbdir, data, year, ids[: args.floor_years], rendered=True)
        wall_r, cpu_r = steady(per_r)
        print(f"floor, outputs rendered (IPython in-process): {wall_r:.2f} s, CPU {cpu_r:.2f} s")
        rows.append(
            (
                "floor with outputs rendered (in-process IPython), steady state",
                wall_r,
                cpu_r,
                f"{wall_r / wall:.2f}",
                f"{cpu_r / cpu:.2f}",
                la,
            )
        )
        if args.floor_only:
            return

        def record(name: str, n: int, workers: int, extra: list[str]) -> None:
            f_wall, f_cpu = wall, cpu
            if args.refloor:  # this machine's speed drifts: the floor again, just before
                f_wall, f_cpu = steady(floor(nbdir, data, year, ids[:4]))
                name += f" (floor just before: {f_wall:.2f} s)"
            la = load_average()
            t, c, where = build(data, nbdir, tmp / "out", year, ids[:n], extra)
            ratio, cratio = t / (n * f_wall / workers), c / (n * f_cpu)
            print(
                f"{name}: {t:7.2f} s, CPU {c:7.2f} s, ratio {ratio:.2f} (CPU {cratio:.2f}) "
                f"[load {la}]  {where}",
                flush=True,
            )
            rows.append((name, t, c, f"{ratio:.2f}", f"{cratio:.2f}", la))

        for n in ns:
            record(
                f"build, {n} school-years, --jobs {args.jobs}",
                n,
                args.jobs,
                ["--jobs", str(args.jobs)],
            )
        if args.local_cluster:
            n = args.cluster_years
            record(
                f"build, {n} school-years, --scheduler local (LocalCluster, {args.jobs} workers)",
                n,
                args.jobs,
                ["--jobs", str(args.jobs), "--scheduler", "local"],
            )
        if args.cluster:
            n = args.cluster_years
            address, procs = cluster(2)
            try:
                time.sleep(5)  # the workers connect
                record(f"build, {n} school-years, 2 dask workers", n, 2, ["--scheduler", address])
            finally:
                for p in reversed(procs):
                    p.terminate()
                for p in procs:
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
    if args.markdown:
        print(
            "\n| run | wall (s) | CPU (s) | wall ÷ (N × floor ÷ jobs) | CPU ÷ (N × floor CPU) | load (1/5/15 min) |"
        )
        print("|---|---:|---:|---:|---:|---|")
        for name, t, c, ratio, cratio, la in rows:
            print(f"| {name} | {t:.2f} | {c:.2f} | {ratio} | {cratio} | {la} |")


if __name__ == "__main__":
    main()
