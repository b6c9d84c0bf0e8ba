"""The data contract of describing the segments: profiles, summary statistics, personas and recommendations, the
segments as rules, RFM."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the annotations are strings: importing the contract loads neither numpy nor pandas
    import pandas as pd



Level = Literal["low", "average", "high"]


# --------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class SegmentProfile:
    segment: int
    size: int
    share: float
    means: Mapping[str, float]
    medians: Mapping[str, float]
    z: Mapping[str, float]  # (segment mean - overall mean) / overall std
    levels: Mapping[str, Level]
    categories: Mapping[str, Mapping[str, float]]  # column -> value -> share within the segment
    # the value the report quotes: the median of a feature clustered on a log scale (Profiles.logged), else the mean
    typical: Mapping[str, float] = field(default_factory=dict)
    sums: Mapping[str, float] = field(default_factory=dict)  # column -> the segment's total (value at stake)


@dataclass(frozen=True)
class Profiles:
    segments: tuple[SegmentProfile, ...]
    features: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    overall_means: Mapping[str, float]
    overall_medians: Mapping[str, float]
    overall_std: Mapping[str, float]
    overall_categories: Mapping[str, Mapping[str, float]]
    total: int
    # features clustered on log(1 + x): their z and levels are on that scale, and the report quotes medians
    logged: tuple[str, ...] = ()
    overall_typical: Mapping[str, float] = field(default_factory=dict)
    clustered_categories: tuple[str, ...] = ()  # categorical columns the segments were clustered on


@dataclass(frozen=True)
class SummaryRow:
    """Summary statistics of one numeric column over the cleaned rows."""

    name: str
    feature: bool
    count: int
    missing: int
    mean: float
    std: float
    min: float
    q1: float
    median: float
    q3: float
    max: float


# --------------------------------------------------------------------------- recommend
@dataclass(frozen=True)
class Recommendation:
    action: str
    channel: str
    offer: str
    message: str


@dataclass(frozen=True)
class Persona:
    segment: int
    name: str
    persona: str
    recommendations: tuple[Recommendation, ...]
    rule_id: str
    traits: tuple[str, ...]  # phrases, most distinctive first: "annual income mean 87 k$ (all customers: 61 k$)"
    highlights: tuple[str, ...] = ()  # short forms for tables: "annual income mean 87 k$ (all 61 k$)"
    kpi_column: str = ""  # the column whose KPI the headline action is meant to move ("" without one) ...
    kpi_good: str = ""  # ... and its good direction, "high" or "low"
    kpi: KpiTarget | None = None  # that KPI measured on the segment's customers, with its target


@dataclass(frozen=True)
class Wording:
    """How the report names columns and writes their values: labels (column -> readable name, from the config's
    [labels] or made from the header), the currency of money columns whose header names none, and which columns
    hold money (a rules concept with ``money = true``, or a currency in the header)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    currency: str = ""
    money: tuple[str, ...] = ()
    headings: Mapping[str, str] = field(default_factory=dict)  # column -> its name in a table: "Annual income (k$)"

    def heading(self, column: str) -> str:
        return self.headings.get(column, column)


@dataclass(frozen=True)
class KpiTarget:
    """A KPI of one segment: the share of its customers on the good side of a threshold of a column ("customers
    whose days since last order is at most 80"), its value now and the target for the next run."""

    column: str
    good: Literal["high", "low"]  # high: at least ``threshold`` is good; low: at most
    threshold: float
    text: str  # "customers whose days since last order is at most 80"
    current: float  # share of the segment's customers, 0..1
    target: float


@dataclass(frozen=True)
class Stake:
    """The value at stake: the money column, its total over all customers and each segment's share of it."""

    column: str
    label: str
    total: float
    shares: Mapping[int, float]  # segment -> share of the total


@dataclass(frozen=True)
class Priority:
    """One of the summary's first actions: a segment's headline action, ranked by what is at stake."""

    rank: int
    segment: int
    name: str
    action: str
    customers: int
    value_share: float | None  # the segment's share of the money column (None without one)
    kpi: KpiTarget


@dataclass(frozen=True)
class KpiOutcome:
    """A baseline priority checked in this run: its KPI then (the baseline's value), now, the target, met or not.
    ``segment_now`` is None when the segment is gone (then ``now`` and ``met`` are None too)."""

    rank: int
    segment_before: int
    segment_now: int | None
    name: str
    action: str
    kpi: str
    then: float
    now: float | None
    target: float
    met: bool | None


@dataclass(frozen=True)
class Condition:
    feature: str
    low: float | None  # x > low (the tree's threshold), or None
    high: float | None  # x <= high, or None
    levels: tuple[str, ...] = ()  # a categorical feature: its value is one of these (or, negated, none of them)
    negated: bool = False


@dataclass(frozen=True)
class SegmentRule:
    """One segment's rule: an OR of paths, each an AND of conditions; what it covers and takes in."""

    segment: int
    paths: tuple[tuple[Condition, ...], ...]
    text: str  # in words, in the features' units
    sql: str  # the SQL condition
    size: int  # the segment's customers (of those the tree saw)
    covered: int  # of them, those the rule picks
    picked: int  # customers the rule picks
    wrong: int  # of them, those in another segment
    in_sql: bool = True  # applied by segments.sql
    first: bool = False  # a rule of its own (no leaf of the common tree predicts the segment): first in the CASE

    @property
    def covered_share(self) -> float:
        return self.covered / self.size if self.size else 0.0

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.picked if self.picked else 0.0


@dataclass(frozen=True)
class SegmentRules:
    rules: tuple[SegmentRule, ...]
    agreement: float  # share of the customers the rules put in their own segment
    customers: int  # the customers the tree was fitted on
    depth: int

    def for_segment(self, segment: int) -> SegmentRule | None:
        return next((r for r in self.rules if r.segment == segment), None)


Segments = tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...]


@dataclass(frozen=True)
class RfmResult:
    """Each customer's scores and named segment, and how the named segments meet the K-means segments."""

    table: pd.DataFrame  # per cleaned customer (its index): r, f, m (1-5), rfm_score ("543"), rfm_segment
    counts: Mapping[str, int]  # named segment -> customers, in the order of RFM_SEGMENTS
    grid: pd.DataFrame  # customers per (F score: rows 5..1, R score: columns 1..5)
    crossing: pd.DataFrame  # customers per (K-means segment: rows, named RFM segment: columns)
    means: pd.DataFrame  # per named segment: mean recency, frequency, monetary
    actions: Mapping[str, str]  # named segment -> what to do
    segments: Segments = ()  # the grid used (reportgen.describe.rfm.RFM_SEGMENTS, or the rules file's)
