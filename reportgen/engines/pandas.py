"""The pandas engine: every stage in this process, on pandas and scikit-learn (a thin layer over the stage packages)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

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
from ..settings import Settings
from .base import Input, Progress, Runner, decimal_of, here


class PandasEngine:
    """Every stage in this process, on pandas and scikit-learn."""

    name = "pandas"

    def __init__(self, settings: Settings, progress: Progress) -> None:
        self.settings = settings
        self.progress = progress

    def read(self, source: Input, *, name: str | None = None) -> Dataset:
        from ..inputs.base import ReadOptions
        from ..inputs.database import DatabaseSource, read_database, read_password
        from ..inputs.readers import read_table
        from ..inputs.roles import DistinctCounts, with_roles
        from ..inputs.transactions import customers_of

        settings = self.settings
        if isinstance(source, DatabaseSource):
            table = read_database(source, password=read_password(dict(os.environ), settings.password_file),
                                  decimal=decimal_of(settings))
        else:
            table = read_table(source, name=name,
                               options=ReadOptions(sheet=settings.sheet, decimal=decimal_of(settings)))
        counts = DistinctCounts(table.frame)  # the ID's distinct values, counted once for both questions
        return customers_of(table, settings, counts) or with_roles(table, counts)

    def clean(self, dataset: Dataset, *, features: tuple[str, ...], missing: MissingPolicy, max_drop: float
              ) -> CleanResult:
        from ..cleaning.pandas import clean

        return clean(dataset, features=features, missing=missing, max_drop=max_drop)

    def prepare(self, cleaned: CleanResult, settings: Settings, *, scaling: Scaling, scaler: Scaler | None = None,
                categories: tuple[str, ...] = (), encoding: CategoricalEncoding | None = None
                ) -> FeatureMatrix:
        from ..segmentation.features import build_features

        return build_features(cleaned, scale=scaling, scaler=scaler, transform=settings.transform,
                              outliers=settings.outliers, categories=categories, encoding=encoding)

    def select_k(self, matrix: FeatureMatrix, settings: Settings, run: Runner = here
                 ) -> Callable[[], KSelection]:
        """The k sweep, and a function that waits for it. With a fixed k on a sample of a large table, ``run``
        runs it (the pipeline passes a chart process), while the final fit, which does not wait for it, starts
        from the same sample's centres (:func:`~reportgen.segmentation.cluster.sweep_start`)."""
        from ..segmentation.cluster import check_k_range, sweep_k, sweep_rows

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
        from ..segmentation.algorithms import ALGORITHMS
        from ..segmentation.cluster import fit_segments, sweep_start

        algorithm = ALGORITHMS[settings.algorithm]
        start = selection.starts.get(k) if selection is not None else sweep_start(
            matrix, k, seed=settings.seed, n_init=settings.n_init, sweep_sample=settings.sweep_sample,
            algorithm=algorithm)
        return fit_segments(matrix, k, seed=settings.seed, n_init=settings.n_init,
                            silhouette_sample=settings.silhouette_sample, algorithm=algorithm, start=start)

    def assign(self, matrix: FeatureMatrix, baseline: BaselineModel, settings: Settings) -> Segmentation:
        from ..segmentation.algorithms import ALGORITHMS
        from ..segmentation.cluster import assign

        return assign(matrix, baseline.centroids, baseline.numbers, seed=settings.seed, n_init=settings.n_init,
                      silhouette_sample=settings.silhouette_sample, algorithm=ALGORITHMS[settings.algorithm])

    def profile(self, cleaned: CleanResult, segmentation: Segmentation, logged: tuple[str, ...] = ()
                ) -> Profiles:
        from ..describe.profiles import profile

        return profile(cleaned, segmentation, logged)

    def summarise(self, cleaned: CleanResult) -> tuple[SummaryRow, ...]:
        from ..describe.profiles import summary_statistics

        return summary_statistics(cleaned)

    def assignments(self, cleaned: CleanResult, segmentation: Segmentation) -> pd.DataFrame:
        return assignments_of(cleaned, segmentation.labels)

    def close(self) -> None:
        return None


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
