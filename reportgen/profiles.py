"""Per-segment profiles: size, share, means, medians, categorical mix, and levels relative to the whole.

:func:`build_profiles` and :func:`summary_row` turn statistics into the dataclasses, whichever engine computed
the statistics (pandas here, Spark aggregations in ``engines/spark.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .model import CleanResult, Level, Profiles, Segmentation, SegmentProfile, SummaryRow

HIGH = 0.5  # a segment mean this many overall standard deviations above the overall mean is "high"
NAN = float("nan")


def level_of(z: float, threshold: float = HIGH) -> Level:
    if np.isnan(z):
        return "average"
    if z >= threshold:
        return "high"
    if z <= -threshold:
        return "low"
    return "average"


def shares(counts: Mapping[str, int]) -> dict[str, float]:
    """Counts of the values of a categorical column -> shares, most common first (ties by value)."""
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {str(k): v / total for k, v in ordered} if total else {}


def build_profiles(*, numbers: Sequence[int], sizes: Sequence[int], total: int, features: Sequence[str],
                   numeric: Sequence[str], categorical: Sequence[str],
                   means: Mapping[int, Mapping[str, float]], medians: Mapping[int, Mapping[str, float]],
                   overall_mean: Mapping[str, float], overall_std: Mapping[str, float],
                   overall_median: Mapping[str, float],
                   category_counts: Mapping[str, Mapping[int, Mapping[str, int]]],
                   logged: Sequence[str] = (), log_means: Mapping[int, Mapping[str, float]] | None = None,
                   log_overall: Mapping[str, tuple[float, float]] | None = None) -> Profiles:
    """Profiles from per-segment means and medians, overall statistics and per-segment category counts.

    ``logged`` features were clustered on log(1 + x): their z (and so their level, high or low) compares the
    segment's mean of log(1 + x) (``log_means``) with the overall mean and standard deviation of log(1 + x)
    (``log_overall``), as the clustering saw them, and the report quotes their medians: the mean of a heavy-tailed
    column is mostly its few biggest values."""
    segments = []
    for number, size in zip(numbers, sizes, strict=True):
        m = {c: means.get(number, {}).get(c, NAN) for c in numeric}
        med = {c: medians.get(number, {}).get(c, NAN) for c in numeric}
        z = {c: (m[c] - overall_mean[c]) / overall_std[c] if overall_std[c] > 0 else 0.0 for c in numeric}
        for c in logged:
            mean, std = (log_overall or {})[c]
            z[c] = ((log_means or {}).get(number, {}).get(c, NAN) - mean) / std if std > 0 else 0.0
        segments.append(SegmentProfile(
            segment=number, size=size, share=size / total if total else 0.0, means=m, medians=med, z=z,
            levels={c: level_of(z[c]) for c in numeric},
            categories={c: shares(category_counts[c].get(number, {})) for c in categorical},
            typical={c: med[c] if c in logged else m[c] for c in numeric},
        ))
    overall_counts: dict[str, dict[str, int]] = {}
    for column in categorical:
        totals: dict[str, int] = {}
        for per_segment in category_counts[column].values():
            for value, count in per_segment.items():
                totals[value] = totals.get(value, 0) + count
        overall_counts[column] = totals
    return Profiles(
        segments=tuple(segments), features=tuple(features), numeric=tuple(numeric), categorical=tuple(categorical),
        overall_means=dict(overall_mean), overall_medians=dict(overall_median), overall_std=dict(overall_std),
        overall_categories={c: shares(overall_counts[c]) for c in categorical}, total=total, logged=tuple(logged),
        overall_typical={c: overall_median[c] if c in logged else overall_mean[c] for c in numeric},
    )


def profile(cleaned: CleanResult, segmentation: Segmentation, logged: Sequence[str] = ()) -> Profiles:
    """Profile every segment against the whole cleaned table (numeric and categorical columns); ``logged``: the
    features clustered on log(1 + x) (see :func:`build_profiles`)."""
    frame = cleaned.frame
    numeric = list(cleaned.numeric)
    seg = pd.Series(segmentation.labels, index=frame.index, name="segment")
    values = frame[numeric].astype(float)
    grouped = values.groupby(seg)
    means, medians = grouped.mean(), grouped.median()
    counts: dict[str, dict[int, dict[str, int]]] = {}
    for column in cleaned.categorical:
        table = pd.crosstab(seg, frame[column].astype(str))
        counts[column] = {int(n): {str(v): int(c) for v, c in row.items() if c} for n, row in table.iterrows()}
    return build_profiles(
        numbers=segmentation.numbers, sizes=segmentation.sizes, total=len(frame), features=cleaned.features,
        numeric=numeric, categorical=cleaned.categorical,
        means={int(n): {c: float(v) for c, v in row.items()} for n, row in means.iterrows()},
        medians={int(n): {c: float(v) for c, v in row.items()} for n, row in medians.iterrows()},
        overall_mean={c: float(values[c].mean()) for c in numeric},
        overall_std={c: float(values[c].std(ddof=0)) for c in numeric},
        overall_median={c: float(values[c].median()) for c in numeric},
        category_counts=counts, logged=logged,
        log_means={int(n): {c: float(v) for c, v in row.items()}
                   for n, row in np.log1p(values[list(logged)]).groupby(seg).mean().iterrows()},
        log_overall={c: (float(np.log1p(values[c]).mean()), float(np.log1p(values[c]).std(ddof=0))) for c in logged})


def summary_row(name: str, *, feature: bool, count: int, missing: int, mean: float, std: float, low: float,
                quartiles: Sequence[float], high: float) -> SummaryRow:
    q1, median, q3 = (float(q) for q in quartiles)
    return SummaryRow(name=name, feature=feature, count=count, missing=missing, mean=float(mean), std=float(std),
                      min=float(low), q1=q1, median=median, q3=q3, max=float(high))


def summary_statistics(cleaned: CleanResult) -> tuple[SummaryRow, ...]:
    """count, mean, std, min, quartiles and max of every profiled numeric column."""
    rows = []
    for column in cleaned.numeric:
        values = cleaned.frame[column].astype(float).dropna()
        quartiles = values.quantile([0.25, 0.5, 0.75]).tolist() if len(values) else [NAN] * 3
        rows.append(summary_row(column, feature=column in cleaned.features, count=len(values),
                                missing=int(cleaned.frame[column].isna().sum()), mean=values.mean(),
                                std=values.std(ddof=0), low=values.min() if len(values) else NAN, quartiles=quartiles,
                                high=values.max() if len(values) else NAN))
    return tuple(rows)
