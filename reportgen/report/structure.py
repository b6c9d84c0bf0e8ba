"""The report's structure: :func:`build_report_model` turns the analysis into the :class:`ReportModel` the
templates read. No rendering here (that is :mod:`reportgen.report.render`)."""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ..model import Analysis, Chart, MissingChart, ReportModel, SegmentView, Stability
from ..segmentation.algorithms import ALGORITHMS
from ..segmentation.cluster import GAP, gap_rise
from ..segmentation.indices import infos
from ..segmentation.stability import verdict_word
from ..settings import Settings
from ..version import __version__
from .charts import segment_color
from .names import folder_name, run_slug

VERDICTS = (
    (0.5, "clear", "Clear structure: the segments are well separated, and most customers sit firmly in one."),
    (0.25, "moderate", ("Moderate structure: the segments are distinct on average but overlap at their edges; "
                        "treat customers near a border with care.")),
    (-1.0, "weak", ("Weak structure: the customers do not fall into natural groups; treat the segments as a "
                    "convenience for planning, not as distinct populations.")),
)


LEVELS = ("weak", "moderate", "clear")
SMALL_SEGMENT = 0.05  # a clear structure has no segment smaller than this share of the customers


GAP_RISE = 3.0  # the gap must rise this many standard errors above its k = 1 value to show any structure


def verdict_of(silhouette: float, *, stability: Stability | None = None, gap_k: int | None = None,
               gap_rise: float | None = None, smallest: tuple[int, float] | None = None, extreme: int = 0,
               min_share: float = 0.02) -> tuple[str, str, tuple[str, ...]]:
    """The quality verdict, its text and why it is not higher: the silhouette sets the level; no structure by the
    gap statistic, segments that do not reproduce on resamples (bootstrap stability), and a small segment
    (``smallest``: its number and share; under ``min_share``: weak, a split that sets apart a few customers; under
    :data:`SMALL_SEGMENT`: at most moderate) lower it.

    No structure by the gap statistic: it picks k = 1 *and* never rises :data:`GAP_RISE` standard errors above its
    k = 1 value (``gap_rise``). The silhouette cannot see this (uniform values on one axis split in two with a
    silhouette of 0.6), and k = 1 alone is not enough (on the Mall data's five obvious groups clusGap's rule picks
    1, but the gap rises 5 standard errors at k = 5)."""
    level = next((i for i, (threshold, _, _) in zip((2, 1, 0), VERDICTS, strict=True)
                  if math.isfinite(silhouette) and silhouette >= threshold), 0)
    reasons: list[tuple[int, str]] = []  # (the highest level the reason allows, the reason)
    if gap_k == 1 and (gap_rise is None or gap_rise < GAP_RISE):
        reasons.append((0, "the gap statistic finds the customers no more grouped than random data would be"))
    if stability is not None and stability.segments:
        mean = sum(stability.segments.values()) / len(stability.segments)
        worst = min(stability.segments, key=lambda n: stability.segments[n])
        if verdict_word(mean) == "unstable":
            reasons.append((0, (f"the segments do not reproduce when the clustering is redone on resampled "
                                f"customers (mean stability {mean:.2f})")))
        elif verdict_word(stability.segments[worst]) in ("doubtful", "unstable"):
            reasons.append((1, (f"segment {worst} does not reproduce reliably on resampled customers (stability "
                                f"{stability.segments[worst]:.2f})")))
    if smallest is not None and smallest[1] < SMALL_SEGMENT:
        few = f"segment {smallest[0]} holds only {100 * smallest[1]:.1f}% of the customers"
        if extreme:
            few += f"; {extreme:,} customers have extreme values"
        reasons.append((0 if smallest[1] < min_share else 1, few))
    for cap, _ in reasons:
        level = min(level, cap)
    word = LEVELS[level]
    text = next(t for _, w, t in VERDICTS if w == word)
    return word, text, tuple(reason for _, reason in reasons)


def _numbers(numbers: Sequence[int]) -> str:
    items = [str(n) for n in numbers]
    listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return ("Segment " if len(items) == 1 else "Segments ") + listed


def stability_text(stability: Stability | None) -> str:
    """The executive summary's sentence on stability: which segments are highly stable, stable, doubtful..."""
    if stability is None or not stability.segments:
        return ""
    groups: dict[str, list[int]] = {}
    for number, value in sorted(stability.segments.items()):
        groups.setdefault(verdict_word(value), []).append(number)
    parts = [f"{_numbers(numbers)} {'is' if len(numbers) == 1 else 'are'} {word}"
             for word in ("highly stable", "stable", "doubtful", "unstable") if (numbers := groups.get(word))]
    text = "; ".join(parts)
    return (f"Do the segments hold up? {text[0].upper()}{text[1:]} when the clustering is redone on "
            f"{stability.resamples} resampled sets of customers.")


def reproduce_command(settings: Settings, source_name: str, features: tuple[str, ...], scaling: str) -> str:
    """The command line that repeats this analysis."""
    parts = ["reportgen", "run", source_name if source_name != "<stdin>" else "-",
             "--features", ",".join(features)]
    if settings.k is not None:
        parts += ["--k", str(settings.k)]
    parts += ["--k-range", f"{settings.k_min}-{settings.k_max}", "--scale", scaling,
              "--seed", str(settings.seed), "--missing", settings.missing]
    defaults = Settings()
    for key in ("max_drop", "transform", "outliers", "min_share", "stability_resamples"):
        value = getattr(settings, key)
        if value != getattr(defaults, key):
            parts += [f"--{key.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    for key in ("algorithm", "categorical", "engine", "decimal"):
        if getattr(settings, key) != getattr(defaults, key):
            parts += [f"--{key}", getattr(settings, key)]
    if settings.baseline:
        parts += ["--baseline", settings.baseline] + (["--assign-only"] if settings.assign_only else [])
    if settings.rules:
        parts += ["--rules", str(settings.rules)]
    if settings.series:
        parts += ["--series", settings.series]
    return " ".join(shlex.quote(p) for p in parts)


def versions() -> dict[str, str]:
    """Versions of reportgen, Python and the libraries that shape the numbers and the report."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

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
                       rules_source: str = "packaged default.toml", missing_charts: Sequence[MissingChart] = ()
                       ) -> ReportModel:
    """Assemble everything the templates read."""
    by_number = {p.segment: p for p in analysis.personas}
    statuses = analysis.statuses or {}
    stable = analysis.stability.segments if analysis.stability else {}
    views = tuple(
        SegmentView(number=seg.segment, name=by_number[seg.segment].name, color=segment_color(seg.segment),
                    size=seg.size, share=seg.share, profile=seg, persona=by_number[seg.segment],
                    status="new" if statuses.get(seg.segment) == "new" else "",
                    stability=stable.get(seg.segment),
                    stability_word=verdict_word(stable[seg.segment]) if seg.segment in stable else "",
                    rule=analysis.rules.for_segment(seg.segment) if analysis.rules else None)
        for seg in analysis.profiles.segments
    )
    segmentation, matrix, cleaned, source = (analysis.segmentation, analysis.matrix, analysis.cleaned,
                                             analysis.dataset.source)
    gap_k = next((v.k for v in analysis.selection.votes if v.key == GAP.key), None)
    smallest = min(((seg.segment, seg.share) for seg in analysis.profiles.segments), key=lambda p: p[1],
                   default=None)
    verdict, verdict_text, verdict_reasons = verdict_of(
        segmentation.silhouette, stability=analysis.stability, gap_k=gap_k, gap_rise=gap_rise(analysis.selection),
        smallest=smallest, extreme=matrix.extreme_customers, min_share=settings.min_share)
    found = versions()
    return ReportModel(
        title=settings.title, organisation=settings.organisation,
        subtitle=f"{cleaned.account.rows_out:,} customers in {segmentation.k} segments",
        generated_at=now, run_name=folder_name(now, settings.name or run_slug(source.name)),
        version=found["reportgen"], source=source,
        rows_read=cleaned.account.rows_in - len(analysis.dataset.malformed_lines),
        columns=analysis.dataset.columns, summary=analysis.summary,
        account=replace(cleaned.account, excluded_columns=tuple(
            (c, why) for c, why in cleaned.account.excluded_columns
            if matrix.categories is None or c not in matrix.categories.columns)),
        features=matrix.names, scaling=matrix.scaler.method, scaler=matrix.scaler, selection=analysis.selection,
        indices=(*infos(), *([GAP] if analysis.selection.gap_references else []),
                 *ALGORITHMS[segmentation.algorithm].indices) if analysis.selection.method != "baseline"
        else (*infos(), *([GAP] if analysis.selection.gap_references else [])), segmentation=segmentation,
        algorithm=segmentation.description,
        engine=analysis.engine, profiles=analysis.profiles, segments=views, charts={c.name: c for c in charts},
        verdict=verdict, verdict_text=verdict_text, versions=found,
        reproduce=reproduce_command(settings, source.name,
                                    (*matrix.names, *(matrix.categories.columns if matrix.categories else ())),
                                    matrix.scaler.method),
        rules_source=rules_source, timings=dict(timings), accent=settings.accent, paper=settings.paper, logo=logo,
        locale=settings.locale, comparison=analysis.comparison, stability=analysis.stability,
        treatments=matrix.treatments, extreme_customers=matrix.extreme_customers, verdict_reasons=verdict_reasons,
        stability_text=stability_text(analysis.stability), transactions=analysis.dataset.transactions,
        rfm=analysis.rfm, segment_rules=analysis.rules, agreement=analysis.agreement,
        method_name=ALGORITHMS[segmentation.algorithm].name, categories=matrix.categories,
        unseen_levels=matrix.unseen_levels, missing_charts=tuple(missing_charts),
        wording=analysis.wording, stake=analysis.stake, priorities=analysis.priorities, outcomes=analysis.outcomes,
    )
