"""The data files of a run folder, built as plain values (pure functions; snapshot.py writes them).

segments.csv, profiles.csv, cleaning.csv, metrics.json, model.json (portable scaler and centroids) and
summary.json (names, personas, recommendations: what the report said, and by which rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .model import CleanResult, KSelection, Persona, Profiles, ReportModel, Segmentation


def sig(value: float, digits: int = 8) -> float | None:
    """Round to ``digits`` significant digits, so metrics stay byte-identical across BLAS builds."""
    if value is None or not np.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}")


def segments_table(cleaned: CleanResult, seg: Segmentation, personas: tuple[Persona, ...],
                   every_row: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per kept customer, in input order: ID (or row), segment, segment_name. ``every_row`` gives the
    (ID or row, segment) pairs when ``cleaned`` holds only a sample (the Spark engine)."""
    names = {p.segment: p.name for p in personas}
    if every_row is not None:
        numbers = sorted(names)
        codes = np.searchsorted(numbers, every_row["segment"].to_numpy())
        return every_row.assign(segment_name=pd.Categorical.from_codes(codes, [names[n] for n in numbers]))
    if cleaned.id_column is not None:
        first = cleaned.frame[cleaned.id_column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(first) and first.dropna().mod(1).eq(0).all():
            first = first.astype("Int64")
    else:
        first = pd.Series(cleaned.frame.index.to_numpy(), name="row")
    numbers = sorted(names)
    codes = np.searchsorted(numbers, seg.labels)  # a categorical: a million rows, a few names
    return pd.DataFrame({
        first.name: first,
        "segment": seg.labels.astype(np.int64),
        "segment_name": pd.Categorical.from_codes(codes, categories=[names[n] for n in numbers]),
    })


def profiles_table(profiles: Profiles, personas: tuple[Persona, ...]) -> pd.DataFrame:
    """Per segment (and a final ``all`` row): size, share, mean and median of every numeric column, and the
    share of every category of every categorical column."""
    names = {p.segment: p.name for p in personas}
    categories = {c: list(profiles.overall_categories[c]) for c in profiles.categorical}
    rows: list[dict[str, Any]] = []
    for seg in profiles.segments:
        row: dict[str, Any] = {"segment": str(seg.segment), "segment_name": names[seg.segment],
                               "size": seg.size, "share": seg.share}
        row.update({f"mean: {c}": seg.means[c] for c in profiles.numeric})
        row.update({f"median: {c}": seg.medians[c] for c in profiles.numeric})
        for column, values in categories.items():
            row.update({f"share: {column}={v}": seg.categories[column].get(v, 0.0) for v in values})
        rows.append(row)
    total: dict[str, Any] = {"segment": "all", "segment_name": "All customers", "size": profiles.total,
                             "share": 1.0}
    total.update({f"mean: {c}": profiles.overall_means[c] for c in profiles.numeric})
    total.update({f"median: {c}": profiles.overall_medians[c] for c in profiles.numeric})
    for column, values in categories.items():
        total.update({f"share: {column}={v}": profiles.overall_categories[column][v] for v in values})
    rows.append(total)
    return pd.DataFrame(rows)


def metrics(selection: KSelection, seg: Segmentation, *, features: tuple[str, ...], scaling: str,
            rows: int, engine: str = "pandas") -> dict[str, Any]:
    return {
        "engine": engine,
        "k": seg.k,
        "features": list(features),
        "scaling": scaling,
        "rows": rows,
        "sizes": list(seg.sizes),
        "silhouette": sig(seg.silhouette),
        "davies_bouldin": sig(seg.davies_bouldin),
        "calinski_harabasz": sig(seg.calinski_harabasz),
        "inertia": sig(seg.inertia),
        "silhouette_sample_size": seg.silhouette_sample_size,
        "silhouette_sampled": seg.silhouette_sample_size is not None,
        "seed": seg.seed,
        "n_init": seg.n_init,
        "k_selection": {
            "method": selection.method,
            "elbow_k": selection.elbow_k,
            "silhouette_k": selection.silhouette_k,
            "chosen_k": selection.chosen_k,
            "reason": selection.reason,
            "n_init": selection.n_init,
            "silhouette_sample_size": selection.silhouette_sample_size,
            "sweep_sample_size": selection.sweep_sample_size,
            "candidates": [
                {"k": c.k, "inertia": sig(c.inertia), "silhouette": sig(c.silhouette),
                 "davies_bouldin": sig(c.davies_bouldin), "calinski_harabasz": sig(c.calinski_harabasz)}
                for c in selection.candidates
            ],
        },
    }


def portable_model(seg: Segmentation, personas: tuple[Persona, ...], *, features: tuple[str, ...],
                   scaler_method: str, center: tuple[float, ...], scale: tuple[float, ...],
                   cleaned: CleanResult | None = None) -> dict[str, Any]:
    """Scaler and centroids as JSON, enough to assign new customers to these segments (no pickle), and the
    features' statistics, for drift against a later run."""
    names = {p.segment: p.name for p in personas}
    stats = {}
    if cleaned is not None:
        for feature in features:
            values = cleaned.frame[feature].astype(float)
            stats[feature] = {"mean": sig(values.mean()), "std": sig(values.std(ddof=0)),
                              "median": sig(values.median()), "min": sig(values.min()), "max": sig(values.max())}
    return {
        "kind": "kmeans",
        "schema_version": 1,
        "features": list(features),
        "id_column": cleaned.id_column if cleaned is not None else None,
        "rows": len(seg.labels),
        "feature_stats": stats,
        "scaler": {"method": scaler_method, "center": list(center), "scale": list(scale)},
        "segments": [
            {"segment": number, "name": names[number], "size": seg.sizes[i],
             "centroid": [float(v) for v in seg.centroids[i]],
             "centroid_original": [float(v) for v in seg.centroids_original[i]]}
            for i, number in enumerate(seg.numbers)
        ],
    }


def summary(model: ReportModel) -> dict[str, Any]:
    """What the report said: segment names, personas and recommendations, with the rule behind each."""
    return {
        "title": model.title,
        "run": model.run_name,
        "created": model.generated_at,
        "input": {"name": model.source.name, "sha256": model.source.sha256, "rows": model.rows_read},
        "customers": model.account.rows_out,
        "k": model.segmentation.k,
        "silhouette": sig(model.segmentation.silhouette, 4),
        "verdict": model.verdict,
        "segments": [
            {"segment": s.number, "name": s.name, "size": s.size, "share": sig(s.share, 6),
             "status": s.status, "rule": s.persona.rule_id, "traits": list(s.persona.traits),
             "persona": s.persona.persona,
             "recommendations": [vars(r) for r in s.persona.recommendations]}
            for s in model.segments
        ],
    }
