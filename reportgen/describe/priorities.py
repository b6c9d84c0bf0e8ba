"""What is at stake and what to do first: each segment's share of the money column, a KPI with a target for each
segment's headline action, the three actions ranked by what is at stake, and a baseline's priorities checked.

A KPI is the share of a segment's customers on the good side of a threshold of one column ("customers whose days
since last order is at most 80"). The threshold is all customers' median when the segment is on the bad side of
it (the action should bring customers back toward the middle), else the segment's own median (the action should
move more of them past it); rounded to two significant figures, so the manager reads a round number. The target
is :data:`TARGET_RISE` more of the segment's customers on the good side by the next run. The next run with this
one as its baseline measures the same share, with the same threshold, on the segment matched to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..model import KpiOutcome, KpiTarget, Persona, Priority, Profiles, Stake, Wording
from .wording import format_value, label_of

TARGET_RISE = 0.05  # five more customers in a hundred on the good side by the next run
PRIORITIES = 3


def round_number(value: float) -> float:
    """Two significant figures: 79 -> 79, 4,203 -> 4,200, 0.347 -> 0.35."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def value_at_stake(profiles: Profiles, wording: Wording) -> Stake | None:
    """Each segment's share of the first money column (features first) whose segment totals are all positive; None
    without one (no money column, or a balance some segments owe)."""
    money = [c for c in (*profiles.features, *profiles.numeric) if c in wording.money]
    for column in dict.fromkeys(money):
        sums = {seg.segment: float(seg.sums.get(column, float("nan"))) for seg in profiles.segments}
        total = sum(sums.values())
        if all(math.isfinite(v) and v >= 0 for v in sums.values()) and total > 0:
            return Stake(column=column, label=label_of(column, wording), total=total,
                         shares={n: v / total for n, v in sums.items()})
    return None


def on_good_side(values: np.ndarray, threshold: float, good: str) -> float:
    """The share of the (present) ``values`` at least ``threshold`` (good "high") or at most it (good "low")."""
    present = values[~np.isnan(values)]
    if not len(present):
        return float("nan")
    return float(np.mean(present >= threshold if good == "high" else present <= threshold))


def kpi_text(column: str, good: str, threshold: float, wording: Wording) -> str:
    side = "at least" if good == "high" else "at most"
    return f"customers whose {label_of(column, wording)} is {side} {format_value(threshold, column, wording)}"


def kpi_target(values: np.ndarray, overall_median: float, column: str, good: Literal["high", "low"],
               wording: Wording) -> KpiTarget | None:
    """The KPI of one segment (``values``: its customers' values of ``column``), see the module's docstring."""
    present = values[~np.isnan(values)]
    if not len(present):
        return None
    median = float(np.median(present))
    behind = median < overall_median if good == "high" else median > overall_median
    threshold = round_number(overall_median if behind else median)
    current = on_good_side(present, threshold, good)
    return KpiTarget(column=column, good=good, threshold=threshold, text=kpi_text(column, good, threshold, wording),
                     current=current, target=min(1.0, round(current + TARGET_RISE, 2)))


def with_kpis(personas: Sequence[Persona], frame: pd.DataFrame, labels: np.ndarray, profiles: Profiles,
              wording: Wording) -> tuple[Persona, ...]:
    """Each persona with its KPI measured on its segment's customers (``frame``'s rows, in ``labels``' order); as
    they are when the frame does not hold every customer (the Spark engine's sample) or the column."""
    if len(frame) != len(labels):
        return tuple(personas)
    out = []
    for persona in personas:
        column, good = persona.kpi_column, persona.kpi_good
        if not column or column not in frame.columns or good not in ("high", "low"):
            out.append(persona)
            continue
        values = frame[column].to_numpy(dtype=float, na_value=np.nan)
        kpi = kpi_target(values[labels == persona.segment], profiles.overall_medians[column], column,
                         "high" if good == "high" else "low", wording)
        out.append(replace(persona, kpi=kpi))
    return tuple(out)


def rank_priorities(personas: Sequence[Persona], profiles: Profiles, stake: Stake | None,
                    count: int = PRIORITIES) -> tuple[Priority, ...]:
    """The headline actions of the ``count`` segments with the most at stake (their share of the money column, or
    of the customers without one), each with its KPI."""
    sizes = {seg.segment: seg for seg in profiles.segments}

    def weight(persona: Persona) -> float:
        return stake.shares[persona.segment] if stake is not None else sizes[persona.segment].share

    ranked = sorted((p for p in personas if p.kpi is not None), key=lambda p: (-weight(p), p.segment))[:count]
    return tuple(Priority(rank=i, segment=p.segment, name=p.name, action=p.recommendations[0].action,
                          customers=sizes[p.segment].size,
                          value_share=stake.shares[p.segment] if stake is not None else None, kpi=p.kpi)
                 for i, p in enumerate(ranked, start=1) if p.kpi is not None)


def check_priorities(before: Sequence[Mapping[str, Any]], partners: Mapping[int, int | None],
                     frame: pd.DataFrame, labels: np.ndarray) -> tuple[KpiOutcome, ...]:
    """The baseline's ``priorities`` (summary.json's) measured now: the same KPI, with the same threshold, on the
    segment matched to the baseline's (``partners``: baseline number -> this run's, None when gone)."""
    out: list[KpiOutcome] = []
    for item in before:
        kpi = item.get("kpi") or {}
        column, good = str(kpi.get("column", "")), str(kpi.get("good", ""))
        try:
            then, target, threshold = float(kpi["current"]), float(kpi["target"]), float(kpi["threshold"])
        except (KeyError, TypeError, ValueError):
            continue
        if not column or good not in ("high", "low"):
            continue
        segment_now = partners.get(int(item["segment"]))
        now = None
        if segment_now is not None and column in frame.columns and len(frame) == len(labels):
            values = frame[column].to_numpy(dtype=float, na_value=np.nan)[labels == segment_now]
            share = on_good_side(values, threshold, good)
            now = None if math.isnan(share) else share
        out.append(KpiOutcome(rank=int(item.get("rank", len(out) + 1)), segment_before=int(item["segment"]),
                              segment_now=segment_now, name=str(item.get("name", "")),
                              action=str(item.get("action", "")), kpi=str(kpi.get("text", column)),
                              then=then, now=now, target=target,
                              met=None if now is None else now >= target - 1e-9))
    return tuple(out)
