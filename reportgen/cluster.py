"""Choose k (elbow + silhouette + indices over a k range) and fit the final K-means segmentation."""

from __future__ import annotations

import warnings

import numpy as np

from .errors import ConfigError, InputError
from .model import FeatureMatrix, KCandidate, KSelection, Segmentation


def usable_k_max(n_rows: int, n_distinct: int, k_max: int) -> int:
    """The largest k the data supports: at least two rows per segment and one distinct point per segment."""
    return min(k_max, n_rows // 2, n_distinct)


def check_k_range(fm: FeatureMatrix, *, k_min: int, k_max: int, fixed_k: int | None) -> tuple[int, int]:
    """The k range to sweep, clipped to what the data supports; raises when not even ``k_min`` fits."""
    n = len(fm.X)
    distinct = len(np.unique(fm.X, axis=0)) if n <= 200_000 else n
    if fixed_k is not None and (n < 2 * fixed_k or distinct < fixed_k):
        raise ConfigError(
            f"--k {fixed_k} needs at least {2 * fixed_k} usable rows with {fixed_k} distinct points; "
            f"the data has {n} usable rows ({distinct} distinct) after cleaning",
            hint=f"Use a smaller --k (at most {max(usable_k_max(n, distinct, 50), 1)}).")
    top = usable_k_max(n, distinct, k_max)
    if top < k_min:
        raise InputError(
            f"too few usable rows: {n} after cleaning ({distinct} distinct); "
            f"{k_min} segments need at least {2 * k_min} rows",
            hint="Check the cleaning account (missing values are dropped by default; try --missing median) "
                 "or provide more customers.")
    return k_min, top


def sample_rows(n: int, size: int, seed: int) -> np.ndarray | None:
    """A fixed-seed sorted sample of row positions, or None when every row is used."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


SMALL = 20_000  # below this many rows K-means runs on one thread: OpenMP start-up and spinning cost more
SAMPLED_SWEEP_INITS = 3  # a sweep on a sample tries fewer initialisations; the final fit keeps n_init


def _kmeans(X: np.ndarray, k: int, *, seed: int, n_init: int):
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1 if len(X) < SMALL else None):
        warnings.simplefilter("ignore")  # ConvergenceWarning on duplicate points is handled by check_k_range
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)


def _pairwise(X: np.ndarray) -> np.ndarray:
    from sklearn.metrics import pairwise_distances

    return pairwise_distances(X.astype(np.float64), n_jobs=None)


def find_elbow(ks: list[int], inertias: list[float], sensitivity: float = 1.0) -> int | None:
    """The elbow of a convex, decreasing inertia curve by the Kneedle algorithm (Satopää et al., 2011), offline
    mode; None when the curve has none.

    The same result as ``kneed.KneeLocator(ks, inertias, curve="convex", direction="decreasing").knee`` (a test
    checks this), without kneed's import of matplotlib.pyplot (global state, a third of a second) for a
    ten-point computation.
    """
    x, y = np.asarray(ks, dtype=float), np.asarray(inertias, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    x_norm = (x - x.min()) / np.ptp(x)
    y_norm = (y - y.min()) / np.ptp(y)
    difference = (y_norm.max() - y_norm) - x_norm  # the convex decreasing curve turned into a concave increasing one
    before = np.r_[difference[0], difference[:-1]]
    after = np.r_[difference[1:], difference[-1]]
    maxima = np.flatnonzero((difference >= before) & (difference >= after))
    minima = set(np.flatnonzero((difference <= before) & (difference <= after)).tolist())
    if not maxima.size:
        return None
    thresholds = difference[maxima] - sensitivity * np.abs(np.diff(x_norm).mean())
    threshold, threshold_index, seen, active = 0.0, int(maxima[0]), 0, True
    for i in range(int(maxima[0]), len(difference) - 1):
        if i in maxima:
            threshold, threshold_index, seen, active = thresholds[seen], i, seen + 1, True
        if i in minima:
            threshold, active = 0.0, False
        if active and difference[i + 1] < threshold:
            return int(x[threshold_index])
    return None


def select_k(
    fm: FeatureMatrix,
    *,
    k_min: int = 2,
    k_max: int = 10,
    fixed_k: int | None = None,
    seed: int = 42,
    n_init: int = 10,
    silhouette_sample: int = 5000,
    sweep_sample: int = 20_000,
) -> KSelection:
    """Sweep k over ``k_min..k_max`` with K-means; choose the silhouette maximum (or ``fixed_k``).

    Above ``sweep_sample`` rows the sweep runs on a fixed-seed sample of that many rows (the final fit, in
    :func:`fit_segments`, uses every row). Silhouettes use a fixed-seed sample of ``silhouette_sample`` rows
    when there are more rows than that; the pairwise distances of the sample are computed once and shared by
    every k.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    low, high = check_k_range(fm, k_min=k_min, k_max=k_max, fixed_k=fixed_k)
    swept = sample_rows(len(fm.X), sweep_sample, seed)
    X = fm.X if swept is None else fm.X[swept]
    sweep_inits = n_init if swept is None else min(n_init, SAMPLED_SWEEP_INITS)
    picked = sample_rows(len(X), silhouette_sample, seed)
    distances = _pairwise(X if picked is None else X[picked])
    candidates = []
    for k in range(low, high + 1):
        model = _kmeans(X, k, seed=seed, n_init=sweep_inits)
        labels = model.labels_
        sample_labels = labels if picked is None else labels[picked]
        silhouette = (float(silhouette_score(distances, sample_labels, metric="precomputed"))
                      if len(np.unique(sample_labels)) > 1 else float("nan"))
        candidates.append(KCandidate(
            k=k, inertia=float(model.inertia_), silhouette=silhouette,
            davies_bouldin=float(davies_bouldin_score(X, labels)),
            calinski_harabasz=float(calinski_harabasz_score(X, labels)),
        ))
    ks = [c.k for c in candidates]
    elbow = find_elbow(ks, [c.inertia for c in candidates])
    best = max(candidates, key=lambda c: (np.nan_to_num(c.silhouette, nan=-2.0), -c.k))
    chosen = fixed_k if fixed_k is not None else best.k
    method = "fixed" if fixed_k is not None else "silhouette"
    reason = explain_choice(chosen, best, elbow, method=method, k_range=(low, high))
    if swept is not None:
        reason += (f" (The sweep used a fixed-seed sample of {len(swept):,} of the {len(fm.X):,} customers and "
                   f"{sweep_inits} initialisations per k; the final fit uses every customer.)")
    return KSelection(candidates=tuple(candidates), elbow_k=elbow, silhouette_k=best.k, chosen_k=chosen,
                      method=method, reason=reason, n_init=sweep_inits,
                      silhouette_sample_size=None if picked is None else len(picked),
                      sweep_sample_size=None if swept is None else len(swept))


def explain_choice(chosen: int, best: KCandidate, elbow: int | None, *, method: str,
                   k_range: tuple[int, int]) -> str:
    """One sentence saying why k is what it is."""
    span = f"k = {k_range[0]} to {k_range[1]}"
    if method == "fixed":
        text = f"k = {chosen} was fixed by the user (--k); the silhouette would pick k = {best.k} in {span}"
    else:
        text = f"k = {chosen} has the highest average silhouette ({best.silhouette:.3f}) of {span}"
    if elbow is None:
        return text + ", and the inertia curve has no clear elbow."
    if elbow == chosen:
        return text + f", and the elbow of the inertia curve is at k = {elbow} too."
    return text + f"; the elbow of the inertia curve suggests k = {elbow}."


def canonical_numbers(labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Map K-means labels to segment numbers 1..k: largest segment first, ties by centroid position."""
    k = len(centroids)
    sizes = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda j: (-sizes[j], *np.round(centroids[j], 9).tolist()))
    numbers = np.empty(k, dtype=np.int64)
    numbers[order] = np.arange(1, k + 1)
    return numbers


def fit_segments(
    fm: FeatureMatrix,
    k: int,
    *,
    seed: int = 42,
    n_init: int = 10,
    silhouette_sample: int = 5000,
) -> Segmentation:
    """Fit K-means with ``k`` segments, number them by size and measure the solution."""
    check_k_range(fm, k_min=k, k_max=k, fixed_k=k)
    model = _kmeans(fm.X, k, seed=seed, n_init=n_init)
    numbers = canonical_numbers(model.labels_, model.cluster_centers_)
    centroids = np.empty_like(model.cluster_centers_)
    centroids[numbers - 1] = model.cluster_centers_
    return measure(fm, numbers[model.labels_], centroids, seed=seed, n_init=n_init,
                   silhouette_sample=silhouette_sample, inertia=float(model.inertia_))


def measure(fm: FeatureMatrix, labels: np.ndarray, centroids: np.ndarray, *, seed: int, n_init: int,
            silhouette_sample: int, inertia: float | None = None, numbers: tuple[int, ...] | None = None
            ) -> Segmentation:
    """A Segmentation for given segment numbers per row and centroids (row i is segment ``numbers[i]``,
    1..k by default): sizes, silhouette, indices."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_samples

    from .features import unscale

    k = len(centroids)
    numbers = tuple(numbers or range(1, k + 1))
    X = fm.X
    if inertia is None:
        row_of = {number: i for i, number in enumerate(numbers)}
        nearest = centroids[np.array([row_of[int(n)] for n in labels], dtype=np.int64)] if len(X) else centroids[:0]
        inertia = float(((X - nearest) ** 2).sum())
    picked = sample_rows(len(X), silhouette_sample, seed)
    Xs, ls = (X, labels) if picked is None else (X[picked], labels[picked])
    several = 1 < len(np.unique(labels)) < len(X)  # the indices need 2 <= segments <= rows - 1
    per_row = silhouette_samples(Xs, ls) if 1 < len(np.unique(ls)) < len(ls) else np.zeros(len(ls))
    return Segmentation(
        k=k, labels=labels, centroids=centroids, centroids_original=unscale(centroids, fm.scaler),
        sizes=tuple(int(np.count_nonzero(labels == number)) for number in numbers),
        inertia=inertia,
        silhouette=float(per_row.mean()) if several else float("nan"),
        davies_bouldin=float(davies_bouldin_score(X, labels)) if several else float("nan"),
        calinski_harabasz=float(calinski_harabasz_score(X, labels)) if several else float("nan"),
        silhouette_sample_size=None if picked is None else len(picked),
        sample_silhouettes=per_row, sample_labels=ls, seed=seed, n_init=n_init, numbers=numbers,
    )


def renumber(seg: Segmentation, mapping: dict[int, int]) -> Segmentation:
    """The same segmentation with its segments renumbered (``old -> new``); centroid rows sorted by number."""
    from dataclasses import replace

    new = [mapping[n] for n in seg.numbers]
    order = np.argsort(new, kind="stable")
    lookup = np.zeros(max([*seg.numbers, 0]) + 1, dtype=np.int64)
    lookup[list(seg.numbers)] = new
    return replace(seg, labels=lookup[seg.labels], centroids=seg.centroids[order],
                   centroids_original=seg.centroids_original[order],
                   sizes=tuple(seg.sizes[i] for i in order), sample_labels=lookup[seg.sample_labels],
                   numbers=tuple(sorted(new)))


def assign(fm: FeatureMatrix, centroids: np.ndarray, numbers: tuple[int, ...], *, seed: int, n_init: int,
           silhouette_sample: int) -> Segmentation:
    """Label every row with the nearest of given centroids (in ``fm``'s scaled space), without re-clustering."""
    from sklearn.metrics import pairwise_distances_argmin

    nearest = pairwise_distances_argmin(fm.X, centroids) if len(fm.X) else np.zeros(0, dtype=np.int64)
    labels = np.asarray(numbers, dtype=np.int64)[nearest]
    return measure(fm, labels, centroids, seed=seed, n_init=n_init, silhouette_sample=silhouette_sample,
                   numbers=numbers)
