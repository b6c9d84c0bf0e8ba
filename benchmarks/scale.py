"""Speed and memory of `reportgen run` against two baselines (issues 7 and 16).

    python benchmarks/scale.py [--sizes 200,100000,1000000,10000000] [--repeat 3] [--parquet] [--spark]

For each size: the 200-row case is the Mall data (../shared/data/Mall_Customers.csv), the others a generated
table (`reportgen sample --clean`: ID, Gender and three numeric columns). It times, in this run:
  * one bare scikit-learn `KMeans(n_clusters=5, n_init=10)` fit on the three numeric columns (in-process);
  * the plain notebook-style script benchmarks/notebook_baseline.py (whole process; 200 rows only);
  * the whole `reportgen run` process with default options (HTML and PDF), its peak RSS (VmHWM, and wait4's
    ru_maxrss), the peak RSS of its chart processes (from /proc) and the stage times from its manifest.
and prints one table. Above 200 rows the run clusters what the bare fit clusters (`--k 5 --scale none --transform
none --outliers keep`, HTML and PDF included) and the table shows its inertia against the bare fit's. `--parquet`
adds the same data as Parquet, `--spark` a run with `--engine spark` on the Parquet file. Goals (issue 16): 10M
rows within 1.0x one bare fit and under 2.5 GiB, 1M rows within 3x, inertia within 0.5% of the bare fit's;
200 rows within 1.5x the script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MALL = ROOT.parent / "shared" / "data" / "Mall_Customers.csv"
FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
STAGES = ("load", "clean", "features", "k_sweep", "final_fit", "stability", "profiles", "charts", "pdf_setup",
          "html", "pdf", "files", "write")


def _helpers(pid: int) -> list[int]:
    """The chart processes of ``pid``: every descendant started by multiprocessing (the forkserver and the chart
    processes forked from it), not the short-lived forks that run ldconfig or gcc for ctypes."""
    parents: dict[int, int] = {}
    commands: dict[int, bytes] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = int(stat.parent.name)
            parents[child] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            commands[child] = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found += [child for child in frontier if b"multiprocessing" in commands.get(child, b"")]
    return found


def _peak_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed_process(args: list[str], cwd: Path) -> tuple[float, float, float, str, float]:
    """Wall seconds, max RSS in MiB of the process itself and of its chart processes (their peaks, read from
    /proc every 20 ms while they run; Linux only), and stdout of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    helpers: dict[int, float] = {}
    done = threading.Event()

    own = [0.0]

    def watch() -> None:
        while not done.wait(0.02):
            own[0] = max(own[0], _peak_rss_mib(process.pid))  # VmHWM: the process's own high-water mark
            for child in _helpers(process.pid):
                helpers[child] = max(helpers.get(child, 0.0), _peak_rss_mib(child))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(args)}")
    return wall, own[0] or usage.ru_maxrss / 1024, sum(helpers.values()), out, usage.ru_maxrss / 1024


GOAL_ARGS = ["--k", "5", "--scale", "none", "--transform", "none", "--outliers", "keep"]


def bare_fit(csv: Path) -> tuple[float, float]:
    """Seconds and inertia of one bare KMeans(n_clusters=5, n_init=10) fit on the three numeric columns."""
    import pandas as pd
    from sklearn.cluster import KMeans

    X = pd.read_csv(csv, engine="pyarrow")[FEATURES].to_numpy(dtype=float)
    start = time.perf_counter()
    model = KMeans(n_clusters=5, n_init=10).fit(X)
    return time.perf_counter() - start, float(model.inertia_)


def as_parquet(csv: Path, folder: Path) -> Path:
    import pandas as pd

    path = folder / f"{csv.stem}.parquet"
    pd.read_csv(csv, engine="pyarrow").to_parquet(path, index=False)
    return path


def data_for(size: int, folder: Path) -> Path:
    if size == 200 and MALL.is_file():
        return MALL
    path = folder / f"customers-{size}.csv"
    subprocess.run([sys.executable, "-m", "reportgen", "sample", str(path), "--rows", str(size), "--clean",
                    "--force"], check=True, stdout=subprocess.DEVNULL)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size below 1M rows (1M: once)")
    parser.add_argument("--parquet", action="store_true", help="also run on the data as Parquet")
    parser.add_argument("--spark", action="store_true", help="also run --engine spark on the Parquet file")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            csv = data_for(size, folder)
            repeat = 1 if size >= 1_000_000 else args.repeat
            fits = [bare_fit(csv) for _ in range(repeat)]
            goal = GOAL_ARGS if size > 200 else []
            inputs = [("csv", csv, [])]
            if args.parquet or args.spark:
                parquet = as_parquet(csv, folder)
                inputs += [("parquet", parquet, [])] if args.parquet else []
                inputs += [("spark", parquet, ["--engine", "spark"])] if args.spark else []
            for kind, data, extra in inputs:
                rows.append(measure(size, kind, data, [*goal, *extra], fits, repeat, folder, args))
    report(rows, args)


def measure(size: int, kind: str, data: Path, extra: list[str], fits: list[tuple[float, float]], repeat: int,
            folder: Path, args: argparse.Namespace) -> dict:
    runs = [timed_process([sys.executable, "-m", "reportgen", "run", str(data), "-q", "-o", str(folder / "out"),
                           *extra], folder) for _ in range(repeat)]
    notebook = None
    if size <= 1000 and kind == "csv":
        notebook = statistics.median(
            timed_process([sys.executable, str(ROOT / "benchmarks" / "notebook_baseline.py"), str(data),
                           str(folder / "nb")], folder)[0] for _ in range(repeat))
    folders = [folder / out.strip() for _, _, _, out, _ in runs]
    stages = [stage_times(f) for f in folders]
    inertia = json.loads((folders[-1] / "metrics.json").read_text())["inertia"]
    return {
        "rows": size, "kind": kind, "bare_fit": statistics.median(t for t, _ in fits),
        "bare_inertia": min(i for _, i in fits), "inertia": inertia,
        "run": statistics.median(w for w, _, _, _, _ in runs), "rss": max(r for _, r, _, _, _ in runs),
        "helper_rss": max(h for _, _, h, _, _ in runs), "wait4_rss": max(r for *_, r in runs),
        "notebook": notebook,
        "stages": {s: statistics.median(t.get(s, 0.0) for t in stages) for s in STAGES},
    }


def stage_times(folder: Path) -> dict:
    """The stage times of a run: manifest.json's, and the PDF's and the whole writing's from seal.json."""
    times = json.loads((folder / "manifest.json").read_text())["timings"]
    seal = folder / "seal.json"
    return {**times, **(json.loads(seal.read_text())["timings"] if seal.is_file() else {})}


def report(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} cores; median of {args.repeat} runs (1M rows and more: 1); whole processes\n")
    print(f"{'rows':>10} {'input':>8} {'bare fit s':>10} {'run s':>7} {'run/fit':>8} {'inertia/fit':>11} "
          f"{'notebook s':>10} {'run/nb':>7} {'max RSS MiB':>11} {'charts MiB':>10} {'sum MiB':>8} {'wait4 MiB':>9}")
    for r in rows:
        nb = f"{r['notebook']:>10.2f} {r['run'] / r['notebook']:>7.2f}" if r["notebook"] else f"{'':>10} {'':>7}"
        ratio = f"{r['inertia'] / r['bare_inertia']:>11.4f}" if r["rows"] > 200 else f"{'':>11}"
        print(f"{r['rows']:>10,} {r['kind']:>8} {r['bare_fit']:>10.2f} {r['run']:>7.2f} "
              f"{r['run'] / r['bare_fit']:>8.2f} {ratio} {nb} "
              f"{r['rss']:>11.0f} {r['helper_rss']:>10.0f} {r['rss'] + r['helper_rss']:>8.0f} {r['wait4_rss']:>9.0f}")
    print("\nmax RSS: the reportgen process's own peak (VmHWM, read every 20 ms); wait4: the ru_maxrss that wait4\n"
          "reports for it (on Linux the largest of it and the processes it waited for); charts: the peaks of its\n"
          "chart processes (the forkserver and the two it forks), added; sum: max RSS and charts added (an upper\n"
          "bound: forked processes share the pages they did not change)")
    print("\nstage seconds (from manifest.json and seal.json):")
    print(f"{'rows':>10} {'input':>8} " + " ".join(f"{s:>9}" for s in STAGES))
    for r in rows:
        print(f"{r['rows']:>10,} {r['kind']:>8} " + " ".join(f"{r['stages'][s]:>9.2f}" for s in STAGES))


if __name__ == "__main__":
    main()
