"""How much report rendering adds over the analysis alone, on the Mall data (issue 4).

    python benchmarks/report_rendering.py [CSV] [--repeat 5]

Times whole `reportgen run` processes (start to exit, as a user waits for them):
  analysis only:  --format none   (load, clean, k sweep, final fit, profiles, data files)
  full report:    the default     (plus charts, HTML and PDF), with chart processes (--workers 2) and without,
and prints the stage times of the full runs from their manifests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MALL = ROOT.parent / "shared" / "data" / "Mall_Customers.csv"
FEATURES = "Annual Income (k$),Spending Score (1-100)"
STAGES = ("load", "clean", "k_sweep", "final_fit", "profiles", "charts", "pdf_setup", "html", "pdf")


def timed_run(csv: Path, out: Path, *extra: str) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reportgen", "run", str(csv), "--features", FEATURES, "-q",
                           "-o", str(out), *extra], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    folder = Path(done.stdout.strip())
    seal = folder / "seal.json"  # the PDF's time: it embeds the manifest, so it is made after it
    return wall, {**json.loads((folder / "manifest.json").read_text())["timings"],
                  **(json.loads(seal.read_text())["timings"] if seal.is_file() else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=MALL)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    variants = {"analysis only": ("--format", "none"), "full report, 2 workers": ("--workers", "2"),
                "full report, 1 worker": ("--workers", "1")}
    runs: dict[str, list[tuple[float, dict[str, float]]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        timed_run(args.csv, Path(tmp))  # warm the disk cache
        for _ in range(args.repeat):  # interleaved, so that machine noise hits every variant alike
            for name, extra in variants.items():
                runs[name].append(timed_run(args.csv, Path(tmp), *extra))
    base = statistics.median(w for w, _ in runs["analysis only"])
    print(f"{args.csv.name}, features {FEATURES}; median of {args.repeat} runs of the whole process\n")
    print(f"{'variant':<24} {'wall s':>7} {'adds s':>7}  " + " ".join(f"{s:>9}" for s in STAGES))
    for name, results in runs.items():
        wall = statistics.median(w for w, _ in results)
        stages = [statistics.median(t.get(s, 0.0) for _, t in results) for s in STAGES]
        print(f"{name:<24} {wall:>7.2f} {wall - base:>+7.2f}  " + " ".join(f"{v:>9.2f}" for v in stages))
    print("\nstage times are in-process seconds from manifest.json and seal.json; with 2 workers 'charts' is the time")
    print("this process waited for the chart processes (exploration during the k sweep, segments during 'pdf setup':")
    print("loading WeasyPrint); 'pdf' is WeasyPrint's layout and writing of the PDF.")


if __name__ == "__main__":
    main()
