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


WARD_SAMPLE = 5_000  # Ward's linkage needs the n x n distances: above this many rows, a fixed-seed sample


def _fitted(X: np.ndarray, labels: np.ndarray, k: int) -> Fitted:
    """Labels 0..k-1 with their centres (the mean of each segment) and the inertia."""
    centroids = np.vstack([X[labels == j].mean(axis=0) if np.any(labels == j) else np.full(X.shape[1], np.nan)
                           for j in range(k)])
    inertia = float(sum(((X[labels == j] - centroids[j]) ** 2).sum() for j in range(k)))
    return Fitted(labels=labels.astype(np.int64), centroids=centroids, inertia=inertia)


def _ward(X: np.ndarray, k: int, seed: int, n_init: int) -> Fitted:
    """Ward's agglomerative clustering (scikit-learn); above WARD_SAMPLE rows on a fixed-seed sample, every other
    customer joining the segment with the nearest centre."""
    from sklearn.cluster import AgglomerativeClustering

    if len(X) <= WARD_SAMPLE:
        return _fitted(X, AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X), k)
    keep = np.sort(np.random.default_rng(seed).choice(len(X), WARD_SAMPLE, replace=False))
    sample = _fitted(X[keep], AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X[keep]), k)
    labels = nearest(X, sample.centroids)
    labels[keep] = sample.labels
    return _fitted(X, labels, k)


def _gmm(X: np.ndarray, k: int, seed: int, n_init: int) -> Fitted:
    """A Gaussian mixture (scikit-learn, full covariances): each customer in its most probable component."""
    from sklearn.mixture import GaussianMixture

    with warnings.catch_warnings(), _threadpools().limit(limits=1 if len(X) < SMALL else None):
        warnings.simplefilter("ignore")
        model = GaussianMixture(n_components=k, n_init=max(1, min(n_init, 5)), random_state=seed,
                                reg_covar=1e-5).fit(X)
    return _fitted(X, model.predict(X), k)


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": Algorithm(
        "kmeans", "K-means", _kmeans, nearest,
        lambda n_init, seed: (f"K-means (scikit-learn, k-means++ initialisation, {n_init} initialisations, "
                              f"random seed {seed})")),
    "ward": Algorithm(
        "ward", "Ward's hierarchical clustering", _ward, nearest,
        lambda n_init, seed: ("Ward's agglomerative hierarchical clustering (scikit-learn; above "
                              f"{WARD_SAMPLE:,} customers on a sample with random seed {seed}, the others joining "
                              "the segment with the nearest centre)")),
    "gmm": Algorithm(
        "gmm", "Gaussian mixture", _gmm, nearest,
        lambda n_init, seed: (f"a Gaussian mixture (scikit-learn, full covariances, {max(1, min(n_init, 5))} "
                              f"initialisations, random seed {seed}); each customer in its most probable component, "
                              "new customers in the segment with the nearest centre")),
}
