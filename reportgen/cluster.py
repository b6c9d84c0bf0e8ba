"""Choose k (a sweep over the k range, scored by every index, and one choice rule) and fit the final segmentation.

Engine-neutral pieces the Spark engine shares: :func:`check_k_range`, :func:`choose_k` (the choice rule and its
explanation), :func:`canonical_numbers` (segments numbered by size) and :func:`segmentation_of` (a
:class:`Segmentation` from labels and centroids, measured by every index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Literal

import numpy as np

from .algorithms import ALGORITHMS, Algorithm
from .errors import ConfigError, InputError
from .indices import INDICES, Scoring, sample_rows, score, scoring, several
from .model import FeatureMatrix, KCandidate, KSelection, Segmentation
from .prepare import unscale

SAMPLED_SWEEP_INITS = 3  # a sweep on a sample tries fewer initialisations; the final fit keeps n_init
CHOICE_INDEX = "silhouette"  # the index whose best value chooses k
ASSIGNED = "each customer assigned to the nearest centre of the baseline's segments"


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


def find_elbow(ks: list[int], inertias: list[float], sensitivity: float = 1.0) -> int | None:
    """The elbow of a convex, decreasing inertia curve by the Kneedle algorithm (Satopää et al., 2011), offline
    mode; None when the curve has none.

    The same result as ``kneed.KneeLocator(ks, inertias, curve="convex", direction="decreasing").knee`` (a test
    checks this on 40 curves). kneed imports matplotlib.pyplot when it is imported (half a second, and pyplot's
    global state, in a process that draws nothing: ``benchmarks/imports.py`` measures it) for this ten-point
    computation, so reportgen keeps these lines.
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


def explain_choice(chosen: int, best: KCandidate, elbow: int | None, *, method: str,
                   k_range: tuple[int, int]) -> str:
    """One sentence saying why k is what it is."""
    span = f"k = {k_range[0]} to {k_range[1]}"
    if method == "fixed":
        text = f"k = {chosen} was fixed by the user (--k); the silhouette would pick k = {best.k} in {span}"
    else:
        text = f"k = {chosen} has the highest average silhouette ({best.scores[CHOICE_INDEX]:.3f}) of {span}"
    if elbow is None:
        return text + ", and the inertia curve has no clear elbow."
    if elbow == chosen:
        return text + f", and the elbow of the inertia curve is at k = {elbow} too."
    return text + f"; the elbow of the inertia curve suggests k = {elbow}."


def choose_k(candidates: Sequence[KCandidate], *, fixed_k: int | None, k_range: tuple[int, int], n_init: int,
             silhouette_sample_size: int | None, sweep_sample_size: int | None = None, note: str = ""
             ) -> KSelection:
    """The choice rule: the best silhouette (ties: the smaller k), unless k is fixed; with the elbow and why."""
    elbow = find_elbow([c.k for c in candidates], [c.inertia for c in candidates])
    best = max(candidates, key=lambda c: (np.nan_to_num(c.scores[CHOICE_INDEX], nan=-2.0), -c.k))
    chosen = fixed_k if fixed_k is not None else best.k
    method: Literal["fixed", "silhouette"] = "fixed" if fixed_k is not None else "silhouette"
    reason = explain_choice(chosen, best, elbow, method=method, k_range=k_range) + (f" ({note})" if note else "")
    return KSelection(candidates=tuple(candidates), elbow_k=elbow, silhouette_k=best.k, chosen_k=chosen,
                      method=method, reason=reason, n_init=n_init, silhouette_sample_size=silhouette_sample_size,
                      sweep_sample_size=sweep_sample_size)


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
    algorithm: Algorithm = ALGORITHMS["kmeans"],
) -> KSelection:
    """Sweep k over ``k_min..k_max``; score every k with every index; choose by :func:`choose_k`.

    Above ``sweep_sample`` rows the sweep runs on a fixed-seed sample of that many rows (the final fit, in
    :func:`fit_segments`, uses every row). Silhouettes use a fixed-seed sample of ``silhouette_sample`` rows
    when there are more rows than that; the pairwise distances of the sample are computed once and shared by
    every k.
    """
    low, high = check_k_range(fm, k_min=k_min, k_max=k_max, fixed_k=fixed_k)
    swept = sample_rows(len(fm.X), sweep_sample, seed)
    X = fm.X if swept is None else fm.X[swept]
    sweep_inits = n_init if swept is None else min(n_init, SAMPLED_SWEEP_INITS)
    shared = scoring(X, silhouette_sample=silhouette_sample, seed=seed, precompute=True)
    candidates = []
    for k in range(low, high + 1):
        fitted = algorithm.fit(X, k, seed, sweep_inits)
        candidates.append(KCandidate(k=k, inertia=fitted.inertia, scores=score(shared, fitted.labels)))
    note = ""
    if swept is not None:
        note = (f"The sweep used a fixed-seed sample of {len(swept):,} of the {len(fm.X):,} customers and "
                f"{sweep_inits} initialisations per k; the final fit uses every customer.")
    return choose_k(candidates, fixed_k=fixed_k, k_range=(low, high), n_init=sweep_inits,
                    silhouette_sample_size=None if shared.sample is None else len(shared.sample),
                    sweep_sample_size=None if swept is None else len(swept), note=note)


def canonical_numbers(sizes: Sequence[int] | np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Segment numbers 1..k for labels 0..k-1 of the given sizes: largest segment first, ties by centroid
    position."""
    k = len(centroids)
    sizes = np.asarray(sizes)
    order = sorted(range(k), key=lambda j: (-sizes[j], *np.round(centroids[j], 9).tolist()))
    numbers = np.empty(k, dtype=np.int64)
    numbers[order] = np.arange(1, k + 1)
    return numbers


def segmentation_of(fm: FeatureMatrix, labels: np.ndarray, centroids: np.ndarray, *, seed: int, n_init: int,
                    silhouette_sample: int, numbers: Sequence[int] | None = None, sizes: Sequence[int] | None = None,
                    inertia: float | None = None, algorithm: str = "kmeans",
                    scores: Mapping[str, float] | None = None, description: str | None = None) -> Segmentation:
    """A Segmentation from the segment number of every row of ``fm`` and the centroids (row i is segment
    ``numbers[i]``, 1..k by default), measured by every index.

    ``sizes`` and ``inertia`` count every customer; by default they are computed from ``fm``, which the Spark
    engine replaces with a sample (and so passes both, and its own silhouette in ``scores``)."""
    from sklearn.metrics import silhouette_samples

    k = len(centroids)
    numbers = tuple(int(n) for n in (numbers or range(1, k + 1)))
    X = fm.X
    if inertia is None:
        row_of = np.zeros(max(numbers) + 1, dtype=np.int64)
        row_of[list(numbers)] = np.arange(k)
        inertia = float(((X - centroids[row_of[labels]]) ** 2).sum()) if len(X) else 0.0
    picked = sample_rows(len(X), silhouette_sample, seed)
    ls = labels if picked is None else labels[picked]
    per_row = silhouette_samples(X if picked is None else X[picked], ls) if several(ls) else np.zeros(len(ls))
    measured = dict(score(Scoring(X=X, sample=picked, silhouettes=per_row if several(ls) else None), labels,
                          INDICES))
    measured.update(scores or {})
    return Segmentation(
        k=k, labels=labels, centroids=centroids, centroids_original=unscale(centroids, fm.scaler),
        sizes=tuple(int(s) for s in sizes) if sizes is not None
        else tuple(int(np.count_nonzero(labels == number)) for number in numbers),
        inertia=inertia, silhouette=measured["silhouette"], scores=measured,
        silhouette_sample_size=None if picked is None else len(picked),
        sample_silhouettes=per_row, sample_labels=ls, seed=seed, n_init=n_init, numbers=numbers,
        algorithm=algorithm,
        description=description if description is not None else ALGORITHMS[algorithm].describe(n_init, seed),
    )


def fit_segments(
    fm: FeatureMatrix,
    k: int,
    *,
    seed: int = 42,
    n_init: int = 10,
    silhouette_sample: int = 5000,
    algorithm: Algorithm = ALGORITHMS["kmeans"],
) -> Segmentation:
    """Fit ``k`` segments, number them by size and measure the solution."""
    check_k_range(fm, k_min=k, k_max=k, fixed_k=k)
    fitted = algorithm.fit(fm.X, k, seed, n_init)
    numbers = canonical_numbers(np.bincount(fitted.labels, minlength=k), fitted.centroids)
    centroids = np.empty_like(fitted.centroids)
    centroids[numbers - 1] = fitted.centroids
    return segmentation_of(fm, numbers[fitted.labels], centroids, seed=seed, n_init=n_init,
                           silhouette_sample=silhouette_sample, inertia=fitted.inertia, algorithm=algorithm.key)


def renumber(seg: Segmentation, mapping: Mapping[int, int]) -> Segmentation:
    """The same segmentation with its segments renumbered (``old -> new``); centroid rows sorted by number."""
    new = [mapping[n] for n in seg.numbers]
    order = np.argsort(new, kind="stable")
    lookup = np.zeros(max([*seg.numbers, 0]) + 1, dtype=np.int64)
    lookup[list(seg.numbers)] = new
    return replace(seg, labels=lookup[seg.labels], centroids=seg.centroids[order],
                   centroids_original=seg.centroids_original[order],
                   sizes=tuple(seg.sizes[i] for i in order), sample_labels=lookup[seg.sample_labels],
                   numbers=tuple(sorted(new)))


def assign(fm: FeatureMatrix, centroids: np.ndarray, numbers: tuple[int, ...], *, seed: int, n_init: int,
           silhouette_sample: int, algorithm: Algorithm = ALGORITHMS["kmeans"]) -> Segmentation:
    """Label every row with the nearest of given centroids (in ``fm``'s scaled space), without re-clustering."""
    labels = np.asarray(numbers, dtype=np.int64)[algorithm.assign(fm.X, centroids)]
    return segmentation_of(fm, labels, centroids, seed=seed, n_init=n_init, silhouette_sample=silhouette_sample,
                           numbers=numbers, algorithm=algorithm.key, description=ASSIGNED)
