"""The data contract of the report: the charts, the report model the templates read, and what a run returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .archive import BaselineModel, Comparison, SegmentStatus
from .describe import (
    KpiOutcome,
    Persona,
    Priority,
    Profiles,
    RfmResult,
    SegmentProfile,
    SegmentRule,
    SegmentRules,
    Stake,
    SummaryRow,
    Wording,
)
from .inputs import CleaningAccount, CleanResult, ColumnInfo, Dataset, Source, TransactionSummary
from .segments import (
    Agreement,
    CategoricalEncoding,
    FeatureMatrix,
    FeatureTreatment,
    IndexInfo,
    KSelection,
    Scaler,
    Scaling,
    Segmentation,
    Stability,
)

if TYPE_CHECKING:  # the annotations are strings: importing the contract loads neither numpy nor pandas
    import numpy as np
    import pandas as pd



Section = Literal["summary", "exploration", "choosing-k", "segments", "rfm", "comparison", "trend"]


# --------------------------------------------------------------------------- charts, report
@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    alt: str
    png: bytes
    section: Section = "segments"
    width_mm: float = 170.0


@dataclass(frozen=True)
class MissingChart:
    """A chart that could not be drawn: the report leaves it out and says why (a fault in reportgen, never in the
    data; the rest of the report is complete)."""

    name: str
    title: str
    section: Section
    why: str  # the error, on one line

    def sentence(self) -> str:
        """One line for stderr and the methodology."""
        return f"the chart “{self.title}” could not be drawn ({self.why})"


@dataclass(frozen=True)
class SegmentView:
    """One segment as the report shows it: numbers, name, colour, persona."""

    number: int
    name: str
    color: str
    size: int
    share: float
    profile: SegmentProfile
    persona: Persona
    status: SegmentStatus = ""  # "new" against a baseline; kept segments show no badge
    stability: float | None = None  # bootstrap mean Jaccard
    stability_word: str = ""  # "highly stable", "stable", "doubtful", "unstable"
    rule: SegmentRule | None = None  # the segment as a rule in the features' units (describe.rules.segment_rules)


MAX_ROLE_ROWS = 60  # rows of the report's "columns and their roles" table
MAX_PROFILE_ROWS = 20  # numeric rows of a segment's profile table
MAX_OVERVIEW_COLUMNS = 8  # numeric columns of the segment overview table
MAX_PROFILE_CATEGORIES = 10  # categorical columns of a segment's profile table
MAX_EXCLUDED = 12  # columns the "not clustered" sentence names


def first_of(columns: tuple[str, ...], first: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """At most ``limit`` of ``columns``: those in ``first`` (the clustered features) before the others, each
    group in table order."""
    return tuple([c for c in columns if c in first] + [c for c in columns if c not in first])[:limit]


@dataclass(frozen=True)
class Attached:
    """A file that the PDF carries inside it (a PDF/A-3 associated file)."""

    name: str
    data: bytes
    relationship: str  # the PDF's /AFRelationship: Data, Source, Supplement, Unspecified
    description: str


@dataclass(frozen=True)
class ReportModel:
    """Everything the templates may read. Numbers are raw; templates format them with filters."""

    title: str
    organisation: str
    subtitle: str
    generated_at: datetime
    run_name: str
    version: str
    source: Source
    rows_read: int
    columns: tuple[ColumnInfo, ...]
    account: CleaningAccount
    summary: tuple[SummaryRow, ...]
    features: tuple[str, ...]
    scaling: Scaling
    scaler: Scaler
    selection: KSelection
    indices: tuple[IndexInfo, ...]  # the columns of the k table, in order
    segmentation: Segmentation
    algorithm: str  # the clustering algorithm, in words, for the methodology
    engine: str
    profiles: Profiles
    segments: tuple[SegmentView, ...]
    charts: Mapping[str, Chart]  # by name, in the order of charts.CHARTS
    verdict: str  # "clear", "moderate", "weak"
    verdict_text: str
    versions: Mapping[str, str]
    reproduce: str
    rules_source: str
    timings: Mapping[str, float]
    embedded: tuple[str, ...] = ()  # the run folder's files that report.pdf carries (archive.manifest.embedded_names)
    accent: str = "#1f4e79"
    paper: str = "A4"
    logo: str | None = None  # data URI
    locale: str = "en"
    comparison: Comparison | None = None
    stability: Stability | None = None
    treatments: tuple[FeatureTreatment, ...] = ()  # how each feature was transformed and clipped
    extreme_customers: int = 0  # customers with a far-out value in a feature (they keep their segments)
    verdict_reasons: tuple[str, ...] = ()  # why the verdict is not higher, in plain words
    stability_text: str = ""  # the executive summary's sentence on stability
    transactions: TransactionSummary | None = None  # the input was a transaction log
    rfm: RfmResult | None = None  # RFM scores and named segments beside the K-means segments
    segment_rules: SegmentRules | None = None  # the segments as rules (rules.csv, segments.sql)
    agreement: Agreement | None = None  # the other algorithms against the chosen one, at the chosen k
    method_name: str = "K-means"  # the algorithm's short name ("K-means", "k-prototypes")
    categories: CategoricalEncoding | None = None  # categorical columns clustered beside the features
    unseen_levels: tuple[tuple[str, int], ...] = ()  # (column, customers) with a level the baseline had not seen
    missing_charts: tuple[MissingChart, ...] = ()  # charts that could not be drawn (left out, said in the method)
    wording: Wording = field(default_factory=Wording)  # column labels, currency, money columns
    stake: Stake | None = None  # the value at stake: each segment's share of the money column
    priorities: tuple[Priority, ...] = ()  # the summary's first actions, ranked by what is at stake
    outcomes: tuple[KpiOutcome, ...] = ()  # the baseline's priorities, checked in this run

    @property
    def clustered(self) -> tuple[str, ...]:
        """Every column the segments were clustered on: the numeric features, then the categorical ones."""
        return (*self.features, *(self.categories.columns if self.categories else ()))

    # What the tables show of a wide table (every column stays in profiles.csv and manifest.json)
    @property
    def shown_columns(self) -> tuple[ColumnInfo, ...]:
        return self.columns[:MAX_ROLE_ROWS]

    @property
    def shown_numeric(self) -> tuple[str, ...]:
        """The numeric rows of a segment's profile table: the clustered columns first."""
        return first_of(self.profiles.numeric, self.features, MAX_PROFILE_ROWS)

    @property
    def table_numeric(self) -> tuple[str, ...]:
        """The numeric columns of the segment overview table (one table column each)."""
        return first_of(self.profiles.numeric, self.features, MAX_OVERVIEW_COLUMNS)

    @property
    def shown_categorical(self) -> tuple[str, ...]:
        return self.profiles.categorical[:MAX_PROFILE_CATEGORIES]

    @property
    def shown_summary(self) -> tuple[SummaryRow, ...]:
        """The rows of the summary statistics table: the features first."""
        rows = [row for row in self.summary if row.feature] + [row for row in self.summary if not row.feature]
        return tuple(rows[:MAX_PROFILE_ROWS])

    @property
    def shown_excluded(self) -> tuple[tuple[str, str], ...]:
        return self.account.excluded_columns[:MAX_EXCLUDED]

    @property
    def hidden_profile_columns(self) -> int:
        """Profiled columns the segment pages leave out (they are in profiles.csv)."""
        return (len(self.profiles.numeric) - len(self.shown_numeric)
                + len(self.profiles.categorical) - len(self.shown_categorical))


@dataclass(frozen=True)
class Analysis:
    """Everything the analysis found, before charts and report: what the report, the data files and the
    comparison are made from."""

    dataset: Dataset
    cleaned: CleanResult
    matrix: FeatureMatrix
    selection: KSelection
    segmentation: Segmentation
    profiles: Profiles
    summary: tuple[SummaryRow, ...]
    personas: tuple[Persona, ...]
    assignments: pd.DataFrame  # (ID or row, segment) of every cleaned customer, in input order
    portable: BaselineModel  # this run's model, as model.json holds it and a later run reads it
    engine: str
    baseline: BaselineModel | None = None
    comparison: Comparison | None = None
    statuses: Mapping[int, SegmentStatus] | None = None  # segment -> "kept" / "new" against a baseline
    stability: Stability | None = None  # None: not measured (--stability-resamples 0)
    rfm: RfmResult | None = None  # RFM scores and named segments (a transaction log's customers)
    rules: SegmentRules | None = None  # the segments as rules a CRM can apply
    agreement: Agreement | None = None  # how far the other algorithms find the same segments
    wording: Wording = field(default_factory=Wording)  # column labels, currency, money columns
    stake: Stake | None = None  # the value at stake: each segment's share of the money column
    priorities: tuple[Priority, ...] = ()  # the summary's first actions, ranked by what is at stake
    outcomes: tuple[KpiOutcome, ...] = ()  # the baseline's priorities, checked in this run

@dataclass(frozen=True)
class RunResult:
    """What ``reportgen.run`` returns: the run folder and everything that was computed."""

    folder: Path | None
    model: ReportModel
    files: tuple[str, ...]


# --------------------------------------------------------------------------- what the charts are drawn from
@dataclass(frozen=True)
class ExplorationData:
    """What the exploration charts draw (:func:`reportgen.report.charts.exploration.exploration_data` makes it): the
    cleaned columns of at most a fixed-seed sample of rows (categories as pandas categoricals: small to send to the
    chart process), and what is counted over every row of the frame it was made from. ``customers``: every cleaned
    customer (that frame may be the Spark engine's sample)."""

    frame: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    features: tuple[str, ...]
    customers: int
    seed: int
    top_counts: Mapping[str, tuple[tuple[str, int], ...]]  # the ten most common values of each categorical column
    distinct: Mapping[str, int]  # distinct values of each categorical column
    counted: int  # the rows top_counts counts
    correlation: pd.DataFrame  # Pearson correlations of the numeric columns and the features


@dataclass(frozen=True)
class SegmentData:
    """What the segment charts draw: customers (a fixed-seed sample of at most a few thousand, scaled and in their
    own units, with their segments) and the segments."""

    X: np.ndarray  # the scaled features of the rows drawn
    original: np.ndarray  # the same rows in the features' own units
    labels: np.ndarray  # their segment numbers
    customers: int  # every customer (the rows drawn may be a sample)
    names: tuple[str, ...]
    scaling: Scaling
    segmentation: Segmentation
    profiles: Profiles
    segment_names: Mapping[int, str]
    rfm_grid: pd.DataFrame | None = None  # customers per (F score 5..1, R score 1..5), for the RFM grid chart
    rfm_segments: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = ()  # the grid's named segments
