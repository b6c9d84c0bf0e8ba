"""Choose k (a sweep over the k range, scored by every index, and one choice rule) and fit the final segmentation.

Engine-neutral pieces the Spark engine shares: :func:`check_k_range`, :func:`choose_k` (the choice rule and its
explanation), :func:`canonical_numbers` (segments numbered by size) and :func:`segmentation_of` (a
:class:`Segmentation` from labels and centroids, measured by every index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import ConfigError, InputError
from ..model import FeatureMatrix, IndexInfo, KCandidate, KSelection, Segmentation, Vote
from .algorithms import ALGORITHMS, Algorithm, layout_of
from .features import unscale
from .indices import INDICES, Scoring, infos, sample_rows, score, scoring, several

if TYPE_CHECKING:
    from .algorithms import FitFunction
    from .gap import GapResult

GAP_SAMPLE = 3000  # the gap statistic's references are clustered on a fixed-seed sample of this many rows
SAMPLED_SWEEP_INITS = 3  # a sweep on a sample tries fewer initialisations; the final fit keeps n_init
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


GAP = IndexInfo("gap", "Gap statistic", "higher", 3)
ELBOW = "elbow"
GAP_RULE = "the smallest k whose gap is within one standard error of the first local maximum (R's clusGap)"
ELBOW_RULE = "where the inertia curve bends most (Kneedle)"


def eligible(candidates: Sequence[KCandidate], min_share: float) -> list[KCandidate]:
    """The candidates whose smallest segment holds at least ``min_share`` of the customers (all, if none does)."""
    kept = [c for c in candidates if c.smallest >= min_share]
    return kept or list(candidates)


def index_votes(candidates: Sequence[KCandidate], indices: Sequence[IndexInfo] | None = None) -> list[Vote]:
    """Each per-labelling index's k (of ``indices``, by default every one of INDICES): its best value (ties: the
    smaller k)."""
    votes = []
    for info in indices if indices is not None else infos():
        sign = 1.0 if info.better == "higher" else -1.0
        scored = [c for c in candidates if np.isfinite(c.scores.get(info.key, np.nan))]
        best = max(scored, key=lambda c: (sign * c.scores[info.key], -c.k)) if scored else None
        votes.append(Vote(info.key, info.name, best.k if best else None,
                          "the highest value" if info.better == "higher" else "the lowest value"))
    return votes


def gap_vote(candidates: Sequence[KCandidate], gap_one: tuple[float, float] | None) -> Vote | None:
    """The gap statistic's k by clusGap's 1-SE rule over k = 1 (``gap_one``: its gap and SE) and the candidates;
    1 means the data look no more clustered than uniform noise."""
    from .gap import max_se

    scored = [c for c in candidates if c.gap_se is not None]  # a k with as many segments as points has none
    if gap_one is None or not scored:
        return None
    ks = [1, *(c.k for c in scored)]
    gaps = [gap_one[0], *(c.scores[GAP.key] for c in scored)]
    ses = [gap_one[1], *(float(c.gap_se or 0.0) for c in scored)]
    return Vote(GAP.key, GAP.name, ks[max_se(gaps, ses, "firstSEmax")], GAP_RULE)


def elbow_vote(candidates: Sequence[KCandidate], usable: Sequence[KCandidate]) -> Vote:
    """The elbow of the whole inertia curve; no vote when it lies at a k that is not considered."""
    k = find_elbow([c.k for c in candidates], [c.inertia for c in candidates])
    return Vote(ELBOW, "Elbow", k if k in {c.k for c in usable} else None, ELBOW_RULE)


def tally(votes: Sequence[Vote], silhouette_k: int) -> tuple[int, list[Vote]]:
    """The k most indices chose (ties: the silhouette's, else the smallest), and the votes for it."""
    counted = [v for v in votes if v.k is not None and v.k >= 2]
    counts: dict[int, int] = {}
    for vote in counted:
        assert vote.k is not None
        counts[vote.k] = counts.get(vote.k, 0) + 1
    if not counts:
        return silhouette_k, []
    top = max(counts.values())
    tied = sorted(k for k, n in counts.items() if n == top)
    chosen = silhouette_k if silhouette_k in tied else tied[0]
    return chosen, [v for v in counted if v.k == chosen]


def _names(votes: Sequence[Vote]) -> str:
    names = [v.name for v in votes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def explain_choice(chosen: int, votes: Sequence[Vote], for_it: Sequence[Vote], *, method: str,
                   k_range: tuple[int, int], left_out: Sequence[int], min_share: float,
                   any_eligible: bool = True) -> str:
    """One sentence (or two) saying why k is what it is."""
    span = f"k = {k_range[0]} to {k_range[1]}"
    given = [v for v in votes if v.k is not None]
    others = [v for v in given if v.k != chosen]
    if method == "fixed":
        text = f"k = {chosen} was fixed by the user (--k)"
        if for_it:
            text += f"; the indices prefer k = {for_it[0].k} ({_names(for_it)})"
    elif for_it:
        text = (f"k = {chosen} is the choice of {len(for_it)} of the {len(given)} indices ({_names(for_it)}) "
                f"over {span}")
    else:
        text = f"k = {chosen} has the highest average silhouette of {span}"
    if others and method != "fixed":
        text += "; " + "; ".join(
            f"{v.name} {'finds no segments (k = 1)' if v.k == 1 else f'suggests k = {v.k}'}" for v in others)
    missing = [v.name for v in votes if v.k is None]
    if missing:
        text += f" ({', '.join(missing)}: no clear choice)"
    text += "."
    if not left_out and min_share and not any_eligible:
        text += (f" Every k leaves a segment with under {100 * min_share:g}% of the customers, so none could be "
                 "ruled out for it.")
    if left_out:
        ks = ", ".join(str(k) for k in left_out)
        text += (f" k = {ks} {'was' if len(left_out) == 1 else 'were'} not considered: "
                 f"{'it leaves' if len(left_out) == 1 else 'each leaves'} a segment with under "
                 f"{100 * min_share:g}% of the customers.")
    return text


def choose_k(candidates: Sequence[KCandidate], *, fixed_k: int | None, k_range: tuple[int, int], n_init: int,
             silhouette_sample_size: int | None, sweep_sample_size: int | None = None, note: str = "",
             min_share: float = 0.0, gap_one: tuple[float, float] | None = None, gap_references: int = 0,
             extra: Sequence[IndexInfo] = ()) -> KSelection:
    """The choice rule: every index votes for a k among the candidates that leave no segment under ``min_share``
    of the customers (silhouette, Calinski-Harabasz, Davies-Bouldin: their best value; the gap statistic: the
    1-SE rule; the elbow: Kneedle); the k with the most votes wins, ties go to the silhouette's k. Unless k is
    fixed. ``extra``: the algorithm's own criteria (a mixture's BIC), which vote too."""
    usable = eligible(candidates, min_share)
    left_out = [c.k for c in candidates if c not in usable]
    votes = index_votes(usable, [*infos(), *extra])
    gap = gap_vote(usable, gap_one)
    votes += [gap] if gap is not None else []
    elbow = elbow_vote(candidates, usable)
    votes.append(elbow)
    tiebreaker = next(index.info.key for index in INDICES if index.breaks_ties)
    preferred = next((v.k for v in votes if v.key == tiebreaker and v.k is not None), usable[0].k)
    chosen, for_it = tally(votes, preferred)
    method: Literal["fixed", "vote"] = "vote"
    if fixed_k is not None:
        chosen, method = fixed_k, "fixed"
    reason = explain_choice(chosen, votes, for_it, method=method, k_range=k_range, left_out=left_out,
                            min_share=min_share, any_eligible=any(c.smallest >= min_share for c in candidates)
                            ) + (f" {note}" if note else "")
    return KSelection(candidates=tuple(candidates), elbow_k=elbow.k, silhouette_k=preferred, chosen_k=chosen,
                      method=method, reason=reason, n_init=n_init, silhouette_sample_size=silhouette_sample_size,
                      sweep_sample_size=sweep_sample_size, votes=tuple(votes), min_share=min_share,
                      gap_references=gap_references, gap_one=gap_one)


def gap_rise(selection: KSelection) -> float | None:
    """How far the gap statistic rises above its value at k = 1, in standard errors: (the largest gap over the
    candidates - the gap at k = 1) / the SE at that largest gap. None without a gap statistic."""
    scored = [c for c in selection.candidates if GAP.key in c.scores and c.gap_se]
    if selection.gap_one is None or not scored:
        return None
    top = max(scored, key=lambda c: c.scores[GAP.key])
    return (top.scores[GAP.key] - selection.gap_one[0]) / float(top.gap_se or 1.0)


def with_gap(candidates: Sequence[KCandidate], gap: GapResult) -> tuple[list[KCandidate], tuple[float, float]]:
    """The candidates with their gap and its SE; and (gap, SE) at k = 1."""
    by_k = {k: (g, e) for k, g, e in zip(gap.ks, gap.gap, gap.se, strict=True)}
    out = [replace(c, scores={**c.scores, GAP.key: by_k[c.k][0]}, gap_se=by_k[c.k][1]) if c.k in by_k else c
           for c in candidates]
    return out, by_k[1]


def smallest_share(labels: np.ndarray, k: int) -> float:
    return float(np.bincount(labels, minlength=k).min() / max(len(labels), 1))


def sweep_gap(X: np.ndarray, ks: Sequence[int], *, seed: int, fit: FitFunction) -> GapResult:
    """The gap statistic over ``ks`` on the sweep's rows (a fixed-seed sample of :data:`GAP_SAMPLE` above it)."""
    from .gap import gap_statistic

    picked = sample_rows(len(X), GAP_SAMPLE, seed)  # the rows gap_statistic will use
    distinct = len(np.unique(X if picked is None else X[picked], axis=0))
    # W_k is 0 from as many segments as distinct points: such k get no gap (and the gap statistic no vote)
    return gap_statistic(X, [k for k in ks if k < distinct], fit=fit, seed=seed, sample=GAP_SAMPLE)


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
    min_share: float = 0.02,
) -> KSelection:
    """Sweep k over ``k_min..k_max``; score every k with every index; choose by :func:`choose_k`.

    Above ``sweep_sample`` rows the sweep runs on a fixed-seed sample of that many rows (the final fit, in
    :func:`fit_segments`, uses every row). Silhouettes use a fixed-seed sample of ``silhouette_sample`` rows
    when there are more rows than that; the pairwise distances of the sample are computed once and shared by
    every k.
    """
    return sweep_k(sweep_rows(fm, sweep_sample, seed), customers=len(fm.X),
                   k_range=check_k_range(fm, k_min=k_min, k_max=k_max, fixed_k=fixed_k), fixed_k=fixed_k, seed=seed,
                   n_init=n_init, silhouette_sample=silhouette_sample, algorithm=algorithm.key, min_share=min_share)


def sweep_rows(fm: FeatureMatrix, sweep_sample: int, seed: int) -> FeatureMatrix:
    """The rows the k sweep runs on: every row, or a fixed-seed sample of ``sweep_sample`` of them."""
    swept = sample_rows(len(fm.X), sweep_sample, seed)
    return fm if swept is None else replace(fm, X=fm.X[swept], rows=fm.rows[swept])


def sweep_inits(n_init: int, sampled: bool) -> int:
    return min(n_init, SAMPLED_SWEEP_INITS) if sampled else n_init


def sweep_start(fm: FeatureMatrix, k: int, *, seed: int, n_init: int, sweep_sample: int, algorithm: Algorithm
                ) -> np.ndarray | None:
    """The centres the sweep finds at ``k`` (the same fit on the same rows), for the final fit to start from
    while the sweep runs elsewhere (a fixed k: see :func:`reportgen.engines.PandasEngine.select_k`). None when
    the sweep would give none: on every row, or for an algorithm without a ``refine`` step."""
    rows = sweep_rows(fm, sweep_sample, seed)
    if rows is fm or algorithm.refine is None:
        return None
    fit = algorithm.fitter(layout_of(len(fm.names), fm.categories))
    return fit(rows.X, k, seed, sweep_inits(n_init, True)).centroids


def sweep_k(fm: FeatureMatrix, *, customers: int, k_range: tuple[int, int], fixed_k: int | None, seed: int,
            n_init: int, silhouette_sample: int, algorithm: str, min_share: float, note: str | None = None
            ) -> KSelection:
    """:func:`select_k` on the sweep's rows ``fm`` (:func:`sweep_rows`) of ``customers`` customers, over
    ``k_range`` (:func:`check_k_range` of every row). ``note``: what the reason says of the sweep's rows and the
    final fit, instead of the default. A module-level function of picklable arguments: a chart process can run
    it."""
    low, high = k_range
    sampled = len(fm.X) < customers
    inits = sweep_inits(n_init, sampled)
    kind = ALGORITHMS[algorithm]
    X = fm.X
    shared = scoring(X, silhouette_sample=silhouette_sample, seed=seed, precompute=True)
    fit = kind.fitter(layout_of(len(fm.names), fm.categories))
    candidates = []
    starts: dict[int, np.ndarray] = {}
    for k in range(low, high + 1):
        fitted = fit(X, k, seed, inits)
        starts[k] = fitted.centroids
        candidates.append(KCandidate(k=k, inertia=fitted.inertia,
                                     scores={**score(shared, fitted.labels), **fitted.scores},
                                     smallest=smallest_share(fitted.labels, k)))
    gap_one, references = None, 0
    if fm.categories is None:  # uniform reference data have no categories: no gap statistic for them
        gap = sweep_gap(X, range(low, high + 1), seed=seed, fit=fit)
        candidates, gap_one = with_gap(candidates, gap)
        references = gap.references
    if note is None and not sampled:
        note = ""
    elif note is None:
        note = (f"The sweep used a fixed-seed sample of {len(X):,} of the {customers:,} customers and "
                f"{inits} initialisations per k; the final fit uses every customer"
                + (", starting from the sample's centres at the chosen k." if kind.refine is not None else "."))
    selection = choose_k(candidates, fixed_k=fixed_k, k_range=(low, high), n_init=inits,
                         silhouette_sample_size=None if shared.sample is None else len(shared.sample),
                         sweep_sample_size=len(X) if sampled else None, note=note, min_share=min_share,
                         gap_one=gap_one, gap_references=references, extra=kind.indices)
    return replace(selection, starts=starts) if sampled else selection


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
        k=k, labels=labels, centroids=centroids, centroids_original=unscale(centroids[:, :len(fm.names)], fm.scaler),
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
    start: np.ndarray | None = None,
) -> Segmentation:
    """Fit ``k`` segments, number them by size and measure the solution. ``start``: centres a k sweep on a
    fixed-seed sample found (its best of several k-means++ starts), which an algorithm with a ``refine`` step
    (K-means) runs from on every row instead of starting ``n_init`` times from scratch."""
    check_k_range(fm, k_min=k, k_max=k, fixed_k=k)
    if start is not None and algorithm.refine is not None and len(start) == k:
        fitted = algorithm.refine(fm.X, start)
    else:
        fitted = algorithm.fitter(layout_of(len(fm.names), fm.categories))(fm.X, k, seed, n_init)
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
