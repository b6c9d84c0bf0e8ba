"""The report's structure: :func:`build_report_model` turns the analysis into the :class:`ReportModel` the
templates read. No rendering here (that is :mod:`reportgen.render`)."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from .charts import segment_color
from .indices import infos
from .model import Analysis, Chart, ReportModel, SegmentView
from .settings import Settings
from .snapshot import folder_name

VERDICTS = (
    (0.5, "clear", "Clear structure: the segments are well separated, and most customers sit firmly in one."),
    (0.25, "moderate", ("Moderate structure: the segments are distinct on average but overlap at their edges; "
                        "treat customers near a border with care.")),
    (-1.0, "weak", ("Weak structure: the customers do not fall into natural groups; treat the segments as a "
                    "convenience for planning, not as distinct populations.")),
)


def verdict_of(silhouette: float) -> tuple[str, str]:
    """Plain words for a silhouette value."""
    for threshold, word, text in VERDICTS:
        if math.isfinite(silhouette) and silhouette >= threshold:
            return word, text
    return VERDICTS[-1][1], VERDICTS[-1][2]


def reproduce_command(settings: Settings, source_name: str, features: tuple[str, ...], scaling: str) -> str:
    """The command line that repeats this analysis."""
    parts = ["reportgen", "run", source_name if source_name != "<stdin>" else "-",
             "--features", ",".join(features)]
    if settings.k is not None:
        parts += ["--k", str(settings.k)]
    parts += ["--k-range", f"{settings.k_min}-{settings.k_max}", "--scale", scaling,
              "--seed", str(settings.seed), "--missing", settings.missing]
    if settings.algorithm != "kmeans":
        parts += ["--algorithm", settings.algorithm]
    if settings.engine != "pandas":
        parts += ["--engine", settings.engine]
    if settings.baseline:
        parts += ["--baseline", settings.baseline] + (["--assign-only"] if settings.assign_only else [])
    if settings.rules:
        parts += ["--rules", str(settings.rules)]
    return " ".join(shlex.quote(p) for p in parts)


def run_slug(source_name: str) -> str:
    stem = Path(source_name).stem if source_name != "<stdin>" else "stdin"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()
    return slug[:40] or "run"


def versions() -> dict[str, str]:
    """Versions of reportgen, Python and the libraries that shape the numbers and the report."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    found = {"reportgen": __version__, "python": platform.python_version()}
    for package in ("pandas", "numpy", "scikit-learn", "scipy", "matplotlib", "seaborn", "jinja2", "weasyprint",
                    "click"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def build_report_model(analysis: Analysis, settings: Settings, *, charts: Sequence[Chart], now: datetime,
                       timings: Mapping[str, float], logo: str | None = None,
                       rules_source: str = "packaged default.toml") -> ReportModel:
    """Assemble everything the templates read."""
    by_number = {p.segment: p for p in analysis.personas}
    statuses = analysis.statuses or {}
    views = tuple(
        SegmentView(number=seg.segment, name=by_number[seg.segment].name, color=segment_color(seg.segment),
                    size=seg.size, share=seg.share, profile=seg, persona=by_number[seg.segment],
                    status="new" if statuses.get(seg.segment) == "new" else "")
        for seg in analysis.profiles.segments
    )
    segmentation, matrix, cleaned, source = (analysis.segmentation, analysis.matrix, analysis.cleaned,
                                             analysis.dataset.source)
    verdict, verdict_text = verdict_of(segmentation.silhouette)
    found = versions()
    return ReportModel(
        title=settings.title, organisation=settings.organisation,
        subtitle=f"{cleaned.account.rows_out:,} customers in {segmentation.k} segments",
        generated_at=now, run_name=folder_name(now, settings.name or run_slug(source.name)),
        version=found["reportgen"], source=source,
        rows_read=cleaned.account.rows_in - len(analysis.dataset.malformed_lines),
        columns=analysis.dataset.columns, account=cleaned.account, summary=analysis.summary,
        features=matrix.names, scaling=matrix.scaler.method, scaler=matrix.scaler, selection=analysis.selection,
        indices=infos(), segmentation=segmentation,
        algorithm=segmentation.description,
        engine=analysis.engine, profiles=analysis.profiles, segments=views, charts={c.name: c for c in charts},
        verdict=verdict, verdict_text=verdict_text, versions=found,
        reproduce=reproduce_command(settings, source.name, matrix.names, matrix.scaler.method),
        rules_source=rules_source, timings=dict(timings), accent=settings.accent, paper=settings.paper, logo=logo,
        locale=settings.locale, comparison=analysis.comparison,
    )
