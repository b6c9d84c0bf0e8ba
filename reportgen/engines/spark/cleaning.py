"""The table steps of CLEANING_STEPS on a Spark frame (the value steps are the pandas functions, run by mapInPandas)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...cleaning.account import (
    Account,
    add_imputed,
    percent,
    too_many_to_drop,
    usable_features,
)
from ...cleaning.steps import (
    CleaningStep,
)
from .session import ROW, column_of


def collect_found(frame: Any, checks: list[tuple[str, Any, Any]]) -> dict[str, list[tuple[int, Any]]]:
    """For every (key, condition, value expression): the (row, value) pairs where the condition holds, from one
    Spark job (a union of filters), in row order."""
    from pyspark.sql import functions as F

    parts = [frame.filter(condition).select(F.col(ROW).alias("row"), F.lit(key).alias("key"),
                                            value.cast("string").alias("value"))
             for key, condition, value in checks]
    found: dict[str, list[tuple[int, Any]]] = {key: [] for key, _, _ in checks}
    if not parts:
        return found
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    for row in union.collect():
        found[row["key"]].append((int(row["row"]), row["value"]))
    for pairs in found.values():
        pairs.sort(key=lambda pair: pair[0])
    return found


def found_rows(pairs: list[tuple[int, Any]]) -> tuple[pd.Index, pd.Series]:
    rows = pd.Index([row for row, _ in pairs], dtype=np.int64)
    return rows, pd.Series([value for _, value in pairs], index=rows, dtype=object)


# ----------------------------------------------------------------------------- cleaning: the table steps on Spark
@dataclass
class SparkCleaning:
    """The state of one Spark cleaning run, passed from table step to table step."""

    frame: Any  # the Spark frame, with ROW
    account: Account
    id_column: str | None
    features: tuple[str, ...]
    columns: list[str]
    max_drop: float = 0.05
    usable: list[str] = field(default_factory=list)
    unusable: dict[str, str] = field(default_factory=dict)
    malformed: tuple[tuple[int, str], ...] = ()  # the lines the read skipped


def _log(state: SparkCleaning, entry: CleaningStep, column: str | None, pairs: list[tuple[int, Any]]) -> None:
    rows, values = found_rows(pairs)
    state.account.add(entry, column, rows, values)


def _malformed(state: SparkCleaning, entry: CleaningStep) -> None:
    state.account.add_lines(entry, state.malformed)  # found and taken out by the read (misfit_lines)


def _empty_rows(state: SparkCleaning, entry: CleaningStep) -> None:
    from pyspark.sql import functions as F

    empty = F.lit(True)
    for c in state.columns:
        empty = empty & column_of(c).isNull()
    state.frame = state.frame.withColumn("__empty", empty).cache()
    _log(state, entry, None, collect_found(state.frame, [("empty", F.col("__empty"), F.lit(None))])["empty"])
    state.frame = state.frame.filter(~F.col("__empty")).drop("__empty")


def _duplicate_rows(state: SparkCleaning, entry: CleaningStep) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    everything = Window.partitionBy(*[column_of(c) for c in state.columns]).orderBy(ROW)
    state.frame = state.frame.withColumn("__copy", F.row_number().over(everything) > 1).cache()
    _log(state, entry, None, collect_found(state.frame, [("dup", F.col("__copy"), F.lit(None))])["dup"])
    state.frame = state.frame.filter(~F.col("__copy")).drop("__copy")


def _duplicate_ids(state: SparkCleaning, entry: CleaningStep) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    if state.id_column is None:
        return
    ids = column_of(state.id_column)
    first = Window.partitionBy(ids).orderBy(ROW)
    state.frame = state.frame.withColumn("__dupid", ids.isNotNull() & (F.row_number().over(first) > 1)).cache()
    _log(state, entry, state.id_column, collect_found(state.frame, [("dupid", F.col("__dupid"), ids)])["dupid"])
    state.frame = state.frame.filter(~F.col("__dupid")).drop("__dupid")


def _missing_ids(state: SparkCleaning, entry: CleaningStep) -> None:
    from pyspark.sql import functions as F

    if state.id_column is not None:
        found = collect_found(state.frame, [("noid", column_of(state.id_column).isNull(), F.lit(None))])
        _log(state, entry, state.id_column, found["noid"])


def _unusable(state: SparkCleaning, entry: CleaningStep) -> None:
    from pyspark.sql import functions as F

    features = state.features
    stats = state.frame.agg(*[F.countDistinct(column_of(f)).alias(f"d{i}") for i, f in enumerate(features)],
                            *[F.first(column_of(f), ignorenulls=True).alias(f"v{i}") for i, f in enumerate(features)]
                            ).collect()[0]
    state.usable, state.unusable = usable_features(state.account, entry, {
        f: (int(stats[f"d{i}"]), None if stats[f"v{i}"] is None else float(stats[f"v{i}"]))
        for i, f in enumerate(state.features)})


def _gaps(state: SparkCleaning) -> dict[str, list[tuple[int, Any]]]:
    from pyspark.sql import functions as F

    found = collect_found(state.frame, [(f, column_of(f).isNull(), F.lit(None)) for f in state.usable])
    return {f: found[f] for f in state.usable}


def _drop_missing(state: SparkCleaning, entry: CleaningStep) -> None:
    for feature, pairs in _gaps(state).items():
        _log(state, entry, feature, pairs)
    for feature in state.usable:
        state.frame = state.frame.filter(column_of(feature).isNotNull())


def _impute(state: SparkCleaning, entry: CleaningStep, gaps: dict[str, list[tuple[int, Any]]],
            details: dict[str, dict[str, str]]) -> None:
    present = [f for f in details if gaps[f]]
    medians = dict(zip(present, state.frame.approxQuantile(present, [0.5], 0.0001), strict=True)) if present else {}
    for feature in present:
        if not medians[feature]:
            continue
        median = float(medians[feature][0])
        add_imputed(state.account, entry, feature, found_rows(gaps[feature])[0], median, **details[feature])
        state.frame = state.frame.fillna({feature: median})


def _impute_median(state: SparkCleaning, entry: CleaningStep) -> None:
    _impute(state, entry, _gaps(state), {column: {} for column in state.usable})


def _missing_share(state: SparkCleaning, entry: CleaningStep) -> None:
    gaps = _gaps(state)
    rows = state.frame.count()
    imputed = too_many_to_drop({f: [row for row, _ in pairs] for f, pairs in gaps.items()}, rows, state.max_drop)
    _impute(state, entry, gaps, {f: {"share": share, "limit": percent(state.max_drop)}
                                 for f, share in imputed.items()})


SparkTableStep = Callable[[SparkCleaning, CleaningStep], None]
SPARK_TABLE_STEPS: dict[str, SparkTableStep] = {
    "malformed_lines": _malformed, "empty_rows": _empty_rows, "duplicate_rows": _duplicate_rows,
    "duplicate_ids": _duplicate_ids, "missing_ids": _missing_ids, "unusable_feature": _unusable,
    "missing_share:drop": _missing_share, "missing_value:drop": _drop_missing,
    "missing_value:median": _impute_median,
}
