"""k-prototypes: the kmodes package's KPrototypes against reportgen's batch k-prototypes (``algorithms._kprototypes``),
one start each, on the same data in the same run: the measurement behind writing it.

    python benchmarks/kprototypes.py [--rows 200,1000,3000,10000] [--k 5]

The data: three standard normal numeric columns and two categorical ones (3 and 2 levels), gamma 0.5 (kmodes'
default for standardized features). Each row: seconds per start of each, their ratio, and the cost (numeric
squared distance + gamma per mismatch) each reached, best of three starts (lower is better). kmodes updates
prototypes one customer at a time in a Python loop; reportgen moves every customer, then every prototype, with
numpy. The k sweep, the gap statistic and the bootstrap stability check fit hundreds of times per run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

GAMMA = 0.5
STARTS = 3


def data(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (5, 3))
    which = rng.integers(0, 5, rows)
    numeric = centres[which] + rng.normal(size=(rows, 3))
    codes = np.column_stack([(which + rng.integers(0, 2, rows)) % 3, which % 2])
    return numeric, codes


def theirs(numeric: np.ndarray, codes: np.ndarray, k: int, seed: int) -> tuple[float, float]:
    from kmodes.kprototypes import KPrototypes

    start = time.perf_counter()
    model = KPrototypes(n_clusters=k, n_init=1, gamma=GAMMA, random_state=seed, n_jobs=1).fit(
        np.column_stack([numeric, codes]), categorical=[3, 4])
    return time.perf_counter() - start, float(model.cost_)


def ours(numeric: np.ndarray, codes: np.ndarray, k: int, seed: int) -> tuple[float, float]:
    from reportgen.segmentation.algorithms import ALGORITHMS, Layout

    weight = np.sqrt(GAMMA / 2)
    onehot = [np.eye(width)[codes[:, j]] * weight for j, width in enumerate((3, 2))]
    X = np.hstack([numeric, *onehot])
    start = time.perf_counter()
    fitted = ALGORITHMS["kprototypes"].fit(X, k, seed, 1, layout=Layout(3, (3, 2), weight))
    return time.perf_counter() - start, fitted.inertia


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200,1000,3000,10000")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    print(f"{'rows':>7} {'kmodes s/start':>15} {'reportgen s/start':>18} {'ratio':>8} {'kmodes cost':>12} "
          f"{'reportgen cost':>15}")
    for rows in (int(r) for r in args.rows.split(",")):
        numeric, codes = data(rows)
        a = [theirs(numeric, codes, args.k, seed) for seed in range(STARTS)]
        b = [ours(numeric, codes, args.k, seed) for seed in range(STARTS)]
        ta, tb = float(np.median([t for t, _ in a])), float(np.median([t for t, _ in b]))
        print(f"{rows:>7,} {ta:>15.3f} {tb:>18.4f} {ta / tb:>7.0f}x {min(c for _, c in a):>12.1f} "
              f"{min(c for _, c in b):>15.1f}")


if __name__ == "__main__":
    main()
