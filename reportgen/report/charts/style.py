"""The look shared by every chart: palette, fonts, figure sizes, PNG output.

matplotlib's object API only (``Figure`` with an Agg canvas, never pyplot: no global state); seaborn draws on
the axes it is given. One colour per segment everywhere, from a colour-blind-safe palette.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from ...model.report import first_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# seaborn's "colorblind" palette (after Okabe & Ito): distinguishable with the common colour-vision deficiencies
PALETTE = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4", "#949494",
           "#ECE133", "#56B4E9")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
INK = "#222222"
MUTED = "#6b6b6b"
DPI = 160
FULL_WIDTH_IN = 6.7  # 170 mm: the text width of an A4 page with 20 mm margins
MAX_POINTS = 5000  # scatter plots show a fixed-seed sample above this many customers
EXPLORE_SAMPLE = 5000  # violins and distribution curves use a fixed-seed sample above this many rows

STYLE: dict[Any, Any] = {  # matplotlib rc parameters
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "axes.edgecolor": "#888888",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,  # grid lines behind bars and histograms
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "text.color": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "savefig.dpi": DPI,
    "figure.dpi": DPI,
    "svg.fonttype": "none",
    "text.parse_math": False,  # "k$" in column names and units is text, not mathtext
}


def segment_color(number: int) -> str:
    """The colour of segment ``number`` (1-based), the same in every chart and table."""
    return PALETTE[(number - 1) % len(PALETTE)]


def segment_marker(number: int) -> str:
    return MARKERS[((number - 1) // len(PALETTE)) % len(MARKERS)]


@contextmanager
def chart_style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float = FULL_WIDTH_IN, height: float = 3.2) -> Figure:
    """A figure outside pyplot. Its canvas stays matplotlib's base canvas until :func:`to_png` renders it with Agg:
    seaborn's heatmap redraws a figure with a real canvas to see whether its labels overlap, which doubles its
    cost, while text is measured just as well without one."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_png(fig: Figure) -> bytes:
    """The figure as an RGB PNG at the figure's dpi.

    RGB, not matplotlib's RGBA: the background is opaque anyway, and WeasyPrint would split an alpha channel into
    a separate mask and compress both. A fast zlib level: the PDF recompresses the pixels anyway."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=2, dpi=(fig.dpi, fig.dpi))
    return buffer.getvalue()


def width_mm(fig: Figure) -> float:
    """The printed width: the figure's own, at most the text width."""
    return round(min(170.0, float(fig.get_figwidth()) * 25.4), 1)


def sample_positions(n: int, limit: int, seed: int) -> np.ndarray:
    """Row positions to draw: all of them, or a fixed-seed sorted sample of ``limit``."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def grid(fig: Figure, count: int, columns: int = 3) -> list[Axes]:
    """``count`` axes in rows of ``columns``; the unused cells of the last row hidden."""
    columns = min(columns, count)
    rows = -(-count // columns)
    axes = fig.subplots(rows, columns, squeeze=False).ravel().tolist()
    for ax in axes[count:]:
        ax.set_visible(False)
    return axes[:count]


def compact_number(value: float, _: object = None) -> str:
    """A tick label that fits a small panel: ``40k``, ``1.2M``, ``850``."""
    for limit, suffix in ((1e6, "M"), (1e4, "k")):
        if abs(value) >= limit:
            return f"{value / (limit if suffix == 'M' else 1e3):g}{suffix}"
    return f"{value:g}"


def compact_ticks(axis: Any, count: int = 5, *, integer: bool = False) -> None:
    """At most ``count`` ticks (whole numbers only for whole-number data), labelled compactly: the numbers of a
    narrow panel must not run into each other."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(count, integer=integer))
    axis.set_major_formatter(FuncFormatter(compact_number))


def log_ticks(axis: Any) -> None:
    """Ticks of a log axis labelled as plain compact numbers (1k, 10k: the style turns mathtext off)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(compact_number))
    axis.set_minor_formatter(NullFormatter())


def short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def wrap(label: str, width: int = 14) -> str:
    return "\n".join(textwrap.wrap(label, width)[:3]) or label


def sampled_note(shown: int, total: int, what: str = "customers") -> str:
    return f" (a fixed-seed sample of {shown:,} of {total:,} {what})" if shown < total else ""


MAX_CHART_COLUMNS = 12  # numeric columns a chart shows at most: the clustered ones first
MAX_CHART_CATEGORIES = 6  # categorical columns the exploration charts look at


def chart_columns(columns: tuple[str, ...], first: tuple[str, ...], *, limit: int = MAX_CHART_COLUMNS
                  ) -> tuple[str, ...]:
    """At most ``limit`` of ``columns`` for a chart (a table of 2,000 columns draws 12 panels, not 2,000): those
    in ``first`` (the clustered features) before the others, each group in table order."""
    return first_of(columns, first, limit)
