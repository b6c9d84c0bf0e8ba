from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from reportgen.errors import ConfigError, InputError
from reportgen.model import FeatureMatrix, KCandidate, Scaler
from reportgen.segmentation.cluster import canonical_numbers, choose_k, find_elbow, fit_segments, select_k
from reportgen.segmentation.indices import sample_rows


def matrix(X: np.ndarray) -> FeatureMatrix:
    p = X.shape[1]
    return FeatureMatrix(X=X, names=tuple(f"f{i}" for i in range(p)), rows=np.arange(1, len(X) + 1),
                         scaler=Scaler("none", (0.0,) * p, (1.0,) * p))


def blobs(n_per: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = [(0, 0), (10, 0), (0, 10), (10, 10), (5, 20)]
    return np.vstack([rng.normal(centers[i], 0.8, size=(n, 2)) for i, n in enumerate(n_per)])


def test_select_k_finds_the_planted_k() -> None:
    sel = select_k(matrix(blobs((40, 30, 20, 10))), k_min=2, k_max=8)
    assert sel.chosen_k == 4 and sel.silhouette_k == 4 and sel.method == "vote"
    assert [c.k for c in sel.candidates] == list(range(2, 9))
    assert sel.reason.startswith("k = 4 is the choice of 5 of the 5 indices (Silhouette, Davies–Bouldin, "
                                 "Calinski–Harabasz, Gap statistic and Elbow)")
    assert {v.key: v.k for v in sel.votes} == {"silhouette": 4, "davies_bouldin": 4, "calinski_harabasz": 4,
                                               "gap": 4, "elbow": 4}
    assert all(c.gap_se is not None and "gap" in c.scores for c in sel.candidates)


def _candidates(rows: list[tuple[int, float, float, float, float]]) -> list[KCandidate]:
    """(k, silhouette, davies_bouldin, calinski_harabasz, smallest share) -> candidates, inertia falling."""
    return [KCandidate(k=k, inertia=1000.0 / k ** 2, smallest=small,
                       scores={"silhouette": s, "davies_bouldin": d, "calinski_harabasz": c})
            for k, s, d, c, small in rows]


def _choose(candidates: list[KCandidate], **kwargs):
    return choose_k(candidates, fixed_k=None, k_range=(candidates[0].k, candidates[-1].k), n_init=10,
                    silhouette_sample_size=None, **kwargs)


def test_the_k_most_indices_pick_wins() -> None:
    sel = _choose(_candidates([(2, 0.50, 0.9, 100, 0.4), (3, 0.40, 0.5, 300, 0.3), (4, 0.30, 0.6, 200, 0.2)]))
    assert {v.key: v.k for v in sel.votes}["silhouette"] == 2
    assert sel.chosen_k == 3 and sel.method == "vote"  # Davies–Bouldin and Calinski–Harabasz against the silhouette
    assert "k = 3 is the choice of 2 of the" in sel.reason and "Silhouette suggests k = 2" in sel.reason


def test_a_tied_vote_goes_to_the_silhouette() -> None:
    rows = [(2, 0.30, 0.5, 100, 0.4), (3, 0.40, 0.9, 50, 0.3), (4, 0.35, 0.7, 300, 0.2)]
    candidates = [replace(c, inertia=100.0 - 10 * c.k) for c in _candidates(rows)]  # a straight line: no elbow
    sel = _choose(candidates)
    assert [(v.key, v.k) for v in sel.votes] == [("silhouette", 3), ("davies_bouldin", 2), ("calinski_harabasz", 4),
                                                 ("elbow", None)]
    assert sel.chosen_k == 3  # one vote each: the silhouette's k
    assert "(Elbow: no clear choice)" in sel.reason


def test_a_k_that_leaves_a_tiny_segment_is_never_chosen() -> None:
    rows = [(2, 0.30, 0.9, 100, 0.40), (3, 0.40, 0.8, 200, 0.20), (4, 0.60, 0.3, 900, 0.01)]
    sel = _choose(_candidates(rows), min_share=0.02)
    assert sel.chosen_k == 3 and all(v.k != 4 for v in sel.votes)
    assert "k = 4 was not considered: it leaves a segment with under 2% of the customers." in sel.reason
    assert _choose(_candidates(rows), min_share=0.0).chosen_k == 4


def test_the_gap_statistic_may_find_no_segments() -> None:
    rows = [(2, 0.30, 0.9, 100, 0.4), (3, 0.31, 0.8, 110, 0.3), (4, 0.29, 0.85, 105, 0.2)]
    candidates = [replace(c, scores={**c.scores, "gap": g}, gap_se=0.05)
                  for c, g in zip(_candidates(rows), (0.40, 0.42, 0.41), strict=True)]
    sel = _choose(candidates, gap_one=(0.45, 0.05))
    assert {v.key: v.k for v in sel.votes}["gap"] == 1
    assert sel.chosen_k == 3 and "Gap statistic finds no segments (k = 1)" in sel.reason


def test_fixed_k_is_used_and_explained() -> None:
    sel = select_k(matrix(blobs((40, 30, 20, 10))), fixed_k=3)
    assert sel.chosen_k == 3 and sel.method == "fixed" and sel.silhouette_k == 4
    assert "fixed by the user" in sel.reason


def test_segments_are_numbered_by_size() -> None:
    from reportgen.segmentation.features import apply_scaler, fit_scaler

    raw = blobs((10, 40, 20, 30)) * [3.0, 0.5] + [100.0, -7.0]  # units far from the scaled space
    scaler = fit_scaler(raw, "standard")
    fm = FeatureMatrix(X=apply_scaler(raw, scaler), names=("f0", "f1"), rows=np.arange(1, len(raw) + 1),
                       scaler=scaler)
    seg = fit_segments(fm, 4)
    assert seg.sizes == (40, 30, 20, 10)
    assert np.bincount(seg.labels)[1:].tolist() == [40, 30, 20, 10]
    for number in range(1, 5):  # centroid row i belongs to segment i + 1, in both spaces
        np.testing.assert_allclose(fm.X[seg.labels == number].mean(axis=0), seg.centroids[number - 1], atol=1e-6)
        np.testing.assert_allclose(raw[seg.labels == number].mean(axis=0), seg.centroids_original[number - 1],
                                   atol=1e-6)
    assert not np.allclose(seg.centroids, seg.centroids_original)


def test_canonical_numbers_break_ties_by_position() -> None:
    centroids = np.array([[5.0, 0.0], [1.0, 0.0]])
    assert canonical_numbers([2, 2], centroids).tolist() == [2, 1]
    assert canonical_numbers([1, 3], centroids).tolist() == [2, 1]  # the larger segment first
    assert canonical_numbers([3, 1], centroids).tolist() == [1, 2]


def test_results_are_deterministic() -> None:
    X = blobs((50, 50, 50))
    a, b = fit_segments(matrix(X), 3, seed=7), fit_segments(matrix(X.copy()), 3, seed=7)
    assert a.labels.tolist() == b.labels.tolist() and a.silhouette == b.silhouette


def test_k_range_is_clipped_to_what_the_data_supports() -> None:
    sel = select_k(matrix(blobs((4, 4))), k_min=2, k_max=10)
    assert max(c.k for c in sel.candidates) == 4  # 8 rows: at most 4 segments of 2


def test_too_few_rows() -> None:
    with pytest.raises(InputError, match="too few usable rows: 3"):
        select_k(matrix(blobs((3,))), k_min=2, k_max=5)


def test_k_larger_than_the_rows_allow() -> None:
    with pytest.raises(ConfigError, match="--k 6 needs at least 12 usable rows"):
        select_k(matrix(blobs((5, 5))), fixed_k=6)


@pytest.mark.parametrize("seed", range(40))
def test_elbow_agrees_with_kneed(seed: int) -> None:
    from kneed import KneeLocator

    rng = np.random.default_rng(seed)
    ks = list(range(2, 2 + int(rng.integers(4, 12))))
    drops = np.sort(rng.exponential(1.0, size=len(ks)))[::-1] * rng.uniform(0.2, 5)
    inertia = (np.cumsum(drops[::-1])[::-1] + rng.uniform(0, 3)).tolist()  # convex and decreasing
    expected = KneeLocator(ks, inertia, curve="convex", direction="decreasing").knee
    assert find_elbow(ks, inertia) == (int(expected) if expected is not None else None)


def test_elbow() -> None:
    ks = list(range(1, 11))
    inertia = [1000, 600, 300, 120, 100, 90, 82, 76, 71, 67]
    assert find_elbow(ks, inertia) == 4
    assert find_elbow([2, 3], [10, 5]) is None


def test_silhouette_sample_is_fixed_and_used_above_the_threshold() -> None:
    X = blobs((300, 300, 300))
    assert sample_rows(900, 1000, 1) is None
    picked = sample_rows(900, 200, 1)
    assert len(picked) == 200 and picked.tolist() == sample_rows(900, 200, 1).tolist()
    sampled = select_k(matrix(X), k_min=3, k_max=3, silhouette_sample=400)
    full = select_k(matrix(X), k_min=3, k_max=3, silhouette_sample=10_000)
    assert sampled.silhouette_sample_size == 400 and full.silhouette_sample_size is None
    assert abs(sampled.candidates[0].scores["silhouette"] - full.candidates[0].scores["silhouette"]) < 0.02


def test_few_distinct_points_leave_the_gap_out_where_it_is_undefined() -> None:
    X = np.repeat(np.arange(6.0), 50)[:, None]  # six distinct values: W_6 = 0, its gap is undefined
    sel = select_k(matrix(X), k_min=2, k_max=10)
    assert [c.k for c in sel.candidates] == [2, 3, 4, 5, 6]
    assert "gap" not in sel.candidates[-1].scores and all("gap" in c.scores for c in sel.candidates[:-1])
    assert any(v.key == "gap" for v in sel.votes)
