"""Per-segment profiles: size, share, means, medians, categorical mix, and levels relative to the whole."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import CleanResult, Level, Profiles, Segmentation, SegmentProfile

HIGH = 0.5  # a segment mean this many overall standard deviations above the overall mean is "high"


def level_of(z: float, threshold: float = HIGH) -> Level:
    if np.isnan(z):
        return "average"
    if z >= threshold:
        return "high"
    if z <= -threshold:
        return "low"
    return "average"


def _mix(values: pd.Series) -> dict[str, float]:
    counts = values.astype(str).value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    total = counts.sum()
    return {str(key): float(count / total) for key, count in counts.items()} if total else {}


def profile(cleaned: CleanResult, segmentation: Segmentation) -> Profiles:
    """Profile every segment against the whole cleaned table (numeric and categorical columns)."""
    frame = cleaned.frame
    numeric = list(cleaned.numeric)
    seg = pd.Series(segmentation.labels, index=frame.index, name="segment")
    values = frame[numeric].astype(float)
    overall_mean = values.mean()
    overall_std = values.std(ddof=0)
    grouped = values.groupby(seg)
    means, medians = grouped.mean(), grouped.median()
    total = len(frame)
    segments = []
    for number, size in zip(segmentation.numbers, segmentation.sizes, strict=True):
        in_segment = seg == number
        m = {c: float(means.at[number, c]) if number in means.index else float("nan") for c in numeric}
        z = {c: (m[c] - float(overall_mean[c])) / float(overall_std[c]) if overall_std[c] > 0 else 0.0
             for c in numeric}
        segments.append(SegmentProfile(
            segment=number, size=size, share=size / total if total else 0.0,
            means=m,
            medians={c: float(medians.at[number, c]) if number in medians.index else float("nan")
                     for c in numeric},
            z=z,
            levels={c: level_of(z[c]) for c in numeric},
            categories={c: _mix(frame.loc[in_segment, c]) for c in cleaned.categorical},
        ))
    return Profiles(
        segments=tuple(segments), features=cleaned.features, numeric=tuple(numeric),
        categorical=cleaned.categorical,
        overall_means={c: float(overall_mean[c]) for c in numeric},
        overall_medians={c: float(values[c].median()) for c in numeric},
        overall_std={c: float(overall_std[c]) for c in numeric},
        overall_categories={c: _mix(frame[c]) for c in cleaned.categorical},
        total=total,
    )


def summary_statistics(cleaned: CleanResult) -> tuple[dict[str, object], ...]:
    """count, mean, std, min, quartiles and max of every profiled numeric column."""
    rows = []
    for column in cleaned.numeric:
        values = cleaned.frame[column].astype(float).dropna()
        q = values.quantile([0.25, 0.5, 0.75]) if len(values) else pd.Series([np.nan] * 3, index=[0.25, 0.5, 0.75])
        rows.append({
            "name": column, "feature": column in cleaned.features, "count": len(values),
            "missing": int(cleaned.frame[column].isna().sum()),
            "mean": float(values.mean()), "std": float(values.std(ddof=0)), "min": float(values.min()),
            "q1": float(q[0.25]), "median": float(q[0.5]), "q3": float(q[0.75]), "max": float(values.max()),
        })
    return tuple(rows)
