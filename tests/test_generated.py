"""Generated tables end to end (issue 26): customer-like tables of many shapes (:mod:`tests.shapes`) through
``reportgen.run`` with the charts and the HTML on, a PDF for some. Each run either completes and keeps its promises
or raises a :class:`ReportgenError` with one clear line. Anything else is a bug, reported with the shape's seed and
description: ``shape_of(seed)`` rebuilds the table and ``run_shape(seed, folder)`` reruns it.

The promises of a completed run (:func:`check_run`): report.html (and report.pdf, with pages, when asked for) is
there, has the charts every run has and shows no "nan"; segments.csv has a row per customer the cleaning account
kept; every segment has a customer; segments.sql names the input's columns, runs on the input table and, when
cleaning changed nothing, puts the share of the customers it claims in their own segments.

The slow test runs :data:`SHAPES` shapes in two worker processes (a forkserver: each loads pandas, scikit-learn and
matplotlib once) while the tests collect their results in the order they run.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from reportgen import Settings
from reportgen.errors import ReportgenError

from .shapes import TRAPS, Shape, measure_columns, shape_of, table_of, write_table

SHAPES = int(os.environ.get("REPORTGEN_SHAPES", "200"))  # seeds 0..SHAPES-1 (CI: 200; more for a long hunt)
PDF_EVERY = 10  # a PDF for every tenth seed: 20 of 200
STABILITY_EVERY = 8  # the stability check (a few resamples) for every eighth seed; off for the others
STABILITY_RESAMPLES = 5
FAST_SEEDS = (162, 166)  # two cheap shapes outside the slow set: one refused (3 usable rows), one run
SHAPE_TIMEOUT = 180.0  # seconds one shape may take before it counts as hung
WORKERS = 2
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def settings_of(shape: Shape, table: pd.DataFrame, output: Path) -> Settings:
    """The run's settings. HTML and charts always, a PDF for every tenth seed; a narrow k range and the stability
    check (a few resamples) for every eighth seed only: the speed levers of a test of 200 runs. Drawn from the
    seed: the algorithm (mostly K-means; Ward, a Gaussian mixture, and k-prototypes for shapes with a categorical
    column of 2 to 12 levels), the missing-value, scaling, transform and outlier options, and ``features`` (the
    first measures by name) for some shapes and half of those wider than the 50 columns reportgen clusters."""
    seed = shape.seed
    rng = np.random.default_rng([26, seed, 2])
    algorithm = str(rng.choice(["kmeans", "ward", "gmm", "kprototypes"], p=[0.7, 0.1, 0.1, 0.1]))
    if algorithm == "kprototypes" and not any(2 <= n <= 12 for n in shape.levels):
        algorithm = "kmeans"
    names = measure_columns(shape, table)
    chosen = rng.random() < 0.1 or (shape.numeric > 50 and rng.random() < 0.5)
    return Settings(
        output=output, name=f"seed-{seed}", seed=seed, workers=1,
        formats=("html", "pdf") if seed % PDF_EVERY == 0 else ("html",),
        k_min=2, k_max=3 + seed % 3, stability_resamples=STABILITY_RESAMPLES if seed % STABILITY_EVERY == 3 else 0,
        algorithm=algorithm,  # type: ignore[arg-type]
        features=tuple(names[: int(rng.integers(1, 9))]) if chosen else None,
        missing="median" if rng.random() < 0.25 else "drop",
        scale=rng.choice([None, "minmax", "none"], p=[0.8, 0.15, 0.05]),  # type: ignore[arg-type]
        transform="none" if rng.random() < 0.1 else "auto",
        outliers="keep" if rng.random() < 0.1 else "clip",
    )


def describe_settings(settings: Settings) -> str:
    """The settings of a shape's run that are not the defaults of every shape, on one line."""
    drawn = {"algorithm": settings.algorithm, "scale": settings.scale, "missing": settings.missing,
             "transform": settings.transform, "outliers": settings.outliers}
    parts = [f"{key}={value}" for key, value in drawn.items()
             if value not in ("kmeans", None, "drop", "auto", "clip")]
    if settings.features:
        parts.append(f"features={len(settings.features)}")
    parts.append(f"k={settings.k_min}-{settings.k_max}")
    if settings.stability_resamples:
        parts.append(f"stability={settings.stability_resamples}")
    return " ".join([*parts, "+".join(settings.formats)])


@dataclass(frozen=True)
class Outcome:
    """What one shape's run came to: ``status`` "ok" (with the broken promises in ``problems``), "refused" (a
    ReportgenError: ``message``) or "crashed" (any other exception: its type, message and traceback)."""

    seed: int
    shape: str  # the shape and the run's settings, on one line
    status: str
    seconds: float  # wall time of writing the table and running reportgen on it
    cpu: float  # its CPU time (this process's: the charts are drawn here)
    message: str = ""
    error: str = ""
    where: str = ""  # the innermost frame in reportgen/ of a crash
    trace: str = ""
    folder: str = ""
    problems: tuple[str, ...] = ()

    def failure(self) -> str | None:
        """None when the outcome keeps the rule; else a paragraph naming the seed and the shape."""
        head = f"seed {self.seed} ({self.shape})"
        if self.status == "crashed":
            return f"{head}: {self.error}: {self.message} at {self.where}\n{self.trace}"
        if self.status == "refused" and (not self.message.strip() or "\n" in self.message):
            return f"{head}: a ReportgenError that is not one line: {self.message!r}"
        if self.problems:
            return f"{head}: completed, but {'; '.join(self.problems)} (in {self.folder})"
        return None


# ----------------------------------------------------------------------------- the promises of a completed run
SHOWN_NAN = re.compile(r"\b(nan|NaN|inf)\b")
ALWAYS_DRAWN = ("distributions", "elbow", "silhouette_k", "segments_scatter", "silhouette_plot", "profile_heatmap",
                "sizes")  # the charts that apply to every run (reportgen.report.charts.CHARTS without a condition)
QUOTED = re.compile(r'"((?:[^"]|"")*)"')
CLAIMED = re.compile(r"puts ([\d.]+)% of the customers in their own segment")


def visible_text(html: str) -> str:
    """The text a reader sees: no styles, images, tags or entities."""
    import html as entities

    html = re.sub(r"<style.*?</style>|data:[^\"')]+", "", html, flags=re.DOTALL)
    return entities.unescape(re.sub(r"<[^>]+>", " ", html))


def check_sql(folder: Path, table: pd.DataFrame, *, kept: int, cleaned: bool) -> list[str]:
    """segments.sql names columns of the input table, runs on it in SQLite and gives every row a segment of
    segments.csv or none; when cleaning neither dropped nor changed a row, it puts at least the share it claims in
    their own segment.
    (Skipped for names that differ only by case: SQLite cannot tell them apart.)"""
    import sqlite3

    if len({str(c).lower() for c in table.columns}) < len(table.columns):
        return []
    sql = (folder / "segments.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    quoted = {name.replace('""', '"') for name in QUOTED.findall(body)} - {"customers"}
    unknown = sorted(quoted - {str(c) for c in table.columns})
    if unknown:  # SQLite would read such a name as a string, not fail
        return [f"segments.sql names columns the input does not have: {unknown}"]
    segments = pd.read_csv(folder / "segments.csv", dtype=str, keep_default_na=False).iloc[:, 1]
    with sqlite3.connect(":memory:") as db:
        table.to_sql("customers", db, index=False)
        try:
            cursor = db.execute(sql)
            rows, names = cursor.fetchall(), [d[0] for d in cursor.description]
        except sqlite3.Error as error:
            return [f"segments.sql fails on the input table: {error}"]
    if len(rows) != len(table):
        return [f"segments.sql gives {len(rows)} rows for {len(table)} customers"]
    given = pd.Series([row[names.index("segment")] for row in rows])
    unknown = set(given.dropna().astype(int).astype(str)) - set(segments)
    if unknown:
        return [f"segments.sql assigns segments {sorted(unknown)} that segments.csv does not have"]
    header = " ".join(line.removeprefix("--").strip() for line in sql.splitlines() if line.startswith("--"))
    claim = CLAIMED.search(header)
    if cleaned or claim is None or kept != len(table):
        return []
    agree = float((given.astype("Int64").astype(str).to_numpy() == segments.to_numpy()).mean())
    if agree < float(claim.group(1)) / 100 - 0.005:
        return [f"segments.sql puts {agree:.1%} of the customers in their own segment, not {claim.group(1)}%"]
    return []


def check_run(result, table: pd.DataFrame, settings: Settings) -> tuple[str, ...]:
    """The promises of a completed run: the report files, segments.csv against the cleaning account, segments
    with customers, the charts every run has, a PDF with pages, no "nan" in the report, and segments.sql."""
    folder: Path = result.folder
    wanted = ["report.html", "segments.csv", "segments.sql"] + (["report.pdf"] if "pdf" in settings.formats else [])
    problems = [f"{name} is missing" for name in wanted if not (folder / name).is_file()]
    if problems:
        return tuple(problems)
    account = result.model.account
    kept = account.rows_out
    segments = pd.read_csv(folder / "segments.csv", dtype=str, keep_default_na=False)
    if len(segments) != kept:
        problems.append(f"segments.csv has {len(segments)} rows but the account kept {kept} customers")
    segmentation = result.model.segmentation
    counts = segments.iloc[:, 1].value_counts()
    empty = [n for n in segmentation.numbers if counts.get(str(n), 0) == 0]
    if empty:
        problems.append(f"segments {empty} have no customer in segments.csv")
    if any(size < 1 for size in segmentation.sizes) or sum(segmentation.sizes) != kept:
        problems.append(f"segment sizes {segmentation.sizes} for {kept} customers")
    undrawn = getattr(result.model, "missing_charts", ())  # left out when REPORTGEN_STRICT is off
    problems += [f"a chart was left out: {chart.sentence()}" for chart in undrawn]
    missing = [name for name in ALWAYS_DRAWN if name not in result.model.charts
               and name not in {chart.name for chart in undrawn}]
    if missing:
        problems.append(f"the report has no {', '.join(missing)} chart")
    if "pdf" in settings.formats:
        from pypdf import PdfReader

        if not PdfReader(folder / "report.pdf").pages:
            problems.append("report.pdf has no page")
    shown = SHOWN_NAN.findall(visible_text((folder / "report.html").read_text(encoding="utf-8")))
    if shown:
        problems.append(f"report.html shows {sorted(set(shown))}")
    cleaned = bool(account.steps) or account.rows_in != account.rows_out
    problems += check_sql(folder, table, kept=kept, cleaned=cleaned)
    problems += check_words(result.model)
    return tuple(problems)


PLACEHOLDER = re.compile(r"\{[a-z_]+\}|--[a-z]|\.(csv|json|sql|toml)\b|on average")


def check_words(model: Any) -> list[str]:
    """Issue 28: every segment its own persona and headline, no placeholder, flag or file name in a text for the
    manager, and no "on average" beside a quoted value."""
    problems = []
    personas = [s.persona for s in model.segments]
    rules = [p.rule_id for p in personas]
    headlines = [p.recommendations[0].action for p in personas]
    if len(set(rules)) != len(rules):
        problems.append(f"two segments share a persona rule: {rules}")
    if len(set(headlines)) != len(headlines):
        problems.append(f"two segments share a headline recommendation: {headlines}")
    for p in personas:  # (the persona quotes column names, which a generated table may write with {, -- or .csv)
        texts = [getattr(r, k) for r in p.recommendations for k in ("action", "channel", "offer", "message")]
        found = {m.group(0) for t in texts for m in PLACEHOLDER.finditer(t)}
        if "on average" in p.persona:
            found.add("on average")
        if found:
            problems.append(f"segment {p.segment}'s texts hold {sorted(found)}")
    return problems


def _innermost_reportgen_frame(error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/reportgen/" in f.filename]
    if not frames:
        return "outside reportgen"
    frame = frames[-1]
    return f"reportgen/{frame.filename.rsplit('/reportgen/', 1)[1]}:{frame.lineno} in {frame.name}"


def run_shape(seed: int, root: Path) -> Outcome:
    """Generate the table of ``seed``, write it under ``root``/seed-N and run reportgen on it here (a module-level
    function, so that a worker process can run it)."""
    from reportgen.pipeline import run

    shape = shape_of(seed)
    folder = root / f"seed-{seed}"
    started, cpu = time.perf_counter(), time.process_time()
    table = table_of(shape)
    path = write_table(shape, table, folder)
    settings = settings_of(shape, table, folder / "out")

    def outcome(status: str, **found: object) -> Outcome:
        return Outcome(seed, f"{shape.describe()}; {describe_settings(settings)}", status,
                       time.perf_counter() - started, time.process_time() - cpu, **found)  # type: ignore[arg-type]

    try:
        result = run(path, settings, now=NOW)
    except ReportgenError as error:
        return outcome("refused", message=str(error))
    except Exception as error:  # the bug this test is for: reported with the seed, not raised
        return outcome("crashed", message=str(error).replace("\n", " ")[:300], error=type(error).__name__,
                       where=_innermost_reportgen_frame(error), trace="".join(traceback.format_exception(error)[-12:]))
    try:
        problems = check_run(result, table, settings)
    except Exception as error:  # a folder too broken to check
        problems = (f"checking it raised {type(error).__name__}: {error}",)
    return outcome("ok", folder=str(result.folder), problems=problems)


def assert_kept_the_rule(outcome: Outcome) -> None:
    failure = outcome.failure()
    assert failure is None, failure


# ----------------------------------------------------------------------------- the generator itself (fast)
def test_the_generator_is_deterministic() -> None:
    for seed in (0, 17, 123):
        assert shape_of(seed) == shape_of(seed)
        pd.testing.assert_frame_equal(table_of(shape_of(seed)), table_of(shape_of(seed)))


def test_the_generated_shapes_cover_the_traps() -> None:
    shapes = [shape_of(seed) for seed in range(200)]
    assert min(s.rows for s in shapes) <= 5 and max(s.rows for s in shapes) >= 4000
    assert min(s.numeric for s in shapes) == 1 and max(s.numeric for s in shapes) >= 50
    levels = {n for s in shapes for n in s.levels}
    assert {1, 2, 8, 9} <= levels and max(levels) >= 45
    assert {len(s.levels) for s in shapes} == set(range(6))
    assert sum(s.wide_with_violins for s in shapes) >= 20  # the shape of the violin crash
    assert sum(s.groups == 1 for s in shapes) >= 20  # no planted groups
    for trap in TRAPS:
        assert sum(trap in s.traps for s in shapes) >= 20, trap
    assert {s.names for s in shapes} == {"plain", "spaces", "symbols", "unicode", "digits", "long", "mixed"}
    assert {s.file_format for s in shapes} == {"csv", "csv;", "parquet", "xlsx"}
    assert {s.id_kind for s in shapes} == {"none", "numeric", "text"}
    assert sum(s.seed % PDF_EVERY == 0 for s in shapes) == 20


def test_a_generated_table_has_its_traps() -> None:
    shape = replace(shape_of(0), rows=300, numeric=5, levels=(3,), traps=frozenset(TRAPS), missing_share=0.05)
    table = table_of(shape)
    assert len(table) == shape.rows and table.columns.is_unique
    assert table.isna().all().sum() >= 1  # the all-missing column
    lowered = [c.lower() for c in table.columns]
    assert len(lowered) - len(set(lowered)) == 2  # a measure and a categorical column, twice in other case
    assert (table.nunique() == 1).sum() >= 2  # constant columns
    assert table[measure_columns(shape, table)].isna().any().all()  # missing cells in every measure
    assert ((table == -1) | (table == 999)).any().any()  # the sentinel
    assert (table.select_dtypes("number") < 0).any().any()  # overdrafts


def test_long_names_are_130_characters() -> None:
    seed = next(s for s in range(200) if shape_of(s).names == "long")
    names = [c for c in table_of(shape_of(seed)).columns if len(c) >= 100]
    assert names and all(len(c) == 130 for c in names)


@pytest.mark.parametrize("seed", FAST_SEEDS)
def test_a_few_generated_tables_end_to_end(seed: int, tmp_path: Path) -> None:
    assert_kept_the_rule(run_shape(seed, tmp_path))


# ----------------------------------------------------------------------------- SHAPES tables (slow)
def cost(seed: int) -> int:
    """A rough measure of how long a shape takes. The costly shapes run first, so that none finishes the run
    alone, and the tests wait in the order the shapes run (a shape's timeout then counts its own run)."""
    shape = shape_of(seed)
    return shape.rows * (shape.numeric + 10) + (10**6 if seed % PDF_EVERY == 0 else 0)


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[int, Future[Outcome]]]:
    """Every selected seed of :func:`test_generated_table`, submitted at once (in the tests' order) to two worker
    processes: each test then waits for its own."""
    seeds = [item.callspec.params["seed"] for item in request.session.items
             if getattr(item, "originalname", "") == "test_generated_table" and hasattr(item, "callspec")]
    root = tmp_path_factory.mktemp("generated")
    context = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                                          else "spawn")
    pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=context)
    try:
        yield {seed: pool.submit(run_shape, seed, root) for seed in seeds}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", sorted(range(SHAPES), key=lambda seed: -cost(seed)), ids="seed-{}".format)
def test_generated_table(seed: int, outcomes: dict[int, Future[Outcome]]) -> None:
    try:
        outcome = outcomes[seed].result(timeout=SHAPE_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"seed {seed} ({shape_of(seed).describe()}): no result after {SHAPE_TIMEOUT:.0f} s")
    assert_kept_the_rule(outcome)
