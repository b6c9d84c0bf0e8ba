"""The Engine protocol every engine implements, and what engines share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

import pandas as pd

from ..inputs.database import DatabaseSource
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

Input = Path | bytes | BinaryIO | DatabaseSource  # a checked input: a file, its bytes, a stream or a database
Progress = Callable[[str], None]
T = TypeVar("T")
Runner = Callable[..., Callable[[], Any]]  # function, *args -> a function that waits for its result


def here(function: Callable[..., T], *args: Any) -> Callable[[], T]:
    """The :data:`Runner` that runs ``function(*args)`` now, in this process."""
    result = function(*args)
    return lambda: result


class Engine(Protocol):
    name: str

    def read(self, source: Input, *, name: str | None = None) -> Dataset: ...

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


def decimal_of(settings: Settings) -> str | None:
    """The decimal mark ``--decimal`` gives (None: auto, decided from the values)."""
    return None if settings.decimal == "auto" else settings.decimal
