"""reportgen: turn a customer table into a customer-segmentation report a marketing manager can act on.

Library use (what the CLI does)::

    from reportgen import Settings, run
    result = run("customers.csv", Settings(features=("Annual Income (k$)", "Spending Score (1-100)")))
    print(result.folder, result.model.segmentation.k)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConfigError, InputError, MailError, OutputError, ReportgenError, SnapshotError
from .settings import Settings
from .version import __version__

__all__ = ["ConfigError", "Drawing", "InputError", "MailError", "OutputError", "ReportgenError", "Settings",
           "SnapshotError", "__version__", "run", "trend"]

if TYPE_CHECKING:
    from .model import RunResult
    from .report.charts import Drawing
    from .report.trend import TrendResult


def run(*args: Any, **kwargs: Any) -> RunResult:
    """Run the whole pipeline; see :func:`reportgen.pipeline.run`. Imported lazily to keep ``--help`` fast."""
    from .pipeline import run as _run

    return _run(*args, **kwargs)


def trend(*args: Any, **kwargs: Any) -> TrendResult:
    """One report over every run of a series; see :func:`reportgen.pipeline.run_trend`."""
    from .pipeline import run_trend

    return run_trend(*args, **kwargs)


def __getattr__(name: str) -> Any:
    """``reportgen.Drawing`` (the chart drawer a script passes to :func:`run`), imported when it is asked for: the
    command line's ``--help`` loads no chart module."""
    if name == "Drawing":
        from .report.charts import Drawing

        return Drawing
    raise AttributeError(f"module 'reportgen' has no attribute {name!r}")
