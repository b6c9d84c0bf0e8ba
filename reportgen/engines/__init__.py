"""Engines: where the stages that touch every row run (read, clean, prepare, cluster, profile).

An engine consumes and returns the same dataclasses as every other (the protocol is :class:`~.base.Engine`); what
it does differently is only how it computes. The pandas engine (``pandas.py``) is a thin layer over the stage
packages; the Spark engine (``spark/``) runs the same stages on Spark and shares every engine-neutral rule (the
cleaning table, the k choice, building a Segmentation, the scaler, the profiles). :data:`ENGINES` is the table of
engines, each with what it can do; the pipeline asks :func:`open_engine` for one and never looks at which it got.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..settings import Settings
from .base import Engine, Progress, Runner, here
from .pandas import PandasEngine

__all__ = ["ENGINES", "Engine", "EngineSpec", "Runner", "here", "open_engine"]


def _spark(settings: Settings, progress: Progress) -> Engine:
    from .spark.engine import SparkEngine  # PySpark is imported only when asked for

    return SparkEngine(settings, progress)


@dataclass(frozen=True)
class EngineSpec:
    """An engine of the table: its name (``--engine``), how to open one for a run, and what it can do (the plan
    checks a run against it before any data is read)."""

    name: str
    open: Callable[[Settings, Progress], Engine]
    files_only: bool = False  # it reads files only: no database, no standard input
    algorithms: tuple[str, ...] | None = None  # the keys of ALGORITHMS it runs (None: every one)


ENGINES: dict[str, EngineSpec] = {entry.name: entry for entry in (
    EngineSpec("pandas", PandasEngine),
    EngineSpec("spark", _spark, files_only=True, algorithms=("kmeans",)),
)}


def open_engine(settings: Settings, progress: Progress) -> Engine:
    """The engine ``settings.engine`` names, ready for one run (close it after)."""
    return ENGINES[settings.engine].open(settings, progress)
