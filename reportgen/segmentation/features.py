"""Choose the feature columns and bring them into the space the clustering sees: transform, clip, scale.

A careful analyst does not cluster raw money columns: a few big spenders would make a segment of their own and
squeeze everyone else into "typical". So, by default (``--transform auto --outliers clip``):

1. **Transform.** A feature with no negative value whose skewness is above :data:`SKEW_LIMIT` (money, counts) is
   clustered on log(1 + x).
2. **Clip.** A feature with far-out values (beyond :data:`FENCE_IQR` interquartile ranges from the quartiles,
   after the transform: Tukey's far-out fences) is clipped at its :data:`CLIP_PERCENTILES` percentiles (or at the
   fence, when that is nearer) *for the clustering only*: the customers keep their segments and the profiles
   stay in the features' own units.
3. **Scale** (standard, minmax or none).

Both decisions are made by :func:`plan_treatment` from a feature's statistics (:class:`FeatureStats`), which the
pandas engine computes with numpy and the Spark engine with one aggregation; the result is one portable
:class:`Scaler` (transforms, clip bounds, centre and scale) that a later run can reuse on new customers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..errors import ConfigError, InputError
from ..model import (
    CategoricalEncoding,
    CleanResult,
    Dataset,
    FeatureMatrix,
    FeatureTreatment,
    OutlierPolicy,
    Scaler,
    Scaling,
    Transform,
    TransformPolicy,
)
from ..values import level_text, parse_numbers
from .algorithms import categorical_algorithms

SKEW_LIMIT = 1.0  # skewness above this (and no negative value): clustered on log(1 + x)
FENCE_IQR = 3.0  # far-out values: beyond this many interquartile ranges from the quartiles (Tukey)
CLIP_PERCENTILES = (1.0, 99.0)  # far-out values are clipped at these percentiles (or the fence, if nearer)
# each transform: (forward, inverse), on numpy arrays
TRANSFORMS: Mapping[Transform, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "log": (np.log1p, np.expm1),
}


MAX_FEATURES = 50  # columns clustered at once, at most


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


MAX_LEVELS = 12  # a categorical column clustered by default has 2 to this many levels
GAMMA_FACTOR = 0.5  # a mismatched category costs this times the numeric features' mean variance


def choose_categories(dataset: Dataset, requested: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The categorical columns to cluster on (``--categorical cluster``): those ``requested`` names that are
    categorical, or else every categorical column with 2 to :data:`MAX_LEVELS` levels (gender, region codes,
    0/1 flags). Raises :class:`ConfigError` (none among those requested) or :class:`InputError` (none in the
    table) when there is none."""
    by_key = {_key(info.name): info for info in dataset.columns}
    if requested is not None:
        chosen = [by_key[_key(r)].name for r in requested
                  if _key(r) in by_key and by_key[_key(r)].role == "categorical"]
    else:
        chosen = [info.name for info in dataset.columns
                  if info.role == "categorical" and 2 <= info.unique <= MAX_LEVELS]
    if not chosen:
        candidates = [f"{info.name} ({info.unique} levels)" for info in dataset.columns if info.role == "categorical"]
        if requested is not None:
            others = [f"{by_key[_key(r)].name} is {by_key[_key(r)].role} ({by_key[_key(r)].unique:,} distinct values)"
                      for r in requested if _key(r) in by_key and by_key[_key(r)].role not in ("numeric",)]
            if others:
                raise ConfigError(f"--features names no categorical column to cluster on: {'; '.join(others)}",
                                  hint="Categorical columns: " + (", ".join(candidates) or "none") + ".")
        raise (ConfigError if requested is not None else InputError)(
            f"{dataset.source.name} has no categorical column to cluster on "
            + (f"among --features {', '.join(requested)}" if requested is not None
               else f"(one with 2 to {MAX_LEVELS} levels)"),
            hint=("Categorical columns: " + ", ".join(candidates) + "; name them in --features."
                  if candidates else f"Leave out --categorical cluster and --algorithm {categorical_algorithms()}."))
    return tuple(dict.fromkeys(chosen))


def baseline_categories(dataset: Dataset, run: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The dataset's names of the categorical columns a baseline run clusters on (matched case-insensitively, as
    features are); :class:`InputError` when one is missing."""
    by_key = {_key(info.name): info.name for info in dataset.columns}
    missing = [c for c in columns if _key(c) not in by_key]
    if missing:
        raise InputError(f"the baseline run {run} clusters on the categorical columns {', '.join(columns)}, but "
                         f"{dataset.source.name} has no column {', '.join(missing)}",
                         hint="Use data with the same columns as the baseline's, or another baseline.")
    return tuple(by_key[_key(c)] for c in columns)


def choose_features(dataset: Dataset, requested: tuple[str, ...] | None = None, *,
                    baseline_run: str | None = None, categories: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns to cluster on: ``requested`` (matched case-insensitively), or the numeric columns clustered by
    default (:attr:`ColumnInfo.feature`: not a code, flag, almost constant or mostly "not applicable"), or, when
    there is none, every numeric column.

    Raises :class:`ConfigError` for an unknown or non-numeric requested column, :class:`InputError` when the
    table has no numeric column at all or lacks a column the baseline run ``baseline_run`` clusters on.
    ``categories``: the categorical columns clustered too, which ``requested`` may name."""
    roles = {info.name: info.role for info in dataset.columns}
    if requested is not None and categories:
        categorical_keys = {_key(c) for c in categories}
        requested = tuple(r for r in requested if _key(r) not in categorical_keys)
        if not requested:
            raise ConfigError("--features names only categorical columns; k-prototypes needs a numeric one too",
                              hint="Numeric columns: " + ", ".join(n for n, r in roles.items() if r == "numeric")
                                   + ".")
    if requested is None:
        return _default_features(dataset)
    by_key = {_key(name): name for name in roles}
    if baseline_run is not None:  # the baseline's features, whatever their role this time: cleaning accounts for them
        missing = [f for f in requested if _key(f) not in by_key]
        if missing:
            raise InputError(
                f"the baseline run {baseline_run} clusters on {', '.join(requested)}, but "
                f"{dataset.source.name} has no column {', '.join(missing)}",
                hint="Use data with the same columns as the baseline's, or another baseline.")
        return tuple(by_key[_key(f)] for f in requested)
    chosen = tuple(dict.fromkeys(_requested_feature(dataset, wanted, by_key) for wanted in requested))
    if len(chosen) > MAX_FEATURES:
        raise ConfigError(f"--features names {len(chosen)} columns; reportgen clusters on at most {MAX_FEATURES}",
                          hint="Choose the columns that describe the customers best.")
    return chosen


def _default_features(dataset: Dataset) -> tuple[str, ...]:
    """The numeric columns clustered by default, or, when there is none, every numeric column."""
    numeric = [info.name for info in dataset.columns if info.role == "numeric"]
    clustered = [info.name for info in dataset.columns if info.role == "numeric" and info.feature]
    if len(clustered) > MAX_FEATURES:
        raise InputError(
            f"{dataset.source.name} has {len(clustered):,} numeric columns that could be clustered; reportgen "
            f"clusters on at most {MAX_FEATURES} at once, and segments on so many would describe no one",
            hint="Choose the columns that describe the customers with --features (for example --features "
                 + ",".join(clustered[:3]) + ").")
    if clustered:
        return tuple(clustered)
    if not numeric:
        described = ", ".join(f"{info.name} ({info.role})" for info in dataset.columns)
        raise InputError(f"{dataset.source.name} has no numeric column to cluster on (columns: {described})",
                         hint="Segmentation needs at least one numeric column such as income or spending.")
    return tuple(numeric)


def _requested_feature(dataset: Dataset, wanted: str, by_key: Mapping[str, str]) -> str:
    """The column ``--features`` names as ``wanted``, when it can be clustered."""
    roles = {info.name: info.role for info in dataset.columns}
    numeric = ", ".join(name for name, role in roles.items() if role == "numeric") or "none"
    name = by_key.get(_key(wanted))
    if name is None:
        raise ConfigError(f"--features names a column that is not in {dataset.source.name}: {wanted!r}",
                          hint="Available columns: " + ", ".join(roles) + ".")
    role = roles[name]
    if role == "personal":
        raise ConfigError(f"--features column {name!r} holds personal data, which reportgen never clusters",
                          hint=f"Numeric columns: {numeric}.")
    if role not in ("numeric", "categorical") or (
        role == "categorical"
        and parse_numbers(dataset.frame[name].dropna(), dataset.source.numbers.mark(name))[1].any()
    ):
        raise ConfigError(f"--features column {name!r} is {role}, not numeric", hint=f"Numeric columns: {numeric}.")
    return name


@dataclass(frozen=True)
class FeatureStats:
    """What the treatment of a feature is decided from (its values as cleaning left them)."""

    name: str
    low: float  # minimum
    skew: float  # population skewness (as Spark's ``skewness``); 0 for a constant column
    quantiles: tuple[float, float, float, float]  # at CLIP_PERCENTILES[0], 25, 75, CLIP_PERCENTILES[1] percent


QUANTILES = (CLIP_PERCENTILES[0] / 100, 0.25, 0.75, CLIP_PERCENTILES[1] / 100)


@dataclass(frozen=True)
class Treatment:
    """The decision for one feature: the transform, the far-out fences and the clip bounds (transformed units)."""

    name: str
    skew: float
    transform: Transform
    why: str
    fences: tuple[float, float]
    clip: tuple[float | None, float | None]


def feature_stats(name: str, values: np.ndarray) -> FeatureStats:
    """:class:`FeatureStats` of one column (numpy)."""
    values = np.asarray(values, dtype=float)
    centred = values - values.mean()
    squared = centred * centred
    spread = float(np.sqrt(squared.mean()))
    skew = float(np.dot(squared, centred) / len(values) / spread ** 3) if spread > 0 else 0.0
    q = [float(v) for v in np.quantile(values, QUANTILES, method="inverted_cdf")]  # values, as Spark's approxQuantile
    return FeatureStats(name=name, low=float(values.min()), skew=skew, quantiles=(q[0], q[1], q[2], q[3]))


def plan_treatment(stats: FeatureStats, *, transform: TransformPolicy, outliers: OutlierPolicy) -> Treatment:
    """The transform and clip bounds of one feature (engine-neutral)."""
    chosen: Transform = ""
    if transform == "none":
        why = "left as it is (--transform none)"
    elif stats.low < 0:
        why = "has negative values: left as it is"
    elif stats.skew > SKEW_LIMIT:
        chosen, why = "log", f"heavy-tailed (skewness {stats.skew:.1f} > {SKEW_LIMIT:g}): clustered on log(1 + x)"
    else:
        why = f"not heavy-tailed (skewness {stats.skew:.1f}): left as it is"
    q = np.asarray(stats.quantiles)
    if chosen:
        q = TRANSFORMS[chosen][0](q)
    p_low, q1, q3, p_high = (float(v) for v in q)
    iqr = q3 - q1
    fences = (q1 - FENCE_IQR * iqr, q3 + FENCE_IQR * iqr)
    clip: tuple[float | None, float | None] = (None, None)
    if outliers == "clip" and iqr > 0:
        clip = (max(p_low, fences[0]), min(p_high, fences[1]))
    return Treatment(stats.name, stats.skew, chosen, why, fences, clip)


def clip_bounds(treatment: Treatment, far_low: bool, far_high: bool) -> tuple[float | None, float | None]:
    """Clip only the sides that have far-out values."""
    return (treatment.clip[0] if far_low else None, treatment.clip[1] if far_high else None)


def _forward(values: np.ndarray, transform: Transform) -> np.ndarray:
    return TRANSFORMS[transform][0](values) if transform else values


def _inverse(values: np.ndarray, transform: Transform) -> np.ndarray:
    return TRANSFORMS[transform][1](values) if transform else values


def treatments_of(treatments: Sequence[Treatment], scaler: Scaler, *, extreme: Sequence[int],
                  clipped: Sequence[int]) -> tuple[FeatureTreatment, ...]:
    """The report's record of each feature's treatment, clip bounds in the feature's own units."""
    out = []
    for j, t in enumerate(treatments):
        low, high = scaler.clip_low[j], scaler.clip_high[j]
        back = [None if b is None else float(_inverse(np.array([b]), t.transform)[0]) for b in (low, high)]
        out.append(FeatureTreatment(name=t.name, skew=t.skew, transform=t.transform, why=t.why,
                                    extreme=int(extreme[j]), clipped=int(clipped[j]), clip_low=back[0],
                                    clip_high=back[1]))
    return tuple(out)


def scaler_from_moments(method: Scaling, *, mean: Sequence[float], std: Sequence[float], low: Sequence[float],
                        high: Sequence[float], transforms: Sequence[Transform] = (),
                        clip_low: Sequence[float | None] = (), clip_high: Sequence[float | None] = ()) -> Scaler:
    """The scaling parameters from each feature's mean, population standard deviation, minimum and maximum (of
    the transformed and clipped values). Zero spread scales by 1."""
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
    has_clips = any(b is not None for b in (*clip_low, *clip_high))
    return Scaler(method=method, center=tuple(float(v) for v in center), scale=tuple(float(v) for v in scale),
                  transforms=tuple(transforms) if any(transforms) else (),
                  clip_low=tuple(clip_low) if has_clips else (), clip_high=tuple(clip_high) if has_clips else ())


def fit_scaler(X: np.ndarray, method: Scaling) -> Scaler:
    """Scaling parameters for ``X`` (columns are features), with no transform and no clipping."""
    return scaler_from_moments(method, mean=X.mean(axis=0), std=X.std(axis=0), low=X.min(axis=0),
                               high=X.max(axis=0))


def transform_and_clip(X: np.ndarray, scaler: Scaler) -> np.ndarray:
    """``X`` (features' own units) transformed and clipped as ``scaler`` says, not yet scaled."""
    X = np.array(X, dtype=float, copy=True)
    for j, transform in enumerate(scaler.transforms):
        X[:, j] = _forward(X[:, j], transform)
    for j, (low, high) in enumerate(zip(scaler.clip_low, scaler.clip_high, strict=True)):
        if low is not None or high is not None:
            X[:, j] = np.clip(X[:, j], -np.inf if low is None else low, np.inf if high is None else high)
    return X


def apply_scaler(X: np.ndarray, scaler: Scaler) -> np.ndarray:
    """From the features' own units to the clustering space."""
    if scaler.transforms or scaler.clip_low:
        X = transform_and_clip(X, scaler)
    out = X - np.asarray(scaler.center)  # one new array, scaled in place
    out /= np.asarray(scaler.scale)
    return out


def unscale(X: np.ndarray, scaler: Scaler) -> np.ndarray:
    """Back to the features' own units (clipping aside: a clipped value comes back as its bound)."""
    X = X * np.asarray(scaler.scale) + np.asarray(scaler.center)
    for j, transform in enumerate(scaler.transforms):
        X[:, j] = _inverse(X[:, j], transform)
    return X


def fit_treated_scaler(X: np.ndarray, names: Sequence[str], *, scale: Scaling, transform: TransformPolicy,
                       outliers: OutlierPolicy) -> tuple[Scaler, tuple[FeatureTreatment, ...], int]:
    """The scaler of ``X`` with its transforms and clip bounds, each feature's record, and the number of customers
    with a far-out value (numpy; the Spark engine computes the same from its own statistics)."""
    if len(X) < 2:
        return fit_scaler(X, scale) if len(X) else Scaler(scale, (0.0,) * len(names), (1.0,) * len(names)), (), 0
    plans = [plan_treatment(feature_stats(name, np.ascontiguousarray(X[:, j])), transform=transform,
                            outliers=outliers)
             for j, name in enumerate(names)]
    if any(p.transform for p in plans):
        T = np.column_stack([_forward(X[:, j], p.transform) for j, p in enumerate(plans)])
    else:  # nothing to transform: no copy of ten million rows
        T = X
    any_far = np.zeros(len(X), dtype=bool)  # customers with a far-out value in any feature
    extreme, bounds = [], []
    for j, p in enumerate(plans):
        below, above = T[:, j] < p.fences[0], T[:, j] > p.fences[1]
        far_j = below | above
        any_far |= far_j
        extreme.append(int(np.count_nonzero(far_j)))
        bounds.append(clip_bounds(p, bool(below.any()), bool(above.any())))
    clipped = [int(np.count_nonzero(((T[:, j] < low) if low is not None else False)
                                    | ((T[:, j] > high) if high is not None else False)))
               for j, (low, high) in enumerate(bounds)]
    lows, highs = [b[0] for b in bounds], [b[1] for b in bounds]
    if any(lo is not None or hi is not None for lo, hi in bounds):
        C = np.column_stack([np.clip(T[:, j], -np.inf if lo is None else lo, np.inf if hi is None else hi)
                             for j, (lo, hi) in enumerate(bounds)])
    else:
        C = T
    scaler = scaler_from_moments(scale, mean=C.mean(axis=0), std=C.std(axis=0), low=C.min(axis=0),
                                 high=C.max(axis=0), transforms=[p.transform for p in plans], clip_low=lows,
                                 clip_high=highs)
    records = treatments_of(plans, replace(scaler, clip_low=tuple(lows), clip_high=tuple(highs)),
                            extreme=extreme, clipped=clipped)
    return scaler, records, int(np.count_nonzero(any_far))


def logged_features(matrix: FeatureMatrix) -> tuple[str, ...]:
    """The features ``matrix`` clusters on log(1 + x)."""
    transforms = matrix.scaler.transforms or ("",) * len(matrix.names)
    return tuple(name for name, t in zip(matrix.names, transforms, strict=True) if t == "log")


def encode_categories(frame: object, columns: tuple[str, ...], scaled: np.ndarray,
                      encoding: CategoricalEncoding | None = None
                      ) -> tuple[np.ndarray, CategoricalEncoding, tuple[tuple[str, int], ...]]:
    """The weighted one-hot columns of the categorical ``columns`` of ``frame`` (see
    :class:`~reportgen.model.CategoricalEncoding`), with their levels (sorted) and gamma (:data:`GAMMA_FACTOR`
    times the mean variance of the ``scaled`` numeric features: 0.5 for standardized ones, the kmodes package's
    default; unlike kmodes' half the mean standard deviation, the same weight whatever the scaling), or those of a
    baseline's ``encoding``. Also, per column, how many customers have a level the encoding does not know."""
    texts = [level_text(frame[c]) for c in columns]  # type: ignore[index]
    if encoding is None:
        spread = float(np.mean(scaled.var(axis=0))) if scaled.size else 1.0
        encoding = CategoricalEncoding(
            columns=tuple(columns), levels=tuple(tuple(sorted({v for v in t if v is not None})) for t in texts),
            gamma=GAMMA_FACTOR * (spread if spread > 0 else 1.0))
    blocks, unseen = [], []
    for column, values, levels in zip(columns, texts, encoding.levels, strict=True):
        index = {level: j for j, level in enumerate(levels)}
        codes = np.array([index.get(v, -1) if v is not None else -1 for v in values], dtype=np.int64)
        block = np.zeros((len(values), len(levels)))
        known = codes >= 0
        block[np.flatnonzero(known), codes[known]] = encoding.weight
        blocks.append(block)
        new = int(np.count_nonzero(~known & np.array([v is not None for v in values], dtype=bool)))
        if new:
            unseen.append((column, new))
    return (np.hstack(blocks) if blocks else np.zeros((len(scaled), 0))), encoding, tuple(unseen)


def build_features(cleaned: CleanResult, *, scale: Scaling = "standard", scaler: Scaler | None = None,
                   transform: TransformPolicy = "auto", outliers: OutlierPolicy = "clip",
                   categories: tuple[str, ...] = (), encoding: CategoricalEncoding | None = None) -> FeatureMatrix:
    """The feature matrix of the cleaned rows in the clustering space. Pass ``scaler`` (and ``encoding``) to
    reuse a baseline's; ``categories``: categorical columns clustered too, as one-hot columns after the numeric
    ones."""
    X = cleaned.frame[list(cleaned.features)].to_numpy(dtype=np.float64)
    if X.size and not np.isfinite(X).all():
        raise InputError("the feature matrix still has missing values after cleaning")  # clean() prevents this
    treatments: tuple[FeatureTreatment, ...] = ()
    extreme = 0
    if scaler is None:
        scaler, treatments, extreme = fit_treated_scaler(X, cleaned.features, scale=scale, transform=transform,
                                                         outliers=outliers)
    scaled = apply_scaler(X, scaler)
    columns = encoding.columns if encoding is not None else tuple(categories)
    unseen: tuple[tuple[str, int], ...] = ()
    if columns:
        onehot, encoding, unseen = encode_categories(cleaned.frame, columns, scaled, encoding)
        scaled = np.hstack([scaled, onehot])
    return FeatureMatrix(X=scaled, names=cleaned.features, rows=cleaned.frame.index.to_numpy(),
                         scaler=scaler, treatments=treatments, extreme_customers=extreme,
                         categories=encoding if columns else None, unseen_levels=unseen)
