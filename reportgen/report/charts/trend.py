"""The charts of a trend over the runs of a series (from a :class:`~reportgen.model.Trend`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..names import segment_name, short_run
from .style import FULL_WIDTH_IN, INK, MUTED, new_figure, segment_color, segment_marker, short

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...model import Trend


DATED_PERIODS = 6  # up to this many periods a label has the run's date below its name


def period_labels(trend: Trend) -> list[str]:
    """Each period's run name without its date-time prefix, and (for a few periods) the date below it."""
    dated = len(trend.periods) <= DATED_PERIODS
    return [f"{short(short_run(p.run), 18)}" + (f"\n{p.created[:10]}" if dated else "") for p in trend.periods]


def shares(trend: Trend) -> Figure:
    """Each segment's share of the customers in every period: a line per segment, its name in the legend."""
    labels = period_labels(trend)
    xs = np.arange(len(labels))
    fig = new_figure(FULL_WIDTH_IN, 3.3 + 0.17 * ((len(trend.segments) + 1) // 2))
    ax = fig.add_subplot()
    top = max(float(v) for s in trend.segments for v in s.shares if v is not None)
    ends: list[tuple[float, float, str, str]] = []  # (x, y, text, colour) of each line's last point
    for s in trend.segments:
        values = np.array([np.nan if v is None else v for v in s.shares], dtype=float)
        ax.plot(xs, values, color=segment_color(s.segment), marker=segment_marker(s.segment), linewidth=1.8,
                markersize=5, label=f"{s.segment}. {short(s.name, 34)}")
        last = int(np.flatnonzero(~np.isnan(values))[-1])
        ends.append((float(xs[last]), float(values[last]), f"{values[last]:.0%}", segment_color(s.segment)))
    limit = top * 1.15 + 0.01
    for (x, _, text, color), y in zip(ends, spread([y for _, y, _, _ in ends], gap=0.055 * limit, top=limit),
                                      strict=True):
        ax.annotate(text, (x, y), xytext=(7, 0), textcoords="offset points", va="center", fontsize=7, color=color)
    crowded = len(labels) > DATED_PERIODS and sum(len(label) for label in labels) > 6 * len(labels)
    ax.set_xticks(xs, labels, rotation=45 if crowded else 0, ha="right" if crowded else "center")
    ax.set_xlim(-0.25, len(labels) - 1 + 0.45)
    ax.set_ylim(0, limit)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("share of customers")
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside lower center", ncols=2, handlelength=2.2)
    return fig


def spread(values: list[float], *, gap: float, top: float) -> list[float]:
    """Positions for labels at ``values`` at least ``gap`` apart, each as near its value as that allows, kept
    between 0 and ``top`` (labels at the ends of lines that meet)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    placed = [values[i] for i in order]
    for i in range(1, len(placed)):  # push up what is too close to the one below
        placed[i] = max(placed[i], placed[i - 1] + gap)
    overflow = placed[-1] - top if placed else 0.0
    if overflow > 0:  # then down from the top
        placed[-1] -= overflow
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    out = [0.0] * len(values)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out


def shares_alt(trend: Trend) -> str:
    runs = ", ".join(short_run(p.run) for p in trend.periods)
    if len(trend.periods) <= DATED_PERIODS:
        told = [f"segment {s.segment} " + " then ".join("absent" if v is None else f"{v:.0%}" for v in s.shares)
                for s in trend.segments]
    else:  # first, last and range: the table below has every value
        told = []
        for s in trend.segments:
            values = [v for v in s.shares if v is not None]
            told.append(f"segment {s.segment} from {values[0]:.0%} to {values[-1]:.0%} (between {min(values):.0%} "
                        f"and {max(values):.0%})")
    return (f"Line chart of each segment's share of the customers in {len(trend.periods)} periods ({runs}): "
            + "; ".join(told) + ".")


def movement(trend: Trend) -> Figure:
    """For every step from one period to the next: customers who stayed in their segment, moved to another,
    entered (new customers) and left."""
    steps = list(trend.steps)
    names = [f"{short(short_run(s.before), 14)} \u2192 {short(short_run(s.after), 14)}" for s in steps]
    parts = [("stayed", "#4d4d4d", [s.stayed for s in steps]), ("moved", "#D55E00", [s.moved for s in steps]),
             ("entered", "#0173B2", [s.entered for s in steps]), ("left", "#bbbbbb", [s.left for s in steps])]
    fig = new_figure(FULL_WIDTH_IN, 1.1 + 0.45 * len(steps))
    ax = fig.add_subplot()
    ys = np.arange(len(steps))[::-1]
    left = np.zeros(len(steps))
    total = max(float(sum(values[i] for _, _, values in parts)) for i in range(len(steps))) or 1.0
    for label, color, values in parts:
        widths = np.array(values, dtype=float)
        ax.barh(ys, widths, left=left, height=0.6, color=color, label=label)
        for y, x, w in zip(ys, left, widths, strict=True):
            if w >= 0.06 * total:
                ax.annotate(f"{int(w):,}", (x + w / 2, y), ha="center", va="center", fontsize=7,
                            color="white" if color not in ("#bbbbbb",) else INK)
        left += widths
    ax.set_yticks(ys, names)
    ax.set_xlabel("customers")
    ax.grid(axis="y", visible=False)
    fig.legend(loc="outside lower center", ncols=4)
    return fig


def movement_alt(trend: Trend) -> str:
    return "Stacked bar chart of the customers from one period to the next: " + "; ".join(
        f"{short_run(s.before)} to {short_run(s.after)}: {s.stayed:,} stayed, {s.moved:,} moved to another segment, "
        f"{s.entered:,} entered, {s.left:,} left" for s in trend.steps) + "."


def flows(trend: Trend) -> Figure:
    """Where the customers of each segment went in the latest step (row percentages, with counts)."""
    import seaborn as sns

    step = trend.steps[-1]
    sources = sorted({f.source for f in step.flows})
    targets = sorted({f.target for f in step.flows})
    counts = np.zeros((len(sources), len(targets)), dtype=int)
    for f in step.flows:
        counts[sources.index(f.source), targets.index(f.target)] += f.customers
    row_shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    texts = np.array([[f"{c:,}\n{s:.0%}" if c else "" for c, s in zip(row, srow, strict=True)]
                      for row, srow in zip(counts, row_shares, strict=True)])
    fig = new_figure(min(FULL_WIDTH_IN, 3.2 + 0.75 * len(targets)), 1.1 + 0.42 * len(sources))
    ax = fig.add_subplot()
    sns.heatmap(row_shares, ax=ax, cmap="Blues", vmin=0, vmax=1, annot=texts, fmt="", annot_kws={"fontsize": 7},
                cbar=False, xticklabels=[str(t) for t in targets],
                yticklabels=[f"{s}. {short(segment_name(trend, s), 26)}" for s in sources], linewidths=0.5,
                linecolor="white")
    ax.set_xlabel(f"segment in {short(short_run(step.after), 30)}")
    ax.set_ylabel(f"segment in {short(short_run(step.before), 30)}")
    ax.tick_params(length=0, labelcolor=INK)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(f"{step.shared:,} customers in both periods", color=MUTED, fontsize=8, fontweight="normal")
    return fig


def flows_alt(trend: Trend) -> str:
    step = trend.steps[-1]
    moves = "; ".join(f"{f.customers:,} from segment {f.source} to segment {f.target}" for f in step.movers[:5])
    return (f"Heatmap of the {step.shared:,} customers in both {short_run(step.before)} and "
            f"{short_run(step.after)}: rows are the segments before, columns after; "
            f"{step.stayed / max(step.shared, 1):.0%} stayed"
            + (f"; the largest moves: {moves}" if moves else "") + ".")
