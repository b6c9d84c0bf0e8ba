"""GAP: the gap statistic (Tibshirani, Walther & Hastie 2001) for choosing k, computed as R's ``cluster::clusGap``.

For each k the gap compares how tightly the data cluster, log W_k, with how tightly data without any cluster
structure would: the mean of log W*_k over ``references`` uniform reference data sets of the same size and spread.
A clear cluster structure shows as a gap that stops growing at the right k. The chosen k is the one R's
``cluster::maxSE`` picks from the gaps and their standard errors (default ``"firstSEmax"``, as ``clusGap``).

W_k is the pooled within-cluster sum of squares, ``sum_r D_r / (2 n_r)`` with D_r the sum of squared distances
between all pairs in segment r, which equals the sum of squared distances to the segment centres: the clustering's
``inertia``. This is ``clusGap(..., d.power = 2)``. ``clusGap``'s default ``d.power = 1`` (plain distances) is not
used: K-means minimises squared distances, so squared distances measure what it fits. ``clusGap`` sums each pair
once (half of Tibshirani's W_k), so its ``logW`` is ours minus log 2; the constant cancels in the gap and its SE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from .algorithms import FitFunction
from .indices import sample_rows

SEMethod = Literal["firstSEmax", "Tibs2001SEmax", "globalSEmax", "firstmax", "globalmax"]
SE_METHODS: tuple[str, ...] = get_args(SEMethod)


# The defaults keep k = 1..10 on 3,000 rows at 1.2-1.8 s on 2 cores: 11 data sets x 9 fits of 10-25 ms each.
DEFAULT_REFERENCES = 10  # B (clusGap: 100); the SE is then good to about 1/sqrt(2(B - 1)) = 24% of itself
DEFAULT_N_INIT = 3  # initialisations per fit, data and references alike; 1 misses planted clusters
DEFAULT_SAMPLE = 3_000  # rows above which a fixed-seed sample is used; more rows beat more references


@dataclass(frozen=True)
class GapResult:
    """The gap statistic for every k in ``ks`` (all tuples line up with ``ks``) and the k it chooses."""

    ks: tuple[int, ...]  # sorted, always starting at 1
    log_w: tuple[float, ...]  # log W_k of the data
    expected_log_w: tuple[float, ...]  # mean over the references of log W*_k
    gap: tuple[float, ...]  # expected_log_w - log_w
    se: tuple[float, ...]  # sqrt(1 + 1/B) * sd of log W*_k over the references (clusGap's SE.sim)
    chosen_k: int  # ks[max_se(gap, se, method)]
    references: int  # B, the number of reference data sets
    method: str  # the maxSE rule that chose k
    sample_size: int | None  # rows of the fixed-seed sample used; None: every row


def max_se(f: Sequence[float], se: Sequence[float], method: SEMethod = "firstSEmax", se_factor: float = 1.0) -> int:
    """The 0-based position of the chosen k in ``f`` (the gaps, in increasing k): a port of R's ``cluster::maxSE``.

    ``"firstSEmax"``: the first local maximum of ``f``, moved left to the smallest k whose gap is within
    ``se_factor`` standard errors of it. ``"Tibs2001SEmax"``: the smallest k with f(k) >= f(k+1) - SE(k+1), the rule
    in Tibshirani et al. (2001). ``"globalSEmax"``: like ``"firstSEmax"`` from the global maximum. ``"firstmax"`` and
    ``"globalmax"``: the first local, or the global, maximum. Without any decrease every rule but the global ones
    picks the last position, as R does.
    """
    if method not in SE_METHODS:
        raise ValueError(f"Unknown maxSE method {method!r}; expected one of {', '.join(SE_METHODS)}.")
    values = np.asarray(f, dtype=float)
    errors = se_factor * np.asarray(se, dtype=float)
    if values.ndim != 1 or len(values) == 0 or errors.shape != values.shape:
        raise ValueError(f"f and se must be non-empty and of the same length, got {len(values)} and {len(errors)}.")
    last = len(values) - 1
    if method == "globalmax":
        return int(np.argmax(values))
    if method == "Tibs2001SEmax":
        within = values[:-1] >= values[1:] - errors[1:]
        return int(np.argmax(within)) if within.any() else last
    if method == "firstmax":
        return _first_local_max(values)
    peak = _first_local_max(values) if method == "firstSEmax" else int(np.argmax(values))
    within = values[:peak] >= values[peak] - errors[peak]
    return int(np.argmax(within)) if within.any() else peak


def _first_local_max(values: np.ndarray) -> int:
    """The first position whose successor is not larger; the last position when ``values`` only increase."""
    decreases = np.diff(values) <= 0
    return int(np.argmax(decreases)) if decreases.any() else len(values) - 1


def gap_statistic(X: np.ndarray, ks: Sequence[int], *, fit: FitFunction, seed: int,
                  references: int = DEFAULT_REFERENCES, n_init: int = DEFAULT_N_INIT,
                  sample: int | None = DEFAULT_SAMPLE, method: SEMethod = "firstSEmax") -> GapResult:
    """The gap statistic of ``X`` for every k in ``ks`` (k = 1 is always added), with ``fit`` as the clustering.

    The references are ``clusGap``'s default ``spaceH0 = "scaledPCA"``: uniform data in the bounding box of the
    data's principal components, rotated back, so that an elongated cloud is not mistaken for clusters. The
    references are drawn from ``np.random.default_rng(seed)``; reference b is clustered with seed ``seed + 1 + b``.
    Above ``sample`` rows a fixed-seed sample of rows is used (``None``: every row).
    """
    data = _as_matrix(X)
    k_values = _with_k1(ks, len(data))
    if references < 2:
        raise ValueError(f"The gap statistic needs at least 2 reference data sets for its SE, got {references}.")
    picked = None if sample is None else sample_rows(len(data), sample, seed)
    if picked is not None:
        data = data[picked]
    log_w = log_dispersions(data, k_values, fit=fit, seed=seed, n_init=n_init)
    reference_log_w = np.array([
        log_dispersions(reference, k_values, fit=fit, seed=seed + 1 + b, n_init=n_init)
        for b, reference in enumerate(reference_sets(data, references, seed))
    ])
    expected = reference_log_w.mean(axis=0)
    gap = expected - log_w
    se = np.sqrt(1.0 + 1.0 / references) * reference_log_w.std(axis=0, ddof=1)
    chosen = k_values[max_se(gap.tolist(), se.tolist(), method)]
    return GapResult(ks=k_values, log_w=_floats(log_w), expected_log_w=_floats(expected), gap=_floats(gap),
                     se=_floats(se), chosen_k=chosen, references=references, method=method,
                     sample_size=None if picked is None else len(picked))


def _as_matrix(X: np.ndarray) -> np.ndarray:
    data = np.asarray(X, dtype=float)
    if data.ndim != 2 or len(data) < 2:
        raise ValueError(f"X must be a 2-D array with at least 2 rows, got shape {data.shape}.")
    return data


def _with_k1(ks: Sequence[int], n_rows: int) -> tuple[int, ...]:
    """``ks`` sorted, without repeats and with k = 1 (the no-cluster baseline every maxSE rule can fall back to)."""
    k_values = tuple(sorted({1, *(int(k) for k in ks)}))
    if k_values[0] < 1 or k_values[-1] > n_rows:
        raise ValueError(f"Every k must be between 1 and the {n_rows} rows, got {list(ks)}.")
    return k_values


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def log_dispersions(X: np.ndarray, ks: Sequence[int], *, fit: FitFunction, seed: int, n_init: int) -> np.ndarray:
    """log W_k for every k: the total sum of squares about the mean for k = 1, the fit's inertia otherwise."""
    dispersions = np.array([float(((X - X.mean(axis=0)) ** 2).sum()) if k == 1 else fit(X, k, seed, n_init).inertia
                            for k in ks])
    if np.any(dispersions <= 0):
        raise ValueError(f"W_k is 0 for k = {[k for k, w in zip(ks, dispersions, strict=True) if w <= 0]}: "
                         "k is at least the number of distinct rows.")
    return np.log(dispersions)


def reference_sets(X: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """``count`` uniform reference data sets shaped like ``X``, as ``clusGap(spaceH0 = "scaledPCA")`` draws them.

    Centre X, rotate it onto its principal axes (``X_c V`` from the SVD ``X_c = U S V^T``), draw uniformly in the
    box spanned by each rotated column, and rotate and shift back (``Z V^T + mean``). Rotating back changes nothing
    for K-means, whose inertia ignores rotations, but keeps other ``fit`` functions on data in the original space.
    """
    centre = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - centre, full_matrices=False)
    rotated = (X - centre) @ vt.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=(len(X), len(low))) @ vt + centre for _ in range(count)]
