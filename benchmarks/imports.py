"""What importing a library costs a fresh process: the measurement behind the libraries reportgen does not import
in a given process.

    python benchmarks/imports.py [--repeat 5]

Each line is the median over fresh interpreters, each of which has already imported what the process that would
import the library already has (numpy, pandas and scikit-learn in the main process; numpy, pandas and matplotlib
in a chart process). kneed is the reason reportgen keeps its own Kneedle (``cluster.find_elbow``, checked against
kneed by the tests): importing kneed imports matplotlib.pyplot, which the main process otherwise never loads.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CASES = {  # name: (what the process has already imported, the import, a module it may load with it)
    "kneed (main process)": ("import numpy, pandas, sklearn.cluster", "import kneed", "matplotlib.pyplot"),
    "reportgen's find_elbow (main process)": ("import numpy, pandas, sklearn.cluster",
                                              "from reportgen.segmentation.cluster import find_elbow",
                                              "matplotlib.pyplot"),
    "seaborn (chart process)": ("import numpy, pandas, matplotlib.figure", "import seaborn", "scipy.stats"),
    "sklearn.decomposition (chart process)": ("import numpy, pandas, matplotlib.figure",
                                              "from sklearn.decomposition import PCA", "scipy.linalg"),
    "weasyprint (main process)": ("import numpy, pandas", "import weasyprint", "fontTools"),
}


def seconds(setup: str, statement: str, module: str) -> tuple[float, bool]:
    code = (f"import sys, time\n{setup}\nt = time.perf_counter()\n{statement}\n"
            f"print(time.perf_counter() - t, {module!r} in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'import':40} {'median s':>9}  loads with it")
    for name, (setup, statement, module) in CASES.items():
        runs = [seconds(setup, statement, module) for _ in range(args.repeat)]
        print(f"{name:40} {statistics.median(s for s, _ in runs):>9.3f}  {module}: {'yes' if runs[0][1] else 'no'}")


if __name__ == "__main__":
    main()
