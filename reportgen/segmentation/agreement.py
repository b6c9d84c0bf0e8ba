"""Agreement between methods: the other algorithms of :data:`~reportgen.segmentation.algorithms.ALGORITHMS`, fitted at
the chosen k on the same scaled customers, compared with the chosen segments by the adjusted Rand index (1: the same
segments, 0: no more alike than chance). High agreement says the segments are in the data, not an artefact of one
method."""

from __future__ import annotations

import numpy as np

from ..model import Agreement, MethodAgreement
from .algorithms import ALGORITHMS, Layout

SAMPLE = 5_000  # the customers compared, at most (a fixed-seed sample)


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
