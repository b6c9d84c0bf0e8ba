"""``run()``: the stages in order, each timed; nothing else.

plan -> read -> clean -> prepare -> k sweep -> final fit (or assign to a baseline) -> stability -> profiles,
names, personas, comparison -> charts -> report model -> HTML, PDF -> data files -> run folder. The stages that touch
every row run on the engine the settings name (:mod:`reportgen.engines`); the charts of each phase are drawn
while the next phase runs (:class:`reportgen.report.charts.Drawing`), and so is the k sweep of a fixed k on a large
table (the final fit then starts from the sweep's sample's centres without waiting for it).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .archive import contents
from .archive import manifest as manifests
from .archive.compare import compare_runs, stable_numbers
from .archive.files import FileData
from .archive.folder import Sealed, write_run
from .archive.manifest import REPORT_PDF, SEAL
from .archive.runs import baseline_segments, baseline_selection, read_json
from .archive.trend import build_trend, highlights, series_folders, trend_files
from .describe.personas import recommend
from .describe.priorities import check_priorities, rank_priorities, value_at_stake, with_kpis
from .describe.rfm import rfm_of
from .describe.rules import rule_categories, segment_rules
from .describe.wording import make_wording
from .engines import open_engine
from .engines.base import Engine, Progress, here
from .errors import InputError, ReportgenWarning
from .inputs.transactions import LABELS as TRANSACTION_LABELS
from .model import (
    Agreement,
    Analysis,
    BaselineModel,
    CategoricalEncoding,
    Chart,
    CleanResult,
    Comparison,
    Dataset,
    FeatureMatrix,
    KpiOutcome,
    KSelection,
    MissingChart,
    Persona,
    Priority,
    Profiles,
    RfmResult,
    RunResult,
    Segmentation,
    SegmentRules,
    SegmentStatus,
    Stake,
    SummaryRow,
    Wording,
)
from .plan import DataSource, RunPlan, clusters_categories, plan_run
from .report.charts import Drawing, draw_phase, processes_are_safe, split_drawn
from .report.charts.exploration import exploration_data
from .report.charts.segments import segment_data
from .report.charts.style import MAX_CHART_CATEGORIES, chart_columns
from .report.names import folder_name, short_run
from .report.render import check_templates, prepare_pdf, render, render_html, write_pdf
from .report.structure import build_report_model, versions
from .report.trend import TrendReport, TrendResult
from .segmentation.agreement import agreement
from .segmentation.algorithms import ALGORITHMS, Layout, layout_of
from .segmentation.cluster import renumber
from .segmentation.features import baseline_categories, choose_categories, choose_features, logged_features
from .segmentation.stability import bootstrap_stability
from .settings import Settings

if TYPE_CHECKING:
    import pandas as pd

LATER_MODULES = ("sklearn.cluster", "sklearn.metrics")  # imported while the data are read (:func:`importing`)
STABILITY_ROWS_PER_SEGMENT = 5  # fewer customers than this per segment: no stability check (it would say nothing)


def _quiet(_: str) -> None:
    return None


def warn_missing(missing: tuple[MissingChart, ...]) -> None:
    """A :class:`ReportgenWarning` for each chart that could not be drawn (the CLI prints it on stderr)."""
    for chart in missing:
        text = chart.sentence()
        warnings.warn(f"{text[0].upper()}{text[1:]} and is left out of the report; this is a bug in reportgen, "
                      "please report it", ReportgenWarning, stacklevel=3)


class Clock:
    """Stage timings of one run (local to that run); a stage entered twice adds up."""

    def __init__(self, progress: Progress) -> None:
        self.times: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def stage(self, key: str, message: str) -> Iterator[None]:
        self.progress(message)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times[key] = round(self.times.get(key, 0.0) + time.perf_counter() - start, 4)


def run(
    source: DataSource = None,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
    write: bool = True,
    drawing: Drawing | None = None,
) -> RunResult:
    """Segment the customers in ``source`` (a path, bytes or a binary stream; None: the bundled sample) and
    write a run folder under ``settings.output``. ``now`` fixes the run's timestamp (for tests and replays);
    ``drawing``: a chart drawer started earlier, which the caller closes (the CLI starts its chart processes first
    thing). Without one, the run makes its own: chart processes where that is safe
    (:func:`~reportgen.report.charts.processes_are_safe`: a notebook), else this process.

    Raises a :class:`~reportgen.errors.ReportgenError` subclass on bad input; nothing is written then.
    """
    settings = settings or Settings()
    clock = Clock(progress or _quiet)
    plan = plan_run(settings, source, source_name=source_name, write=write, progress=clock.progress)
    now = now or datetime.now().astimezone()
    if drawing is None:  # a drawer of its own, closed here
        with Drawing(plan.settings.workers if plan.settings.formats and processes_are_safe() else 1) as own:
            return _on_engine(plan, own, clock, now=now, write=write)
    return _on_engine(plan, drawing, clock, now=now, write=write)


def _on_engine(plan: RunPlan, drawing: Drawing, clock: Clock, *, now: datetime, write: bool) -> RunResult:
    engine = open_engine(plan.settings, clock.progress)
    try:
        return _run(plan, engine, drawing, clock, now=now, write=write)
    finally:
        engine.close()


def _run(plan: RunPlan, engine: Engine, drawing: Drawing, clock: Clock, *, now: datetime, write: bool
         ) -> RunResult:
    settings = plan.settings
    report = bool(settings.formats)
    analysis = _analyse(plan, engine, drawing if report else None, clock)
    pdf = "pdf" in settings.formats
    if report:
        if pdf:  # WeasyPrint and its fonts are loaded while the charts are drawn
            with clock.stage("pdf_setup", "Loading the PDF renderer while the segment charts are drawn"):
                prepare_pdf()
        with clock.stage("charts", "Drawing the charts"):
            charts, missing = split_drawn(drawing.collect())
        warn_missing(missing)
    else:
        charts, missing = (), ()
    model = build_report_model(analysis, settings, charts=charts, now=now, timings=clock.times, logo=plan.logo,
                               rules_source=str(settings.rules) if settings.rules else "packaged default.toml",
                               missing_charts=missing)
    with clock.stage("files", "Preparing segments.csv and the other data files"):
        files: dict[str, FileData] = contents.data_files(analysis, model, charts)
    if pdf:  # the report says which of them report.pdf carries
        model = replace(model, embedded=manifests.embedded_names(files, analysis.cleaned.account.rows_out))
    html = None
    if report:
        with clock.stage("html", "Rendering the report"):
            html = render_html(model, templates=settings.templates)
        if "html" in settings.formats:
            files = {"report.html": html.encode("utf-8"), **files}
    folder = None  # a run that is not written makes no PDF (it would embed a manifest that is never written)
    if write:
        def manifest(timings: dict[str, float]) -> dict[str, Any]:
            return manifests.manifest(model, analysis, settings.to_dict(), started=now, timings=timings)

        folder = _write_folder(settings.output, model.run_name, files, manifest, html=html if pdf else None,
                               embedded=model.embedded, now=now, clock=clock)
    return RunResult(folder=folder, model=model,
                     files=tuple(sorted({*files, *([REPORT_PDF, SEAL] if pdf and write else [])})))


def _write_folder(output: Path, name: str, files: dict[str, FileData],
                  manifest: Callable[[dict[str, float]], dict[str, Any]], *, html: str | None,
                  embedded: tuple[str, ...], now: datetime, clock: Clock) -> Path:
    """Write the run folder: the files, then the manifest (with the time that took), then, given the report's
    ``html``, report.pdf, which embeds the manifest and the ``embedded`` files, and seal.json with its sha256."""
    with clock.stage("write", "Writing the run folder"):
        writing = time.perf_counter()
        times: dict[str, float] = {}

        def content() -> dict[str, Any]:  # once the data files are written
            data = manifest({**clock.times, "write": round(time.perf_counter() - writing, 4)})
            return {**data, "pdf": manifests.pdf_entry(embedded)} if html is not None else data

        def report_pdf(made: Path) -> bytes:  # the manifest is written: the PDF embeds it and the data files
            started = time.perf_counter()
            data = write_pdf(html or "", attachments=manifests.attachments(made, embedded), when=now)
            times["pdf"] = round(time.perf_counter() - started, 4)
            return data

        def seal() -> dict[str, Any]:
            return {"timings": {**times, "write": round(time.perf_counter() - writing, 4)}}

        sealed = Sealed({REPORT_PDF: report_pdf}, seal) if html is not None else None
        folder = write_run(output, name, files, content, sealed=sealed)
    if html is not None:
        clock.times["pdf"] = times.get("pdf", 0.0)
    return folder


def run_trend(root: Path | str, *, series: str | None = None, run: str = "latest", last: int | None = None,
              settings: Settings | None = None, title: str | None = None, now: datetime | None = None,
              progress: Progress | None = None, write: bool = True) -> TrendResult:
    """One report over every run of a series under ``root`` (:func:`reportgen.archive.trend.series_folders`: the
    runs made with ``--series series``, or else the runs linked by ``--baseline`` up to ``run``), written as a folder of
    its own under ``settings.output`` (trend.json, shares.csv, steps.csv, flows.csv, the charts, report.html and
    report.pdf). ``settings`` gives the report's formats, name, templates, paper, accent and locale."""
    root = Path(root)
    settings = settings or Settings(output=root)
    clock = Clock(progress or _quiet)
    now = now or datetime.now().astimezone()
    if settings.formats:
        check_templates(settings.templates, locale=settings.locale)
    with clock.stage("load", "Reading and checking the runs"):
        folders, linked, name = series_folders(root, series=series, run=run, last=last)
        trend = build_trend(folders, linked_by=linked, series=name)
    clock.progress(f"{len(trend.periods)} periods: {', '.join(short_run(p.run) for p in trend.periods)}")
    charts: tuple[Chart, ...] = ()
    missing: tuple[MissingChart, ...] = ()
    if settings.formats:
        with clock.stage("charts", "Drawing the charts"):
            charts, missing = split_drawn(draw_phase("trend", trend))
        warn_missing(missing)
    run_name = folder_name(now, "trend-" + (settings.name or (series if series else short_run(name))))
    files = trend_files(trend, charts)
    found = versions()
    pdf = "pdf" in settings.formats
    report = TrendReport(trend=trend, title=title or f"Customer segments over {len(trend.periods)} periods",
                         generated_at=now, run_name=run_name, version=found["reportgen"], highlights=highlights(trend),
                         charts={c.name: c for c in charts}, missing_charts=missing,
                         embedded=manifests.embedded_names(files, 0) if pdf else (), accent=settings.accent,
                         paper=settings.paper, locale=settings.locale)
    html = None
    if settings.formats:
        with clock.stage("html", "Rendering the report"):
            html = render("trend.html", templates=settings.templates, locale=settings.locale, r=report)
        if "html" in settings.formats:
            files = {"report.html": html.encode("utf-8"), **files}
    folder = None
    if write:
        def manifest(timings: dict[str, float]) -> dict[str, Any]:
            return manifests.trend_manifest(report, found, formats=settings.formats, last=last, started=now,
                                            timings=timings)

        folder = _write_folder(settings.output, run_name, files, manifest, html=html if pdf else None,
                               embedded=report.embedded, now=now, clock=clock)
    return TrendResult(folder=folder, trend=trend, report=report,
                       files=tuple(sorted({*files, *([REPORT_PDF, SEAL] if pdf and write else [])})))


@dataclass(frozen=True)
class _Segmented:
    """The segments of a run, and how they were chosen (a fixed k's sweep may still be running: ``pending``)."""

    matrix: FeatureMatrix
    segmentation: Segmentation
    selection: KSelection | None
    pending: Callable[[], KSelection] | None
    statuses: dict[int, SegmentStatus]


def _analyse(plan: RunPlan, engine: Engine, drawing: Drawing | None, clock: Clock) -> Analysis:
    settings = plan.settings
    dataset, features, categories, encoding = _read(plan, engine, clock)
    with clock.stage("clean", f"Cleaning {dataset.rows:,} rows"):
        cleaned = engine.clean(dataset, features=features, missing=settings.missing, max_drop=settings.max_drop)
    if drawing is not None:
        drawing.submit("exploration", exploration_data(
            cleaned.frame, numeric=chart_columns(cleaned.numeric, cleaned.features),
            categorical=chart_columns(cleaned.categorical, (), limit=MAX_CHART_CATEGORIES),
            features=cleaned.features, customers=cleaned.account.rows_out, seed=settings.seed))
    if plan.baseline is not None and settings.assign_only:
        segmented = _assign(plan, engine, cleaned, encoding, clock)
    else:
        segmented = _cluster(plan, engine, cleaned, categories, encoding, drawing, clock)
    matrix, segmentation = segmented.matrix, segmented.segmentation
    layout = layout_of(len(matrix.names), matrix.categories)
    stability = None
    if settings.stability_resamples and len(matrix.X) >= STABILITY_ROWS_PER_SEGMENT * segmentation.k:
        with clock.stage("stability", f"Checking the segments' stability on {settings.stability_resamples} "
                                      "bootstrap resamples"):
            stability = bootstrap_stability(matrix.X, segmentation.labels, segmentation.numbers,
                                            fit=ALGORITHMS[settings.algorithm].fitter(layout), k=segmentation.k,
                                            seed=settings.seed, resamples=settings.stability_resamples)
    if drawing is not None and segmented.pending is None:
        drawing.submit("choosing-k", segmented.selection)
    with clock.stage("profiles", "Profiling and naming the segments"):
        described = _describe(plan, engine, dataset, cleaned, segmented, layout)
    selection = segmented.selection
    if segmented.pending is not None:  # the sweep of a fixed k, run meanwhile
        with clock.stage("k_sweep", "Waiting for the k sweep"):
            selection = segmented.pending()
        if drawing is not None:
            drawing.submit("choosing-k", selection)
    assert selection is not None
    analysis = Analysis(dataset=dataset, cleaned=cleaned, matrix=matrix, selection=selection,
                        segmentation=segmentation, engine=engine.name, baseline=plan.baseline,
                        statuses=segmented.statuses, stability=stability, **vars(described))
    if drawing is not None:
        _submit_segment_charts(drawing, analysis)
    return analysis


def _read(plan: RunPlan, engine: Engine, clock: Clock
          ) -> tuple[Dataset, tuple[str, ...], tuple[str, ...], CategoricalEncoding | None]:
    """The data, the features to cluster, the categorical columns clustered too and their encoding (a baseline's)."""
    settings, baseline = plan.settings, plan.baseline
    with clock.stage("load", "Reading the data"), importing(LATER_MODULES):
        dataset = engine.read(plan.source, name=plan.source_name)
        categories: tuple[str, ...] = ()
        encoding = baseline.categories if baseline is not None else None
        if baseline is not None and encoding is not None:
            categories = baseline_categories(dataset, baseline.run, encoding.columns)
            encoding = replace(encoding, columns=categories)
        elif baseline is None and clusters_categories(settings):
            categories = choose_categories(dataset, plan.features)
        features = choose_features(dataset, plan.features, baseline_run=baseline.run if baseline else None,
                                   categories=categories)
    return dataset, features, categories, encoding


def _assign(plan: RunPlan, engine: Engine, cleaned: CleanResult, encoding: CategoricalEncoding | None,
            clock: Clock) -> _Segmented:
    """--assign-only: the customers labelled with the baseline's segments, without re-clustering."""
    baseline = plan.baseline
    assert baseline is not None
    if tuple(cleaned.features) != tuple(baseline.features):
        raise InputError(f"the baseline's feature columns cannot all be used here (only "
                         f"{', '.join(cleaned.features)} can)",
                         hint="Check the cleaning account, or run without --assign-only.")
    with clock.stage("features", "Scaling the features as the baseline did"):
        matrix = engine.prepare(cleaned, plan.settings, scaling=plan.scaling, scaler=baseline.scaler,
                                encoding=encoding)
    with clock.stage("final_fit", f"Assigning customers to the {len(baseline.numbers)} baseline segments"):
        segmentation = engine.assign(matrix, baseline, plan.settings)
    return _Segmented(matrix, segmentation, baseline_selection(baseline), None,
                      dict.fromkeys(baseline.numbers, "kept"))


def _cluster(plan: RunPlan, engine: Engine, cleaned: CleanResult, categories: tuple[str, ...],
             encoding: CategoricalEncoding | None, drawing: Drawing | None, clock: Clock) -> _Segmented:
    """The k sweep and the final fit (a fixed k does not wait for the sweep: a chart process may run it while this
    one fits); with a baseline, the segments take its numbers."""
    settings, baseline = plan.settings, plan.baseline
    with clock.stage("features", "Scaling the features"):
        matrix = engine.prepare(cleaned, settings, scaling=plan.scaling, categories=categories, encoding=encoding)
    with clock.stage("k_sweep", f"Trying k = {settings.k_min}..{settings.k_max}"):
        sweep = engine.select_k(matrix, settings, drawing.call if drawing is not None else here)
    chosen = sweep() if settings.k is None else None
    k = chosen.chosen_k if chosen is not None else settings.k
    assert k is not None
    statuses: dict[int, SegmentStatus] = {}
    with clock.stage("final_fit", f"Fitting {k} segments"):
        segmentation = engine.fit(matrix, k, settings, chosen)
        if baseline is not None:  # keep the baseline's segment numbers and names
            renumbering, statuses = stable_numbers(baseline, segmentation)
            segmentation = renumber(segmentation, renumbering)
    return _Segmented(matrix, segmentation, chosen, None if chosen is not None else sweep, statuses)


@dataclass(frozen=True)
class _Described:
    """What describing the segments adds to an :class:`~reportgen.model.Analysis` (its fields of the same names)."""

    profiles: Profiles
    summary: tuple[SummaryRow, ...]
    personas: tuple[Persona, ...]
    assignments: pd.DataFrame
    portable: BaselineModel
    comparison: Comparison | None
    rfm: RfmResult | None
    rules: SegmentRules
    agreement: Agreement | None
    wording: Wording
    stake: Stake | None
    priorities: tuple[Priority, ...]
    outcomes: tuple[KpiOutcome, ...]


def _describe(plan: RunPlan, engine: Engine, dataset: Dataset, cleaned: CleanResult, segmented: _Segmented,
              layout: Layout) -> _Described:
    """Profiles, names, personas, RFM, rules, the agreement of methods and the comparison with a baseline."""
    settings, baseline = plan.settings, plan.baseline
    matrix, segmentation, statuses = segmented.matrix, segmented.segmentation, segmented.statuses
    profiles = engine.profile(cleaned, segmentation, logged_features(matrix))
    if matrix.categories is not None:
        profiles = replace(profiles, clustered_categories=matrix.categories.columns)
    summary = engine.summarise(cleaned)
    kept = {n: baseline.names[n] for n, s in statuses.items() if s == "kept"} if baseline else None
    wording = make_wording((*profiles.numeric, *profiles.categorical), plan.rules.concepts,
                           labels={**(TRANSACTION_LABELS if dataset.transactions is not None else {}),
                                   **dict(settings.labels)}, currency=settings.currency)
    personas = with_kpis(recommend(profiles, plan.rules, names=kept, wording=wording), cleaned.frame,
                         np.asarray(segmentation.labels), profiles, wording)
    stake = value_at_stake(profiles, wording)
    assignments = engine.assignments(cleaned, segmentation)
    rfm = rfm_of(cleaned.frame, segmentation.labels, plan.rules.rfm) if dataset.transactions is not None else None
    if rfm is not None:
        assignments = assignments.assign(rfm_score=rfm.table["rfm_score"].to_numpy(),
                                         rfm_segment=rfm.table["rfm_segment"].to_numpy())
    rules = segment_rules(cleaned.frame[list(matrix.names)].to_numpy(dtype=float), segmentation.labels,
                          matrix.names, seed=settings.seed,
                          categories=rule_categories(cleaned.frame, matrix.categories),
                          written=dataset.source.written_names)
    methods = None if baseline is not None and settings.assign_only else agreement(
        matrix.X, segmentation.labels, chosen=settings.algorithm, k=segmentation.k, seed=settings.seed,
        n_init=settings.n_init, layout=layout)
    portable = contents.portable_model(segmentation, personas, matrix, summary, id_column=cleaned.id_column,
                                       rows=cleaned.account.rows_out, input_name=dataset.source.name,
                                       highest=baseline.highest_number if baseline is not None else 0)
    comparison = None if baseline is None else compare_runs(
        baseline, portable, before_ids=baseline_segments(baseline),
        after_ids=assignments.iloc[:, :2] if cleaned.id_column else None)
    return _Described(profiles=profiles, summary=summary, personas=personas, assignments=assignments,
                      portable=portable, comparison=comparison, rfm=rfm, rules=rules, agreement=methods,
                      wording=wording, stake=stake, priorities=rank_priorities(personas, profiles, stake),
                      outcomes=_outcomes(baseline, comparison, cleaned, segmentation))


def _outcomes(baseline: BaselineModel | None, comparison: Comparison | None, cleaned: CleanResult,
              segmentation: Segmentation) -> tuple[KpiOutcome, ...]:
    """The baseline run's priorities (its summary.json), measured on this run's segments."""
    if baseline is None or comparison is None or baseline.folder is None:
        return ()
    before = (read_json(baseline.folder / "summary.json") or {}).get("priorities") or []
    partners: dict[int, int | None] = {c.partner: c.number for c in comparison.changes
                                       if c.status == "kept" and c.partner is not None}
    partners.update({c.number: None for c in comparison.changes if c.status == "gone"})
    return check_priorities(before, partners, cleaned.frame, np.asarray(segmentation.labels))


def _submit_segment_charts(drawing: Drawing, analysis: Analysis) -> None:
    matrix, rfm = analysis.matrix, analysis.rfm
    drawing.submit("segments", segment_data(
        matrix.X, analysis.cleaned.frame[list(matrix.names)].to_numpy(dtype=float), analysis.segmentation,
        analysis.profiles, names=matrix.names, scaling=matrix.scaler.method,
        segment_names={p.segment: p.name for p in analysis.personas},
        rfm_grid=rfm.grid if rfm is not None else None, rfm_segments=rfm.segments if rfm is not None else ()))
    if analysis.comparison is not None:
        drawing.submit("comparison", analysis.comparison)


@contextmanager
def importing(modules: tuple[str, ...]) -> Iterator[None]:
    """Import ``modules`` in a thread while the body runs, and wait for it at the end, so that the stages after it
    (the first to use these modules) find them imported. Reading a large CSV leaves the interpreter free while
    pyarrow parses: importing scikit-learn then (a second) costs nothing. The read imports none of these modules
    (Python's per-module import locks would make that safe too). An import that fails here fails again, and is
    reported, where the module is used; a read that fails waits for the imports first."""
    def load() -> None:
        for module in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(module)

    thread = threading.Thread(target=load, name="reportgen-imports", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()

