"""ALGORITHMS: the clustering methods, one entry each: how to fit k segments, how to assign new customers to
fitted segments, and how the methodology describes it.

An algorithm works in the scaled feature space (:class:`~reportgen.model.FeatureMatrix`) and returns segments as
0-based labels plus their centres; :mod:`reportgen.cluster` numbers them by size and measures them, whatever the
algorithm.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

SMALL = 20_000  # below this many rows K-means runs on one thread: OpenMP start-up and spinning cost more


@dataclass(frozen=True)
class Fitted:
    labels: np.ndarray  # 0..k-1 per row
    centroids: np.ndarray  # (k, p), row j is label j
    inertia: float  # sum of squared distances to the own centre


@dataclass(frozen=True)
class Algorithm:
    key: str
    name: str
    fit: Callable[[np.ndarray, int, int, int], Fitted]  # (X, k, seed, n_init)
    assign: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (X, centroids) -> row of the nearest centroid
    describe: Callable[[int, int], str]  # (n_init, seed) -> one sentence for the methodology


@cache
def _threadpools() -> Any:
    """One ThreadpoolController per process: making one looks up every loaded BLAS and OpenMP library (2-3 ms,
    a third of a K-means fit on 200 rows, which the gap statistic and the stability check make hundreds of)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _kmeans(X: np.ndarray, k: int, seed: int, n_init: int) -> Fitted:
    from sklearn.cluster import KMeans

    with warnings.catch_warnings(), _threadpools().limit(limits=1 if len(X) < SMALL else None):
        warnings.simplefilter("ignore")  # ConvergenceWarning on duplicate points is handled by check_k_range
        model = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
    return Fitted(labels=model.labels_, centroids=model.cluster_centers_, inertia=float(model.inertia_))


def nearest(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The row of the nearest centroid (Euclidean) for every row of ``X``."""
    from sklearn.metrics import pairwise_distances_argmin

    return pairwise_distances_argmin(X, centroids) if len(X) else np.zeros(0, dtype=np.int64)


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": Algorithm(
        "kmeans", "K-means", _kmeans, nearest,
        lambda n_init, seed: (f"K-means (scikit-learn, k-means++ initialisation, {n_init} initialisations, "
                              f"random seed {seed})")),
}
