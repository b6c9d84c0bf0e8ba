"""The charts of the data before segmentation (drawn from :class:`~reportgen.model.ExplorationData`).

The statistical charts are seaborn's (histogram with density curve, violins, correlation heatmap, the panels of
the pair plot), drawn on the axes of a ``Figure``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .style import (
    EXPLORE_SAMPLE,
    FULL_WIDTH_IN,
    INK,
    PALETTE,
    compact_ticks,
    grid,
    log_ticks,
    new_figure,
    sample_positions,
    sampled_note,
    short,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ...model import ExplorationData

DISTRIBUTION_SAMPLE = 20_000  # histograms and their density curves above this many customers: a fixed-seed sample
PAIR_SAMPLE = 2000
PAIR_COLUMNS = 5  # the pair plot shows the first five features
MAX_VIOLIN_GROUPS = 8


EXPLORATION_ROWS = 100_000  # the charts draw a fixed-seed sample of this many rows (counts are of every row)


def exploration_data(frame: pd.DataFrame, *, numeric: tuple[str, ...], categorical: tuple[str, ...],
                     features: tuple[str, ...], customers: int, seed: int) -> ExplorationData:
    """What the exploration charts need of ``frame``: category counts and correlations of every row, and the
    columns of at most :data:`EXPLORATION_ROWS` of them (a fixed-seed sample; histograms, violins and scatter
    plots of ten million rows look as those of a hundred thousand, which are 25 MB less to send and draw)."""
    import pandas as pd

    from ...model import ExplorationData

    top, distinct = {}, {}
    for column in categorical:
        counts = frame[column].value_counts(dropna=True)
        counts = counts.groupby(counts.index.astype(str), sort=False).sum() if len(counts) else counts
        counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
        top[column] = tuple((str(value), int(count)) for value, count in counts.head(10).items())
        distinct[column] = len(counts)
    correlated = list(dict.fromkeys([*numeric, *features[:PAIR_COLUMNS]]))
    picked = sample_positions(len(frame), EXPLORATION_ROWS, seed)
    shown = frame.iloc[picked] if len(picked) < len(frame) else frame
    columns = list(dict.fromkeys([*numeric, *categorical, *features[:PAIR_COLUMNS]]))
    return ExplorationData(
        frame=shown[columns].astype({c: "category" for c in categorical}), numeric=numeric, categorical=categorical,
        features=features, customers=customers, seed=seed, top_counts=top, distinct=distinct, counted=len(frame),
        correlation=frame[correlated].astype(float).corr() if correlated else pd.DataFrame())


def _values(data: ExplorationData, column: str) -> np.ndarray:
    return data.frame[column].dropna().to_numpy(dtype=float)


LOG_AXIS_DISTINCT = 100  # fewer distinct values (small counts) make a comb of bars on a log axis


def heavy_tailed(values: np.ndarray) -> bool:
    """Drawn on a log axis: positive values with a long right tail (the rule the clustering's log transform uses)
    and enough distinct values to fill log-wide bins."""
    from ...segmentation.features import SKEW_LIMIT, feature_stats

    return (len(values) > 2 and float(values.min()) > 0 and len(np.unique(values)) >= LOG_AXIS_DISTINCT
            and feature_stats("", values).skew > SKEW_LIMIT)


# ----------------------------------------------------------------------------- distributions
def distributions(data: ExplorationData) -> Figure:
    """Histogram of every numeric column (share of customers), with a kernel density curve."""
    import seaborn as sns

    columns = list(data.numeric)
    fig = new_figure(FULL_WIDTH_IN, 1.9 * (-(-len(columns) // 3)) + 0.2)
    for ax, column in zip(grid(fig, len(columns)), columns, strict=True):
        values = _values(data, column)
        shown = values[sample_positions(len(values), DISTRIBUTION_SAMPLE, data.seed)]
        curve = len(np.unique(shown)) > 2
        log = heavy_tailed(shown)
        sns.histplot(x=shown, bins=int(np.clip(np.sqrt(len(values)), 8, 40)), stat="percent", kde=curve,
                     kde_kws={"cut": 0}, color=PALETTE[0], alpha=0.55, edgecolor="white", linewidth=0.4, ax=ax,
                     log_scale=log)
        for line in ax.get_lines():
            line.set(color=PALETTE[3], linewidth=1.3)
        if log:
            log_ticks(ax.xaxis)
        else:
            compact_ticks(ax.xaxis, integer=bool(np.all(np.mod(shown, 1) == 0)))
        ax.set_title(short(column) + (" (log scale)" if log else ""), fontsize=8.5)
        ax.set_xlabel("")
        ax.set_ylabel("% of customers")
    return fig


def distributions_alt(data: ExplorationData) -> str:
    logs = [c for c in data.numeric if heavy_tailed(_values(data, c))]
    note = f"; {', '.join(logs)} on a log scale (long right tails)" if logs else ""
    return ("Histograms with density curves of " + ", ".join(data.numeric) + ", one panel per column"
            + sampled_note(min(len(data.frame), DISTRIBUTION_SAMPLE), data.customers) + note + ".")


# ----------------------------------------------------------------------------- categories
def _top_counts(data: ExplorationData, column: str) -> pd.Series:
    import pandas as pd

    pairs = data.top_counts[column]
    return pd.Series([count for _, count in pairs], index=[value for value, _ in pairs], dtype="int64")


def categories(data: ExplorationData) -> Figure:
    """Counts of the (up to ten) most common values of each categorical column (the first three columns)."""
    shown = list(data.categorical)[:3]
    heights = [min(data.distinct[c], 10) for c in shown]
    fig = new_figure(FULL_WIDTH_IN, max(1.4, 0.28 * max(heights) + 0.9))
    total = data.counted
    for ax, column in zip(grid(fig, len(shown)), shown, strict=True):
        counts = _top_counts(data, column)[::-1]
        ax.barh([short(str(v), 18) for v in counts.index], counts.to_numpy(), color=PALETTE[0], height=0.6)
        for y, count in enumerate(counts.to_numpy()):
            ax.annotate(f"{count:,} ({count / total:.0%})", (count, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
        ax.set_xlim(0, max(int(counts.max()) if len(counts) else 0, 1) * 1.35)
        compact_ticks(ax.xaxis, 4, integer=True)  # 2.5M, not "2.5" and a "1e6" in the corner
        ax.set_title(short(column), fontsize=8.5)
        ax.set_xlabel("customers")
        ax.grid(axis="y", visible=False)
    return fig


def categories_alt(data: ExplorationData) -> str:
    parts = [f"{column}: " + ", ".join(f"{v} {c:,}" for v, c in _top_counts(data, column).items())
             for column in list(data.categorical)[:3]]
    return "Bar charts of category counts. " + "; ".join(parts) + "."


# ----------------------------------------------------------------------------- features by a category
def violin_category(data: ExplorationData) -> str | None:
    """The first categorical column with 2 to 8 values: the one the violins split by (None: no violins, also
    when no feature is among the charted columns)."""
    if not violin_features(data):
        return None
    return next((c for c in data.categorical if 2 <= data.distinct[c] <= MAX_VIOLIN_GROUPS), None)


def violin_features(data: ExplorationData) -> tuple[str, ...]:
    """The features the violins show: those among the charted numeric columns (at most
    :data:`~reportgen.report.charts.style.MAX_CHART_COLUMNS`; the frame holds no other), in table order."""
    return tuple(column for column in data.features if column in data.numeric)


def by_category(data: ExplorationData) -> Figure:
    """Violin plot of each charted feature split by the values of one categorical column (quartiles dashed)."""
    import seaborn as sns

    category = violin_category(data)
    assert category is not None
    frame = data.frame.iloc[sample_positions(len(data.frame), EXPLORE_SAMPLE, data.seed)]
    order = frame[category].astype(str).value_counts().index.tolist()[:MAX_VIOLIN_GROUPS]
    frame = frame.assign(**{category: frame[category].astype(str)})
    frame = frame[frame[category].isin(order)]
    features = list(violin_features(data))
    fig = new_figure(FULL_WIDTH_IN, 2.0 * (-(-len(features) // 3)) + 0.2)
    for ax, column in zip(grid(fig, len(features)), features, strict=True):
        sns.violinplot(data=frame, x=category, y=column, order=order, inner="quart", cut=0, density_norm="width",
                       color=PALETTE[4], linewidth=0.7, linecolor=INK, saturation=1, ax=ax)
        for body in ax.collections:
            body.set_alpha(0.75)
        ax.set_xticks(range(len(order)), [short(v, 14) for v in order])
        ax.grid(axis="x", visible=False)
        compact_ticks(ax.yaxis)
        ax.set_title(short(column), fontsize=8.5)
        ax.set_ylabel("")
        ax.set_xlabel(short(category))
        ax.tick_params(axis="x", labelrotation=0 if len(order) <= 4 else 30)
    return fig


def by_category_title(data: ExplorationData) -> str:
    return f"Features by {violin_category(data)}"


def by_category_alt(data: ExplorationData) -> str:
    return (f"Violin plots of {', '.join(violin_features(data))} for each value of {violin_category(data)}"
            f"{sampled_note(min(len(data.frame), EXPLORE_SAMPLE), data.customers)}.")


# ----------------------------------------------------------------------------- pairs
def pairs(data: ExplorationData) -> Figure:
    """Pairwise scatter plots (below the diagonal), histograms (on it) and correlations (above it)."""
    import seaborn as sns

    shown = list(data.features)[:PAIR_COLUMNS]
    p = len(shown)
    full = data.frame[shown].astype(float)
    sample = full.iloc[sample_positions(len(full), PAIR_SAMPLE, data.seed)]
    corr = data.correlation.loc[shown, shown].to_numpy()
    size = min(FULL_WIDTH_IN, 1.75 * p + 0.4)
    fig = new_figure(size, size)
    axes = fig.subplots(p, p, squeeze=False)
    for i in range(p):
        for j in range(p):
            ax = axes[i, j]
            ax.grid(False)
            if i == j:
                sns.histplot(x=full.iloc[:, i].dropna().to_numpy(), bins=20, color=PALETTE[0], alpha=0.6,
                             edgecolor="white", linewidth=0.3, ax=ax)
                ax.set_yticks([])
                ax.set_ylabel("")
            elif i > j:
                sns.scatterplot(x=sample.iloc[:, j].to_numpy(), y=sample.iloc[:, i].to_numpy(),
                                s=3 if len(sample) > 500 else 6, color=PALETTE[0], alpha=0.5, linewidth=0, ax=ax)
            else:
                ax.axis("off")
                value = round(float(corr[i, j]), 2) + 0.0  # -0.001 is "0.00", not "-0.00"
                ax.text(0.5, 0.5, f"r = {value:.2f}", ha="center", va="center", transform=ax.transAxes,
                        fontsize=8 + 4 * abs(value), color=PALETTE[3] if value < 0 else PALETTE[0])
            compact_ticks(ax.xaxis, 4)
            if i != j:
                compact_ticks(ax.yaxis, 4)
            if i == p - 1:
                ax.set_xlabel(short(shown[j], 22), fontsize=7)
            else:
                ax.set_xlabel("")
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(short(shown[i], 22), fontsize=7)
            elif i != j:
                ax.set_ylabel("")
                ax.set_yticklabels([])
            ax.tick_params(labelsize=6)
    return fig


def pairs_alt(data: ExplorationData) -> str:
    shown = list(data.features)[:PAIR_COLUMNS]
    rows = data.customers
    sampled = (f"; points are a fixed-seed sample of {PAIR_SAMPLE:,} customers" if rows > PAIR_SAMPLE else "")
    return (f"Scatter-plot matrix of {', '.join(shown)} with histograms on the diagonal and Pearson correlations "
            f"above it{sampled}.")


# ----------------------------------------------------------------------------- correlation
def _correlations(data: ExplorationData) -> pd.DataFrame:
    return data.correlation.loc[list(data.numeric), list(data.numeric)]


def correlation(data: ExplorationData) -> Figure:
    """Pearson correlation heatmap of the numeric columns."""
    import seaborn as sns

    corr = _correlations(data)
    columns = list(data.numeric)
    n = len(columns)
    fig = new_figure(min(FULL_WIDTH_IN, 1.0 + 0.75 * n + 1.2), 0.9 + 0.55 * n)
    ax = fig.add_subplot()
    shown = corr.round(2) + 0.0  # -0.001 is "0.00", not "-0.00"
    sns.heatmap(shown, ax=ax, annot=n <= 12, fmt=".2f", annot_kws={"fontsize": 7}, cmap="RdBu_r", vmin=-1, vmax=1,
                linewidths=1.0, linecolor="white", cbar_kws={"shrink": 0.8, "label": "Pearson r"},
                xticklabels=[short(c, 18) for c in columns], yticklabels=[short(c, 22) for c in columns])
    ax.tick_params(length=0)
    ax.tick_params(axis="y", labelrotation=0)
    for label in ax.get_xticklabels():
        label.set(rotation=30, ha="right")
    return fig


def correlation_alt(data: ExplorationData) -> str:
    corr = _correlations(data)
    columns = list(data.numeric)
    n = len(columns)
    strongest = max(((abs(corr.iloc[i, j]), columns[i], columns[j], corr.iloc[i, j])
                     for i in range(n) for j in range(i + 1, n)), default=None)
    note = (f" The strongest is between {strongest[1]} and {strongest[2]} (r = {strongest[3]:.2f})."
            if strongest else "")
    return f"Heatmap of the Pearson correlations between {', '.join(columns)}.{note}"
