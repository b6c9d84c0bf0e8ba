"""ALGORITHMS: the clustering methods, one entry each: how to fit k segments, how to assign new customers to
fitted segments, and how the methodology describes it.

An algorithm works in the scaled feature space (:class:`~reportgen.model.FeatureMatrix`) and returns segments as 0-based
labels plus their centres; :mod:`reportgen.segmentation.cluster` numbers them by size and measures them, whatever the
algorithm. With categorical columns clustered (``--categorical cluster``) the matrix ends in their weighted one-hot
columns (:class:`~reportgen.model.CategoricalEncoding`), which a :class:`Layout` describes: squared Euclidean
distance there is Huang's k-prototypes cost (numeric squared distance + gamma per mismatched category), so
K-means and Ward can run on it as well, and new customers join the nearest centre whatever the algorithm.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model import IndexInfo

if TYPE_CHECKING:
    from ..model import CategoricalEncoding

SMALL = 20_000  # below this many rows K-means runs on one thread: OpenMP start-up and spinning cost more


@dataclass(frozen=True)
class Fitted:
    labels: np.ndarray  # 0..k-1 per row
    centroids: np.ndarray  # (k, p), row j is label j
    inertia: float  # sum of squared distances to the own centre
    scores: Mapping[str, float] = field(default_factory=dict)  # the algorithm's own criteria (a mixture's BIC)


@dataclass(frozen=True)
class Layout:
    """Where the categorical columns are in a feature matrix: ``numeric`` numeric columns, then one block of
    one-hot columns per categorical column (``widths``), each 0 or ``weight``."""

    numeric: int
    widths: tuple[int, ...] = ()
    weight: float = 0.0

    def blocks(self) -> list[slice]:
        starts = np.cumsum([self.numeric, *self.widths]).tolist()
        return [slice(a, b) for a, b in itertools.pairwise(starts)]


def layout_of(numeric: int, categories: CategoricalEncoding | None) -> Layout:
    return Layout(numeric) if categories is None else Layout(numeric, categories.widths, categories.weight)


FitFunction = Callable[[np.ndarray, int, int, int], Fitted]  # (X, k, seed, n_init)


@dataclass(frozen=True)
class Algorithm:
    key: str
    name: str
    fit: Callable[..., Fitted]  # (X, k, seed, n_init, *, layout)
    assign: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (X, centroids) -> row of the nearest centroid
    describe: Callable[[int, int], str]  # (n_init, seed) -> one sentence for the methodology
    categories: bool = True  # can cluster the one-hot columns of categorical features
    needs_categories: bool = False  # clusters numeric and categorical features together, not numbers alone
    indices: tuple[IndexInfo, ...] = ()  # its own criteria, scored in the k sweep beside the indices
    # (X, centres) -> the fit started from centres a sweep on a sample found (None: no such start)
    refine: Callable[[np.ndarray, np.ndarray], Fitted] | None = None

    def fitter(self, layout: Layout | None = None) -> FitFunction:
        """``fit`` for matrices of this layout, as the k sweep, the gap statistic and the stability check call it."""
        return partial(self.fit, layout=layout)


@cache
def _threadpools() -> Any:
    """One ThreadpoolController per process: making one looks up every loaded BLAS and OpenMP library (2-3 ms,
    a third of a K-means fit on 200 rows, which the gap statistic and the stability check make hundreds of)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _kmeans(X: np.ndarray, k: int, seed: int, n_init: int, *, layout: Layout | None = None) -> Fitted:
    from sklearn.cluster import KMeans

    with warnings.catch_warnings(), _threadpools().limit(limits=1 if len(X) < SMALL else None):
        warnings.simplefilter("ignore")  # ConvergenceWarning on duplicate points is handled by check_k_range
        model = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
    return Fitted(labels=model.labels_, centroids=model.cluster_centers_, inertia=float(model.inertia_))


def _kmeans_from(X: np.ndarray, centres: np.ndarray) -> Fitted:
    """Lloyd's iterations on every row from given centres (the sweep's on a sample: k-means++ and n_init already
    chose them), as one KMeans start."""
    from sklearn.cluster import KMeans

    with warnings.catch_warnings(), _threadpools().limit(limits=1 if len(X) < SMALL else None):
        warnings.simplefilter("ignore")
        model = KMeans(n_clusters=len(centres), init=centres, n_init=1).fit(X)
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


def _ward(X: np.ndarray, k: int, seed: int, n_init: int, *, layout: Layout | None = None) -> Fitted:
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


def _gmm(X: np.ndarray, k: int, seed: int, n_init: int, *, layout: Layout | None = None) -> Fitted:
    """A Gaussian mixture (scikit-learn, full covariances): each customer in its most probable component; its
    Bayesian information criterion (lower is better) goes to the k table."""
    from sklearn.mixture import GaussianMixture

    with warnings.catch_warnings(), _threadpools().limit(limits=1 if len(X) < SMALL else None):
        warnings.simplefilter("ignore")
        model = GaussianMixture(n_components=k, n_init=max(1, min(n_init, 5)), random_state=seed,
                                reg_covar=1e-5).fit(X)
        bic = float(model.bic(X))
    fitted = _fitted(X, model.predict(X), k)
    return Fitted(fitted.labels, fitted.centroids, fitted.inertia, {"bic": bic})


KPROTOTYPES_MAX_ITER = 100


def snap_to_modes(centres: np.ndarray, layout: Layout) -> np.ndarray:
    """Centres whose one-hot blocks hold the share of each level turned into prototypes: the most common level
    (the first in level order on a tie) at ``layout.weight``, the others 0."""
    out = np.array(centres, dtype=float, copy=True)
    rows = np.arange(len(out))
    for block in layout.blocks():
        modes = out[:, block].argmax(axis=1)
        out[:, block] = 0.0
        out[rows, block.start + modes] = layout.weight
    return out


def _kprototypes_once(X: np.ndarray, k: int, seed: int, layout: Layout) -> Fitted:
    from sklearn.cluster import kmeans_plusplus

    centres = snap_to_modes(kmeans_plusplus(X, k, random_state=seed)[0], layout)
    labels = np.full(len(X), -1, dtype=np.int64)
    for _ in range(KPROTOTYPES_MAX_ITER):
        new = nearest(X, centres)
        if np.array_equal(new, labels):
            break
        labels = new
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centres)
        np.add.at(sums, labels, X)
        filled = counts > 0  # an emptied segment keeps its centre
        centres[filled] = snap_to_modes(sums[filled] / counts[filled, None], layout)
    inertia = float(((X - centres[labels]) ** 2).sum())
    return Fitted(labels=labels, centroids=centres, inertia=inertia)


def _kprototypes(X: np.ndarray, k: int, seed: int, n_init: int, *, layout: Layout | None = None) -> Fitted:
    """Huang's k-prototypes: numeric features by their mean, categorical ones by their mode, the cost squared
    Euclidean distance plus gamma per mismatched category (the distance in the one-hot space of ``layout``).
    Batch iterations (every customer to the nearest prototype, then new prototypes) from k-means++ starts, the
    best of ``n_init``. The kmodes package computes the same cost with a Python loop over the customers, 24 s
    per start on 10,000 rows (``benchmarks/kprototypes.py``), too slow for the k sweep and the bootstrap."""
    if layout is None or not layout.widths:
        raise ValueError("k-prototypes needs categorical columns in the matrix")
    starts = np.random.default_rng(seed).integers(0, 2**31 - 1, size=max(1, n_init))
    with _threadpools().limit(limits=1 if len(X) < SMALL else None):
        runs = [_kprototypes_once(X, k, int(s), layout) for s in starts]
    return min(runs, key=lambda fitted: fitted.inertia)


BIC = IndexInfo("bic", "BIC", "lower", 0)  # the Gaussian mixture's Bayesian information criterion: a k table column

ALGORITHMS: dict[str, Algorithm] = {entry.key: entry for entry in (
    Algorithm(
        "kmeans", "K-means", _kmeans, nearest,
        lambda n_init, seed: (f"K-means (scikit-learn, k-means++ initialisation, {n_init} initialisations, "
                              f"random seed {seed})"), refine=_kmeans_from),
    Algorithm(
        "ward", "Ward's hierarchical clustering", _ward, nearest,
        lambda n_init, seed: ("Ward's agglomerative hierarchical clustering (scikit-learn; above "
                              f"{WARD_SAMPLE:,} customers on a sample with random seed {seed}, the others joining "
                              "the segment with the nearest centre)")),
    Algorithm(
        "gmm", "Gaussian mixture", _gmm, nearest,
        lambda n_init, seed: (f"a Gaussian mixture (scikit-learn, full covariances, {max(1, min(n_init, 5))} "
                              f"initialisations, random seed {seed}); each customer in its most probable component, "
                              "new customers in the segment with the nearest centre"),
        categories=False, indices=(BIC,)),
    Algorithm(
        "kprototypes", "k-prototypes", _kprototypes, nearest,
        lambda n_init, seed: ("Huang's k-prototypes for numeric and categorical features together (each segment "
                              "described by the mean of its numeric features and the most common level of its "
                              "categorical ones; a differing category costs gamma, half the numeric features' mean "
                              f"variance; {n_init} k-means++ starts, random "
                              f"seed {seed})"),
        needs_categories=True),
)}


def categorical_algorithms() -> str:
    """The ``--algorithm`` values that cluster categorical columns, for a hint ("kprototypes")."""
    return " or ".join(key for key, entry in ALGORITHMS.items() if entry.needs_categories)
