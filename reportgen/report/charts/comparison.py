"""The charts of what changed since a baseline run (from a :class:`~reportgen.model.Comparison`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .style import FULL_WIDTH_IN, INK, MUTED, new_figure, segment_color, short

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ...model import Comparison, SegmentChange


def segment_label(change: SegmentChange, name_width: int = 40, *, sep: str = "\n") -> str:
    """A segment as the share chart names it: its number now; a gone one has none, so it says that its number is
    the baseline's, and so does a kept one whose baseline number differs. ``sep`` comes before what it says."""
    name = short(change.name, name_width)
    if change.status == "gone":
        return f"{name}{sep}(gone; no. {change.number_before} in the baseline)"
    if change.status == "new":
        return f"{change.number_now}. {name} (new)"
    if change.number_before != change.number_now:
        return f"{change.number_now}. {name}{sep}(no. {change.number_before} in the baseline)"
    return f"{change.number_now}. {name}"


def share_change(comparison: Comparison) -> Figure:
    """Share of customers per segment in the baseline run and now."""
    changes = list(comparison.changes)
    labels = [segment_label(c) for c in changes]
    before = [c.share_before or 0.0 for c in changes]
    now = [c.share_now or 0.0 for c in changes]
    fig = new_figure(FULL_WIDTH_IN, 0.8 + 0.42 * len(changes))
    ax = fig.add_subplot()
    ys = np.arange(len(changes))[::-1]
    ax.barh(ys + 0.19, before, height=0.36, color="#bbbbbb", label=f"baseline ({comparison.baseline_run})")
    ax.barh(ys - 0.19, now, height=0.36, color=[segment_color(c.number) for c in changes], label="now")
    for y, b, n in zip(ys, before, now, strict=True):
        ax.annotate(f"{b:.0%}", (b, y + 0.19), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7,
                    color=MUTED)
        ax.annotate(f"{n:.0%}", (n, y - 0.19), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, max([*before, *now, 0.05]) * 1.25)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("share of customers")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False)  # above the bars, not on them
    return fig


def share_change_alt(comparison: Comparison) -> str:
    return "Bar chart of each segment's share of customers in the baseline run and now: " + "; ".join(
        f"{segment_label(c, 1000, sep=' ')}: {(c.share_before or 0):.0%} then, {(c.share_now or 0):.0%} now"
        for c in comparison.changes) + "."


def migration(comparison: Comparison) -> Figure:
    """Where the customers of each baseline segment are now (row percentages, with counts)."""
    import seaborn as sns

    matrix = comparison.migration
    assert matrix is not None
    counts = matrix.to_numpy()
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    texts = np.array([[f"{c:,}\n{s:.0%}" if c else "" for c, s in zip(row, srow, strict=True)]
                      for row, srow in zip(counts, shares, strict=True)])
    fig = new_figure(min(FULL_WIDTH_IN, 1.6 + 0.75 * counts.shape[1]), 0.9 + 0.42 * counts.shape[0])
    ax = fig.add_subplot()
    sns.heatmap(shares, ax=ax, cmap="Blues", vmin=0, vmax=1, annot=texts, fmt="", annot_kws={"fontsize": 7},
                cbar=False, xticklabels=[str(c) for c in matrix.columns], yticklabels=[str(r) for r in matrix.index],
                linewidths=0.5, linecolor="white")
    ax.set_xlabel("segment now")
    ax.set_ylabel("segment in the baseline")
    ax.tick_params(length=0, labelcolor=INK)
    ax.tick_params(axis="y", labelrotation=0)
    return fig


def migration_alt(comparison: Comparison) -> str:
    stayed = comparison.stayed / comparison.shared_customers if comparison.shared_customers else 0
    return (f"Migration heatmap of the {comparison.shared_customers:,} customers in both runs: rows are the "
            f"baseline's segments by their numbers there, columns today's by their numbers now; {stayed:.0%} kept "
            f"their segment (they are in the segment matched to their baseline segment).")
