"""The data contract of archived runs: a run as a baseline, the comparison of two runs, and the trend over a series."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .segments import CategoricalEncoding, Scaler

if TYPE_CHECKING:  # the annotations are strings: importing the contract loads neither numpy nor pandas
    import numpy as np
    import pandas as pd



SegmentStatus = Literal["", "kept", "new", "gone"]


# --------------------------------------------------------------------------- snapshots
@dataclass(frozen=True)
class RunInfo:
    """One archived run, as `reportgen history` lists it."""

    folder: Path
    run: str
    created: str
    title: str
    input_name: str
    input_sha256: str
    rows: int
    k: int | None
    silhouette: float | None
    baseline: str | None
    deliveries: int


@dataclass(frozen=True)
class BaselineModel:
    """What a later run needs from an earlier one (its model.json and segments.csv), without its data."""

    folder: Path | None  # None: the run being made
    run: str
    created: str
    input_name: str
    features: tuple[str, ...]
    scaler: Scaler
    numbers: tuple[int, ...]
    names: Mapping[int, str]
    centroids: np.ndarray  # (k, p) in the baseline's scaled space, row i is segment numbers[i]
    centroids_original: np.ndarray
    sizes: tuple[int, ...]
    feature_stats: Mapping[str, Mapping[str, float | None]]  # feature -> mean, std, median, min, max
    id_column: str | None
    rows: int = 0
    categories: CategoricalEncoding | None = None  # the categorical columns clustered, and their levels
    highest: int = 0  # the highest segment number of this run and every baseline before it (0: its own numbers')

    @property
    def highest_number(self) -> int:
        """No later run linked to this one by --baseline gives a new segment a number up to this one."""
        return max(self.highest, *self.numbers, 0)


# --------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class SegmentChange:
    """One segment between a baseline run and this one. ``number`` is this run's number, except for a "gone"
    segment, which has none: it carries the baseline's. Tables say which run's number they show with
    ``number_before`` and ``number_now``."""

    number: int  # this run's number (in a run made with --baseline a kept segment has the baseline's); gone: the
    # baseline's
    name: str
    status: Literal["kept", "new", "gone"]
    size_before: int | None
    size_now: int | None
    share_before: float | None
    share_now: float | None
    shift: Mapping[str, float]  # centroid now minus before, per feature, in the features' units
    distance: float | None  # centroid distance in the baseline's scaled space
    partner: int | None = None  # the baseline's number of the segment a kept one matched (a "gone" one's own)

    @property
    def number_before(self) -> int | None:
        """Its number in the baseline run; None for a new segment."""
        return self.partner

    @property
    def number_now(self) -> int | None:
        """Its number in this run; None for a gone segment."""
        return None if self.status == "gone" else self.number


@dataclass(frozen=True)
class FeatureDrift:
    """How one feature's distribution moved since the baseline."""

    feature: str
    mean_before: float | None
    mean_now: float | None
    std_before: float | None
    std_now: float | None
    shift_in_std: float | None  # (mean now - mean before) / std before


@dataclass(frozen=True)
class Comparison:
    """What changed since a baseline run: segment sizes and centroids, feature drift, customer migration."""

    baseline_run: str
    baseline_created: str
    baseline_input: str
    features: tuple[str, ...]
    changes: tuple[SegmentChange, ...]
    drift: tuple[FeatureDrift, ...]
    migration: pd.DataFrame | None  # rows: baseline segment, columns: this run's segment, cells: customers
    shared_customers: int
    stayed: int  # shared customers who kept their segment: now in the segment matched to their baseline segment
    # (the partner of a kept SegmentChange), whatever its number; not those who merely kept a segment number
    entered: int  # customers in this run only
    left: int  # customers in the baseline only
    in_gone: int = 0  # shared customers whose baseline segment is gone (they could not keep it)

    @property
    def stayed_where_kept(self) -> float | None:
        """The share of the shared customers who kept their segment, of those whose baseline segment is kept."""
        could = self.shared_customers - self.in_gone
        return self.stayed / could if could > 0 else None


@dataclass(frozen=True)
class TrendSegment:
    """One segment in one period."""

    segment: int  # the trend's number, the same over the series
    run_segment: int  # the run's own number
    name: str
    size: int
    share: float


@dataclass(frozen=True)
class TrendPeriod:
    run: str
    folder: Path
    created: str  # ISO time the run started
    input_name: str
    customers: int
    k: int
    silhouette: float | None
    segments: tuple[TrendSegment, ...]

    def share(self, segment: int) -> float | None:
        return next((s.share for s in self.segments if s.segment == segment), None)


@dataclass(frozen=True)
class TrendFlow:
    source: int  # segment in the earlier period
    target: int  # segment in the later one
    customers: int


@dataclass(frozen=True)
class TrendStep:
    """From one period to the next: the customers in both (by ID) and where they went."""

    before: str
    after: str
    shared: int  # customers in both periods
    stayed: int  # of those, in the same segment
    entered: int  # customers only in the later period
    left: int  # customers only in the earlier one
    flows: tuple[TrendFlow, ...]  # every (segment before, segment after) pair with customers, largest first
    appeared: tuple[int, ...]
    vanished: tuple[int, ...]

    @property
    def moved(self) -> int:
        return self.shared - self.stayed

    @property
    def movers(self) -> tuple[TrendFlow, ...]:
        """The flows between two different segments, largest first."""
        return tuple(f for f in self.flows if f.source != f.target)


@dataclass(frozen=True)
class TrendIdentity:
    """One segment over the series."""

    segment: int
    name: str  # its latest name
    names: tuple[str, ...]  # every name it had, first to last
    first: int  # index of the first period it is in
    last: int  # index of the last one
    shares: tuple[float | None, ...]  # its share in every period (None: not there)


@dataclass(frozen=True)
class Trend:
    series: str  # the series name, or the last run of a chain of baselines
    linked_by: Literal["baseline", "series"]
    features: tuple[str, ...]
    periods: tuple[TrendPeriod, ...]
    steps: tuple[TrendStep, ...]
    segments: tuple[TrendIdentity, ...]

    @property
    def has_ids(self) -> bool:
        return any(s.shared or s.entered or s.left for s in self.steps)
