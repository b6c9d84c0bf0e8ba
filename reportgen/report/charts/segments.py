"""The charts of choosing k (from a :class:`~reportgen.model.KSelection`) and of the segments (from
:class:`~reportgen.model.SegmentData`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .style import (
    FULL_WIDTH_IN,
    INK,
    MAX_POINTS,
    PALETTE,
    chart_columns,
    new_figure,
    sample_positions,
    segment_color,
    segment_marker,
    short,
    wrap,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...model import KSelection, Profiles, Scaling, Segmentation, SegmentData

SCATTER_3D_POINTS = 3000


# ----------------------------------------------------------------------------- choosing k
def _mark_k(ax: Axes, k: int, label: str, color: str, style: str) -> None:
    ax.axvline(k, color=color, linestyle=style, linewidth=1.1, label=label, zorder=1)


def elbow(selection: KSelection) -> Figure:
    ks = [c.k for c in selection.candidates]
    fig = new_figure(FULL_WIDTH_IN / 2, 2.6)
    ax = fig.add_subplot()
    ax.plot(ks, [c.inertia for c in selection.candidates], marker="o", color=PALETTE[0], linewidth=1.6,
            markersize=4, zorder=3)
    if selection.elbow_k is not None:
        _mark_k(ax, selection.elbow_k, f"elbow: k = {selection.elbow_k}", PALETTE[1], "--")
    _mark_k(ax, selection.chosen_k, f"chosen: k = {selection.chosen_k}", PALETTE[3], ":")
    ax.set_xticks(ks)
    ax.set_xlabel("number of segments k")
    ax.set_ylabel("inertia (within-segment sum of squares)")
    ax.set_title("Elbow curve")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    ax.legend(loc="upper right")
    return fig


def elbow_alt(selection: KSelection) -> str:
    ks = [c.k for c in selection.candidates]
    knee = f"the elbow is at k = {selection.elbow_k}" if selection.elbow_k else "there is no clear elbow"
    return (f"Line chart of inertia against k from {ks[0]} to {ks[-1]}; inertia falls as k grows, {knee}; "
            f"k = {selection.chosen_k} is marked as chosen.")


def silhouette_by_k(selection: KSelection) -> Figure:
    ks = [c.k for c in selection.candidates]
    values = [c.scores["silhouette"] for c in selection.candidates]
    fig = new_figure(FULL_WIDTH_IN / 2, 2.6)
    ax = fig.add_subplot()
    left_out = {c.k for c in selection.candidates if c.smallest < selection.min_share}
    ax.bar(ks, values, color=[PALETTE[3] if k == selection.chosen_k else "#bbbbbb" if k in left_out else PALETTE[0]
                              for k in ks], width=0.6, zorder=3)
    for k, v in zip(ks, values, strict=True):
        if np.isfinite(v):
            ax.annotate(f"{v:.2f}", (k, v), ha="center", va="bottom", fontsize=6.5, xytext=(0, 1.5),
                        textcoords="offset points")
    ax.set_xticks(ks)
    ax.set_ylim(0, max(0.1, float(np.nanmax(values)) * 1.15))
    ax.set_xlabel("number of segments k")
    ax.set_ylabel("average silhouette")
    ax.set_title("Silhouette by k")
    return fig


def silhouette_by_k_alt(selection: KSelection) -> str:
    ks = [c.k for c in selection.candidates]
    values = [c.scores["silhouette"] for c in selection.candidates]
    sampled = (f" (on a fixed-seed sample of {selection.silhouette_sample_size:,} customers)"
               if selection.silhouette_sample_size else "")
    best = max((c for c in selection.candidates if np.isfinite(c.scores["silhouette"])),
               key=lambda c: (c.scores["silhouette"], -c.k), default=None)
    highest = f"the highest is {np.nanmax(values):.2f} at k = {best.k}" if best else "no k could be scored"
    left_out = [c.k for c in selection.candidates if c.smallest < selection.min_share]
    grey = f"; k = {', '.join(map(str, left_out))} (grey) leave a segment too small" if left_out else ""
    return (f"Bar chart of the average silhouette for k from {ks[0]} to {ks[-1]}{sampled}; {highest}{grey}; "
            f"k = {selection.chosen_k} is highlighted.")


# ----------------------------------------------------------------------------- the segments
def _projection(data: SegmentData) -> tuple[np.ndarray, np.ndarray, str, str, str]:
    """2-D coordinates of the rows and of the centroids (scikit-learn's PCA of the scaled numeric features: the
    columns of ``data.X`` after them encode clustered categories, k-prototypes', which the names do not cover),
    the axis labels, and a note on the projection."""
    from sklearn.decomposition import PCA

    numeric = len(data.names)
    pca = PCA(n_components=2).fit(data.X[:, :numeric])
    shares = pca.explained_variance_ratio_
    labels = []
    for i, component in enumerate(pca.components_):
        order = np.argsort(-np.abs(component))[:2]
        parts = [f"{'+' if component[j] > 0 else '−'}{data.names[j]}" for j in order if abs(component[j]) >= 0.3]
        labels.append(f"PC{i + 1} ({shares[i]:.0%} of variance): " + ", ".join(parts))
    scaled = {"standard": "standardized ", "minmax": "rescaled (0 to 1) ", "none": ""}[data.scaling]
    note = f"PCA projection of the {len(data.names)} {scaled}features ({shares.sum():.0%} of the variance shown)"
    return (pca.transform(data.X[:, :numeric]), pca.transform(data.segmentation.centroids[:, :numeric]), labels[0],
            labels[1], note)


def segment_data(X: np.ndarray, original: np.ndarray, seg: Segmentation, profiles: Profiles, *,
                 names: tuple[str, ...], scaling: Scaling, segment_names: Mapping[int, str],
                 rfm_grid: pd.DataFrame | None = None,
                 rfm_segments: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = ()) -> SegmentData:
    """The SegmentData of a segmentation: a fixed-seed sample of at most MAX_POINTS customers (the scatter plots
    draw no more) with their segments, so that what goes to the chart processes stays small however many
    customers there are (the segmentation goes without its label of every customer)."""
    from dataclasses import replace

    from ...model import SegmentData

    keep = sample_positions(len(X), MAX_POINTS, seg.seed)
    return SegmentData(X=X[keep], original=original[keep], labels=seg.labels[keep], customers=len(X), names=names,
                       scaling=scaling, segmentation=replace(seg, labels=seg.labels[:0]), profiles=profiles,
                       segment_names=segment_names, rfm_grid=rfm_grid, rfm_segments=rfm_segments)


def _scatter_points(data: SegmentData) -> tuple[np.ndarray, np.ndarray, str, str, str]:
    """The points and centroids to draw, the axis labels, and what the chart shows, in words."""
    seg = data.segmentation
    if len(data.names) == 2:
        return (data.original, seg.centroids_original, data.names[0], data.names[1],
                f"{data.names[0]} against {data.names[1]}")
    if len(data.names) == 1:
        jitter = np.random.default_rng(seg.seed).uniform(-0.3, 0.3, size=len(data.labels))
        return (np.column_stack([data.original[:, 0], data.labels + jitter]),
                np.column_stack([seg.centroids_original[:, 0], np.asarray(seg.numbers)]), data.names[0],
                "segment", f"{data.names[0]} by segment")
    return _projection(data)


def scatter(data: SegmentData) -> Figure:
    """Customers coloured by segment with centroids: the two features, or a PCA projection of more."""
    seg = data.segmentation
    points, centers, xlabel, ylabel, _ = _scatter_points(data)
    labels = data.labels
    fig = new_figure(FULL_WIDTH_IN, 4.0)
    ax = fig.add_subplot()
    size = 14 if len(labels) <= 1000 else 5
    for number in seg.numbers:
        mask = labels == number
        ax.scatter(points[mask, 0], points[mask, 1], s=size, color=segment_color(number),
                   marker=segment_marker(number), alpha=0.75 if len(labels) <= 1000 else 0.45, linewidths=0,
                   label=f"{number}. {data.segment_names.get(number, '')}", zorder=2)
    ax.scatter(centers[:, 0], centers[:, 1], s=110, marker="X", color="white", edgecolors=INK, linewidths=1.2,
               zorder=4, label="centroid")
    for number, (x, y) in zip(seg.numbers, centers, strict=True):
        ax.annotate(str(number), (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8, fontweight="bold",
                    color=INK, zorder=5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(data.names) == 1:
        ax.set_yticks(list(seg.numbers))
    ax.set_title("Customers by segment, with centroids")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=1.6 if size < 10 else 1.0)
    return fig


def scatter_alt(data: SegmentData) -> str:
    *_, how = _scatter_points(data)
    shown, n = len(data.labels), data.customers
    sampled = f" A fixed-seed sample of {shown:,} of {n:,} customers is drawn." if shown < n else ""
    return (f"Scatter plot of {how}, one colour per segment ({data.segmentation.k} segments), centroids marked "
            f"with a numbered cross.{sampled}")


def scatter_3d(data: SegmentData) -> Figure:
    """The three features in 3-D, coloured by segment, with centroids."""
    seg = data.segmentation
    keep = sample_positions(len(data.original), SCATTER_3D_POINTS, seg.seed)
    labels = data.labels[keep]
    fig = new_figure(FULL_WIDTH_IN * 0.8, 4.2)
    ax = fig.add_subplot(projection="3d")
    for number in seg.numbers:
        ax.scatter(*data.original[keep][labels == number].T, s=6, color=segment_color(number), alpha=0.7,
                   linewidths=0, depthshade=False)
    centers = seg.centroids_original
    ax.scatter(*centers.T, s=90, marker="X", color="white", edgecolors=INK, linewidths=1.0, depthshade=False)
    for number, point in zip(seg.numbers, centers, strict=True):
        ax.text(*point, f" {number}", fontsize=8, fontweight="bold", color=INK)
    ax.set_xlabel(short(data.names[0], 24), labelpad=2)
    ax.set_ylabel(short(data.names[1], 24), labelpad=2)
    ax.set_zlabel(short(data.names[2], 24), labelpad=2)
    ax.tick_params(labelsize=6, pad=0)
    ax.view_init(elev=22, azim=-58)
    return fig


def scatter_3d_alt(data: SegmentData) -> str:
    a, b, c = data.names
    return (f"Three-dimensional scatter plot of {a}, {b} and {c}, one colour per segment, centroids marked with "
            f"numbered crosses.")


def silhouettes(data: SegmentData) -> Figure:
    """Per-customer silhouette values, sorted within each segment."""
    seg = data.segmentation
    values, labels = seg.sample_silhouettes, seg.sample_labels
    fig = new_figure(FULL_WIDTH_IN, 3.0)
    ax = fig.add_subplot()
    y, ticks, gap = 0, [], max(2, len(values) // 60)
    for number in seg.numbers:
        mine = np.sort(values[labels == number])
        ax.fill_betweenx(np.arange(y, y + len(mine)), 0, mine, color=segment_color(number), linewidth=0)
        ticks.append((y + len(mine) / 2, str(number)))
        y += len(mine) + gap
    ax.axvline(seg.silhouette, color=INK, linestyle="--", linewidth=1.0, label=f"average {seg.silhouette:.2f}")
    ax.set_yticks([t for t, _ in ticks], [f"segment {label}" for _, label in ticks])
    ax.set_xlabel("silhouette (−1: closer to another segment, 1: well inside its own)")
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05) if len(values) else -0.1, 1)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    ax.set_title("Silhouette of each customer")
    return fig


def silhouettes_alt(data: SegmentData) -> str:
    seg = data.segmentation
    values = seg.sample_silhouettes
    negative = float((values < 0).mean()) if len(values) else 0.0
    sampled = (f" on a fixed-seed sample of {seg.silhouette_sample_size:,} customers"
               if seg.silhouette_sample_size else "")
    return (f"Silhouette plot{sampled}: the silhouette of every customer, sorted within each of the {seg.k} "
            f"segments; the average is {seg.silhouette:.2f} and {negative:.0%} of customers have a negative value.")


def profile_heatmap(data: SegmentData) -> Figure:
    """Segments x numeric columns: colour = standardized difference from the average, text = the mean. (A table
    drawn as an image, not a statistical chart: plain matplotlib, which draws it in half the time.)"""
    from matplotlib.colors import TwoSlopeNorm

    from ...describe.wording import format_value

    profiles = data.profiles
    columns = list(chart_columns(profiles.numeric, data.names))
    z = np.array([[seg.z[c] for c in columns] for seg in profiles.segments])
    rows = [f"{seg.segment}. {short(data.segment_names[seg.segment], 48)}" for seg in profiles.segments]
    fig = new_figure(FULL_WIDTH_IN, 0.9 + 0.36 * len(rows))
    ax = fig.add_subplot()
    image = ax.imshow(np.clip(z, -2, 2), cmap="RdBu_r", norm=TwoSlopeNorm(0, -2, 2), aspect="auto")
    for i, seg in enumerate(profiles.segments):
        for j, column in enumerate(columns):
            ax.text(j, i, format_value(seg.typical.get(column, seg.means[column]), column), ha="center",
                    va="center", fontsize=7.5, color="white" if abs(z[i, j]) > 1.2 else INK)
    ax.set_xticks(range(len(columns)), [wrap(c + (" (median)" if c in profiles.logged else "")) for c in columns],
                  fontsize=7.5)
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
    return fig


def profile_heatmap_alt(data: SegmentData) -> str:
    logged = data.profiles.logged
    medians = f" (the median for {', '.join(logged)}, clustered on a log scale)" if logged else ""
    return ("Heatmap of the segments (rows) against " + ", ".join(chart_columns(data.profiles.numeric, data.names))
            + " (columns); each cell "
            f"shows the segment's mean{medians}, coloured red above and blue below the average customer.")


def rfm_grid(data: SegmentData) -> Figure:
    """The recency x frequency grid: customers per (R, F) score, the named RFM segments outlined and labelled."""
    from matplotlib.patches import Rectangle

    from ...describe.rfm import RFM_SEGMENTS

    grid = data.rfm_grid
    assert grid is not None
    fig = new_figure(FULL_WIDTH_IN, 3.6)
    ax = fig.add_subplot()
    total = max(int(grid.to_numpy().sum()), 1)
    named = data.rfm_segments or RFM_SEGMENTS
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(n for n, *_ in named))}
    for name, (r_low, r_high), (f_low, f_high), _ in named:
        cells = grid.loc[[f for f in grid.index if f_low <= f <= f_high],
                         [r for r in grid.columns if r_low <= r <= r_high]]
        count = int(cells.to_numpy().sum())
        ax.add_patch(Rectangle((r_low - 0.5, f_low - 0.5), r_high - r_low + 1, f_high - f_low + 1,
                               facecolor=colors[name], alpha=0.28, edgecolor="white", linewidth=2))
        ax.text((r_low + r_high) / 2, (f_low + f_high) / 2, f"{name}\n{count:,} ({count / total:.0%})",
                ha="center", va="center", fontsize=7.5, color=INK)
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(range(1, 6), ["1\nlongest ago", "2", "3", "4", "5\nmost recent"], fontsize=7.5)
    ax.set_yticks(range(1, 6), ["1 (fewest)", "2", "3", "4", "5 (most)"], fontsize=7.5)
    ax.set_xlabel("recency score (quintiles of days since the last purchase)")
    ax.set_ylabel("frequency score (quintiles)")
    ax.grid(False)
    return fig


def rfm_grid_alt(data: SegmentData) -> str:
    grid = data.rfm_grid
    assert grid is not None
    return (f"Grid of recency score (1 to 5, columns) against frequency score (1 to 5, rows) for "
            f"{int(grid.to_numpy().sum()):,} customers, with the named RFM segments outlined and their customers "
            "counted.")


def sizes(data: SegmentData) -> Figure:
    seg = data.segmentation
    total = sum(seg.sizes)
    numbers = list(seg.numbers)
    fig = new_figure(FULL_WIDTH_IN, 0.6 + 0.3 * seg.k)
    ax = fig.add_subplot()
    ax.barh([f"{n}. {short(data.segment_names[n], 48)}" for n in numbers][::-1], list(seg.sizes)[::-1],
            color=[segment_color(n) for n in numbers][::-1], height=0.62)
    for y, size in enumerate(list(seg.sizes)[::-1]):
        ax.annotate(f"{size:,} ({size / total:.1%})", (size, y), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7.5)
    ax.set_xlim(0, max(seg.sizes) * 1.25)
    ax.set_xlabel("customers")
    ax.grid(axis="y", visible=False)
    return fig


def sizes_alt(data: SegmentData) -> str:
    seg = data.segmentation
    total = sum(seg.sizes)
    return "Bar chart of segment sizes: " + "; ".join(
        f"segment {n} {size:,} customers ({size / total:.0%})" for n, size in zip(seg.numbers, seg.sizes, strict=True)
    ) + "."


MIX_COLUMNS = 2  # categorical columns shown in the mix chart
MIX_VALUES = 6  # values per column; the rarer ones are shown together as "other"


def _mix_rows(data: SegmentData, column: str, width: int = 32) -> tuple[list[str], list[str], np.ndarray]:
    """Segment labels (then "All customers"), the values shown, and their shares per row."""
    profiles = data.profiles
    values = list(profiles.overall_categories[column])
    shown = values[:MIX_VALUES] + (["other"] if len(values) > MIX_VALUES else [])

    def row(mix: Mapping[str, float]) -> list[float]:
        kept = [mix.get(v, 0.0) for v in values[:MIX_VALUES]]
        return kept + ([max(0.0, 1.0 - sum(kept))] if len(values) > MIX_VALUES else [])

    labels = [f"{s.segment}. {short(data.segment_names[s.segment], width)}" for s in profiles.segments]
    matrix = [row(s.categories[column]) for s in profiles.segments] + [row(profiles.overall_categories[column])]
    return [*labels, "All customers"], shown, np.array(matrix)


def segment_mix(data: SegmentData) -> Figure:
    """For each categorical column: how each segment's customers split over its values, against all customers."""
    import seaborn as sns

    columns = list(data.profiles.categorical)[:MIX_COLUMNS]
    rows = len(data.profiles.segments) + 1
    fig = new_figure(FULL_WIDTH_IN, (0.45 + 0.27 * rows) * len(columns) + 0.3)
    axes = fig.subplots(len(columns), 1, squeeze=False)[:, 0]
    for ax, column in zip(axes, columns, strict=True):
        labels, values, shares = _mix_rows(data, column)
        colors = sns.color_palette("crest", len(values))
        left = np.zeros(len(labels))
        ys = np.arange(len(labels))[::-1]
        for j, value in enumerate(values):
            ax.barh(ys, shares[:, j], left=left, height=0.7, color=colors[j], label=short(value, 24),
                    edgecolor="white", linewidth=0.6)
            for y, x, share in zip(ys, left, shares[:, j], strict=True):
                if share >= 0.08:
                    ax.text(x + share / 2, y, f"{share:.0%}", ha="center", va="center", fontsize=6.5,
                            color="white" if j >= len(values) / 2 else INK)
            left += shares[:, j]
        ax.set_yticks(ys, labels)
        for label, number in zip(ax.get_yticklabels(), [*data.profiles.segments, None], strict=True):
            if number is not None:
                label.set_color(segment_color(number.segment))
                label.set_fontweight("bold")
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.grid(axis="y", visible=False)
        ax.set_title(short(column, 40), fontsize=8.5, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title=None)
    return fig


def segment_mix_alt(data: SegmentData) -> str:
    parts = []
    for column in list(data.profiles.categorical)[:MIX_COLUMNS]:
        labels, values, shares = _mix_rows(data, column, width=200)
        described = "; ".join(f"{label}: " + ", ".join(f"{v} {s:.0%}" for v, s in zip(values, row, strict=True))
                              for label, row in zip(labels, shares, strict=True))
        parts.append(f"{column} ({described})")
    return "Stacked bars of how the customers of each segment, and all customers, split by " + "; ".join(parts) + "."
