"""Profiles and summary statistics on Spark: one aggregation for every column's moments and quantiles
(``percentile_approx``), one per segment set, and the category counts per segment."""

from __future__ import annotations

from typing import Any

from ...describe.profiles import build_profiles, summary_row
from ...model import CleanResult, Profiles, Segmentation, SummaryRow
from .session import SEGMENT, column_of


def profile_segments(predictions: Any, cleaned: CleanResult, segmentation: Segmentation, logged: tuple[str, ...] = ()
                     ) -> Profiles:
    """The segments' profiles from ``predictions`` (every cleaned row, with its segment)."""
    from pyspark.sql import functions as F

    numeric = list(cleaned.numeric)
    overall = predictions.agg(*[F.avg(column_of(c)).alias(f"mean{i}") for i, c in enumerate(numeric)],
                              *[F.stddev_pop(column_of(c)).alias(f"std{i}") for i, c in enumerate(numeric)],
                              *[F.percentile_approx(column_of(c), 0.5, 10000).alias(f"median{i}")
                                for i, c in enumerate(numeric)],
                              *[F.avg(F.log1p(column_of(c))).alias(f"lmean{i}") for i, c in enumerate(logged)],
                              *[F.stddev_pop(F.log1p(column_of(c))).alias(f"lstd{i}") for i, c in enumerate(logged)]
                              ).collect()[0]
    grouped = predictions.groupBy(SEGMENT).agg(
        *[F.avg(column_of(c)).alias(f"mean{i}") for i, c in enumerate(numeric)],
        *[F.percentile_approx(column_of(c), 0.5, 10000).alias(f"median{i}") for i, c in enumerate(numeric)],
        *[F.avg(F.log1p(column_of(c))).alias(f"lmean{i}") for i, c in enumerate(logged)],
        *[F.sum(column_of(c)).alias(f"sum{i}") for i, c in enumerate(numeric)]).collect()
    counts: dict[str, dict[int, dict[str, int]]] = {}
    for column in cleaned.categorical:
        per: dict[int, dict[str, int]] = {}
        for row in predictions.groupBy(SEGMENT, column_of(column).alias("value")).count().collect():
            per.setdefault(int(row[SEGMENT]), {})[str(row["value"])] = int(row["count"])
        counts[column] = per
    return build_profiles(
        numbers=segmentation.numbers, sizes=segmentation.sizes, total=cleaned.account.rows_out,
        features=cleaned.features, numeric=numeric, categorical=cleaned.categorical,
        means={int(r[SEGMENT]): {c: as_float(r[f"mean{i}"]) for i, c in enumerate(numeric)} for r in grouped},
        medians={int(r[SEGMENT]): {c: as_float(r[f"median{i}"]) for i, c in enumerate(numeric)} for r in grouped},
        overall_mean={c: as_float(overall[f"mean{i}"]) for i, c in enumerate(numeric)},
        overall_std={c: as_float(overall[f"std{i}"]) for i, c in enumerate(numeric)},
        overall_median={c: as_float(overall[f"median{i}"]) for i, c in enumerate(numeric)},
        category_counts=counts, logged=logged,
        log_means={int(r[SEGMENT]): {c: as_float(r[f"lmean{i}"]) for i, c in enumerate(logged)} for r in grouped},
        log_overall={c: (as_float(overall[f"lmean{i}"]), as_float(overall[f"lstd{i}"])) for i, c in enumerate(logged)},
        sums={int(r[SEGMENT]): {c: as_float(r[f"sum{i}"]) for i, c in enumerate(numeric)} for r in grouped})


def summary_rows(frame: Any, cleaned: CleanResult) -> tuple[SummaryRow, ...]:
    """The summary statistics of the numeric columns of ``frame`` (every cleaned row), in one aggregation."""
    from pyspark.sql import functions as F

    numeric = list(cleaned.numeric)
    stats = frame.agg(
        *[F.count(column_of(c)).alias(f"n{i}") for i, c in enumerate(numeric)],
        *[F.avg(column_of(c)).alias(f"mean{i}") for i, c in enumerate(numeric)],
        *[F.stddev_pop(column_of(c)).alias(f"std{i}") for i, c in enumerate(numeric)],
        *[F.min(column_of(c)).alias(f"min{i}") for i, c in enumerate(numeric)],
        *[F.max(column_of(c)).alias(f"max{i}") for i, c in enumerate(numeric)],
        *[F.percentile_approx(column_of(c), [0.25, 0.5, 0.75], 10000).alias(f"q{i}") for i, c in enumerate(numeric)]
    ).collect()[0]
    total = cleaned.account.rows_out
    return tuple(summary_row(c, feature=c in cleaned.features, count=int(stats[f"n{i}"]),
                             missing=total - int(stats[f"n{i}"]), mean=as_float(stats[f"mean{i}"]),
                             std=as_float(stats[f"std{i}"]), low=as_float(stats[f"min{i}"]),
                             quartiles=[as_float(q) for q in (stats[f"q{i}"] or [None] * 3)],
                             high=as_float(stats[f"max{i}"]))
                 for i, c in enumerate(numeric))


def as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)
