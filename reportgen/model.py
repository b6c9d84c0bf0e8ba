"""The data contract: frozen dataclasses that flow from stage to stage. No logic lives here.

``ReportModel`` is the documented contract for templates: a user who overrides a template reads its fields
(see the README, "Template variables").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

Role = Literal["id", "numeric", "categorical", "date", "text", "empty"]
Scaling = Literal["standard", "minmax", "none"]
MissingPolicy = Literal["drop", "median"]
Level = Literal["low", "average", "high"]


# --------------------------------------------------------------------------- load
@dataclass(frozen=True)
class Source:
    """Where the data came from: enough to find and verify it again."""

    name: str  # file name, or "<stdin>"
    path: str | None  # absolute path, or None for stdin
    size: int  # bytes
    sha256: str
    format: Literal["csv", "parquet"]
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True)
class ColumnInfo:
    """One input column, its inferred role and why."""

    name: str
    role: Role
    dtype: str
    missing: int
    unique: int
    why: str


@dataclass(frozen=True)
class Dataset:
    """The table as read. ``frame.index`` is the 1-based data row number in the input."""

    frame: pd.DataFrame
    source: Source
    columns: tuple[ColumnInfo, ...]
    malformed_lines: tuple[tuple[int, str], ...] = ()  # (line number, what was wrong): skipped by the reader


# --------------------------------------------------------------------------- clean
@dataclass(frozen=True)
class CleaningStep:
    """One thing cleaning did, to how many rows (or values), and why."""

    step: str  # short key, e.g. "duplicate_rows"
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
    steps: tuple[CleaningStep, ...]
    excluded_columns: tuple[tuple[str, str], ...]  # (column, why it is not a feature)

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out


@dataclass(frozen=True)
class CleanResult:
    """Cleaned rows (input row numbers kept as the index) and the account of what was done."""

    frame: pd.DataFrame
    id_column: str | None
    features: tuple[str, ...]
    numeric: tuple[str, ...]  # every numeric column profiled (features first)
    categorical: tuple[str, ...]
    account: CleaningAccount
    log: pd.DataFrame  # one row per touched input row/value: row, column, action, reason, value


# --------------------------------------------------------------------------- features
@dataclass(frozen=True)
class Scaler:
    """Portable scaling parameters: ``scaled = (x - center) / scale``."""

    method: Scaling
    center: tuple[float, ...]
    scale: tuple[float, ...]


@dataclass(frozen=True)
class FeatureMatrix:
    """The scaled matrix K-means sees, with the input row number of every row."""

    X: np.ndarray
    names: tuple[str, ...]
    rows: np.ndarray
    scaler: Scaler


# --------------------------------------------------------------------------- cluster
@dataclass(frozen=True)
class KCandidate:
    k: int
    inertia: float
    silhouette: float
    davies_bouldin: float
    calinski_harabasz: float


@dataclass(frozen=True)
class KSelection:
    """The k sweep and the choice made from it."""

    candidates: tuple[KCandidate, ...]
    elbow_k: int | None
    silhouette_k: int
    chosen_k: int
    method: Literal["silhouette", "fixed", "baseline"]
    reason: str
    silhouette_sample_size: int | None  # None: silhouette on every row
    n_init: int
    sweep_sample_size: int | None = None  # None: the sweep saw every row


@dataclass(frozen=True)
class Segmentation:
    """The final K-means solution, segments numbered 1..k by size, largest first."""

    k: int
    labels: np.ndarray  # segment number (1..k) per FeatureMatrix row
    centroids: np.ndarray  # (k, p) in the scaled space, row i is segment i+1
    centroids_original: np.ndarray  # (k, p) in the features' own units
    sizes: tuple[int, ...]
    inertia: float
    silhouette: float
    davies_bouldin: float
    calinski_harabasz: float
    silhouette_sample_size: int | None
    sample_silhouettes: np.ndarray  # per-customer silhouette on the (sampled) rows
    sample_labels: np.ndarray  # segment number of each of those rows
    seed: int
    n_init: int
    numbers: tuple[int, ...] = ()  # the segment number of each centroid row: 1..k, or a baseline's numbers

    def __post_init__(self) -> None:
        if not self.numbers:
            object.__setattr__(self, "numbers", tuple(range(1, self.k + 1)))


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
    feature_stats: Mapping[str, Mapping[str, float]]
    id_column: str | None


# --------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class SegmentChange:
    """One segment between a baseline run and this one."""

    number: int  # this run's number (a kept segment keeps the baseline's)
    name: str
    status: Literal["kept", "new", "gone"]
    size_before: int | None
    size_now: int | None
    share_before: float | None
    share_now: float | None
    shift: Mapping[str, float]  # centroid now minus before, per feature, in the features' units
    distance: float | None  # centroid distance in the baseline's scaled space


@dataclass(frozen=True)
class Comparison:
    """What changed since a baseline run: segment sizes and centroids, feature drift, customer migration."""

    baseline_run: str
    baseline_created: str
    baseline_input: str
    features: tuple[str, ...]
    changes: tuple[SegmentChange, ...]
    drift: tuple[Mapping[str, Any], ...]  # per feature: mean and std before and now, shift in baseline stds
    migration: pd.DataFrame | None  # rows: baseline segment, columns: this run's segment, cells: customers
    shared_customers: int
    stayed: int  # shared customers whose segment number did not change
    entered: int  # customers in this run only
    left: int  # customers in the baseline only


# --------------------------------------------------------------------------- charts, report
@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    alt: str
    png: bytes
    section: str = "segments"
    width_mm: float = 170.0


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
    status: str = ""  # "", "new" (issue 5: matched to a baseline)


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
    summary: tuple[Mapping[str, Any], ...]  # per numeric column: name, unit, count, mean, std, min, q1, median, q3, max
    features: tuple[str, ...]
    scaling: Scaling
    selection: KSelection
    segmentation: Segmentation
    profiles: Profiles
    segments: tuple[SegmentView, ...]
    charts: Mapping[str, Chart]
    verdict: str  # "clear", "moderate", "weak"
    verdict_text: str
    settings: Mapping[str, Any]
    versions: Mapping[str, str]
    reproduce: str
    timings: Mapping[str, float]
    accent: str = "#1f4e79"
    paper: str = "A4"
    logo: str | None = None  # data URI
    locale: str = "en"
    comparison: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    """What an engine (pandas, Spark) hands to the rest of the pipeline."""

    dataset: Dataset
    cleaned: CleanResult  # with the Spark engine: a fixed-seed sample of the cleaned rows, for the charts
    matrix: FeatureMatrix  # the same rows as ``cleaned``
    selection: KSelection
    segmentation: Segmentation  # labels of the rows in ``cleaned``; sizes and centroids of every row
    statuses: Mapping[int, str] = field(default_factory=dict)  # segment -> "kept" / "new" against a baseline
    profiles: Profiles | None = None  # None: profile ``cleaned`` (every row)
    segments: pd.DataFrame | None = None  # (ID or row, segment) of every row, when ``cleaned`` is a sample
    summary: tuple[Mapping[str, Any], ...] | None = None  # summary statistics, when ``cleaned`` is a sample


@dataclass(frozen=True)
class RunResult:
    """What ``reportgen.run`` returns: the run folder and everything that was computed."""

    folder: Path | None
    model: ReportModel
    files: tuple[str, ...]
