"""``run()``: load -> clean -> features -> k -> segments -> profiles -> personas -> charts -> report -> run folder.

This module only sequences the stages (and times them); each stage lives in its own module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from . import artifacts, charts, snapshot
from .background import Renderer, start_renderer
from .clean import clean
from .cluster import assign, fit_segments, renumber, select_k
from .compare import check_features, compare_runs, comparison_dict, migration_table, stable_numbers
from .config import Settings
from .features import build_features, choose_features
from .load import load_customers
from .model import Analysis, CleanResult, RunResult
from .profiles import profile
from .recommend import load_rules, recommend
from .render import build_report_model, check_templates, logo_data_uri, prepare_pdf, render_html, write_pdf
from .sample import sample_path

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class _Clock:
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
    source: Path | str | bytes | BinaryIO | None = None,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
    write: bool = True,
    renderer: Renderer | None = None,
) -> RunResult:
    """Segment the customers in ``source`` (a path, bytes or a binary stream; None: the bundled sample) and
    write a run folder under ``settings.output``. ``now`` fixes the run's timestamp (for tests and replays).
    ``renderer``: a chart renderer started earlier (see :func:`~reportgen.background.start_renderer`;
    the CLI starts its helper process first thing, so that it is ready when the data is); the run closes it.

    Raises a :class:`~reportgen.errors.ReportgenError` subclass on bad input; nothing is written then.
    """
    settings = settings or Settings()
    report = bool(settings.formats)
    renderer = renderer if renderer is not None else start_renderer(settings.workers if report else 1)
    try:
        return _run(source, settings, now=now or datetime.now().astimezone(), clock=_Clock(progress or _quiet),
                    source_name=source_name, write=write, renderer=renderer)
    finally:
        renderer.close()


def _run(source, settings: Settings, *, now: datetime, clock: _Clock, source_name: str | None, write: bool,
         renderer: Renderer) -> RunResult:
    if source is None:
        source = sample_path()
    rules = load_rules(settings.rules)  # fail on a bad rules file, template folder or logo before the heavy work
    check_templates(settings.templates, locale=settings.locale)
    logo = logo_data_uri(settings.logo)
    if write:
        snapshot.check_output_root(settings.output)
    baseline = None
    if settings.baseline == "latest" and not snapshot.run_folders(settings.output):
        clock.progress(f"No earlier run in {settings.output}: this run has no baseline")  # the first month
    elif settings.baseline:
        baseline = snapshot.load_baseline(snapshot.resolve_run(settings.baseline, settings.output))
    report = bool(settings.formats)
    try:
        def explore(cleaned) -> None:  # drawn by the helper process while this one clusters
            if report:
                renderer.submit("exploration_charts", charts.exploration_frame(cleaned), cleaned.numeric,
                                cleaned.categorical, cleaned.features, settings.seed)

        if settings.engine == "spark":
            analysis = _analyse_spark(source, settings, baseline, clock)
            explore(analysis.cleaned)
        else:
            analysis = _analyse(source, source_name, settings, baseline, clock, on_clean=explore)
        dataset, cleaned, matrix = analysis.dataset, analysis.cleaned, analysis.matrix
        selection, segmentation, statuses = analysis.selection, analysis.segmentation, analysis.statuses
        if report:
            renderer.submit("k_charts", selection)
        with clock.stage("profiles", "Profiling and naming the segments"):
            profiles = analysis.profiles or profile(cleaned, segmentation)
            kept = {n: baseline.names[n] for n, s in statuses.items() if s == "kept"} if baseline else None
            personas = recommend(profiles, rules, names=kept)
            segments = artifacts.segments_table(cleaned, segmentation, personas, every_row=analysis.segments)
            comparison = None
            if baseline is not None:
                comparison = compare_runs(
                    baseline, current_model(cleaned, matrix, segmentation, personas, now=now, source=dataset.source),
                    before_ids=snapshot.baseline_segments(baseline),
                    after_ids=segments.iloc[:, :2] if cleaned.id_column else None)
        chart_set: tuple = ()
        if report:
            names = {p.segment: p.name for p in personas}
            original = cleaned.frame[list(matrix.names)].to_numpy(dtype=float)
            renderer.submit("analysis_charts", matrix.X, original, matrix.names, segmentation, profiles, names)
            if comparison is not None:
                renderer.submit("comparison_charts", comparison)
            if "pdf" in settings.formats:
                with clock.stage("pdf_setup", "Loading the PDF renderer while the segment charts are drawn"):
                    prepare_pdf()
            with clock.stage("charts", "Drawing the charts"):
                chart_set = tuple(chart for job in renderer.collect() for chart in job)
        model = build_report_model(
            settings=settings, dataset=dataset, cleaned=cleaned, matrix=matrix, selection=selection,
            segmentation=segmentation, profiles=profiles, personas=personas, charts=chart_set, now=now,
            timings=clock.times, logo=logo,
            rules_source=str(settings.rules) if settings.rules else "packaged default.toml",
            comparison=comparison, statuses={n: s for n, s in statuses.items() if s == "new"},
            summary=analysis.summary,
        )
        files: dict[str, bytes] = {}
        if report:
            with clock.stage("html", "Rendering the report"):
                html = render_html(model, templates=settings.templates)
            if "html" in settings.formats:
                files["report.html"] = html.encode("utf-8")
            if "pdf" in settings.formats:
                with clock.stage("pdf", "Writing the PDF"):
                    files["report.pdf"] = write_pdf(html)
    finally:
        renderer.close()
    with clock.stage("files", "Writing segments.csv and the other data files"):
        files.update(data_files(model, cleaned, matrix, selection, segmentation, profiles, personas, chart_set,
                                segments))
    if comparison is not None:
        files["comparison.json"] = snapshot.json_bytes(comparison_dict(comparison))
        migration = migration_table(comparison)
        if migration is not None:
            files["migration.csv"] = snapshot.csv_bytes(migration)
    folder = None
    if write:
        with clock.stage("write", "Writing the run folder"):
            manifest = build_manifest(model, settings, started=now, timings=clock.times)
            if baseline is not None:
                manifest["baseline"] = {"run": baseline.run, "folder": str(baseline.folder),
                                        "assign_only": settings.assign_only}
            folder = snapshot.write_run(settings.output, model.run_name, files, manifest)
    return RunResult(folder=folder, model=model, files=tuple(sorted(files)))


def _analyse(source, source_name, settings: Settings, baseline, clock: _Clock,
             on_clean: Callable[[CleanResult], None]) -> Analysis:
    """The pandas engine: load, clean, scale, choose k, fit (or assign to a baseline's segments)."""
    with clock.stage("load", "Reading the data"):
        dataset = load_customers(source, name=source_name)
        features = (check_features(baseline, settings.features, dataset) if baseline
                    else choose_features(dataset, settings.features))
        scale = resolve_scale(settings.scale, baseline)
    with clock.stage("clean", f"Cleaning {len(dataset.frame):,} rows"):
        cleaned = clean(dataset, features=features, missing=settings.missing)  # type: ignore[arg-type]
    on_clean(cleaned)
    statuses: dict[int, str] = {}
    if settings.assign_only and baseline is not None:
        with clock.stage("features", "Scaling the features as the baseline did"):
            matrix = build_features(cleaned, scaler=baseline.scaler)
        with clock.stage("final_fit", f"Assigning customers to the {len(baseline.numbers)} baseline segments"):
            selection = snapshot.baseline_selection(baseline)
            segmentation = assign(matrix, baseline.centroids, baseline.numbers, seed=settings.seed,
                                  n_init=settings.n_init, silhouette_sample=settings.silhouette_sample)
            statuses = dict.fromkeys(baseline.numbers, "kept")
    else:
        with clock.stage("features", "Scaling the features"):
            matrix = build_features(cleaned, scale=scale)  # type: ignore[arg-type]
        with clock.stage("k_sweep", f"Trying k = {settings.k_min}..{settings.k_max}"):
            selection = select_k(matrix, k_min=settings.k_min, k_max=settings.k_max, fixed_k=settings.k,
                                 seed=settings.seed, n_init=settings.n_init,
                                 silhouette_sample=settings.silhouette_sample, sweep_sample=settings.sweep_sample)
        with clock.stage("final_fit", f"Fitting {selection.chosen_k} segments"):
            segmentation = fit_segments(matrix, selection.chosen_k, seed=settings.seed, n_init=settings.n_init,
                                        silhouette_sample=settings.silhouette_sample)
            if baseline is not None:  # keep the baseline's segment numbers and names
                renumbering, statuses = stable_numbers(baseline, segmentation)
                segmentation = renumber(segmentation, renumbering)
    return Analysis(dataset=dataset, cleaned=cleaned, matrix=matrix, selection=selection,
                    segmentation=segmentation, statuses=statuses)


def _analyse_spark(source, settings: Settings, baseline, clock: _Clock) -> Analysis:
    """The Spark engine (the stages that touch every row run on Spark)."""
    from .errors import ConfigError

    if not isinstance(source, str | Path):
        raise ConfigError("--engine spark reads files, not standard input", hint="Pass the data file's path.")
    from . import spark_engine

    with clock.stage("spark", "Running the analysis on Spark"):
        return spark_engine.analyse(Path(source), settings, progress=clock.progress, baseline=baseline,
                                    scale_method=resolve_scale(settings.scale, baseline))


def resolve_scale(scale: str | None, baseline) -> str:
    """The scaling to use: the one asked for, else the baseline's, else standard. A baseline with another
    scaling is an error (its segments would not mean the same)."""
    if baseline is None:
        return scale or "standard"
    if scale is not None and scale != baseline.scaler.method:
        from .errors import ConfigError

        raise ConfigError(f"the baseline run {baseline.run} scales its features with {baseline.scaler.method!r}; "
                          f"this run asks for --scale {scale}",
                          hint=f"Leave out --scale (or use --scale {baseline.scaler.method}) to compare with it.")
    return baseline.scaler.method


def current_model(cleaned, matrix, segmentation, personas, *, now: datetime, source):
    """This run's portable model, in the form a later run reads as its baseline."""
    data = artifacts.portable_model(segmentation, personas, features=matrix.names, scaler_method=matrix.scaler.method,
                                    center=matrix.scaler.center, scale=matrix.scaler.scale, cleaned=cleaned)
    return snapshot.baseline_from_dict(snapshot.jsonable(data), folder=None, run="this run",
                                       created=now.isoformat(timespec="seconds"), input_name=source.name)


def data_files(model, cleaned, matrix, selection, segmentation, profiles, personas, chart_set, segments
               ) -> dict[str, bytes]:
    """Every file of the run folder except the report and the manifest."""
    files = {
        "segments.csv": snapshot.csv_bytes(segments),
        "profiles.csv": snapshot.csv_bytes(artifacts.profiles_table(profiles, personas)),
        "cleaning.csv": snapshot.csv_bytes(cleaned.log),
        "metrics.json": snapshot.json_bytes(artifacts.metrics(
            selection, segmentation, features=matrix.names, scaling=matrix.scaler.method,
            rows=cleaned.account.rows_out, engine=model.settings.get("engine", "pandas"))),
        "model.json": snapshot.json_bytes(artifacts.portable_model(
            segmentation, personas, features=matrix.names, scaler_method=matrix.scaler.method,
            center=matrix.scaler.center, scale=matrix.scaler.scale, cleaned=cleaned)),
        "summary.json": snapshot.json_bytes(artifacts.summary(model)),
    }
    files.update({f"charts/{chart.name}.png": chart.png for chart in chart_set})
    return files


def build_manifest(model, settings: Settings, *, started: datetime, timings: dict[str, float]) -> dict:
    return {
        "schema_version": snapshot.SCHEMA_VERSION,
        "run": model.run_name,
        "reportgen": model.version,
        "versions": dict(model.versions),
        "settings": settings.to_dict(),
        "input": {
            "name": model.source.name, "path": model.source.path, "size": model.source.size,
            "sha256": model.source.sha256, "format": model.source.format, "encoding": model.source.encoding,
            "delimiter": model.source.delimiter, "rows": model.rows_read, "columns": len(model.columns),
            "column_roles": {c.name: c.role for c in model.columns},
        },
        "data_quality": {
            "rows_in": model.account.rows_in, "rows_out": model.account.rows_out,
            "rows_dropped": model.account.rows_dropped, "missing_policy": model.account.missing_policy,
            "steps": [vars(step) for step in model.account.steps],
            "excluded_columns": [{"column": c, "why": why} for c, why in model.account.excluded_columns],
        },
        "k": model.segmentation.k,
        "silhouette": artifacts.sig(model.segmentation.silhouette, 6),
        "reproduce": model.reproduce,
        "started": started,
        "finished": datetime.now().astimezone(),
        "timings": timings,
    }
