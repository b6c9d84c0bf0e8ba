"""CHARTS: every chart of the report, one entry each: its name, title, report section, the data it is drawn from
(its phase), the builder that draws it, its alt text, and when it applies.

A chart is drawn as soon as the data of its phase is there: the exploration charts once the data is cleaned, the
k charts after the sweep, the segment charts after profiling. :class:`Drawing` draws them as pure jobs
(:func:`draw_charts`) in chart processes (``concurrent.futures``; started first thing, so that matplotlib and
seaborn are loaded while this process reads and clusters) or, with one worker, here. The templates place each
chart by its section, so adding a chart is one entry in this table.

Nothing heavy is imported here (matplotlib, seaborn and scikit-learn are imported by the builders), so that
starting the chart processes costs the command line nothing.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from ...model import Chart, MissingChart, Section
from . import comparison, exploration, segments, trend
from .style import chart_style, segment_color, to_png, width_mm

if TYPE_CHECKING:
    from matplotlib.figure import Figure


__all__ = ["CHARTS", "ChartSpec", "Drawing", "chart_columns", "draw_phase", "segment_color", "split_drawn"]

Phase = Literal["exploration", "choosing-k", "segments", "comparison", "trend"]
D = TypeVar("D")
T = TypeVar("T")


def _always(data: Any) -> bool:
    return True


@dataclass(frozen=True)
class ChartSpec(Generic[D]):
    name: str
    title: str | Callable[[D], str]
    section: Section  # where the report shows it
    phase: Phase  # what it is drawn from: ExplorationData, KSelection, SegmentData or Comparison
    draw: Callable[[D], Figure]
    alt: Callable[[D], str]
    applies: Callable[[D], bool] = _always


CHARTS: tuple[ChartSpec[Any], ...] = (
    ChartSpec("distributions", "Distribution of each numeric column", "exploration", "exploration",
              exploration.distributions, exploration.distributions_alt),
    ChartSpec("categories", "Categorical columns", "exploration", "exploration", exploration.categories,
              exploration.categories_alt, applies=lambda data: bool(data.categorical)),
    ChartSpec("by_category", exploration.by_category_title, "exploration", "exploration", exploration.by_category,
              exploration.by_category_alt, applies=lambda data: exploration.violin_category(data) is not None),
    ChartSpec("pairs", "Pairwise relationships", "exploration", "exploration", exploration.pairs,
              exploration.pairs_alt, applies=lambda data: len(data.features) >= 2),
    ChartSpec("correlation", "Correlations", "exploration", "exploration", exploration.correlation,
              exploration.correlation_alt, applies=lambda data: len(data.numeric) >= 2),
    ChartSpec("elbow", "Elbow curve", "choosing-k", "choosing-k", segments.elbow, segments.elbow_alt),
    ChartSpec("silhouette_k", "Silhouette by k", "choosing-k", "choosing-k", segments.silhouette_by_k,
              segments.silhouette_by_k_alt),
    ChartSpec("segments_scatter", "Customers by segment", "segments", "segments", segments.scatter,
              segments.scatter_alt),
    ChartSpec("segments_3d", "The segments in three dimensions", "segments", "segments", segments.scatter_3d,
              segments.scatter_3d_alt, applies=lambda data: len(data.names) == 3),
    ChartSpec("silhouette_plot", "Silhouette of each customer", "segments", "segments", segments.silhouettes,
              segments.silhouettes_alt),
    ChartSpec("profile_heatmap", "Segment profiles", "segments", "segments", segments.profile_heatmap,
              segments.profile_heatmap_alt),
    ChartSpec("segment_mix", "Who is in each segment", "segments", "segments", segments.segment_mix,
              segments.segment_mix_alt, applies=lambda data: bool(data.profiles.categorical)),
    ChartSpec("rfm_grid", "RFM segments: recency against frequency", "rfm", "segments", segments.rfm_grid,
              segments.rfm_grid_alt, applies=lambda data: data.rfm_grid is not None),
    ChartSpec("sizes", "Segment sizes", "segments", "segments", segments.sizes, segments.sizes_alt),
    ChartSpec("share_change", "Segment shares, baseline and now", "comparison", "comparison",
              comparison.share_change, comparison.share_change_alt),
    ChartSpec("migration", "Customer migration between segments", "comparison", "comparison", comparison.migration,
              comparison.migration_alt, applies=lambda data: data.migration is not None),
    # reportgen trend (data: a trend.Trend over the runs of a series)
    ChartSpec("trend_shares", "Segment shares over time", "trend", "trend", trend.shares, trend.shares_alt),
    ChartSpec("trend_movement", "Customers staying, moving, entering and leaving", "trend", "trend",
              trend.movement, trend.movement_alt, applies=lambda data: data.has_ids),
    ChartSpec("trend_flows", "Where each segment's customers went in the latest period", "trend", "trend",
              trend.flows, trend.flows_alt, applies=lambda data: bool(data.steps[-1].flows)),
)


STRICT = "REPORTGEN_STRICT"  # set (not "0"): a chart that fails raises instead of being left out (the tests set it)
WHY_LENGTH = 300  # characters of the error a missing chart's note keeps


def strict() -> bool:
    """Whether a fault reportgen can survive (a chart that cannot be drawn) raises instead: the tests set
    ``REPORTGEN_STRICT=1`` so that a chart bug never hides behind a complete-looking report."""
    return os.environ.get(STRICT, "") not in ("", "0")


def _title(spec: ChartSpec[Any], data: Any) -> str:
    return spec.title(data) if callable(spec.title) else spec.title


def draw(spec: ChartSpec[Any], data: Any) -> Chart | MissingChart:
    """The chart, or, when drawing it raises (a bug in reportgen, on a table nobody tried), a
    :class:`~reportgen.model.MissingChart` that the report names: a chart never costs a user the report."""
    try:
        with chart_style():
            fig = spec.draw(data)
            png = to_png(fig)
        return Chart(name=spec.name, title=_title(spec, data), alt=spec.alt(data), png=png, section=spec.section,
                     width_mm=width_mm(fig))
    except Exception as exc:
        if strict():
            raise
        try:
            title = _title(spec, data)
        except Exception:
            title = spec.name.replace("_", " ")
        why = " ".join(f"{type(exc).__name__}: {exc}".split())
        return MissingChart(name=spec.name, title=title, section=spec.section,
                            why=why if len(why) <= WHY_LENGTH else why[:WHY_LENGTH - 1] + "…")


def split_drawn(drawn: tuple[Chart | MissingChart, ...]) -> tuple[tuple[Chart, ...], tuple[MissingChart, ...]]:
    """(the charts drawn, those that could not be)."""
    return (tuple(c for c in drawn if isinstance(c, Chart)), tuple(c for c in drawn if isinstance(c, MissingChart)))


def charts_of(phase: Phase, data: Any, charts: tuple[ChartSpec[Any], ...] = CHARTS) -> tuple[str, ...]:
    """The names of the charts of ``phase`` that apply to ``data``, in table order."""
    return tuple(spec.name for spec in charts if spec.phase == phase and spec.applies(data))


def draw_charts(names: tuple[str, ...], data: Any) -> tuple[Chart | MissingChart, ...]:
    """The named charts, drawn from one phase's data (a :class:`~reportgen.model.MissingChart` for each that
    could not be): the pure job a chart process runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the chart process has no --debug; its warnings would reach the terminal
        return tuple(draw(BY_NAME[name], data) for name in names)


def draw_phase(phase: Phase, data: Any) -> tuple[Chart | MissingChart, ...]:
    """Every chart of ``phase`` that applies to ``data``, here and now (what a notebook or a test calls)."""
    return draw_charts(charts_of(phase, data), data)


BY_NAME = {spec.name: spec for spec in CHARTS}
CHART_PROCESSES = 2  # two jobs at a time: while they are drawn, this process only loads WeasyPrint and waits
JOB_TIMEOUT = 600.0  # seconds to wait for one job before drawing its charts here instead


def processes_are_safe() -> bool:
    """Whether chart processes can be started from this program without side effects. multiprocessing makes each
    chart process import this program's main module again: harmless for the reportgen command (its main module
    only defines ``main``), a notebook or ``python -c``, but a script that calls ``reportgen.run()`` outside an
    ``if __name__ == "__main__":`` block would run again in every chart process. Such a script can still pass
    ``drawing=Drawing(2)`` to :func:`reportgen.run` from inside that block."""
    main = sys.modules.get("__main__")
    return main is None or getattr(main, "__file__", None) is None


def _context() -> Any:
    """forkserver where there is one (POSIX): the server loads matplotlib, seaborn and pandas once, and every chart
    process is forked from it ready to draw; spawn elsewhere."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["reportgen.report.charts.preload"])
        return context
    return multiprocessing.get_context("spawn")


# chart names, data, the handover
Job = tuple[tuple[str, ...], Any, Future[Future[tuple[Chart | MissingChart, ...]]] | None]


def _watch(parent: int) -> None:
    """Each chart process starts with this: it ends the process when the one that made the pool is gone. A killed
    run cannot shut its pool down, and a chart process waiting for work would then wait forever (and keep the
    run's output pipes open)."""
    import os
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the number was reused: not ours to judge
                pass

    threading.Thread(target=watch, name="reportgen-watch", daemon=True).start()


class Drawing:
    """Draws the charts of each submitted phase: in chart processes when ``workers`` is 2 or more, else here on
    :meth:`collect`.

    With chart processes, the forkserver they are forked from starts at once and loads matplotlib, seaborn and
    pandas while this process reads the data (starting it waits for nothing). The pool of chart processes is made
    by the first job. Making it waits until the forkserver is ready, and so does shutting it down while it is
    being made; both happen on one handover thread, so this process never waits for either. A phase's charts
    are split into as many jobs as there are chart processes (each job gets its own copy of the data). If a chart
    process fails, dies, hangs or cannot start, its charts are drawn here: that never fails a run."""

    def __init__(self, workers: int = 1) -> None:
        self.jobs: list[Job] = []
        self.calls: list[Future[Any]] = []  # of call(): cancelled by close() when not yet handed over
        self.context: Any = None
        self.pool: ProcessPoolExecutor | None = None  # made and used on the handover thread only
        self.handover: ThreadPoolExecutor | None = None
        if workers > 1:
            try:
                self.context = _context()
                if self.context.get_start_method() == "forkserver":
                    from multiprocessing import forkserver

                    forkserver.ensure_running()  # spawns the server, which loads its modules; does not wait
                self.handover = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-charts")
            except (OSError, RuntimeError, ValueError):
                self.handover = None

    def _hand_over(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """Runs on the handover thread: the job to the pool, which the first job makes."""
        if self.pool is None:
            import os

            self.pool = ProcessPoolExecutor(max_workers=CHART_PROCESSES, mp_context=self.context,
                                            initializer=_watch, initargs=(os.getpid(),))
        return self.pool.submit(function, *args)

    def _shut_down(self, wait: bool) -> None:
        """Runs on the handover thread, after every job it took."""
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=True)

    def submit(self, phase: Phase, data: Any) -> None:
        """Queue the charts of ``phase`` that apply to ``data``."""
        names = charts_of(phase, data)
        groups = [names[i::CHART_PROCESSES] for i in range(CHART_PROCESSES)] if self.handover else [names]
        for group in filter(None, groups):
            handed = self.handover.submit(self._hand_over, draw_charts, group, data) if self.handover else None
            self.jobs.append((group, data, handed))

    def call(self, function: Callable[..., T], *args: Any) -> Callable[[], T]:
        """``function(*args)`` started in a chart process (a module-level function: it is pickled), and a function
        that waits for its result. Without chart processes, or when the one it ran in failed (or the function
        raised there), the waiting function runs it here, where an error is raised as it would be without chart
        processes. The PDF is rendered this way while this process writes the data files."""
        handed = self.handover.submit(self._hand_over, function, *args) if self.handover else None
        if handed is not None:
            self.calls.append(handed)

        def result() -> T:
            if handed is not None:
                try:
                    return cast(T, handed.result(JOB_TIMEOUT).result(JOB_TIMEOUT))
                except Exception:  # run it here, which raises the error a user should see
                    pass
            return function(*args)

        return result

    def collect(self) -> tuple[Chart | MissingChart, ...]:
        """Every submitted chart, in the order of CHARTS (a MissingChart for each that could not be drawn)."""
        drawn: dict[str, Chart | MissingChart] = {}
        order: list[str] = []
        for names, data, handed in self.jobs:
            order += names
            charts = None
            if handed is not None:
                try:
                    charts = handed.result(JOB_TIMEOUT).result(JOB_TIMEOUT)
                except Exception:  # the pool could not start, a chart process died or hung: draw them here
                    charts = None
            drawn.update({chart.name: chart for chart in (charts if charts is not None else draw_charts(names, data))})
        self.jobs.clear()
        return tuple(sorted((drawn[name] for name in order), key=lambda chart: _RANK[chart.name]))

    def close(self, *, wait: bool = False) -> None:
        """Cancel what has not started and end the chart processes. ``wait``: until they have ended (idle chart
        processes end in a fraction of a second; the command line waits, as it ends without Python's teardown);
        else this returns at once."""
        for _, _, handed in self.jobs:
            if handed is not None:
                handed.cancel()
        for call in self.calls:
            if not call.cancel() and call.done() and call.exception() is None:
                call.result().cancel()  # handed over: cancelled unless a chart process has started it
        self.jobs.clear()
        self.calls.clear()
        if self.handover is not None:
            self.handover.submit(self._shut_down, wait)
            self.handover.shutdown(wait=wait)
            self.handover = None

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(wait=True)


_RANK = {spec.name: i for i, spec in enumerate(CHARTS)}
