"""Chart builders: each returns a :class:`Chart` (name, title, alt text, PNG bytes).

matplotlib's object API only (``Figure``, never pyplot: no global state), one shared style through
``rc_context``, one colour per segment everywhere, from a colour-blind-safe palette.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from .model import Chart, KSelection, Segmentation

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# seaborn's "colorblind" palette (after Okabe & Ito): distinguishable with the common colour-vision deficiencies
PALETTE = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#CA9161", "#FBAFE4", "#949494",
           "#ECE133", "#56B4E9")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
INK = "#222222"
MUTED = "#6b6b6b"
DPI = 170
MAX_POINTS = 5000  # scatter plots show a fixed-seed sample above this many customers
FULL_WIDTH_IN = 6.7  # 170 mm: the text width of an A4 page with 20 mm margins

STYLE = {
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
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def make_chart(fig: Figure, name: str, title: str, alt: str, section: str, width_mm: float = 170.0) -> Chart:
    return Chart(name=name, title=title, alt=alt, png=to_png(fig), section=section, width_mm=width_mm)


def sample_positions(n: int, limit: int, seed: int) -> np.ndarray:
    """Row positions to draw: all of them, or a fixed-seed sorted sample of ``limit``."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


# ----------------------------------------------------------------------------- choosing k
def _mark_k(ax: Axes, k: int, label: str, color: str, style: str) -> None:
    ax.axvline(k, color=color, linestyle=style, linewidth=1.1, label=label, zorder=1)


def elbow_chart(selection: KSelection) -> Chart:
    ks = [c.k for c in selection.candidates]
    inertia = [c.inertia for c in selection.candidates]
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN / 2, 2.6)
        ax = fig.add_subplot()
        ax.plot(ks, inertia, marker="o", color=PALETTE[0], linewidth=1.6, markersize=4, zorder=3)
        if selection.elbow_k is not None:
            _mark_k(ax, selection.elbow_k, f"elbow: k = {selection.elbow_k}", PALETTE[1], "--")
        _mark_k(ax, selection.chosen_k, f"chosen: k = {selection.chosen_k}", PALETTE[3], ":")
        ax.set_xticks(ks)
        ax.set_xlabel("number of segments k")
        ax.set_ylabel("inertia (within-segment sum of squares)")
        ax.set_title("Elbow curve")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        ax.legend(loc="upper right")
    knee = f"the elbow is at k = {selection.elbow_k}" if selection.elbow_k else "there is no clear elbow"
    alt = (f"Line chart of inertia against k from {ks[0]} to {ks[-1]}; inertia falls as k grows, {knee}; "
           f"k = {selection.chosen_k} is marked as chosen.")
    return make_chart(fig, "elbow", "Elbow curve", alt, "choosing-k", width_mm=84)


def silhouette_k_chart(selection: KSelection) -> Chart:
    ks = [c.k for c in selection.candidates]
    values = [c.silhouette for c in selection.candidates]
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN / 2, 2.6)
        ax = fig.add_subplot()
        colors = [PALETTE[3] if k == selection.chosen_k else PALETTE[0] for k in ks]
        ax.bar(ks, values, color=colors, width=0.6, zorder=3)
        for k, v in zip(ks, values, strict=True):
            if np.isfinite(v):
                ax.annotate(f"{v:.2f}", (k, v), ha="center", va="bottom", fontsize=6.5, xytext=(0, 1.5),
                            textcoords="offset points")
        ax.set_xticks(ks)
        ax.set_ylim(0, max(0.1, np.nanmax(values) * 1.15))
        ax.set_xlabel("number of segments k")
        ax.set_ylabel("average silhouette")
        ax.set_title("Silhouette by k")
    sampled = (f" (on a fixed-seed sample of {selection.silhouette_sample_size:,} customers)"
               if selection.silhouette_sample_size else "")
    alt = (f"Bar chart of the average silhouette for k from {ks[0]} to {ks[-1]}{sampled}; the highest is "
           f"{max(values):.2f} at k = {selection.silhouette_k}; k = {selection.chosen_k} is highlighted.")
    return make_chart(fig, "silhouette_k", "Silhouette by k", alt, "choosing-k", width_mm=84)


# ----------------------------------------------------------------------------- segments
def _projection(X: np.ndarray, names: Sequence[str], centroids: np.ndarray, seed: int
                ) -> tuple[np.ndarray, np.ndarray, str, str, str]:
    """2-D coordinates of the rows and centroids, the axis labels, and a note on the projection."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed).fit(X)
    labels = []
    for i, component in enumerate(pca.components_):
        order = np.argsort(-np.abs(component))[:2]
        parts = [f"{'+' if component[j] > 0 else '−'}{names[j]}" for j in order if abs(component[j]) >= 0.3]
        share = pca.explained_variance_ratio_[i]
        labels.append(f"PC{i + 1} ({share:.0%} of variance): " + ", ".join(parts))
    note = (f"PCA projection of the {len(names)} standardized features "
            f"({pca.explained_variance_ratio_.sum():.0%} of the variance shown)")
    return pca.transform(X), pca.transform(centroids), labels[0], labels[1], note


def segment_scatter(fm_X: np.ndarray, original: np.ndarray, names: Sequence[str], seg: Segmentation,
                    segment_names: dict[int, str]) -> Chart:
    """Customers coloured by segment with centroids: the two features, or a PCA projection of more."""
    n = len(fm_X)
    keep = sample_positions(n, MAX_POINTS, seg.seed)
    labels = seg.labels[keep]
    if len(names) == 2:
        points, centers = original[keep], seg.centroids_original
        xlabel, ylabel, how = names[0], names[1], f"{names[0]} against {names[1]}"
    elif len(names) == 1:
        jitter = np.random.default_rng(seg.seed).uniform(-0.3, 0.3, size=len(keep))
        points = np.column_stack([original[keep, 0], labels + jitter])
        centers = np.column_stack([seg.centroids_original[:, 0], np.arange(1, seg.k + 1)])
        xlabel, ylabel, how = names[0], "segment", f"{names[0]} by segment"
    else:
        points, centers, xlabel, ylabel, how = _projection(fm_X[keep], names, seg.centroids, seg.seed)
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 4.0)
        ax = fig.add_subplot()
        size = 14 if len(keep) <= 1000 else 5
        for number in range(1, seg.k + 1):
            mask = labels == number
            ax.scatter(points[mask, 0], points[mask, 1], s=size, color=segment_color(number),
                       marker=segment_marker(number), alpha=0.75 if len(keep) <= 1000 else 0.45, linewidths=0,
                       label=f"{number}. {segment_names.get(number, '')}", zorder=2)
        ax.scatter(centers[:, 0], centers[:, 1], s=110, marker="X", color="white", edgecolors=INK,
                   linewidths=1.2, zorder=4, label="centroid")
        for number, (x, y) in enumerate(centers, start=1):
            ax.annotate(str(number), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8,
                        fontweight="bold", color=INK, zorder=5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(names) == 1:
            ax.set_yticks(range(1, seg.k + 1))
        ax.set_title("Customers by segment, with centroids")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=1.6 if size < 10 else 1.0)
    sampled = f" A fixed-seed sample of {len(keep):,} of {n:,} customers is drawn." if len(keep) < n else ""
    alt = (f"Scatter plot of {how}, one colour per segment ({seg.k} segments), centroids marked with a "
           f"numbered cross.{sampled}")
    return make_chart(fig, "segments_scatter", "Customers by segment", alt, "segments")


def build_charts(cleaned, matrix, selection, segmentation, profiles, personas) -> tuple[Chart, ...]:
    """Every chart of the report, in report order."""
    names = {p.segment: p.name for p in personas}
    original = cleaned.frame[list(matrix.names)].to_numpy(dtype=float)
    return (
        elbow_chart(selection),
        silhouette_k_chart(selection),
        segment_scatter(matrix.X, original, matrix.names, segmentation, names),
    )
