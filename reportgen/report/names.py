"""Names: a run folder's name from its start and the input, a run's short name, a trend segment's latest name."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Trend


def folder_name(now: datetime, name: str) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{name}"


def short_run(run: str) -> str:
    """A run's name without its date-time prefix (``20261001-090000-october`` -> ``october``)."""
    parts = run.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() else run


def run_slug(source_name: str) -> str:
    stem = Path(source_name).stem if source_name != "<stdin>" else "stdin"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()
    return slug[:40] or "run"


def segment_name(trend: Trend, number: int) -> str:
    """The latest name of the trend's segment ``number``."""
    return next(s.name for s in trend.segments if s.segment == number)
