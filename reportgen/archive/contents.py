"""The data files of a run folder, built from the analysis: segments.csv, profiles.csv, rules.csv, segments.sql,
metrics.json, model.json (the portable model a later run takes as its baseline), summary.json, comparison.json.

Every file's bytes are deterministic for the same input and settings (fixed float format, ``\n`` line ends,
significant digits for metrics), so reruns are byte-identical. The manifest is :mod:`reportgen.archive.manifest`'s,
writing the folder :mod:`reportgen.archive.folder`'s, reading archived runs :mod:`reportgen.archive.runs`'."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..describe.rules import segments_sql, table_name
from ..model import (
    Agreement,
    Analysis,
    BaselineModel,
    Chart,
    Comparison,
    FeatureMatrix,
    KpiTarget,
    KSelection,
    Persona,
    Profiles,
    ReportModel,
    Segmentation,
    SegmentRules,
    Stability,
    Stake,
    SummaryRow,
)
from ..segmentation.stability import verdict_word as stability_word
from .files import FileData, csv_bytes, csv_parts, json_bytes, sig


# ----------------------------------------------------------------------------- the data files
def segments_table(assignments: pd.DataFrame, personas: Sequence[Persona]) -> pd.DataFrame:
    """segments.csv: one row per kept customer, in input order: ID (or row), segment, segment_name."""
    names = {p.segment: p.name for p in personas}
    numbers = sorted(names)
    codes = np.searchsorted(numbers, assignments["segment"].to_numpy())  # a categorical: a million rows, a few names
    return assignments.assign(segment=assignments["segment"].astype(np.int64),
                              segment_name=pd.Categorical.from_codes(codes, [names[n] for n in numbers]))


def profiles_table(profiles: Profiles, personas: Sequence[Persona], stake: Stake | None = None) -> pd.DataFrame:
    """Per segment (and a final ``all`` row): size, share (and the share of the money column, ``value share:
    <column>``, where one is known), mean and median of every numeric column, and the share of every category of
    every categorical column."""
    names = {p.segment: p.name for p in personas}
    categories = {c: list(profiles.overall_categories[c]) for c in profiles.categorical}
    rows: list[dict[str, Any]] = []
    for seg in profiles.segments:
        row: dict[str, Any] = {"segment": str(seg.segment), "segment_name": names[seg.segment],
                               "size": seg.size, "share": seg.share}
        if stake is not None:
            row[f"value share: {stake.column}"] = stake.shares[seg.segment]
        row.update({f"mean: {c}": seg.means[c] for c in profiles.numeric})
        row.update({f"median: {c}": seg.medians[c] for c in profiles.numeric})
        for column, values in categories.items():
            row.update({f"share: {column}={v}": seg.categories[column].get(v, 0.0) for v in values})
        rows.append(row)
    total: dict[str, Any] = {"segment": "all", "segment_name": "All customers", "size": profiles.total,
                             "share": 1.0}
    if stake is not None:
        total[f"value share: {stake.column}"] = 1.0
    total.update({f"mean: {c}": profiles.overall_means[c] for c in profiles.numeric})
    total.update({f"median: {c}": profiles.overall_medians[c] for c in profiles.numeric})
    for column, values in categories.items():
        total.update({f"share: {column}={v}": profiles.overall_categories[column][v] for v in values})
    rows.append(total)
    return pd.DataFrame(rows)


def agreement_dict(found: Agreement | None) -> dict[str, Any] | None:
    """metrics.json's ``agreement``: the adjusted Rand index of every other algorithm at the chosen k."""
    if found is None:
        return None
    return {"method": "adjusted Rand index with the chosen segments, the other algorithms fitted at the same k",
            "k": found.k, "customers": found.customers, "ari": {m.algorithm: sig(m.ari, 4) for m in found.methods}}


def rules_table(rules: SegmentRules, names: Mapping[int, str]) -> pd.DataFrame:
    """rules.csv: per segment, its rule in words and as SQL, the customers it covers and those it takes in (the
    rule on its own), and whether segments.sql applies it (``in_segments_sql``; ``first``: before the others)."""
    return pd.DataFrame([{
        "segment": r.segment, "segment_name": names.get(r.segment, ""), "rule": r.text, "sql": r.sql,
        "customers": r.size, "covered": r.covered, "covered_share": r.covered_share, "picked": r.picked,
        "wrongly_included": r.wrong, "wrongly_included_share": r.wrong_share,
        "in_segments_sql": "yes" if r.in_sql and r.paths else "no", "first": "yes" if r.first and r.in_sql else "no",
    } for r in rules.rules])


def stability_dict(stability: Stability | None) -> dict[str, Any] | None:
    """metrics.json's ``stability``: the method, the resamples and each segment's mean Jaccard."""
    if stability is None:
        return None
    return {"method": stability.method, "resamples": stability.resamples, "sample_size": stability.sample_size,
            "segments": {str(n): sig(j, 4) for n, j in stability.segments.items()},
            "words": {str(n): stability_word(j) for n, j in stability.segments.items()},
            "dissolved": {str(n): v for n, v in stability.dissolved.items()},
            "recovered": {str(n): v for n, v in stability.recovered.items()}}


def treatment_dict(matrix: FeatureMatrix) -> dict[str, Any]:
    """How each feature was brought into the clustering space (metrics.json and manifest.json)."""
    return {
        "extreme_customers": matrix.extreme_customers,
        "features": [{"feature": t.name, "skewness": sig(t.skew, 4), "transform": t.transform or "none",
                      "why": t.why, "extreme": t.extreme, "clipped": t.clipped, "clip_low": sig(t.clip_low, 6),
                      "clip_high": sig(t.clip_high, 6)} for t in matrix.treatments],
    }


def metrics(selection: KSelection, seg: Segmentation, *, features: tuple[str, ...], scaling: str,
            rows: int, engine: str = "pandas", stability: Stability | None = None,
            matrix: FeatureMatrix | None = None) -> dict[str, Any]:
    return {
        "engine": engine,
        "k": seg.k,
        "features": list(features),
        **({"categorical_features": list(matrix.categories.columns), "gamma": sig(matrix.categories.gamma, 4),
            **({"unseen_levels": dict(matrix.unseen_levels)} if matrix.unseen_levels else {})}
           if matrix is not None and matrix.categories is not None else {}),
        "scaling": scaling,
        "rows": rows,
        "sizes": list(seg.sizes),
        **{key: sig(value) for key, value in seg.scores.items()},
        "inertia": sig(seg.inertia),
        "silhouette_sample_size": seg.silhouette_sample_size,
        "silhouette_sampled": seg.silhouette_sample_size is not None,
        "seed": seg.seed,
        "n_init": seg.n_init,
        "stability": stability_dict(stability),
        "preparation": treatment_dict(matrix) if matrix is not None else None,
        "k_selection": {
            "method": selection.method,
            "votes": {v.key: v.k for v in selection.votes},
            "vote_rules": {v.key: v.rule for v in selection.votes},
            "min_share": selection.min_share,
            "gap_references": selection.gap_references,
            "gap_k1": None if selection.gap_one is None else {"gap": sig(selection.gap_one[0]),
                                                             "se": sig(selection.gap_one[1])},
            "elbow_k": selection.elbow_k,
            "silhouette_k": selection.silhouette_k,
            "chosen_k": selection.chosen_k,
            "reason": selection.reason,
            "n_init": selection.n_init,
            "silhouette_sample_size": selection.silhouette_sample_size,
            "sweep_sample_size": selection.sweep_sample_size,
            "candidates": [{"k": c.k, "inertia": sig(c.inertia), **{key: sig(v) for key, v in c.scores.items()},
                            "gap_se": sig(c.gap_se), "smallest_share": sig(c.smallest, 4),
                            "considered": c.smallest >= selection.min_share}
                           for c in selection.candidates],
        },
    }


def portable_model(seg: Segmentation, personas: Sequence[Persona], matrix: FeatureMatrix,
                   summary: Sequence[SummaryRow], *, id_column: str | None, rows: int, run: str = "this run",
                   created: str = "", input_name: str = "", highest: int = 0) -> BaselineModel:
    """This run's model as a later run reads it: scaler, centroids, names, sizes and the features' statistics
    (for drift); model.json is its serialisation."""
    names = {p.segment: p.name for p in personas}
    stats = {s.name: {"mean": sig(s.mean), "std": sig(s.std), "median": sig(s.median), "min": sig(s.min),
                      "max": sig(s.max)}  # rounded as model.json stores them, so a later comparison agrees
             for s in summary if s.name in matrix.names}
    return BaselineModel(folder=None, run=run, created=created, input_name=input_name, features=matrix.names,
                         scaler=matrix.scaler, numbers=seg.numbers, names={n: names[n] for n in seg.numbers},
                         centroids=seg.centroids, centroids_original=seg.centroids_original, sizes=seg.sizes,
                         feature_stats={f: stats[f] for f in matrix.names if f in stats}, id_column=id_column,
                         rows=rows, categories=matrix.categories, highest=max(highest, *seg.numbers, 0))


def model_json(model: BaselineModel, algorithm: str = "kmeans") -> dict[str, Any]:
    """model.json: scaler and centroids as JSON, enough to assign new customers to these segments (no pickle),
    and the features' statistics, for drift against a later run."""
    return {
        "kind": algorithm,
        "schema_version": 1,
        "features": list(model.features),
        "id_column": model.id_column,
        "rows": model.rows,
        "highest_segment": model.highest_number,  # a later --baseline run numbers its new segments above it
        "feature_stats": {f: {k: sig(v) for k, v in stats.items()} for f, stats in model.feature_stats.items()},
        "scaler": {"method": model.scaler.method, "center": list(model.scaler.center),
                   "scale": list(model.scaler.scale), "transforms": list(model.scaler.transforms),
                   "clip_low": list(model.scaler.clip_low), "clip_high": list(model.scaler.clip_high)},
        **({"categories": {"columns": list(model.categories.columns),
                           "levels": [list(levels) for levels in model.categories.levels],
                           "gamma": model.categories.gamma}} if model.categories is not None else {}),
        "segments": [
            {"segment": number, "name": model.names[number], "size": model.sizes[i],
             "centroid": [float(v) for v in model.centroids[i]],
             "centroid_original": [float(v) for v in model.centroids_original[i]],
             **({"prototype": prototype(model, i)} if model.categories is not None else {})}
            for i, number in enumerate(model.numbers)
        ],
    }


def prototype(model: BaselineModel, row: int) -> dict[str, str]:
    """The most common level of each clustered categorical column in segment row ``row`` (its one-hot block's
    largest entry)."""
    assert model.categories is not None
    out, start = {}, len(model.features)
    for column, levels in zip(model.categories.columns, model.categories.levels, strict=True):
        block = model.centroids[row, start:start + len(levels)]
        out[column] = levels[int(np.argmax(block))] if len(levels) else ""
        start += len(levels)
    return out


def summary(model: ReportModel) -> dict[str, Any]:
    """summary.json: what the report said: segment names, personas and recommendations, with the rule behind
    each."""
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
             **({"value_share": sig(model.stake.shares[s.number], 6)} if model.stake is not None else {}),
             "status": s.status, "rule": s.persona.rule_id, "traits": list(s.persona.traits),
             "persona": s.persona.persona,
             "recommendations": [vars(r) for r in s.persona.recommendations],
             "kpi": kpi_dict(s.persona.kpi)}
            for s in model.segments
        ],
        "value": None if model.stake is None else {"column": model.stake.column, "label": model.stake.label,
                                                   "total": sig(model.stake.total, 10)},
        "priorities": [{"rank": p.rank, "segment": p.segment, "name": p.name, "action": p.action,
                        "customers": p.customers,
                        "value_share": None if p.value_share is None else sig(p.value_share, 6),
                        "kpi": kpi_dict(p.kpi)} for p in model.priorities],
        "kpi_outcomes": [{"rank": o.rank, "segment_before": o.segment_before, "segment_now": o.segment_now,
                          "name": o.name, "action": o.action, "kpi": o.kpi, "then": sig(o.then, 4),
                          "now": None if o.now is None else sig(o.now, 4), "target": sig(o.target, 4),
                          "met": o.met} for o in model.outcomes],
    }


def kpi_dict(kpi: KpiTarget | None) -> dict[str, Any] | None:
    """A KPI as summary.json keeps it: enough for the next run to measure it again (column, direction,
    threshold) and to judge it (current, target)."""
    if kpi is None:
        return None
    return {"text": kpi.text, "column": kpi.column, "good": kpi.good, "threshold": sig(kpi.threshold, 6),
            "current": sig(kpi.current, 4), "target": sig(kpi.target, 4)}


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    """comparison.json. A segment's ``segment`` is its number in this run (a gone one's: in the baseline);
    ``segment_before`` and ``segment_now`` are its numbers in each run (null where it has none). ``same_segment``
    counts the shared customers now in the segment matched to their baseline segment, whatever its number."""
    migration = None
    if comparison.migration is not None:
        migration = {str(b): {str(a): int(v) for a, v in row.items()} for b, row in comparison.migration.iterrows()}
    return {
        "baseline": {"run": comparison.baseline_run, "created": comparison.baseline_created,
                     "input": comparison.baseline_input},
        "features": list(comparison.features),
        "segments": [
            {"segment": c.number, "segment_before": c.number_before, "segment_now": c.number_now,
             "name": c.name, "status": c.status, "size_before": c.size_before,
             "size_now": c.size_now, "share_before": sig(c.share_before, 6), "share_now": sig(c.share_now, 6),
             "centroid_shift": {f: sig(v, 6) for f, v in c.shift.items()}, "distance": sig(c.distance, 6)}
            for c in comparison.changes
        ],
        "drift": [{"feature": d.feature, "mean_before": sig(d.mean_before, 6), "mean_now": sig(d.mean_now, 6),
                   "std_before": sig(d.std_before, 6), "std_now": sig(d.std_now, 6),
                   "shift_in_std": sig(d.shift_in_std, 6)} for d in comparison.drift],
        "customers": {"shared": comparison.shared_customers, "same_segment": comparison.stayed,
                      "same_segment_share": sig(comparison.stayed / comparison.shared_customers, 6)
                      if comparison.shared_customers else None,
                      "entered": comparison.entered, "left": comparison.left,
                      "in_gone_segments": comparison.in_gone},
        "migration": migration,
    }


def migration_table(comparison: Comparison) -> pd.DataFrame | None:
    """migration.csv: one row per baseline segment, one column per current segment."""
    if comparison.migration is None:
        return None
    table = comparison.migration.copy()
    table.columns = [f"segment {c}" for c in table.columns]
    return table.reset_index()


def data_files(analysis: Analysis, model: ReportModel, charts: Sequence[Chart]) -> dict[str, FileData]:
    """Every file of the run folder except the report and the manifest."""
    files: dict[str, FileData] = {
        "segments.csv": csv_parts(segments_table(analysis.assignments, analysis.personas)),
        "profiles.csv": csv_bytes(profiles_table(analysis.profiles, analysis.personas, analysis.stake)),
        "cleaning.csv": csv_bytes(analysis.cleaned.log),
        "metrics.json": json_bytes({**metrics(analysis.selection, analysis.segmentation,
                                              features=analysis.matrix.names, scaling=analysis.matrix.scaler.method,
                                              rows=analysis.cleaned.account.rows_out, engine=analysis.engine,
                                              stability=analysis.stability, matrix=analysis.matrix),
                                    "agreement": agreement_dict(analysis.agreement)}),
        "model.json": json_bytes(model_json(analysis.portable, analysis.segmentation.algorithm)),
        "summary.json": json_bytes(summary(model)),
    }
    if analysis.rules is not None:
        names = {p.segment: p.name for p in analysis.personas}
        files["rules.csv"] = csv_bytes(rules_table(analysis.rules, names))
        files["segments.sql"] = segments_sql(analysis.rules, table=table_name(analysis.dataset.source.name),
                                             run=model.run_name, names=names).encode("utf-8")
    files.update({f"charts/{chart.name}.png": chart.png for chart in charts})
    if analysis.comparison is not None:
        files["comparison.json"] = json_bytes(comparison_dict(analysis.comparison))
        migration = migration_table(analysis.comparison)
        if migration is not None:
            files["migration.csv"] = csv_bytes(migration)
    return files
