"""manifest.json (the run's settings, input, decisions and every file's sha256 but report.pdf's) and the files
report.pdf embeds (PDF/A-3 associated files)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..inputs.base import sha256_file
from ..model import (
    Analysis,
    Attached,
    ReportModel,
)
from .contents import stability_dict, treatment_dict
from .files import sig

if TYPE_CHECKING:
    from ..report.trend import TrendReport

TREND_KIND = "trend"  # the manifest's "kind" of a trend folder: never listed as a run, never a baseline
SCHEMA_VERSION = 2  # 2: report.pdf embeds the data files and the manifest, and is hashed in seal.json
MANIFEST = "manifest.json"
SEAL = "seal.json"  # the sha256 of the files made after the manifest (the PDF that embeds it), and their times
REPORT_PDF = "report.pdf"


def manifest(model: ReportModel, analysis: Analysis, settings: Mapping[str, Any], *, started: datetime,
             timings: Mapping[str, float]) -> dict[str, Any]:
    """manifest.json, without the files' hashes (:func:`reportgen.archive.folder.write_run` adds them)."""
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


def trend_manifest(report: TrendReport, found: Mapping[str, str], *, formats: tuple[str, ...], last: int | None,
                   started: datetime, timings: Mapping[str, float]) -> dict[str, Any]:
    """manifest.json of a trend's folder: the runs it reads (each with its manifest's sha256), without the files'
    hashes (:func:`~reportgen.archive.folder.write_run` adds them)."""
    trend = report.trend
    return {"schema_version": SCHEMA_VERSION, "kind": TREND_KIND, "run": report.run_name,
            "reportgen": found["reportgen"], "versions": dict(found), "series": trend.series,
            "linked_by": trend.linked_by, "features": list(trend.features),
            "runs": [{"run": p.run, "folder": str(p.folder), "manifest_sha256": sha256_file(p.folder / MANIFEST)}
                     for p in trend.periods],
            "settings": {"formats": list(formats), "title": report.title, "last": last},
            "started": started, "finished": datetime.now().astimezone(), "timings": dict(timings)}
