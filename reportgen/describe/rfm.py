"""RFM segments beside K-means, for customers built from a transaction log.

The classic scores: recency, frequency and monetary value each cut into quintiles, 1 (worst) to 5 (best; for
recency, the most recent). The named segments come from the recency and frequency scores, the usual grid of
:data:`RFM_SEGMENTS` (first match wins). K-means on the (transformed) RFM features stays the main segmentation; the
report shows how the two relate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import RfmResult, Segments

RECENCY, FREQUENCY, MONETARY = "recency_days", "frequency", "monetary"

# (name, R scores, F scores, what to do): the usual RFM grid, first match wins
RFM_SEGMENTS: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = (
    ("Champions", (5, 5), (4, 5), "reward them; early access, ask for reviews"),
    ("Loyal", (3, 4), (4, 5), "upsell higher-value products; loyalty programme"),
    ("Potential loyalists", (4, 5), (2, 3), "membership or loyalty offer; recommend products"),
    ("New customers", (5, 5), (1, 1), "onboarding; make the second purchase easy"),
    ("Promising", (4, 4), (1, 1), "brand awareness; free trials"),
    ("Need attention", (3, 3), (3, 3), "limited-time offers based on past purchases"),
    ("About to sleep", (3, 3), (1, 2), "reconnect with popular products and discounts"),
    ("Can't lose them", (1, 2), (5, 5), "win them back with renewals or new products; talk to them"),
    ("At risk", (1, 2), (3, 4), "personal e-mails; renewals and helpful resources"),
    ("Hibernating", (2, 2), (1, 2), "offer other relevant products and special discounts"),
    ("Lost", (1, 1), (1, 2), "revive interest with a reach-out campaign, else ignore"),
)


def quintile_scores(values: pd.Series, *, higher_is_better: bool) -> pd.Series:
    """1-5 by quintile of rank (ties broken by order, so that every score holds a fifth of the customers)."""
    ranks = values.rank(method="first", ascending=higher_is_better)
    return pd.Series(np.ceil(ranks / len(values) * 5).clip(1, 5).astype(int), index=values.index)


def segment_of(r: int, f: int, segments: Segments = RFM_SEGMENTS) -> str:
    """The first segment whose recency and frequency scores hold (r, f) (the rules file checks every cell has
    one)."""
    for name, (r_low, r_high), (f_low, f_high), _ in segments:
        if r_low <= r <= r_high and f_low <= f <= f_high:
            return name
    raise ValueError(f"no RFM segment for R{r}F{f}")


def rfm_of(frame: pd.DataFrame, labels: np.ndarray, segments: Segments = ()) -> RfmResult | None:
    """The RFM result of the cleaned customers (None without recency, frequency and monetary columns);
    ``segments``: the rules file's [[rfm]] grid, else :data:`RFM_SEGMENTS`."""
    segments = segments or RFM_SEGMENTS
    if not {RECENCY, FREQUENCY, MONETARY} <= set(frame.columns) or len(frame) < 5:
        return None
    # as numbers: a log where every customer bought equally often has a constant frequency, a category by its role
    rfm = frame[[RECENCY, FREQUENCY, MONETARY]].apply(lambda column: pd.to_numeric(column, errors="coerce"))
    r = quintile_scores(rfm[RECENCY], higher_is_better=False)
    f = quintile_scores(rfm[FREQUENCY], higher_is_better=True)
    m = quintile_scores(rfm[MONETARY], higher_is_better=True)
    names = [segment_of(int(a), int(b), segments) for a, b in zip(r, f, strict=True)]
    order = list(dict.fromkeys(name for name, *_ in segments))
    table = pd.DataFrame({"r": r, "f": f, "m": m, "rfm_score": r.astype(str) + f.astype(str) + m.astype(str),
                          "rfm_segment": pd.Categorical(names, categories=order)}, index=frame.index)
    counts = table["rfm_segment"].value_counts().reindex(order).fillna(0).astype(int)
    grid = pd.crosstab(table["f"], table["r"]).reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5]).fillna(0)
    crossing = pd.crosstab(pd.Series(labels, index=frame.index, name="segment"), table["rfm_segment"],
                           dropna=False).reindex(columns=order).fillna(0).astype(int)
    means = rfm.groupby(table["rfm_segment"], observed=False).mean()
    return RfmResult(table=table, counts={k: int(v) for k, v in counts.items() if v}, grid=grid.astype(int),
                     crossing=crossing.loc[:, crossing.sum(axis=0) > 0], means=means.reindex(order).dropna(how="all"),
                     actions={name: action for name, _, _, action in segments}, segments=segments)
