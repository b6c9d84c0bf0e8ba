"""Agreement between methods: the other algorithms of :data:`~reportgen.algorithms.ALGORITHMS`, fitted at the
chosen k on the same scaled customers, compared with the chosen segments by the adjusted Rand index (1: the same
segments, 0: no more alike than chance). High agreement says the segments are in the data, not an artefact of one
method."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .algorithms import ALGORITHMS, Layout

SAMPLE = 5_000  # the customers compared, at most (a fixed-seed sample)
HIGH, PARTLY = 0.8, 0.5  # the words: "the same segments", "partly the same", "other segments"


@dataclass(frozen=True)
class MethodAgreement:
    algorithm: str  # the key in ALGORITHMS
    name: str
    ari: float  # adjusted Rand index with the chosen segments


@dataclass(frozen=True)
class Agreement:
    chosen: str  # the chosen algorithm's name
    k: int
    customers: int  # the customers compared
    methods: tuple[MethodAgreement, ...]

    @property
    def sentence(self) -> str:
        if not self.methods:
            return ""
        low = min(m.ari for m in self.methods)
        names = " and ".join(m.name for m in self.methods)
        if low >= HIGH:
            return (f"{names} find nearly the same {self.k} segments (adjusted Rand index at least {low:.2f}): the "
                    "segments are in the data, not an artefact of one method.")
        if low >= PARTLY:
            return (f"{names} find partly the same segments (adjusted Rand index down to {low:.2f}): the main "
                    "groups hold across methods, their edges depend on the method.")
        return (f"{names} find other segments (adjusted Rand index down to {low:.2f}): these segments depend on "
                f"the method ({self.chosen}); treat their edges as one reading of the data, not a fact.")


def agreement(X: np.ndarray, labels: np.ndarray, *, chosen: str, k: int, seed: int, n_init: int,
              layout: Layout | None = None) -> Agreement:
    """Every other algorithm at ``k`` on (a fixed-seed sample of) ``X``, against the chosen ``labels``: with
    categorical columns in ``layout``, those that can cluster them (K-means and Ward on their one-hot columns);
    without, those that cluster numbers."""
    from sklearn.metrics import adjusted_rand_score

    if len(X) > SAMPLE:
        keep = np.sort(np.random.default_rng(seed).choice(len(X), SAMPLE, replace=False))
        X, labels = X[keep], labels[keep]
    methods = []
    for key, algorithm in ALGORITHMS.items():
        mixed = layout is not None and bool(layout.widths)
        if key == chosen or k >= len(X) or (mixed and not algorithm.categories) or (
                algorithm.needs_categories and not mixed):
            continue
        fitted = algorithm.fitter(layout)(X, k, seed, n_init)
        methods.append(MethodAgreement(key, algorithm.name, float(adjusted_rand_score(labels, fitted.labels))))
    return Agreement(chosen=ALGORITHMS[chosen].name, k=k, customers=len(X), methods=tuple(methods))
