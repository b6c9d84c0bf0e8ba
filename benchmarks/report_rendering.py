"""How much report rendering adds over the analysis alone, on the Mall data (issue 4).

    python benchmarks/report_rendering.py [CSV] [--repeat 3]

Runs `reportgen run` as a fresh process (cold: imports, font setup) and the library in-process (warm), and
prints the stage times from the manifest: analysis = load + clean + features + k sweep + final fit + profiles;
report = charts + HTML + PDF.
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
ANALYSIS = ("load", "clean", "features", "k_sweep", "final_fit", "profiles")
REPORT = ("charts", "html", "pdf")
FEATURES = "Annual Income (k$),Spending Score (1-100)"


def cold_run(csv: Path, out: Path) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reportgen", "run", str(csv), "--features", FEATURES, "-q",
                           "-o", str(out)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    manifest = json.loads((Path(done.stdout.strip()) / "manifest.json").read_text())
    return wall, manifest["timings"]


def warm_run(csv: Path, out: Path) -> dict[str, float]:
    from reportgen import Settings
    from reportgen.pipeline import run

    result = run(csv, Settings(features=tuple(FEATURES.split(",")), output=out))
    return json.loads((result.folder / "manifest.json").read_text())["timings"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", type=Path, default=MALL)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        colds = [cold_run(args.csv, out) for _ in range(args.repeat)]
        warm_run(args.csv, out)  # warm up imports and fonts
        warms = [warm_run(args.csv, out) for _ in range(args.repeat)]
    rows = []
    for label, runs in (("cold (new process)", [t for _, t in colds]), ("warm (in process)", warms)):
        stage = {key: statistics.median(r.get(key, 0.0) for r in runs) for key in runs[0]}
        analysis = sum(stage.get(k, 0.0) for k in ANALYSIS)
        report = sum(stage.get(k, 0.0) for k in REPORT)
        rows.append((label, analysis, stage.get("charts", 0.0), stage.get("html", 0.0), stage.get("pdf", 0.0),
                     report, report - 1.0))
    wall = statistics.median(w for w, _ in colds)
    print(f"Mall data: {args.csv.name}, median of {args.repeat} runs; whole `reportgen run` process: {wall:.2f} s\n")
    print(f"{'run':<20} {'analysis s':>10} {'charts s':>9} {'html s':>7} {'pdf s':>7} {'report s':>9} {'over 1 s':>9}")
    for label, analysis, charts, html, pdf, report, over in rows:
        print(f"{label:<20} {analysis:>10.2f} {charts:>9.2f} {html:>7.2f} {pdf:>7.2f} {report:>9.2f} {over:>+9.2f}")


if __name__ == "__main__":
    main()
