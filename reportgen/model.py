"""The data contract: frozen dataclasses that flow from stage to stage. No logic lives here, and no ``Any``.

``ReportModel`` is the documented contract for templates: a user who overrides a template reads its fields
(see the README, "Templates").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the annotations are strings: importing the contract loads neither numpy nor pandas
    import numpy as np
    import pandas as pd

    from .agreement import Agreement
    from .explain import SegmentRule, SegmentRules
    from .rfm import RfmResult

Role = Literal["id", "numeric", "categorical", "date", "text", "personal", "empty"]
Scaling = Literal["standard", "minmax", "none"]
TransformPolicy = Literal["auto", "none"]
OutlierPolicy = Literal["clip", "keep"]
Transform = Literal["", "log"]  # per feature: "" leaves the values as they are
MissingPolicy = Literal["drop", "median"]
Level = Literal["low", "average", "high"]
Section = Literal["summary", "exploration", "choosing-k", "segments", "rfm", "comparison", "trend"]
SegmentStatus = Literal["", "kept", "new", "gone"]


# --------------------------------------------------------------------------- read
@dataclass(frozen=True)
class NumberFormat:
    """How the input's numbers written as text are read (:func:`reportgen.values.decide_numbers`): the decimal mark
    of each text column that holds numbers with a mark, and of the file."""

    columns: Mapping[str, str] = field(default_factory=dict)  # column -> "." or ","
    decimal: str | None = None  # the file's decimal mark; None: no number with a mark, or columns that disagree
    how: str = ""  # the decision in words, for the data quality account ("a decimal comma, as values such as ...")

    def mark(self, column: str) -> str | None:
        """The decimal mark of ``column`` (None: its values decide, see :func:`reportgen.values.parse_numbers`)."""
        return self.columns.get(column)


@dataclass(frozen=True)
class Source:
    """Where the data came from: enough to find and verify it again."""

    name: str  # file name, or "<stdin>"
    path: str | None  # absolute path, or None for stdin
    size: int  # bytes
    sha256: str
    format: str  # the reader that read it: "csv", "parquet", ...
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None  # a workbook's sheet
    query: str | None = None  # a database's SQL (for a table: SELECT * FROM it); path is then the URL
    query_sha256: str | None = None
    numbers: NumberFormat = field(default_factory=NumberFormat)  # how numbers written as text are read
    # the columns whose names the input writes with spaces around them: name as read -> as written (" spend");
    # segments.sql names them as written, so that it runs on a table loaded from the input
    written_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """What a reader returns: the frame as read, where it came from, and the lines it had to skip."""

    frame: pd.DataFrame
    source: Source
    malformed_lines: tuple[tuple[int, str], ...] = ()  # (line number, what was wrong)


@dataclass(frozen=True)
class ColumnInfo:
    """One input column, its inferred role and why."""

    name: str
    role: Role
    dtype: str
    missing: int
    unique: int
    why: str
    feature: bool = True  # clustered by default (a numeric column); False: profiled only, ``why`` says why


@dataclass(frozen=True)
class TransactionSummary:
    """A transaction log turned into a customer table: how many lines, as of when, and which columns were what."""

    lines: int
    customers: int
    as_of: str  # ISO date
    date_format: str  # how the dates were read, in words
    columns: Mapping[str, str]  # role ("customer", "date", "amount", ...) -> column


@dataclass(frozen=True)
class Dataset:
    """The table as read, with column roles. ``frame.index`` is the 1-based data row number in the input.

    ``rows`` is the number of data rows; with the Spark engine ``frame`` holds only the first rows (from which the
    roles were inferred) and the data itself stays in Spark."""

    frame: pd.DataFrame
    source: Source
    columns: tuple[ColumnInfo, ...]
    rows: int
    malformed_lines: tuple[tuple[int, str], ...] = ()
    transactions: TransactionSummary | None = None  # the input was a transaction log
    prepared: tuple[StepCount, ...] = ()  # what building the customer table left out or netted (log lines)
    prepared_log: pd.DataFrame | None = None  # those lines, for cleaning.csv


# --------------------------------------------------------------------------- clean
@dataclass(frozen=True)
class StepCount:
    """One thing cleaning did, to how many rows (or values), and why: a line of the data quality account."""

    step: str  # the cleaning step's key, e.g. "duplicate_rows"
    column: str | None
    count: int
    action: str  # "dropped rows", "set to missing", "imputed median", ...
    reason: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class CleaningAccount:
    """The full account of cleaning: rows in, rows out, and every step."""

    rows_in: int
    rows_out: int
    missing_policy: MissingPolicy
    steps: tuple[StepCount, ...]
    excluded_columns: tuple[tuple[str, str], ...]  # (column, why it is not a feature)

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out


@dataclass(frozen=True)
class CleanResult:
    """Cleaned rows (input row numbers kept as the index) and the account of what was done.

    With the Spark engine ``frame`` is a fixed-seed sample of the cleaned rows (for the charts); the account
    counts every row."""

    frame: pd.DataFrame
    id_column: str | None
    features: tuple[str, ...]
    numeric: tuple[str, ...]  # every numeric column profiled (features first)
    categorical: tuple[str, ...]
    account: CleaningAccount
    log: pd.DataFrame  # one row per touched input row/value: row, column, action, reason, value


# --------------------------------------------------------------------------- prepare
@dataclass(frozen=True)
class Scaler:
    """Portable parameters from a feature's own units to the clustering space: transform (``log``: log(1 + x)),
    clip at ``clip_low``/``clip_high`` (None: no bound; in transformed units), then ``(t - center) / scale``.
    Empty ``transforms``/``clips``: none (the textbook scaling)."""

    method: Scaling
    center: tuple[float, ...]
    scale: tuple[float, ...]
    transforms: tuple[Transform, ...] = ()
    clip_low: tuple[float | None, ...] = ()
    clip_high: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class FeatureTreatment:
    """What was done to one feature before scaling, and why: the report's and manifest's record."""

    name: str
    skew: float  # of the values as they are
    transform: Transform
    why: str
    extreme: int  # customers beyond the far-out fences (3 IQR from the quartiles, after the transform)
    clipped: int  # values moved to a clip bound
    clip_low: float | None  # in the feature's own units, for the report
    clip_high: float | None


@dataclass(frozen=True)
class CategoricalEncoding:
    """Categorical columns clustered beside the numeric features (``--categorical cluster``): each becomes one
    column per level, 1 for the customer's level and 0 otherwise, times ``weight`` = sqrt(gamma / 2). Two
    customers of different levels are then gamma apart in squared Euclidean distance, the mismatch cost of
    Huang's k-prototypes; a missing or unseen level is 0 in every column (equally far from every level)."""

    columns: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]  # per column, in the order of its one-hot columns
    gamma: float  # the cost of one mismatched category, in squared scaled units

    @property
    def weight(self) -> float:
        return math.sqrt(self.gamma / 2.0)

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(len(levels) for levels in self.levels)


@dataclass(frozen=True)
class FeatureMatrix:
    """The scaled matrix the clustering sees, with the input row number of every row (with the Spark engine:
    of the rows in the cleaned sample). Its first ``len(names)`` columns are the numeric features; with
    ``categories``, their one-hot columns follow."""

    X: np.ndarray
    names: tuple[str, ...]
    rows: np.ndarray
    scaler: Scaler
    treatments: tuple[FeatureTreatment, ...] = ()
    extreme_customers: int = 0  # customers with an extreme value in any feature (they keep their segments)
    categories: CategoricalEncoding | None = None
    unseen_levels: tuple[tuple[str, int], ...] = ()  # (column, customers) with a level a baseline had not seen


# --------------------------------------------------------------------------- cluster
@dataclass(frozen=True)
class IndexInfo:
    """A k-selection index as the report shows it (its score function lives in ``indices.INDICES``)."""

    key: str  # "silhouette"
    name: str  # "Silhouette"
    better: Literal["higher", "lower"]
    digits: int  # decimals shown in the report


@dataclass(frozen=True)
class KCandidate:
    """One k of the sweep: the inertia and the score of every index (``scores[index.key]``)."""

    k: int
    inertia: float
    scores: Mapping[str, float]  # the gap statistic too, when it was computed ("gap")
    smallest: float = 1.0  # share of the customers in this k's smallest segment
    gap_se: float | None = None  # the gap statistic's standard error


@dataclass(frozen=True)
class Vote:
    """One index's choice of k and what it rests on."""

    key: str  # "silhouette", "gap", "elbow"...
    name: str  # as the report writes it
    k: int | None  # None: the index has no choice (no elbow); the gap statistic may choose 1 (no segments)
    rule: str  # "highest", "lowest", "first k within one standard error of the first local maximum"...


@dataclass(frozen=True)
class KSelection:
    """The k sweep and the choice made from it."""

    candidates: tuple[KCandidate, ...]
    elbow_k: int | None
    silhouette_k: int  # the k the choice rule prefers
    chosen_k: int
    method: Literal["vote", "silhouette", "fixed", "baseline"]
    reason: str
    silhouette_sample_size: int | None  # None: silhouette on every row
    n_init: int
    sweep_sample_size: int | None = None  # None: the sweep saw every row
    votes: tuple[Vote, ...] = ()
    min_share: float = 0.0  # no k whose smallest segment has a smaller share of the customers is chosen
    gap_references: int = 0  # reference data sets of the gap statistic (0: not computed)
    gap_one: tuple[float, float] | None = None  # the gap statistic and its SE at k = 1
    # the sweep's centres per k (scaled space), which the final fit starts from; not in metrics.json
    starts: Mapping[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Segmentation:
    """The final solution, segments numbered 1..k by size, largest first (or a baseline's numbers)."""

    k: int
    labels: np.ndarray  # segment number per FeatureMatrix row
    centroids: np.ndarray  # (k, p + one-hot columns) in the scaled space, row i is segment numbers[i]
    centroids_original: np.ndarray  # (k, p) the numeric features in their own units
    sizes: tuple[int, ...]  # customers per segment, in the order of ``numbers`` (every customer)
    inertia: float
    silhouette: float
    scores: Mapping[str, float]  # every index of indices.INDICES, silhouette included
    silhouette_sample_size: int | None
    sample_silhouettes: np.ndarray  # per-customer silhouette on the (sampled) rows
    sample_labels: np.ndarray  # segment number of each of those rows
    seed: int
    n_init: int
    numbers: tuple[int, ...]
    algorithm: str = "kmeans"  # the key of its entry in algorithms.ALGORITHMS
    description: str = ""  # how it was found, in words, for the methodology


@dataclass(frozen=True)
class Stability:
    """Bootstrap stability of each segment, as R's fpc::clusterboot measures it: the mean Jaccard similarity
    between the segment and its best match when the clustering is redone on resamples."""

    method: str  # "bootstrap"
    resamples: int
    sample_size: int | None  # None: every customer
    segments: Mapping[int, float]  # segment number -> mean Jaccard
    dissolved: Mapping[int, int]  # resamples where the best match had Jaccard <= 0.5
    recovered: Mapping[int, int]  # resamples where it had Jaccard >= 0.75


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
    traits: tuple[str, ...]  # phrases, most distinctive first: "a higher annual income (87 k$ vs 61 k$ overall)"
    highlights: tuple[str, ...] = ()  # short forms for tables: "annual income 87 k$ (avg 61 k$)"


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
    rule: SegmentRule | None = None  # the segment as a rule in the features' units (explain.segment_rules)


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
    embedded: tuple[str, ...] = ()  # the run folder's files that report.pdf carries (snapshot.embedded_names)
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

@dataclass(frozen=True)
class RunResult:
    """What ``reportgen.run`` returns: the run folder and everything that was computed."""

    folder: Path | None
    model: ReportModel
    files: tuple[str, ...]


# --------------------------------------------------------------------------- what the charts are drawn from
@dataclass(frozen=True)
class ExplorationData:
    """What the exploration charts draw (:func:`reportgen.charts.exploration.exploration_data` makes it): the
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
