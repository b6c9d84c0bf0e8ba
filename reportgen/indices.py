"""INDICES: how good a segmentation is, one entry per index (its score function and whether higher is better).

The k sweep scores every candidate k with every index, the final segmentation is scored the same way, and the
report's k table has one column per index. Scores that compare pairs of customers (the silhouette) use a
fixed-seed sample above ``silhouette_sample`` rows, with its pairwise distances computed once per sweep
(:func:`scoring`) and shared by every k.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .model import IndexInfo


@dataclass(frozen=True)
class Scoring:
    """The data an index scores labels on: every row, and the sample the pairwise indices use."""

    X: np.ndarray
    sample: np.ndarray | None  # sorted row positions of the silhouette sample; None: every row
    distances: np.ndarray | None = None  # pairwise distances of the sample, when computed once for many labelings
    silhouettes: np.ndarray | None = None  # per-row silhouettes of the sample, when already computed

    def sampled(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (self.X, labels) if self.sample is None else (self.X[self.sample], labels[self.sample])


def several(labels: np.ndarray) -> bool:
    """The indices need at least two segments and fewer segments than rows."""
    return 1 < len(np.unique(labels)) < len(labels)


def _silhouette(scoring: Scoring, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    if scoring.silhouettes is not None:
        return float(np.mean(scoring.silhouettes))
    X, sampled = scoring.sampled(labels)
    if not several(sampled):
        return float("nan")
    if scoring.distances is not None:
        return float(silhouette_score(scoring.distances, sampled, metric="precomputed"))
    return float(silhouette_score(X, sampled))


def _davies_bouldin(scoring: Scoring, labels: np.ndarray) -> float:
    from sklearn.metrics import davies_bouldin_score

    return float(davies_bouldin_score(scoring.X, labels)) if several(labels) else float("nan")


def _calinski_harabasz(scoring: Scoring, labels: np.ndarray) -> float:
    from sklearn.metrics import calinski_harabasz_score

    return float(calinski_harabasz_score(scoring.X, labels)) if several(labels) else float("nan")


@dataclass(frozen=True)
class Index:
    info: IndexInfo
    score: Callable[[Scoring, np.ndarray], float]  # (the data, one label per row) -> the index


INDICES: tuple[Index, ...] = (
    Index(IndexInfo("silhouette", "Silhouette", "higher", 3), _silhouette),
    Index(IndexInfo("davies_bouldin", "Davies–Bouldin", "lower", 3), _davies_bouldin),
    Index(IndexInfo("calinski_harabasz", "Calinski–Harabasz", "higher", 1), _calinski_harabasz),
)


def sample_rows(n: int, size: int, seed: int) -> np.ndarray | None:
    """A fixed-seed sorted sample of row positions, or None when every row is used."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def scoring(X: np.ndarray, *, silhouette_sample: int, seed: int, precompute: bool = False) -> Scoring:
    """The Scoring of ``X``; ``precompute``: the sample's pairwise distances now, for scoring many labelings."""
    picked = sample_rows(len(X), silhouette_sample, seed)
    distances = None
    if precompute:
        from sklearn.metrics import pairwise_distances

        distances = pairwise_distances((X if picked is None else X[picked]).astype(np.float64))
    return Scoring(X=X, sample=picked, distances=distances)


def score(scoring: Scoring, labels: np.ndarray, indices: Sequence[Index] = INDICES) -> Mapping[str, float]:
    """Every index of ``indices`` for one labeling."""
    return {index.info.key: index.score(scoring, labels) for index in indices}


def infos(indices: Sequence[Index] = INDICES) -> tuple[IndexInfo, ...]:
    return tuple(index.info for index in indices)
