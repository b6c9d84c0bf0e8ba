"""Engines: where the stages that touch every row run (read, clean, prepare, cluster, profile).

An engine consumes and returns the same dataclasses as every other; what it does differently is only how it
computes. The pandas engine is this module's :class:`PandasEngine`, a thin layer over the modules of each stage;
the Spark engine (``engines/spark.py``) runs the same stages on Spark and shares every engine-neutral rule (the
cleaning table, the k choice, building a Segmentation, the scaler, the profiles). The pipeline asks
:func:`open_engine` for one and never looks at which it got.
"""

from __future__ import annotations

from collections.abc import Callable

from ..settings import Settings
from .base import Engine, Progress, Runner, here
from .pandas import PandasEngine

__all__ = ["ENGINES", "Engine", "Runner", "here", "open_engine"]


def _spark(settings: Settings, progress: Progress) -> Engine:
    from .spark.engine import SparkEngine  # PySpark is imported only when asked for

    return SparkEngine(settings, progress)


ENGINES: dict[str, Callable[[Settings, Progress], Engine]] = {"pandas": PandasEngine, "spark": _spark}


def open_engine(settings: Settings, progress: Progress) -> Engine:
    """The engine ``settings.engine`` names, ready for one run (close it after)."""
    return ENGINES[settings.engine](settings, progress)
