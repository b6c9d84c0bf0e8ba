"""Bootstrap stability: the Jaccard table on hand-worked labels, and clusterboot's verdicts on real clusterings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.model import Stability
from reportgen.segmentation.algorithms import ALGORITHMS
from reportgen.segmentation.stability import VERDICTS, best_jaccard, bootstrap_stability, summarise, verdict_word

from .conftest import INCOME, SCORE

FIT = ALGORITHMS["kmeans"].fit


def three_blobs(seed: int = 0, per_blob: int = 100) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = ((0, 0), (10, 0), (5, 9))
    return np.vstack([rng.normal(c, 1.0, size=(per_blob, 2)) for c in centers])


def stability_of(X: np.ndarray, k: int, seed: int = 0, **options) -> Stability:
    labels = FIT(X, k, seed, 10).labels + 1
    return bootstrap_stability(X, labels, range(1, k + 1), fit=FIT, k=k, seed=seed, **options)


# --------------------------------------------------------------------------- verdicts
@pytest.mark.parametrize(("j", "word"), [
    (1.0, "highly stable"), (0.85, "highly stable"), (0.849, "stable"), (0.75, "stable"), (0.749, "doubtful"),
    (0.6, "doubtful"), (0.599, "unstable"), (0.0, "unstable"), (float("nan"), "unstable"),
])
def test_verdict_word(j, word) -> None:
    assert verdict_word(j) == word


def test_verdict_table_runs_from_highest_to_lowest() -> None:
    thresholds = [threshold for threshold, _ in VERDICTS]
    assert thresholds == sorted(thresholds, reverse=True)


# --------------------------------------------------------------------------- Jaccard table
def test_best_jaccard_by_hand() -> None:
    # segment 0 = rows {0,1,2}: cluster 1 = {0,1} gives 2/3, cluster 0 = {2,3,4} gives 1/5
    # segment 1 = rows {3,4}: cluster 0 gives 2/3; segment 2 has no rows
    best = best_jaccard(np.array([0, 0, 0, 1, 1]), np.array([1, 1, 0, 0, 0]), 3)
    assert best[:2] == pytest.approx([2 / 3, 2 / 3])
    assert np.isnan(best[2])


def test_best_jaccard_ignores_how_the_new_clusters_are_numbered() -> None:
    original = np.array([0, 0, 1, 1, 2, 2, 2])
    assert best_jaccard(original, np.array([2, 2, 0, 0, 1, 1, 1]), 3) == pytest.approx([1.0, 1.0, 1.0])


def test_summary_leaves_out_resamples_without_the_segment() -> None:
    scores = np.array([[0.5], [0.75], [0.6], [np.nan]])
    result = summarise(scores, (7,), sample_size=None)
    assert result.segments[7] == pytest.approx((0.5 + 0.75 + 0.6) / 3)
    assert result.dissolved == {7: 1} and result.recovered == {7: 1}  # 0.5 dissolved, 0.75 recovered
    assert result.resamples == 4 and result.method == "bootstrap"


# --------------------------------------------------------------------------- bootstrap_stability
def test_separated_blobs_are_highly_stable() -> None:
    result = stability_of(three_blobs(), 3, resamples=30)
    assert isinstance(result, Stability)
    assert set(result.segments) == {1, 2, 3}
    assert min(result.segments.values()) >= 0.95
    assert result.dissolved == {1: 0, 2: 0, 3: 0} and result.recovered == {1: 30, 2: 30, 3: 30}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_segment_too_many_splits_a_blob_unstably(seed) -> None:
    """k = 4 on three blobs cuts one blob in two, differently on every resample: those halves score below 0.75
    (0.52-0.67 here) while the correct k = 3 scores 1.0."""
    result = stability_of(three_blobs(seed), 4, seed=seed, resamples=30)
    assert min(result.segments.values()) < 0.75
    assert sum(verdict_word(j) in ("doubtful", "unstable") for j in result.segments.values()) >= 1


def test_uniform_data_have_no_highly_stable_segmentation() -> None:
    square = np.random.default_rng(0).uniform(0, 1, size=(500, 2))
    result = stability_of(square, 5)
    assert min(result.segments.values()) < 0.75
    assert max(result.segments.values()) < 0.95


def test_segment_numbers_are_kept_and_do_not_change_the_result() -> None:
    X = three_blobs(seed=4)
    codes = FIT(X, 4, 4, 10).labels
    numbered = bootstrap_stability(X, codes + 1, [1, 2, 3, 4], fit=FIT, k=4, seed=4, resamples=10)
    renamed = bootstrap_stability(X, np.array([70, 30, 50, 10])[codes], [70, 30, 50, 10], fit=FIT, k=4, seed=4,
                                  resamples=10)
    assert list(renamed.segments) == [70, 30, 50, 10]
    assert list(renamed.segments.values()) == list(numbered.segments.values())


def test_same_seed_same_result() -> None:
    X = three_blobs(seed=5)
    assert stability_of(X, 4, seed=5, resamples=10) == stability_of(X, 4, seed=5, resamples=10)


def test_large_data_use_a_fixed_seed_sample() -> None:
    X = three_blobs(per_blob=200)
    result = stability_of(X, 3, resamples=5, sample=200)
    assert result.sample_size == 200 and min(result.segments.values()) >= 0.95
    assert stability_of(X, 3, resamples=2, sample=600).sample_size is None


def test_labels_must_be_listed_segment_numbers() -> None:
    X = three_blobs()
    labels = FIT(X, 3, 0, 3).labels + 1
    with pytest.raises(ValueError, match="not in numbers"):
        bootstrap_stability(X, labels, [1, 2], fit=FIT, k=3, seed=0, resamples=2)
    with pytest.raises(ValueError, match="entries for"):
        bootstrap_stability(X, labels[:-1], [1, 2, 3], fit=FIT, k=3, seed=0, resamples=2)


def test_mall_five_segments_are_highly_stable(mall_csv: Path) -> None:
    """Raw income and spending score, K-means k = 5: every segment scores 0.96-1.0 (clusterboot: highly stable)."""
    X = pd.read_csv(mall_csv)[[INCOME, SCORE]].to_numpy(dtype=float)
    labels = FIT(X, 5, 42, 10).labels + 1
    result = bootstrap_stability(X, labels, range(1, 6), fit=FIT, k=5, seed=42, n_init=10)
    assert result.resamples == 50 and result.sample_size is None
    assert all(j >= 0.85 for j in result.segments.values()), result.segments
    assert all(count == 0 for count in result.dissolved.values())


def test_mall_six_segments_leave_an_unstable_small_one(mall_csv: Path) -> None:
    """k = 6 splits off ten customers that the resamples rarely find again (mean Jaccard about 0.5)."""
    X = pd.read_csv(mall_csv)[[INCOME, SCORE]].to_numpy(dtype=float)
    labels = FIT(X, 6, 42, 10).labels + 1
    result = bootstrap_stability(X, labels, range(1, 7), fit=FIT, k=6, seed=42, n_init=10)
    sizes = {c: int((labels == c).sum()) for c in range(1, 7)}
    weakest = min(result.segments, key=lambda c: result.segments[c])
    assert sizes[weakest] == min(sizes.values())
    assert result.segments[weakest] < 0.6
    assert result.dissolved[weakest] >= 15
