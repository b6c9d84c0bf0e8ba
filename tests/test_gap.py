"""The gap statistic: R's maxSE rules on hand-worked vectors, and clusGap's answers with and without clusters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.segmentation.algorithms import ALGORITHMS
from reportgen.segmentation.gap import SE_METHODS, gap_statistic, max_se, reference_sets

from .conftest import INCOME, SCORE

FIT = ALGORITHMS["kmeans"].fit


def three_blobs(seed: int = 0, per_blob: int = 100) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = ((0, 0), (10, 0), (5, 9))
    return np.vstack([rng.normal(c, 1.0, size=(per_blob, 2)) for c in centers])


# --------------------------------------------------------------------------- max_se
@pytest.mark.parametrize(("method", "expected"), [
    ("firstmax", 1),  # 0.5 -> 0.45 is the first decrease
    ("globalmax", 3),
    ("Tibs2001SEmax", 1),  # 0.1 < 0.5 - 0.05, but 0.5 >= 0.45 - 0.05
    ("firstSEmax", 1),  # 0.1 is not within one SE of 0.5
    ("globalSEmax", 3),  # no earlier gap is within one SE of 0.7
])
def test_max_se_on_a_worked_example(method, expected) -> None:
    assert max_se([0.1, 0.5, 0.45, 0.7], [0.05] * 4, method) == expected


def test_first_se_max_moves_left_to_the_first_gap_within_one_se() -> None:
    f, se = [0.1, 0.6, 0.65, 0.5], [0.1] * 4
    assert max_se(f, se, "firstmax") == 2  # the first local maximum
    assert max_se(f, se, "firstSEmax") == 1  # 0.6 >= 0.65 - 0.1
    assert max_se(f, se, "globalSEmax") == 1
    assert max_se(f, se, "firstSEmax", se_factor=0.0) == 2  # without the SE it stays at the maximum
    assert max_se(f, se, "Tibs2001SEmax", se_factor=0.0) == 2


def test_tibshirani_rule_compares_neighbours_only() -> None:
    # gap(1) >= gap(2) - SE(2) thanks to the large SE at k = 2; the first maximum (k = 3) has a small SE
    f, se = [0.1, 0.4, 0.7, 0.6], [0.01, 0.35, 0.05, 0.05]
    assert max_se(f, se, "Tibs2001SEmax") == 0
    assert max_se(f, se, "firstSEmax") == 2


@pytest.mark.parametrize("method", SE_METHODS)
def test_an_increasing_gap_picks_the_last_k(method) -> None:
    assert max_se([0.1, 0.2, 0.3, 0.4], [0.01] * 4, method) == 3


def test_max_se_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="Unknown maxSE method"):
        max_se([0.1, 0.2], [0.1, 0.1], "best")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same length"):
        max_se([0.1, 0.2], [0.1], "firstSEmax")


# --------------------------------------------------------------------------- gap_statistic
def test_three_separated_blobs_give_three() -> None:
    result = gap_statistic(three_blobs(), range(1, 7), fit=FIT, seed=0)
    assert result.chosen_k == 3
    assert result.ks == (1, 2, 3, 4, 5, 6)
    assert result.gap[2] == max(result.gap[:4])  # the gap peaks at the planted k
    assert len(result.log_w) == len(result.expected_log_w) == len(result.gap) == len(result.se) == 6


def test_uniform_data_give_one() -> None:
    square = np.random.default_rng(0).uniform(0, 1, size=(500, 2))
    result = gap_statistic(square, range(1, 11), fit=FIT, seed=0)
    assert result.chosen_k == 1


def test_k1_is_always_included_and_ks_are_sorted() -> None:
    result = gap_statistic(three_blobs(), [4, 2, 3, 2], fit=FIT, seed=0, references=5)
    assert result.ks == (1, 2, 3, 4)


def test_log_w_is_the_pooled_within_sum_of_squares() -> None:
    X = three_blobs()
    result = gap_statistic(X, [1, 2, 3], fit=FIT, seed=0, references=5, n_init=3)
    assert result.log_w[0] == pytest.approx(np.log(((X - X.mean(axis=0)) ** 2).sum()))
    assert result.log_w[2] == pytest.approx(np.log(FIT(X, 3, 0, 3).inertia))
    assert np.allclose(result.gap, np.subtract(result.expected_log_w, result.log_w))


def test_same_seed_same_result_and_another_seed_other_references() -> None:
    X = three_blobs(seed=3)
    first = gap_statistic(X, range(1, 6), fit=FIT, seed=11, references=5)
    assert gap_statistic(X, range(1, 6), fit=FIT, seed=11, references=5) == first
    other = gap_statistic(X, range(1, 6), fit=FIT, seed=12, references=5)
    assert other.expected_log_w != first.expected_log_w


def test_references_fill_the_principal_component_box() -> None:
    """scaledPCA: uniform in the box of the data's principal components, so a diagonal cloud gives diagonal
    references (an axis-aligned box would give uncorrelated ones)."""
    rng = np.random.default_rng(5)
    t = rng.uniform(-10, 10, size=400)
    X = np.column_stack([t, t]) + rng.normal(0, 0.5, size=(400, 2)) + (100, 50)
    (reference,) = reference_sets(X, 1, seed=5)
    assert reference.shape == X.shape
    assert np.corrcoef(reference.T)[0, 1] > 0.95
    _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    data_pc, reference_pc = (X - X.mean(axis=0)) @ vt.T, (reference - X.mean(axis=0)) @ vt.T
    assert np.all(reference_pc.min(axis=0) >= data_pc.min(axis=0) - 1e-9)
    assert np.all(reference_pc.max(axis=0) <= data_pc.max(axis=0) + 1e-9)


def test_se_is_clusgap_sd_times_sqrt_one_plus_one_over_b() -> None:
    X = three_blobs()
    result = gap_statistic(X, [1, 2], fit=FIT, seed=2, references=4, n_init=1)
    log_w1 = [np.log(((z - z.mean(axis=0)) ** 2).sum()) for z in reference_sets(X, 4, seed=2)]
    assert result.expected_log_w[0] == pytest.approx(np.mean(log_w1))
    assert result.se[0] == pytest.approx(np.sqrt(1 + 1 / 4) * np.std(log_w1, ddof=1))


def test_large_data_use_a_fixed_seed_sample() -> None:
    X = three_blobs(per_blob=200)
    sampled = gap_statistic(X, range(1, 5), fit=FIT, seed=1, references=5, sample=250)
    assert sampled.sample_size == 250 and sampled.chosen_k == 3
    assert gap_statistic(X, range(1, 5), fit=FIT, seed=1, references=5, sample=600).sample_size is None


def test_bad_arguments_are_refused() -> None:
    X = three_blobs()
    with pytest.raises(ValueError, match="between 1 and"):
        gap_statistic(X, [0, 2], fit=FIT, seed=0)
    with pytest.raises(ValueError, match="at least 2 reference"):
        gap_statistic(X, [2], fit=FIT, seed=0, references=1)


def test_mall_income_and_spending(mall_csv: Path) -> None:
    """On the raw Mall columns the five visible groups show as a jump of the gap at k = 5, but the gap at k = 1 is
    higher than at k = 2, so clusGap's default rule (firstSEmax) stops at k = 1; globalSEmax finds 8."""
    X = pd.read_csv(mall_csv)[[INCOME, SCORE]].to_numpy(dtype=float)
    result = gap_statistic(X, range(1, 11), fit=FIT, seed=42)
    gap = dict(zip(result.ks, result.gap, strict=True))
    assert gap[5] > gap[4] + 0.1 and gap[5] > gap[6]
    assert gap[1] > gap[2]
    assert result.chosen_k == 1
