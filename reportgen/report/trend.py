"""The trend report's model: what the trend template reads, and what reportgen.trend() returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..model import Chart, MissingChart, Trend
from .charts.style import segment_color
from .names import short_run


@dataclass(frozen=True)
class TrendResult:
    """What :func:`reportgen.pipeline.run_trend` returns."""

    folder: Path | None
    trend: Trend
    report: TrendReport
    files: tuple[str, ...]


SHOWN_PERIODS = 6  # the summary's table shows the first period and the latest ones up to this many columns


@dataclass(frozen=True)
class TrendReport:
    """Everything the trend template reads, as ``r``."""

    trend: Trend
    title: str
    generated_at: datetime
    run_name: str
    version: str
    highlights: tuple[str, ...]
    charts: Mapping[str, Chart]
    embedded: tuple[str, ...] = ()
    accent: str = "#1f4e79"
    paper: str = "A4"
    locale: str = "en"
    missing_charts: tuple[MissingChart, ...] = ()  # charts that could not be drawn (left out, said in the summary)

    def short(self, run: str) -> str:
        return short_run(run)

    def color(self, number: int) -> str:
        return segment_color(number)

    @property
    def shown(self) -> tuple[int, ...]:
        """The periods (indices) that the summary's table has a column for: every one of a short series, else the
        first and the latest :data:`SHOWN_PERIODS` - 1."""
        count = len(self.trend.periods)
        if count <= SHOWN_PERIODS:
            return tuple(range(count))
        return (0, *range(count - SHOWN_PERIODS + 1, count))
