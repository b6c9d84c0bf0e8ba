"""Choose the feature columns and scale them into the matrix the clustering sees.

The scaler is built once, from column moments (:func:`scaler_from_moments`): the pandas engine computes the moments
with numpy, the Spark engine with one aggregation, and both get the same :class:`Scaler`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .clean import parse_numbers
from .errors import ConfigError, InputError
from .model import CleanResult, Dataset, FeatureMatrix, Scaler, Scaling


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def choose_features(dataset: Dataset, requested: tuple[str, ...] | None = None, *,
                    baseline_run: str | None = None) -> tuple[str, ...]:
    """The columns to cluster on: ``requested`` (matched case-insensitively) or every numeric column.

    Raises :class:`ConfigError` for an unknown or non-numeric requested column, :class:`InputError` when the
    table has no numeric column at all or lacks a column the baseline run ``baseline_run`` clusters on."""
    roles = {info.name: info.role for info in dataset.columns}
    numeric = [name for name, role in roles.items() if role == "numeric"]
    if requested is None:
        if not numeric:
            described = ", ".join(f"{info.name} ({info.role})" for info in dataset.columns)
            raise InputError(f"{dataset.source.name} has no numeric column to cluster on (columns: {described})",
                             hint="Segmentation needs at least one numeric column such as income or spending.")
        return tuple(numeric)
    by_key = {_key(name): name for name in roles}
    if baseline_run is not None:  # the baseline's features, whatever their role this time: cleaning accounts for them
        missing = [f for f in requested if _key(f) not in by_key]
        if missing:
            raise InputError(
                f"the baseline run {baseline_run} clusters on {', '.join(requested)}, but "
                f"{dataset.source.name} has no column {', '.join(missing)}",
                hint="Use data with the same columns as the baseline's, or another baseline.")
        return tuple(by_key[_key(f)] for f in requested)
    chosen: list[str] = []
    for wanted in requested:
        name = by_key.get(_key(wanted))
        if name is None:
            raise ConfigError(f"--features names a column that is not in {dataset.source.name}: {wanted!r}",
                              hint="Available columns: " + ", ".join(roles) + ".")
        role = roles[name]
        if role not in ("numeric", "categorical") or (
            role == "categorical" and parse_numbers(dataset.frame[name].dropna())[1].any()
        ):
            raise ConfigError(f"--features column {name!r} is {role}, not numeric",
                              hint="Numeric columns: " + (", ".join(numeric) or "none") + ".")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def scaler_from_moments(method: Scaling, *, mean: Sequence[float], std: Sequence[float], low: Sequence[float],
                        high: Sequence[float]) -> Scaler:
    """The scaling parameters from each feature's mean, population standard deviation, minimum and maximum.
    Zero spread scales by 1."""
    p = len(mean)
    if method == "standard":
        center, scale = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    elif method == "minmax":
        center, scale = np.asarray(low, dtype=float), np.asarray(high, dtype=float) - np.asarray(low, dtype=float)
    elif method == "none":
        center, scale = np.zeros(p), np.ones(p)
    else:
        raise ConfigError(f"unknown scaling {method!r}", hint="Use standard, minmax or none.")
    scale = np.where(scale > 0, scale, 1.0)
    return Scaler(method=method, center=tuple(float(v) for v in center), scale=tuple(float(v) for v in scale))


def fit_scaler(X: np.ndarray, method: Scaling) -> Scaler:
    """Scaling parameters for ``X`` (columns are features)."""
    return scaler_from_moments(method, mean=X.mean(axis=0), std=X.std(axis=0), low=X.min(axis=0),
                               high=X.max(axis=0))


def apply_scaler(X: np.ndarray, scaler: Scaler) -> np.ndarray:
    return (X - np.asarray(scaler.center)) / np.asarray(scaler.scale)


def unscale(X: np.ndarray, scaler: Scaler) -> np.ndarray:
    """Back to the features' own units."""
    return X * np.asarray(scaler.scale) + np.asarray(scaler.center)


def build_features(cleaned: CleanResult, *, scale: Scaling = "standard", scaler: Scaler | None = None
                   ) -> FeatureMatrix:
    """The scaled feature matrix of the cleaned rows. Pass ``scaler`` to reuse a baseline's scaling."""
    X = cleaned.frame[list(cleaned.features)].to_numpy(dtype=np.float64)
    if X.size and not np.isfinite(X).all():
        raise InputError("the feature matrix still has missing values after cleaning")  # clean() prevents this
    scaler = scaler or fit_scaler(X, scale)
    return FeatureMatrix(X=apply_scaler(X, scaler), names=cleaned.features,
                         rows=cleaned.frame.index.to_numpy(), scaler=scaler)
