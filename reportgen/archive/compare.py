"""Stable segment identities across runs: match segments to a baseline run, drift and customer migration.

Segments are matched by an optimal assignment (scipy's ``linear_sum_assignment``: the Hungarian method, exact
and maintained, where a greedy nearest-centroid pass can give two segments the same partner) on the centroids in
the baseline's scaled feature space. A match counts only when the new centroid lies closer to its baseline
centroid than half the distance from that centroid to the nearest other baseline centroid; a new segment without
such a match is "new", a baseline segment left without one is "gone".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..model import BaselineModel, Comparison, FeatureDrift, Segmentation, SegmentChange, SegmentStatus
from ..segmentation.features import apply_scaler


def centroid_distances(baseline: BaselineModel, centroids_original: np.ndarray,
                       onehot: np.ndarray | None = None) -> np.ndarray:
    """Distances (rows: new centroids, columns: baseline centroids) in the baseline's scaled space; ``onehot``:
    the new centroids' categorical prototypes, encoded as the baseline's (see CategoricalEncoding)."""
    scaled = apply_scaler(np.asarray(centroids_original, dtype=float), baseline.scaler)
    if onehot is not None and onehot.shape[1]:
        scaled = np.hstack([scaled, onehot])
    return np.sqrt(((scaled[:, None, :] - baseline.centroids[None, :, :]) ** 2).sum(axis=2))


def match_segments(baseline: BaselineModel, centroids_original: np.ndarray, numbers: tuple[int, ...],
                   onehot: np.ndarray | None = None) -> dict[int, int]:
    """``{new segment number: baseline segment number}`` for the segments with a good match."""
    from scipy.optimize import linear_sum_assignment

    distances = centroid_distances(baseline, centroids_original, onehot)
    base = baseline.centroids
    gaps = np.sqrt(((base[:, None, :] - base[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    limits = 0.5 * gaps.min(axis=1) if len(base) > 1 else np.array([np.inf])
    rows, columns = linear_sum_assignment(distances)
    return {numbers[r]: baseline.numbers[c] for r, c in zip(rows, columns, strict=True)
            if distances[r, c] <= limits[c]}


def stable_numbers(baseline: BaselineModel, seg: Segmentation) -> tuple[dict[int, int], dict[int, SegmentStatus]]:
    """Renumbering ``{current number: stable number}``: a matched segment takes its baseline number, a new one
    the next number after the highest the baseline and its own baselines ever gave (largest first), so that a
    number never means two segments in one chain of runs. Also ``{stable number: status}``."""
    matches = match_segments(baseline, seg.centroids_original, seg.numbers,
                             seg.centroids[:, len(baseline.features):])
    mapping: dict[int, int] = {}
    statuses: dict[int, SegmentStatus] = {}
    following = baseline.highest_number + 1  # never a number an earlier run of the chain gave another segment
    for number in seg.numbers:  # already largest first
        if number in matches:
            mapping[number] = matches[number]
            statuses[matches[number]] = "kept"
        else:
            mapping[number] = following
            statuses[following] = "new"
            following += 1
    return mapping, statuses


def migration_matrix(before: pd.DataFrame | None, after: pd.DataFrame | None, *, partners: Mapping[int, int]
                     ) -> tuple[pd.DataFrame | None, int, int, int, int]:
    """Customers by (baseline segment, current segment) over the IDs in both runs; also shared, stayed, entered
    and left counts. Frames are (id, segment); None when a run has no customer IDs.

    ``partners``: ``{current segment number: the baseline segment number it was matched to}``
    (:func:`match_segments`). A customer stayed when its current segment is the one matched to its baseline
    segment, whatever the two runs' numbers: two runs made without ``--baseline`` number their segments each by
    size, so the same number may mean another segment."""
    if before is None or after is None:
        return None, 0, 0, 0, 0
    left_ids = before.set_axis(["id", "before"], axis=1).astype({"id": str}).drop_duplicates("id")
    right_ids = after.set_axis(["id", "after"], axis=1).astype({"id": str}).drop_duplicates("id")
    joined = left_ids.merge(right_ids, on="id", how="outer", indicator=True)
    both = joined[joined["_merge"] == "both"]
    entered = int((joined["_merge"] == "right_only").sum())
    left = int((joined["_merge"] == "left_only").sum())
    if both.empty:
        return None, 0, 0, entered, left
    matrix = pd.crosstab(both["before"].astype(int), both["after"].astype(int))
    matrix.index.name, matrix.columns.name = "baseline segment", "segment"
    matched_to = both["after"].astype(int).map(partners)  # NaN: a segment matched to none of the baseline's
    stayed = int((matched_to == both["before"].astype(int)).sum())
    return matrix, len(both), stayed, entered, left


def drift(before: Mapping[str, Mapping[str, float | None]], now: Mapping[str, Mapping[str, float | None]],
          features: tuple[str, ...]) -> tuple[FeatureDrift, ...]:
    """Per feature: mean and standard deviation before and now, and the shift of the mean in baseline stds."""
    rows = []
    for feature in features:
        b, n = before.get(feature, {}), now.get(feature, {})
        mean_b, mean_n, std_b = b.get("mean"), n.get("mean"), b.get("std")
        shift = (mean_n - mean_b) / std_b if mean_b is not None and mean_n is not None and std_b else None
        rows.append(FeatureDrift(feature=feature, mean_before=mean_b, mean_now=mean_n, std_before=std_b,
                                 std_now=n.get("std"), shift_in_std=shift))
    return tuple(rows)


def compare_runs(before: BaselineModel, after: BaselineModel, *, before_ids: pd.DataFrame | None,
                 after_ids: pd.DataFrame | None) -> Comparison:
    """What changed from ``before`` to ``after`` (both as portable models, so two archived runs compare
    without their data)."""
    if [f.casefold() for f in before.features] != [f.casefold() for f in after.features]:
        raise ConfigError(f"the runs cluster on different features ({', '.join(before.features)} and "
                          f"{', '.join(after.features)}), so their segments cannot be compared",
                          hint="Compare runs made with the same --features.")
    if (before.categories is None) != (after.categories is None) or (
            before.categories is not None and after.categories is not None
            and ([c.casefold() for c in before.categories.columns], before.categories.levels)
            != ([c.casefold() for c in after.categories.columns], after.categories.levels)):
        raise ConfigError("the runs cluster on different categorical columns or levels, so their segments cannot "
                          "be compared", hint="Compare runs made with the same --categorical and --features.")
    onehot = after.centroids[:, len(after.features):]
    if before.categories is not None and after.categories is not None and after.categories.weight > 0:
        onehot = onehot * (before.categories.weight / after.categories.weight)  # in the earlier run's space
    matches = match_segments(before, after.centroids_original, after.numbers, onehot)
    distances = centroid_distances(before, after.centroids_original, onehot)
    row_before = {number: i for i, number in enumerate(before.numbers)}
    total_before, total_after = sum(before.sizes) or 1, sum(after.sizes) or 1
    changes = []
    for j, number in enumerate(after.numbers):
        partner = matches.get(number)
        i = row_before.get(partner) if partner is not None else None
        changes.append(SegmentChange(
            number=number, name=after.names[number], status="kept" if i is not None else "new",
            size_before=before.sizes[i] if i is not None else None, size_now=after.sizes[j],
            share_before=before.sizes[i] / total_before if i is not None else None,
            share_now=after.sizes[j] / total_after,
            shift={f: float(after.centroids_original[j, p] - before.centroids_original[i, p])
                   for p, f in enumerate(after.features)} if i is not None else {},
            distance=float(distances[j, i]) if i is not None else None,
            partner=partner if i is not None else None,
        ))
    for i, number in enumerate(before.numbers):
        if number not in matches.values():
            changes.append(SegmentChange(number=number, name=before.names[number], status="gone",
                                         size_before=before.sizes[i], size_now=None,
                                         share_before=before.sizes[i] / total_before, share_now=None,
                                         shift={}, distance=None, partner=number))
    matrix, shared, stayed, entered, left = migration_matrix(before_ids, after_ids, partners=matches)
    gone = [c.number for c in changes if c.status == "gone"]
    in_gone = int(matrix.loc[matrix.index.isin(gone)].to_numpy().sum()) if matrix is not None else 0
    return Comparison(
        baseline_run=before.run, baseline_created=before.created, baseline_input=before.input_name,
        features=after.features, changes=tuple(changes),
        drift=drift(before.feature_stats, after.feature_stats, after.features),
        migration=matrix, shared_customers=shared, stayed=stayed, entered=entered, left=left, in_gone=in_gone,
    )


def compare_folders(before: Path, after: Path) -> Comparison:
    """Compare two archived runs from their run folders alone (model.json and segments.csv)."""
    from .runs import baseline_segments, load_baseline

    first, second = load_baseline(before), load_baseline(after)
    return compare_runs(first, second, before_ids=baseline_segments(first), after_ids=baseline_segments(second))
