"""CHARTS: every chart of the report, one entry each: its name, title, report section, the data it is drawn from
(its phase), the builder that draws it, its alt text, and when it applies.

A chart is drawn as soon as the data of its phase is there: the exploration charts once the data is cleaned, the
k charts after the sweep, the segment charts after profiling. :class:`Drawing` draws each chart as one pure job
(:func:`draw_charts`) in chart processes (``concurrent.futures``; started first thing, so that matplotlib and
seaborn are loaded while this process reads and clusters) or, with one worker, here. The templates place each
chart by its section, so adding a chart is one entry in this table.

Nothing heavy is imported here (matplotlib, seaborn and scikit-learn are imported by the builders), so that
starting the chart processes costs the command line nothing.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ..model import Chart, Section
from . import comparison, exploration, segments
from .style import chart_style, segment_color, to_png, width_mm

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CHARTS", "ChartSpec", "Drawing", "draw_phase", "segment_color"]

Phase = Literal["exploration", "choosing-k", "segments", "comparison"]
D = TypeVar("D")


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
    ChartSpec("sizes", "Segment sizes", "summary", "segments", segments.sizes, segments.sizes_alt),
    ChartSpec("share_change", "Segment shares, baseline and now", "comparison", "comparison",
              comparison.share_change, comparison.share_change_alt),
    ChartSpec("migration", "Customer migration between segments", "comparison", "comparison", comparison.migration,
              comparison.migration_alt, applies=lambda data: data.migration is not None),
)


def draw(spec: ChartSpec[Any], data: Any) -> Chart:
    with chart_style():
        fig = spec.draw(data)
        png = to_png(fig)
    title = spec.title(data) if callable(spec.title) else spec.title
    return Chart(name=spec.name, title=title, alt=spec.alt(data), png=png, section=spec.section,
                 width_mm=width_mm(fig))


def draw_phase(phase: Phase, data: Any, charts: tuple[ChartSpec[Any], ...] = CHARTS) -> tuple[Chart, ...]:
    """Every chart of ``phase`` that applies to ``data``, in table order (a pure job for the chart process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the chart process has no --debug; its warnings would reach the terminal
        return tuple(draw(spec, data) for spec in charts if spec.phase == phase and spec.applies(data))


def draw_charts(names: tuple[str, ...], data: Any) -> tuple[Chart, ...]:
    """The named charts of one phase (a job for a chart process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the chart process has no --debug; its warnings would reach the terminal
        return tuple(draw(BY_NAME[name], data) for name in names)


BY_NAME = {spec.name: spec for spec in CHARTS}
CHART_PROCESSES = 2  # two charts at a time: while they are drawn, this process only loads WeasyPrint and waits


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
        context.set_forkserver_preload(["reportgen.charts.preload"])
        return context
    return multiprocessing.get_context("spawn")


class Drawing:
    """Draws the charts of each submitted phase: in chart processes when ``workers`` is 2 or more, else here on
    :meth:`collect`.

    The chart processes are forked from a server that loads matplotlib, seaborn and pandas once (POSIX's
    forkserver; spawn elsewhere). Starting them waits until that server is ready, so a thread hands the jobs over
    and this process never waits for it. If a chart process dies, its charts are drawn again here: a crash of a
    chart process never fails a run."""

    def __init__(self, workers: int = 1) -> None:
        self.jobs: list[tuple[tuple[str, ...], Any, Future[Future[tuple[Chart, ...]]] | None]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.handover: ThreadPoolExecutor | None = None
        if workers > 1:
            try:
                self.pool = ProcessPoolExecutor(max_workers=CHART_PROCESSES, mp_context=_context())
                self.handover = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportgen-charts")
                self.handover.submit(self.pool.submit, int)  # start the chart processes now
            except (OSError, RuntimeError, ValueError):
                self.close()

    def submit(self, phase: Phase, data: Any) -> None:
        """Queue every chart of ``phase`` that applies to ``data``, one job per chart."""
        for spec in CHARTS:
            if spec.phase == phase and spec.applies(data):
                names = (spec.name,)
                handed = None
                if self.pool is not None and self.handover is not None:
                    handed = self.handover.submit(self.pool.submit, draw_charts, names, data)
                self.jobs.append((names, data, handed))

    def collect(self) -> tuple[Chart, ...]:
        """The charts of every submitted phase, in submission order."""
        charts: list[Chart] = []
        for names, data, handed in self.jobs:
            drawn = None
            if handed is not None:
                with contextlib.suppress(BrokenProcessPool, RuntimeError):  # a chart process died or did not start
                    drawn = handed.result().result()
            charts.extend(drawn if drawn is not None else draw_charts(names, data))
        self.jobs.clear()
        return tuple(charts)

    def close(self) -> None:
        self.jobs.clear()
        if self.handover is not None:
            self.handover.shutdown(wait=False, cancel_futures=True)
            self.handover = None
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
