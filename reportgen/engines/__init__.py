"""Engines: where the stages that touch every row run (read, clean, prepare, cluster, profile).

An engine consumes and returns the same dataclasses as every other; what it does differently is only how it
computes. The pandas engine is this module's :class:`PandasEngine`, a thin layer over the modules of each stage;
the Spark engine (``engines/spark.py``) runs the same stages on Spark and shares every engine-neutral rule (the
cleaning table, the k choice, building a Segmentation, the scaler, the profiles). The pipeline asks
:func:`open_engine` for one and never looks at which it got.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from ..model import (
    BaselineModel,
    CategoricalEncoding,
    CleanResult,
    Dataset,
    FeatureMatrix,
    KSelection,
    MissingPolicy,
    Profiles,
    Scaler,
    Scaling,
    Segmentation,
    SummaryRow,
)
from ..settings import RunPlan, Settings

Progress = Callable[[str], None]
T = TypeVar("T")
Runner = Callable[..., Callable[[], Any]]  # function, *args -> a function that waits for its result


def here(function: Callable[..., T], *args: Any) -> Callable[[], T]:
    """The :data:`Runner` that runs ``function(*args)`` now, in this process."""
    result = function(*args)
    return lambda: result


class Engine(Protocol):
    name: str

    def read(self, plan: RunPlan) -> Dataset: ...

    def clean(self, dataset: Dataset, *, features: tuple[str, ...], missing: MissingPolicy, max_drop: float
              ) -> CleanResult: ...

    def prepare(self, cleaned: CleanResult, settings: Settings, *, scaling: Scaling, scaler: Scaler | None = None,
                categories: tuple[str, ...] = (), encoding: CategoricalEncoding | None = None
                ) -> FeatureMatrix: ...

    def select_k(self, matrix: FeatureMatrix, settings: Settings, run: Runner = here
                 ) -> Callable[[], KSelection]: ...

    def fit(self, matrix: FeatureMatrix, k: int, settings: Settings, selection: KSelection | None = None
            ) -> Segmentation: ...

    def assign(self, matrix: FeatureMatrix, baseline: BaselineModel, settings: Settings) -> Segmentation: ...

    def profile(self, cleaned: CleanResult, segmentation: Segmentation, logged: tuple[str, ...] = ()
                ) -> Profiles: ...

    def summarise(self, cleaned: CleanResult) -> tuple[SummaryRow, ...]: ...

    def assignments(self, cleaned: CleanResult, segmentation: Segmentation) -> pd.DataFrame: ...

    def close(self) -> None: ...


class PandasEngine:
    """Every stage in this process, on pandas and scikit-learn."""

    name = "pandas"

    def __init__(self, settings: Settings, progress: Progress) -> None:
        self.progress = progress

    def read(self, plan: RunPlan) -> Dataset:
        from ..database import DatabaseSource, read_database, read_password
        from ..readers import ReadOptions, read_table
        from ..roles import DistinctCounts, with_roles
        from ..transactions import customers_of

        if isinstance(plan.source, DatabaseSource):
            table = read_database(plan.source, password=read_password(dict(os.environ), plan.settings.password_file),
                                  decimal=decimal_of(plan.settings))
        else:
            table = read_table(plan.source, name=plan.source_name,
                               options=ReadOptions(sheet=plan.settings.sheet, decimal=decimal_of(plan.settings)))
        counts = DistinctCounts(table.frame)  # the ID's distinct values, counted once for both questions
        return customers_of(table, plan.settings, counts) or with_roles(table, counts)

    def clean(self, dataset: Dataset, *, features: tuple[str, ...], missing: MissingPolicy, max_drop: float
              ) -> CleanResult:
        from ..clean import clean

        return clean(dataset, features=features, missing=missing, max_drop=max_drop)

    def prepare(self, cleaned: CleanResult, settings: Settings, *, scaling: Scaling, scaler: Scaler | None = None,
                categories: tuple[str, ...] = (), encoding: CategoricalEncoding | None = None
                ) -> FeatureMatrix:
        from ..prepare import build_features

        return build_features(cleaned, scale=scaling, scaler=scaler, transform=settings.transform,
                              outliers=settings.outliers, categories=categories, encoding=encoding)

    def select_k(self, matrix: FeatureMatrix, settings: Settings, run: Runner = here
                 ) -> Callable[[], KSelection]:
        """The k sweep, and a function that waits for it. With a fixed k on a sample of a large table, ``run``
        runs it (the pipeline passes a chart process), while the final fit, which does not wait for it, starts
        from the same sample's centres (:func:`~reportgen.cluster.sweep_start`)."""
        from ..cluster import check_k_range, sweep_k, sweep_rows

        rows = sweep_rows(matrix, settings.sweep_sample, settings.seed)
        sweep = partial(sweep_k, rows, customers=len(matrix.X),
                        k_range=check_k_range(matrix, k_min=settings.k_min, k_max=settings.k_max,
                                              fixed_k=settings.k),
                        fixed_k=settings.k, seed=settings.seed, n_init=settings.n_init,
                        silhouette_sample=settings.silhouette_sample, algorithm=settings.algorithm,
                        min_share=settings.min_share)
        return (here if settings.k is None or rows is matrix else run)(sweep)

    def fit(self, matrix: FeatureMatrix, k: int, settings: Settings, selection: KSelection | None = None
            ) -> Segmentation:
        """The final fit; from the sweep's centres at ``k`` (those of ``selection``, or without one the same fit
        on the same sample) where the algorithm can start from centres."""
        from ..algorithms import ALGORITHMS
        from ..cluster import fit_segments, sweep_start

        algorithm = ALGORITHMS[settings.algorithm]
        start = selection.starts.get(k) if selection is not None else sweep_start(
            matrix, k, seed=settings.seed, n_init=settings.n_init, sweep_sample=settings.sweep_sample,
            algorithm=algorithm)
        return fit_segments(matrix, k, seed=settings.seed, n_init=settings.n_init,
                            silhouette_sample=settings.silhouette_sample, algorithm=algorithm, start=start)

    def assign(self, matrix: FeatureMatrix, baseline: BaselineModel, settings: Settings) -> Segmentation:
        from ..algorithms import ALGORITHMS
        from ..cluster import assign

        return assign(matrix, baseline.centroids, baseline.numbers, seed=settings.seed, n_init=settings.n_init,
                      silhouette_sample=settings.silhouette_sample, algorithm=ALGORITHMS[settings.algorithm])

    def profile(self, cleaned: CleanResult, segmentation: Segmentation, logged: tuple[str, ...] = ()
                ) -> Profiles:
        from ..profiles import profile

        return profile(cleaned, segmentation, logged)

    def summarise(self, cleaned: CleanResult) -> tuple[SummaryRow, ...]:
        from ..profiles import summary_statistics

        return summary_statistics(cleaned)

    def assignments(self, cleaned: CleanResult, segmentation: Segmentation) -> pd.DataFrame:
        return assignments_of(cleaned, segmentation.labels)

    def close(self) -> None:
        return None


def decimal_of(settings: Settings) -> str | None:
    """The decimal mark ``--decimal`` gives (None: auto, decided from the values)."""
    return None if settings.decimal == "auto" else settings.decimal


def assignments_of(cleaned: CleanResult, labels: np.ndarray) -> pd.DataFrame:
    """(ID or row, segment) of the rows of ``cleaned``, in input order; whole-number IDs read as floats (a missing
    ID makes pandas read the column as float) are written as whole numbers."""
    if cleaned.id_column is not None:
        first = cleaned.frame[cleaned.id_column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(first) and first.dropna().mod(1).eq(0).all():
            first = first.astype("Int64")
    else:
        first = pd.Series(cleaned.frame.index.to_numpy(), name="row")
    return pd.DataFrame({first.name: first, "segment": np.asarray(labels, dtype=np.int64)})


def _spark(settings: Settings, progress: Progress) -> Engine:
    from .spark import SparkEngine  # PySpark is imported only when asked for

    return SparkEngine(settings, progress)


ENGINES: dict[str, Callable[[Settings, Progress], Engine]] = {"pandas": PandasEngine, "spark": _spark}


def open_engine(settings: Settings, progress: Progress) -> Engine:
    """The engine ``settings.engine`` names, ready for one run (close it after)."""
    return ENGINES[settings.engine](settings, progress)
