"""The data contract of segmentation: the feature matrix and its scaling, the k sweep and its votes, the segments,
their stability and the agreement between methods."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the annotations are strings: importing the contract loads neither numpy nor pandas
    import numpy as np



Scaling = Literal["standard", "minmax", "none"]
TransformPolicy = Literal["auto", "none"]
OutlierPolicy = Literal["clip", "keep"]
Transform = Literal["", "log"]  # per feature: "" leaves the values as they are


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


HIGH, PARTLY = 0.8, 0.5  # the words: "the same segments", "partly the same", "other segments"


@dataclass(frozen=True)
class MethodAgreement:
    algorithm: str  # the key in ALGORITHMS
    name: str
    ari: float  # adjusted Rand index with the chosen segments


@dataclass(frozen=True)
class Agreement:
    chosen: str  # the chosen algorithm's name
    k: int
    customers: int  # the customers compared
    methods: tuple[MethodAgreement, ...]

    @property
    def sentence(self) -> str:
        if not self.methods:
            return ""
        low = min(m.ari for m in self.methods)
        names = " and ".join(m.name for m in self.methods)
        if low >= HIGH:
            return (f"{names} find nearly the same {self.k} segments (adjusted Rand index at least {low:.2f}): the "
                    "segments are in the data, not an artefact of one method.")
        if low >= PARTLY:
            return (f"{names} find partly the same segments (adjusted Rand index down to {low:.2f}): the main "
                    "groups hold across methods, their edges depend on the method.")
        return (f"{names} find other segments (adjusted Rand index down to {low:.2f}): these segments depend on "
                f"the method ({self.chosen}); treat their edges as one reading of the data, not a fact.")
