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
DPI = 160
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
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_png(fig: Figure) -> bytes:
    """The figure as an RGB PNG at the figure's dpi.

    RGB, not matplotlib's RGBA: the background is opaque anyway, and WeasyPrint has to split an alpha channel
    into a separate mask and compress both (a tenth of a second per report). A fast zlib level: a quarter
    faster to write, a quarter larger; the PDF recompresses the pixels anyway.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=2, dpi=(fig.dpi, fig.dpi))
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
def _projection(X: np.ndarray, names: Sequence[str], centroids: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, str, str, str]:
    """2-D coordinates of the rows and centroids, the axis labels, and a note on the projection."""
    mean, components, shares = principal_components(X, 2)
    labels = []
    for i, component in enumerate(components):
        order = np.argsort(-np.abs(component))[:2]
        parts = [f"{'+' if component[j] > 0 else '−'}{names[j]}" for j in order if abs(component[j]) >= 0.3]
        labels.append(f"PC{i + 1} ({shares[i]:.0%} of variance): " + ", ".join(parts))
    note = (f"PCA projection of the {len(names)} standardized features "
            f"({shares.sum():.0%} of the variance shown)")
    return (X - mean) @ components.T, (centroids - mean) @ components.T, labels[0], labels[1], note


def principal_components(X: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean, the first ``count`` principal axes (rows; each signed so that its largest loading is positive)
    and their shares of the variance: what ``sklearn.decomposition.PCA`` gives (a test checks this), from the
    eigenvectors of the covariance matrix, without importing scikit-learn in the chart process."""
    mean = X.mean(axis=0)
    centered = X - mean
    variances, vectors = np.linalg.eigh(centered.T @ centered / max(len(X) - 1, 1))
    order = np.argsort(variances)[::-1][:count]
    components = vectors[:, order].T
    components *= np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])[:, None]
    return mean, components, variances[order] / max(variances.sum(), np.finfo(float).tiny)


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
        centers = np.column_stack([seg.centroids_original[:, 0], np.asarray(seg.numbers)])
        xlabel, ylabel, how = names[0], "segment", f"{names[0]} by segment"
    else:
        points, centers, xlabel, ylabel, how = _projection(fm_X[keep], names, seg.centroids)
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 4.0)
        ax = fig.add_subplot()
        size = 14 if len(keep) <= 1000 else 5
        for number in seg.numbers:
            mask = labels == number
            ax.scatter(points[mask, 0], points[mask, 1], s=size, color=segment_color(number),
                       marker=segment_marker(number), alpha=0.75 if len(keep) <= 1000 else 0.45, linewidths=0,
                       label=f"{number}. {segment_names.get(number, '')}", zorder=2)
        ax.scatter(centers[:, 0], centers[:, 1], s=110, marker="X", color="white", edgecolors=INK,
                   linewidths=1.2, zorder=4, label="centroid")
        for number, (x, y) in zip(seg.numbers, centers, strict=True):
            ax.annotate(str(number), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8,
                        fontweight="bold", color=INK, zorder=5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(names) == 1:
            ax.set_yticks(list(seg.numbers))
        ax.set_title("Customers by segment, with centroids")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=1.6 if size < 10 else 1.0)
    sampled = f" A fixed-seed sample of {len(keep):,} of {n:,} customers is drawn." if len(keep) < n else ""
    alt = (f"Scatter plot of {how}, one colour per segment ({seg.k} segments), centroids marked with a "
           f"numbered cross.{sampled}")
    return make_chart(fig, "segments_scatter", "Customers by segment", alt, "segments")


# ----------------------------------------------------------------------------- exploration
EXPLORE_SAMPLE = 5000  # KDEs, violins and pairwise scatters use a fixed-seed sample above this many rows


def _grid(fig: Figure, count: int, columns: int = 3) -> list[Axes]:
    columns = min(columns, count)
    rows = -(-count // columns)
    axes = fig.subplots(rows, columns, squeeze=False).ravel().tolist()
    for ax in axes[count:]:
        ax.set_visible(False)
    return axes[:count]


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _wrap(label: str, width: int = 14) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width)[:3]) or label


def gaussian_kde(sample: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``sample`` at ``grid`` with Scott's bandwidth: the same curve as
    ``scipy.stats.gaussian_kde(sample)(grid)`` (a test checks this) without importing scipy.stats, which takes
    half a second, in the chart process."""
    sample = np.asarray(sample, dtype=float)
    bandwidth = sample.std(ddof=1) * len(sample) ** (-1 / 5)
    density = np.zeros(len(grid))
    for start in range(0, len(sample), 2000):  # 200 x 2,000 values at a time, whatever the sample size
        z = (grid[:, None] - sample[None, start:start + 2000]) / bandwidth
        density += np.exp(-0.5 * z * z).sum(axis=1)
    return density / (len(sample) * bandwidth * np.sqrt(2 * np.pi))


def distributions_chart(frame, columns: Sequence[str], seed: int) -> Chart:
    """Histogram of every numeric column, with a kernel density estimate scaled to counts."""
    rows = -(-len(columns) // 3)
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 1.9 * rows + 0.2)
        for ax, column in zip(_grid(fig, len(columns)), columns, strict=True):
            values = frame[column].dropna().to_numpy(dtype=float)
            bins = int(np.clip(np.sqrt(len(values)), 8, 40))
            _, edges, _ = ax.hist(values, bins=bins, color=PALETTE[0], alpha=0.55, edgecolor="white",
                                       linewidth=0.4)
            if len(np.unique(values)) > 2:
                sample = values[sample_positions(len(values), EXPLORE_SAMPLE, seed)]
                grid = np.linspace(edges[0], edges[-1], 200)
                density = gaussian_kde(sample, grid) * len(values) * (edges[1] - edges[0])
                ax.plot(grid, density, color=PALETTE[3], linewidth=1.3)
            ax.set_title(_short(column), fontsize=8.5)
            ax.set_ylabel("customers")
    alt = ("Histograms with density curves of " + ", ".join(columns) + ", one panel per column.")
    return make_chart(fig, "distributions", "Distribution of each numeric column", alt, "exploration")


def categories_chart(frame, columns: Sequence[str]) -> Chart:
    """Counts of the (up to ten) most common values of each categorical column."""
    shown = list(columns)[:3]
    with chart_style():
        heights = [min(frame[c].nunique(), 10) for c in shown]
        fig = new_figure(FULL_WIDTH_IN, max(1.4, 0.28 * max(heights) + 0.9))
        parts = []
        for ax, column in zip(_grid(fig, len(shown)), shown, strict=True):
            counts = frame[column].astype(str).value_counts().head(10)[::-1]
            total = len(frame)
            ax.barh([_short(str(v), 18) for v in counts.index], counts.to_numpy(), color=PALETTE[0], height=0.6)
            for y, count in enumerate(counts.to_numpy()):
                ax.annotate(f"{count:,} ({count / total:.0%})", (count, y), xytext=(3, 0),
                            textcoords="offset points", va="center", fontsize=7)
            ax.set_xlim(0, counts.max() * 1.35)
            ax.set_title(_short(column), fontsize=8.5)
            ax.set_xlabel("customers")
            ax.grid(axis="y", visible=False)
            parts.append(f"{column}: " + ", ".join(f"{v} {c:,}" for v, c in counts[::-1].items()))
    alt = "Bar charts of category counts. " + "; ".join(parts) + "."
    return make_chart(fig, "categories", "Categorical columns", alt, "exploration")


def by_category_chart(frame, features: Sequence[str], category: str, seed: int) -> Chart:
    """Violin plot of every feature split by the values of one categorical column (quartiles dashed)."""
    keep = sample_positions(len(frame), EXPLORE_SAMPLE, seed)
    data = frame.iloc[keep]
    order = data[category].astype(str).value_counts().index.tolist()[:8]
    data = data[data[category].astype(str).isin(order)].assign(**{category: lambda d: d[category].astype(str)})
    rows = -(-len(features) // 3)
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 2.0 * rows + 0.2)
        for ax, column in zip(_grid(fig, len(features)), features, strict=True):
            groups = [values for values in (data.loc[data[category] == value, column].dropna().to_numpy(float)
                                             for value in order)]
            drawn = [i for i, values in enumerate(groups) if len(values) > 1 and np.ptp(values) > 0]
            if drawn:  # a violin needs two distinct values; each spans its group's range (no tails beyond)
                parts = ax.violinplot([groups[i] for i in drawn], positions=drawn, widths=0.8, showextrema=False,
                                      quantiles=[[0.25, 0.5, 0.75]] * len(drawn))
                for body in parts["bodies"]:
                    body.set(facecolor=PALETTE[4], edgecolor=INK, linewidth=0.7, alpha=0.75)
                parts["cquantiles"].set(color=INK, linewidth=0.8, linestyle=[(0, (3, 2)), "-", (0, (3, 2))])
            ax.set_xticks(range(len(order)), [_short(v, 14) for v in order])
            ax.set_xlim(-0.6, len(order) - 0.4)
            ax.grid(axis="x", visible=False)
            ax.set_title(_short(column), fontsize=8.5)
            ax.set_ylabel("")
            ax.set_xlabel(_short(category))
            ax.tick_params(axis="x", labelrotation=0 if len(order) <= 4 else 30)
    sampled = f" (a fixed-seed sample of {len(keep):,} customers)" if len(keep) < len(frame) else ""
    alt = f"Violin plots of {', '.join(features)} for each value of {category}{sampled}."
    return make_chart(fig, "by_category", f"Features by {category}", alt, "exploration")


def pairs_chart(frame, features: Sequence[str], seed: int) -> Chart:
    """Pairwise scatter plots (below the diagonal), histograms (on it) and correlations (above it)."""
    shown = list(features)[:5]
    p = len(shown)
    keep = sample_positions(len(frame), 2000, seed)
    data = frame.iloc[keep][shown].to_numpy(dtype=float)
    full = frame[shown].astype(float)
    corr = full.corr().to_numpy()
    size = min(FULL_WIDTH_IN, 1.75 * p + 0.4)
    with chart_style():
        fig = new_figure(size, size)
        axes = fig.subplots(p, p, squeeze=False)
        for i in range(p):
            for j in range(p):
                ax = axes[i, j]
                ax.grid(False)
                if i == j:
                    ax.hist(full.iloc[:, i].dropna(), bins=20, color=PALETTE[0], alpha=0.6, edgecolor="white",
                            linewidth=0.3)
                    ax.set_yticks([])
                elif i > j:
                    ax.scatter(data[:, j], data[:, i], s=3 if len(keep) > 500 else 6, color=PALETTE[0],
                               alpha=0.5, linewidths=0)
                else:
                    ax.axis("off")
                    value = corr[i, j]
                    ax.text(0.5, 0.5, f"r = {value:.2f}", ha="center", va="center", transform=ax.transAxes,
                            fontsize=8 + 4 * abs(value), color=PALETTE[3] if value < 0 else PALETTE[0])
                if i == p - 1:
                    ax.set_xlabel(_short(shown[j], 22), fontsize=7)
                else:
                    ax.set_xticklabels([])
                if j == 0 and i > 0:
                    ax.set_ylabel(_short(shown[i], 22), fontsize=7)
                elif i != j:
                    ax.set_yticklabels([])
                ax.tick_params(labelsize=6)
    sampled = f"; points are a fixed-seed sample of {len(keep):,} customers" if len(keep) < len(frame) else ""
    alt = (f"Scatter-plot matrix of {', '.join(shown)} with histograms on the diagonal and Pearson correlations "
           f"above it{sampled}.")
    return make_chart(fig, "pairs", "Pairwise relationships", alt, "exploration", width_mm=min(170, size * 25.4))


def correlation_chart(frame, columns: Sequence[str]) -> Chart:
    """Pearson correlation heatmap of the numeric columns."""
    corr = frame[list(columns)].astype(float).corr()
    n = len(columns)
    with chart_style():
        fig = new_figure(min(FULL_WIDTH_IN, 1.0 + 0.75 * n + 1.2), 0.9 + 0.55 * n)
        ax = fig.add_subplot()
        image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
        if n <= 12:
            for i in range(n):
                for j in range(n):
                    value = corr.iloc[i, j]
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(value) > 0.6 else INK)
        ax.set_xticks(range(n), [_short(c, 18) for c in columns], rotation=30, ha="right")
        ax.set_yticks(range(n), [_short(c, 22) for c in columns])
        ax.tick_params(length=0)
        ax.set_xticks(np.arange(-0.5, n), minor=True)
        ax.set_yticks(np.arange(-0.5, n), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.0)
        ax.grid(which="major", visible=False)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.colorbar(image, ax=ax, shrink=0.8, label="Pearson r")
    strongest = max(((abs(corr.iloc[i, j]), columns[i], columns[j], corr.iloc[i, j])
                     for i in range(n) for j in range(i + 1, n)), default=None)
    note = (f" The strongest is between {strongest[1]} and {strongest[2]} (r = {strongest[3]:.2f})."
            if strongest else "")
    alt = f"Heatmap of the Pearson correlations between {', '.join(columns)}.{note}"
    return make_chart(fig, "correlation", "Correlations", alt, "exploration",
                      width_mm=min(170.0, (1.0 + 0.75 * n + 1.2) * 25.4))


# ----------------------------------------------------------------------------- segments
def segments_3d_chart(original: np.ndarray, names: Sequence[str], seg: Segmentation) -> Chart:
    """The three features in 3-D, coloured by segment, with centroids."""
    keep = sample_positions(len(original), 3000, seg.seed)
    labels = seg.labels[keep]
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN * 0.8, 4.2)
        ax = fig.add_subplot(projection="3d")
        for number in seg.numbers:
            mask = labels == number
            ax.scatter(*original[keep][mask].T, s=6, color=segment_color(number), alpha=0.7, linewidths=0,
                       depthshade=False)
        centers = seg.centroids_original
        ax.scatter(*centers.T, s=90, marker="X", color="white", edgecolors=INK, linewidths=1.0, depthshade=False)
        for number, point in zip(seg.numbers, centers, strict=True):
            ax.text(*point, f" {number}", fontsize=8, fontweight="bold", color=INK)
        ax.set_xlabel(_short(names[0], 24), labelpad=2)
        ax.set_ylabel(_short(names[1], 24), labelpad=2)
        ax.set_zlabel(_short(names[2], 24), labelpad=2)
        ax.tick_params(labelsize=6, pad=0)
        ax.view_init(elev=22, azim=-58)
    alt = (f"Three-dimensional scatter plot of {names[0]}, {names[1]} and {names[2]}, one colour per segment, "
           f"centroids marked with numbered crosses.")
    return make_chart(fig, "segments_3d", "The segments in three dimensions", alt, "segments", width_mm=136)


def silhouette_plot(seg: Segmentation) -> Chart:
    """Per-customer silhouette values, sorted within each segment."""
    values, labels = seg.sample_silhouettes, seg.sample_labels
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 3.0)
        ax = fig.add_subplot()
        y = 0
        ticks = []
        gap = max(2, len(values) // 60)
        for number in seg.numbers:
            mine = np.sort(values[labels == number])
            ax.fill_betweenx(np.arange(y, y + len(mine)), 0, mine, color=segment_color(number), linewidth=0)
            ticks.append((y + len(mine) / 2, str(number)))
            y += len(mine) + gap
        ax.axvline(seg.silhouette, color=INK, linestyle="--", linewidth=1.0,
                   label=f"average {seg.silhouette:.2f}")
        ax.set_yticks([t for t, _ in ticks], [f"segment {label}" for _, label in ticks])
        ax.set_xlabel("silhouette (−1: closer to another segment, 1: well inside its own)")
        ax.set_xlim(min(-0.1, float(values.min()) - 0.05) if len(values) else -0.1, 1)
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")
        ax.set_title("Silhouette of each customer")
    negative = float((values < 0).mean()) if len(values) else 0.0
    sampled = (f" on a fixed-seed sample of {seg.silhouette_sample_size:,} customers"
               if seg.silhouette_sample_size else "")
    alt = (f"Silhouette plot{sampled}: the silhouette of every customer, sorted within each of the {seg.k} "
           f"segments; the average is {seg.silhouette:.2f} and {negative:.0%} of customers have a negative value.")
    return make_chart(fig, "silhouette_plot", "Silhouette of each customer", alt, "segments")


def profile_heatmap(profiles, segment_names: dict[int, str], value_text) -> Chart:
    """Segments x numeric columns: colour = standardized difference from the average, text = the mean."""
    from matplotlib.colors import TwoSlopeNorm

    columns = list(profiles.numeric)
    z = np.array([[seg.z[c] for c in columns] for seg in profiles.segments])
    rows = [f"{seg.segment}. {_short(segment_names[seg.segment], 48)}" for seg in profiles.segments]
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 0.9 + 0.36 * len(rows))
        ax = fig.add_subplot()
        image = ax.imshow(np.clip(z, -2, 2), cmap="RdBu_r", norm=TwoSlopeNorm(0, -2, 2), aspect="auto")
        for i, seg in enumerate(profiles.segments):
            for j, column in enumerate(columns):
                ax.text(j, i, value_text(seg.means[column], column), ha="center", va="center", fontsize=7.5,
                        color="white" if abs(z[i, j]) > 1.2 else INK)
        ax.set_xticks(range(len(columns)), [_wrap(c) for c in columns], fontsize=7.5)
        ax.set_yticks(range(len(rows)), rows, fontsize=7.5)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        ax.set_xticks(np.arange(-0.5, len(columns)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.2)
        ax.grid(which="major", visible=False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for label, seg in zip(ax.get_yticklabels(), profiles.segments, strict=True):
            label.set_color(segment_color(seg.segment))
            label.set_fontweight("bold")
        fig.colorbar(image, ax=ax, shrink=0.9, label="standard deviations from the average")
    alt = ("Heatmap of the segments (rows) against " + ", ".join(columns) + " (columns); each cell shows the "
           "segment's mean, coloured red above and blue below the average customer.")
    return make_chart(fig, "profile_heatmap", "Segment profiles", alt, "segments")


def sizes_chart(seg: Segmentation, segment_names: dict[int, str]) -> Chart:
    total = sum(seg.sizes)
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 0.6 + 0.3 * seg.k)
        ax = fig.add_subplot()
        numbers = list(seg.numbers)
        ax.barh([f"{n}. {_short(segment_names[n], 48)}" for n in numbers][::-1], list(seg.sizes)[::-1],
                color=[segment_color(n) for n in numbers][::-1], height=0.62)
        for y, size in enumerate(list(seg.sizes)[::-1]):
            ax.annotate(f"{size:,} ({size / total:.1%})", (size, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7.5)
        ax.set_xlim(0, max(seg.sizes) * 1.25)
        ax.set_xlabel("customers")
        ax.grid(axis="y", visible=False)
    alt = "Bar chart of segment sizes: " + "; ".join(
        f"segment {n} {size:,} customers ({size / total:.0%})" for n, size in zip(numbers, seg.sizes, strict=True)
    ) + "."
    return make_chart(fig, "sizes", "Segment sizes", alt, "segments")


# ----------------------------------------------------------------------------- comparison with a baseline
def share_change_chart(comparison) -> Chart:
    """Share of customers per segment in the baseline run and now."""
    changes = list(comparison.changes)
    labels = [f"{c.number}. {_short(c.name, 40)}" + ("" if c.status == "kept" else f" ({c.status})")
              for c in changes]
    before = [c.share_before or 0.0 for c in changes]
    now = [c.share_now or 0.0 for c in changes]
    with chart_style():
        fig = new_figure(FULL_WIDTH_IN, 0.8 + 0.42 * len(changes))
        ax = fig.add_subplot()
        ys = np.arange(len(changes))[::-1]
        ax.barh(ys + 0.19, before, height=0.36, color="#bbbbbb", label=f"baseline ({comparison.baseline_run})")
        ax.barh(ys - 0.19, now, height=0.36, color=[segment_color(c.number) for c in changes], label="now")
        for y, b, n in zip(ys, before, now, strict=True):
            ax.annotate(f"{b:.0%}", (b, y + 0.19), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=7, color=MUTED)
            ax.annotate(f"{n:.0%}", (n, y - 0.19), xytext=(3, 0), textcoords="offset points", va="center",
                        fontsize=7)
        ax.set_yticks(ys, labels)
        ax.set_xlim(0, max([*before, *now, 0.05]) * 1.25)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel("share of customers")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")
    alt = "Bar chart of each segment's share of customers in the baseline run and now: " + "; ".join(
        f"segment {c.number} {(c.share_before or 0):.0%} then, {(c.share_now or 0):.0%} now" for c in changes) + "."
    return make_chart(fig, "share_change", "Segment shares, baseline and now", alt, "comparison")


def migration_chart(comparison) -> Chart:
    """Where the customers of each baseline segment are now (row percentages, with counts)."""
    matrix = comparison.migration
    counts = matrix.to_numpy()
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    with chart_style():
        fig = new_figure(min(FULL_WIDTH_IN, 1.6 + 0.75 * counts.shape[1]), 0.9 + 0.42 * counts.shape[0])
        ax = fig.add_subplot()
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(counts.shape[0]):
            for j in range(counts.shape[1]):
                if counts[i, j]:
                    ax.text(j, i, f"{counts[i, j]:,}\n{shares[i, j]:.0%}", ha="center", va="center", fontsize=7,
                            color="white" if shares[i, j] > 0.6 else INK)
        ax.set_xticks(range(counts.shape[1]), [str(c) for c in matrix.columns])
        ax.set_yticks(range(counts.shape[0]), [str(r) for r in matrix.index])
        ax.set_xlabel("segment now")
        ax.set_ylabel("segment in the baseline")
        ax.grid(False)
        ax.tick_params(length=0)
    stayed = comparison.stayed / comparison.shared_customers if comparison.shared_customers else 0
    alt = (f"Migration heatmap of the {comparison.shared_customers:,} customers in both runs: rows are baseline "
           f"segments, columns today's; {stayed:.0%} kept their segment.")
    return make_chart(fig, "migration", "Customer migration between segments", alt, "comparison",
                      width_mm=min(170.0, (1.6 + 0.75 * counts.shape[1]) * 25.4))


def comparison_charts(comparison) -> tuple[Chart, ...]:
    charts = [share_change_chart(comparison)]
    if comparison.migration is not None:
        charts.append(migration_chart(comparison))
    return tuple(charts)


def exploration_charts(frame, numeric: Sequence[str], categorical: Sequence[str], features: Sequence[str],
                       seed: int) -> tuple[Chart, ...]:
    """The charts of the data before segmentation (they need only the cleaned table)."""
    charts: list[Chart] = [distributions_chart(frame, list(numeric), seed)]
    if categorical:
        charts.append(categories_chart(frame, categorical))
        category = next((c for c in categorical if 2 <= frame[c].nunique() <= 8), None)
        if category is not None:
            charts.append(by_category_chart(frame, list(features), category, seed))
    if len(features) >= 2:
        charts.append(pairs_chart(frame, list(features), seed))
    if len(numeric) >= 2:
        charts.append(correlation_chart(frame, list(numeric)))
    return tuple(charts)


def k_charts(selection: KSelection) -> tuple[Chart, ...]:
    """Choosing k: the elbow curve and the silhouette per k."""
    return elbow_chart(selection), silhouette_k_chart(selection)


def analysis_charts(X: np.ndarray, original: np.ndarray, names: Sequence[str], segmentation: Segmentation,
                    profiles, segment_names: dict[int, str]) -> tuple[Chart, ...]:
    """The segments overview."""
    from .recommend import format_value

    charts = [segment_scatter(X, original, names, segmentation, segment_names)]
    if len(names) == 3:
        charts.append(segments_3d_chart(original, names, segmentation))
    charts += [silhouette_plot(segmentation), profile_heatmap(profiles, segment_names, format_value),
               sizes_chart(segmentation, segment_names)]
    return tuple(charts)


def exploration_frame(cleaned):
    """The columns the exploration charts need (categories as pandas categoricals: small to send)."""
    columns = list(dict.fromkeys([*cleaned.numeric, *cleaned.categorical]))
    frame = cleaned.frame[columns]
    return frame.astype({c: "category" for c in cleaned.categorical})


def build_charts(cleaned, matrix, selection, segmentation, profiles, personas) -> tuple[Chart, ...]:
    """Every chart of the report, in report order (in this process; the pipeline spreads them over two)."""
    names = {p.segment: p.name for p in personas}
    original = cleaned.frame[list(matrix.names)].to_numpy(dtype=float)
    return (
        *exploration_charts(exploration_frame(cleaned), cleaned.numeric, cleaned.categorical, matrix.names,
                            segmentation.seed),
        *k_charts(selection),
        *analysis_charts(matrix.X, original, matrix.names, segmentation, profiles, names),
    )
