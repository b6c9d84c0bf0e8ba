"""Run folders: their data files and manifest, built from the analysis, and written atomically.

Every file's bytes are deterministic for the same input and settings (fixed float format, ``\\n`` line ends,
significant digits for metrics), so reruns are byte-identical. The folder is built under a hidden temporary name
and renamed when complete. Reading archived runs is :mod:`reportgen.runs`' job.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .agreement import Agreement
from .cells import escape_frame
from .errors import OutputError
from .explain import SegmentRules, segments_sql, table_name
from .model import (
    Analysis,
    Attached,
    BaselineModel,
    Chart,
    Comparison,
    FeatureMatrix,
    KSelection,
    Persona,
    Profiles,
    ReportModel,
    Segmentation,
    Stability,
    SummaryRow,
)
from .stability import verdict_word as stability_word

SCHEMA_VERSION = 2  # 2: report.pdf embeds the data files and the manifest, and is hashed in seal.json
FLOAT_FORMAT = "%.4f"
MANIFEST = "manifest.json"
SEAL = "seal.json"  # the sha256 of the files made after the manifest (the PDF that embeds it), and their times
REPORT_PDF = "report.pdf"


# ----------------------------------------------------------------------------- deterministic serialisation
def sig(value: float | None, digits: int = 8) -> float | None:
    """Round to ``digits`` significant digits, so metrics stay byte-identical across BLAS builds."""
    if value is None or not np.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}")


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities -> None, numpy scalars and arrays -> Python, paths -> str."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):  # milliseconds: two runs in one second still sort in the order they started
        return value.isoformat(timespec="milliseconds")
    return value


def json_bytes(value: Any) -> bytes:
    """Stable, valid JSON (``allow_nan=False``), two-space indented, ending with a newline."""
    return (json.dumps(jsonable(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


ARROW_CSV_ROWS = 100_000  # frames this long (segments.csv of many customers) are joined by pyarrow
ARROW_CSV_CHUNK = 1_000_000


Part = bytes | memoryview
FileData = bytes | Iterable[Part]  # a file's bytes, or its parts, made as they are written (a long CSV)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with a fixed float format and ``\\n`` line ends, so runs diff cleanly; safe to open in a spreadsheet
    (a text cell that would run as a formula gets a leading ``'``: :mod:`reportgen.cells`). A long frame of
    whole numbers and texts that need no quotes is written by pyarrow (ten times faster), byte for byte as pandas
    would."""
    return b"".join(csv_parts(frame))


def csv_parts(frame: pd.DataFrame) -> Iterable[Part]:
    """:func:`csv_bytes` in parts, each made as it is written (once): a long frame's CSV is never held whole."""
    frame = escape_frame(frame)
    if len(frame) >= ARROW_CSV_ROWS:
        fast = _arrow_csv(frame)
        if fast is not None:
            return fast
    return (frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n").encode("utf-8"),)


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _quoted(text: str) -> str:
    """A CSV field as pandas (csv.QUOTE_MINIMAL) writes it."""
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def _may_need_quotes(field: Any) -> bool:
    """Whether a pyarrow string array may hold a comma, a quote or a line end: one look at its data buffer (which
    may hold bytes of values outside the array: then it says yes, and pandas writes the file)."""
    for chunk in getattr(field, "chunks", [field]):
        data = chunk.buffers()[2]
        text = b"" if data is None else data.to_pybytes()  # a copy, searched by memchr: 0.1 s for 90 MB
        if any(mark in text for mark in (b",", b'"', b"\n", b"\r")):
            return True
    return False


def _category_chunk(rendered: Any, codes: np.ndarray, start: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    part = codes[start:start + ARROW_CSV_CHUNK]
    return pc.take(rendered, pa.array(part, mask=part < 0))


def _number_chunk(numbers: Any, start: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(numbers.slice(start, ARROW_CSV_CHUNK), pa.string())


def _text_chunk(texts: Any, start: int) -> Any:
    return texts.slice(start, ARROW_CSV_CHUNK)


def _arrow_csv(frame: pd.DataFrame) -> Iterator[Part] | None:
    """The frame as pandas writes it, its lines joined by pyarrow's compute functions a million at a time, as the
    file is written (ten million lines of segments.csv are 470 MB, never held at once): integers as pyarrow spells
    them, categories quoted once each, texts as they are. None where the result could differ from pandas' (floats,
    which pandas writes in FLOAT_FORMAT; booleans and dates; a text that needs quotes) or pyarrow is missing."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    fields: list[Callable[[int], Any]] = []  # the first line of a chunk -> its field of each line, as text
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes = series.cat.codes.to_numpy()
            rendered = pa.array([_quoted(str(c)) for c in series.cat.categories], type=pa.string())
            fields.append(partial(_category_chunk, rendered, codes))
        elif pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            numbers = pa.array(series, from_pandas=True)
            fields.append(partial(_number_chunk, numbers))
        elif pd.api.types.is_string_dtype(series.dtype) and (
                series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")):
            texts = pa.array(series, type=pa.string(), from_pandas=True)
            if _may_need_quotes(texts):
                return None
            fields.append(partial(_text_chunk, texts))
        else:
            return None
    if not fields:
        return None
    header = frame.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8")

    def parts() -> Iterator[Part]:
        comma, newline = pa.scalar(",", type=pa.large_string()), pa.scalar("\n", type=pa.large_string())
        yield header
        for start in range(0, len(frame), ARROW_CSV_CHUNK):
            lines = pc.binary_join_element_wise(
                *(pc.fill_null(field(start), "").cast(pa.large_string()) for field in fields), comma)
            body = pc.binary_join(pa.LargeListArray.from_arrays(pa.array([0, len(lines)], type=pa.int64()), lines),
                                  newline)
            offsets = np.frombuffer(body.buffers()[1], dtype=np.int64)[:2]
            yield memoryview(body.buffers()[2])[int(offsets[0]):int(offsets[1])]  # the buffer itself, no copy
            yield b"\n"

    return parts()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- the data files
def segments_table(assignments: pd.DataFrame, personas: Sequence[Persona]) -> pd.DataFrame:
    """segments.csv: one row per kept customer, in input order: ID (or row), segment, segment_name."""
    names = {p.segment: p.name for p in personas}
    numbers = sorted(names)
    codes = np.searchsorted(numbers, assignments["segment"].to_numpy())  # a categorical: a million rows, a few names
    return assignments.assign(segment=assignments["segment"].astype(np.int64),
                              segment_name=pd.Categorical.from_codes(codes, [names[n] for n in numbers]))


def profiles_table(profiles: Profiles, personas: Sequence[Persona]) -> pd.DataFrame:
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
             "status": s.status, "rule": s.persona.rule_id, "traits": list(s.persona.traits),
             "persona": s.persona.persona,
             "recommendations": [vars(r) for r in s.persona.recommendations]}
            for s in model.segments
        ],
    }


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
        "profiles.csv": csv_bytes(profiles_table(analysis.profiles, analysis.personas)),
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


def manifest(model: ReportModel, analysis: Analysis, settings: Mapping[str, Any], *, started: datetime,
             timings: Mapping[str, float]) -> dict[str, Any]:
    """manifest.json, without the files' hashes (:func:`write_run` adds them)."""
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run": model.run_name,
        "reportgen": model.version,
        "versions": dict(model.versions),
        "settings": dict(settings),
        "input": {
            "name": model.source.name, "path": model.source.path, "size": model.source.size,
            "sha256": model.source.sha256, "format": model.source.format, "encoding": model.source.encoding,
            "delimiter": model.source.delimiter, "sheet": model.source.sheet, "query": model.source.query,
            "query_sha256": model.source.query_sha256, "rows": model.rows_read,
            "numbers": {"decimal": model.source.numbers.decimal, "how": model.source.numbers.how,
                        "columns": dict(model.source.numbers.columns)},
            "columns": len(model.columns),
            "column_roles": {c.name: c.role for c in model.columns},
            "columns_detail": [{"column": c.name, "role": c.role, "clustered": c.name in model.features,
                                "why": c.why} for c in model.columns],
        },
        "coverage": {"customers_in_input": model.rows_read, "customers_in_segments": model.account.rows_out},
        "transactions": None if model.transactions is None else {
            "lines": model.transactions.lines, "customers": model.transactions.customers,
            "as_of": model.transactions.as_of, "date_format": model.transactions.date_format,
            "columns": dict(model.transactions.columns)},
        "preparation": treatment_dict(analysis.matrix),
        "k_selection": {"method": model.selection.method, "chosen_k": model.selection.chosen_k,
                        "votes": {v.key: v.k for v in model.selection.votes}, "reason": model.selection.reason},
        "stability": stability_dict(analysis.stability),
        "verdict": {"word": model.verdict, "text": model.verdict_text},
        "data_quality": {
            "rows_in": model.account.rows_in, "rows_out": model.account.rows_out,
            "rows_dropped": model.account.rows_dropped, "missing_policy": model.account.missing_policy,
            "steps": [vars(step) for step in model.account.steps],
            "excluded_columns": [{"column": c, "why": why} for c, why in model.account.excluded_columns],
        },
        "k": model.segmentation.k,
        "silhouette": sig(model.segmentation.silhouette, 6),
        "reproduce": model.reproduce,
        "started": started,
        "finished": datetime.now().astimezone(),
        "timings": dict(timings),
    }
    if model.missing_charts:  # a chart that could not be drawn: the auditor sees which, and why
        data["missing_charts"] = [{"chart": c.name, "title": c.title, "why": c.why} for c in model.missing_charts]
    if analysis.baseline is not None:
        data["baseline"] = {"run": analysis.baseline.run, "folder": str(analysis.baseline.folder),
                            "assign_only": bool(settings.get("assign_only"))}
    return data


# ----------------------------------------------------------------------------- what report.pdf embeds
Relationship = Literal["Data", "Source", "Supplement", "Unspecified"]


@dataclass(frozen=True)
class Embedding:
    """A run folder file that report.pdf carries as a PDF/A-3 associated file."""

    name: str
    relationship: Relationship  # the PDF's /AFRelationship: how the file relates to the report
    description: str


# the files report.pdf embeds when the run has them, in this order; not the charts (they are in the report
# itself), nor report.html (the same report again)
EMBEDDINGS: tuple[Embedding, ...] = (
    Embedding(MANIFEST, "Supplement", "Provenance: the input, the settings, the versions and every file's sha256"),
    Embedding("segments.csv", "Data", "Every customer's segment"),
    Embedding("profiles.csv", "Data", "Each segment's size, share and profile"),
    Embedding("metrics.json", "Data", "The indices for every k, the chosen k and the segments' quality"),
    Embedding("summary.json", "Data", "The report's headline numbers"),
    Embedding("model.json", "Data", "The segment model, to assign new customers to these segments (--baseline)"),
    Embedding("cleaning.csv", "Data", "Every cleaning step: the rows and values it touched, and why"),
    Embedding("rules.csv", "Data", "Each segment as a readable rule"),
    Embedding("segments.sql", "Data", "The rules as one SQL CASE expression"),
    Embedding("comparison.json", "Data", "The comparison with the baseline run"),
    Embedding("migration.csv", "Data", "Customers moving between the baseline's segments and these"),
    # a trend's folder (reportgen trend)
    Embedding("trend.json", "Data", "Every period's segments, the moves between them and the segments' names"),
    Embedding("shares.csv", "Data", "Each segment's share of the customers in every period"),
    Embedding("steps.csv", "Data", "Customers staying, moving, entering and leaving from one period to the next"),
    Embedding("flows.csv", "Data", "Customers from each segment to each segment, period by period"),
)
EMBED_SEGMENTS_MAX = 250_000  # above this many customers segments.csv (45 bytes a customer) stays out of the PDF


def embedded_names(files: Iterable[str], customers: int) -> tuple[str, ...]:
    """The files of a run folder that its report.pdf embeds: :data:`EMBEDDINGS` that the run has (the manifest
    always), and segments.csv only up to :data:`EMBED_SEGMENTS_MAX` customers, which keeps a PDF that is emailed
    under a few megabytes (its sha256 is in the embedded manifest either way)."""
    present = {*files, MANIFEST}
    return tuple(e.name for e in EMBEDDINGS if e.name in present
                 and (e.name != "segments.csv" or customers <= EMBED_SEGMENTS_MAX))


def pdf_entry(embedded: Sequence[str]) -> dict[str, Any]:
    """The manifest's ``pdf`` entry: what report.pdf embeds, and where its own sha256 is (it cannot be in the
    manifest that it embeds)."""
    return {"file": REPORT_PDF, "embedded": list(embedded), "sha256_in": SEAL}


def attachments(folder: Path, names: Sequence[str]) -> tuple[Attached, ...]:
    """The files ``names`` of the run folder being written, as the PDF's associated files."""
    described = {e.name: e for e in EMBEDDINGS}
    return tuple(Attached(name=name, data=(folder / name).read_bytes(), relationship=described[name].relationship,
                          description=described[name].description) for name in names)


# ----------------------------------------------------------------------------- writing a run folder
TEMP_PREFIX = ".tmp-"  # a run folder being written; never listed, never a baseline
PROBE_PREFIX = ".reportgen-write-test-"
GRACE_SECONDS = 5  # an unlocked temporary folder younger than this may be one a run has just made


def check_output_root(root: Path) -> None:
    """Make sure the run folder can be written under ``root`` before any work is done, and clear what runs that
    were killed left there (:func:`clear_leftovers`)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f"{PROBE_PREFIX}{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write to the output folder {root}: {reason}",
                          hint="Choose a writable folder with --output DIR.") from exc
    clear_leftovers(root)


@contextmanager
def held(folder: Path) -> Iterator[int]:
    """An exclusive lock (``flock``) on ``folder`` for as long as a run writes it: the kernel releases it when the
    process ends, however it ends (SIGKILL too), and it follows the folder through its rename. Yields the
    folder's descriptor (for fsync)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks: the grace period alone protects it
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield descriptor
    finally:
        os.close(descriptor)


def is_leftover(folder: Path, *, now: float | None = None) -> bool:
    """A temporary run folder whose writer is gone: nobody holds its lock (:func:`held`), and it is older than
    :data:`GRACE_SECONDS` (a run locks its folder the moment it makes it)."""
    now = time.time() if now is None else now
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live run holds it
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            return now - folder.stat().st_mtime > GRACE_SECONDS
        return False
    finally:
        os.close(descriptor)


def clear_leftovers(root: Path) -> list[str]:
    """Remove the temporary folders and write probes of runs that were killed (SIGKILL, a power cut) under
    ``root``; a folder a live run is writing is left alone. Returns the names removed."""
    removed = []
    for path in root.iterdir() if root.is_dir() else ():
        if path.name.startswith(TEMP_PREFIX) and path.is_dir() and is_leftover(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        elif path.name.startswith(PROBE_PREFIX) and path.is_file():
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > 60:
                    path.unlink()
                    removed.append(path.name)
    return removed


def folder_name(now: datetime, name: str) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{name}"


class _MakingFailed(Exception):
    """A file's part could not be made (its cause says why) while the run folder was written."""


def _write_synced(path: Path, data: FileData) -> str:
    """Write and flush to the disk, so that a folder renamed into place never holds a file cut short; the
    file's sha256."""
    digest = hashlib.sha256()
    parts = iter((data,) if isinstance(data, bytes | bytearray | memoryview) else data)
    with path.open("wb") as handle:
        while True:
            try:
                part = next(parts)
            except StopIteration:
                break
            except OSError as exc:  # making the part failed, not writing it: not a disk problem
                raise _MakingFailed() from exc
            handle.write(part)
            digest.update(part)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def _made(make: Callable[[Path], bytes], folder: Path) -> bytes:
    try:
        return make(folder)
    except OSError as exc:  # making the file failed (a renderer's font), not writing it
        raise _MakingFailed() from exc


def _sync_folder(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can sync a folder
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class Sealed:
    """Files made from the run folder once its manifest is written (report.pdf, which embeds the manifest and
    the data files), hashed in seal.json with ``extra()`` (the times of making them) beside the hashes."""

    files: Mapping[str, Callable[[Path], bytes]]  # name -> made from the folder being written
    extra: Callable[[], Mapping[str, Any]] = dict


def write_run(root: Path, name: str, files: Mapping[str, FileData],
              manifest: dict[str, Any] | Callable[[], dict[str, Any]], *, sealed: Sealed | None = None) -> Path:
    """Write ``files`` and ``manifest.json`` (with every file's sha256) into a new run folder under ``root``, in the
    order of ``files`` (a part made as it is written is best last). ``manifest`` may be a function, called once
    the files are written (so that it can time them). Then the ``sealed`` files are made from the folder, and
    written with their hashes in seal.json.

    The folder is built under a hidden temporary name (locked by this process while it writes: :func:`held`),
    synced to the disk and renamed when complete, so a failed or killed run leaves nothing that ``history`` lists or
    ``--baseline latest`` picks (the next run clears the leftover), and a run never overwrites another: a taken
    name gets a ``-2``, ``-3`` ... suffix, and two runs at the same moment get one each.
    """
    check_output_root(root)
    temp = root / f"{TEMP_PREFIX}{name}-{secrets.token_hex(4)}"
    try:
        temp.mkdir()
        with held(temp) as descriptor:
            hashes = {}
            for relative, data in files.items():  # in the caller's order: what is waited for last
                target = temp / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                hashes[relative] = _write_synced(target, data)
            content = manifest() if callable(manifest) else manifest
            _write_synced(temp / MANIFEST, json_bytes({**content, "files": dict(sorted(hashes.items()))}))
            if sealed is not None and sealed.files:
                seals = {relative: _write_synced(temp / relative, _made(make, temp))
                         for relative, make in sealed.files.items()}
                _write_synced(temp / SEAL, json_bytes({"run": content.get("run", name), "files": seals,
                                                       **sealed.extra()}))
            for folder in {(temp / relative).parent for relative in files} - {temp}:
                _sync_folder(folder)
            os.fsync(descriptor)
            for attempt in range(1, 1000):
                final = root / (name if attempt == 1 else f"{name}-{attempt}")
                if final.exists():
                    continue
                try:
                    temp.rename(final)  # atomic; fails if another process created a non-empty folder meanwhile
                except OSError:
                    if final.exists():
                        continue
                    raise
                _sync_folder(root)
                return final
        raise OutputError(f"too many runs named {name} in {root}", hint="Use --name to pick another name.")
    except _MakingFailed as failed:
        assert failed.__cause__ is not None
        raise failed.__cause__ from None
    except OSError as exc:
        raise OutputError(f"cannot write the run folder in {root}: {exc.strerror or exc}",
                          hint="Check the free space and permissions, or choose --output DIR.") from exc
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
