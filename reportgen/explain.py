"""Segment rules a CRM can apply: a shallow decision tree (scikit-learn, depth at most 3) fitted to the segment
labels, in the features' own units. Each segment gets a readable rule ("Annual Income (k$) at least 70 and
Spending Score (1-100) at least 61"), how many of its customers the rule covers and how many customers of other
segments it takes in; all segments together become one SQL ``CASE`` expression (segments.sql) that labels
customers in a warehouse. The tree is a description of the segments, not the segmentation: the report says how
many customers it reproduces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 3
MIN_LEAF_SHARE = 0.01  # a leaf holds at least this share of the customers (no rule for three customers)
MAX_ROWS = 20_000  # the tree is fitted on a fixed-seed sample of at most this many customers


@dataclass(frozen=True)
class Condition:
    feature: str
    low: float | None  # x > low (the tree's threshold), or None
    high: float | None  # x <= high, or None


@dataclass(frozen=True)
class SegmentRule:
    """One segment's rule: an OR of paths, each an AND of conditions; what it covers and takes in."""

    segment: int
    paths: tuple[tuple[Condition, ...], ...]
    text: str  # in words, in the features' units
    sql: str  # the SQL condition
    size: int  # the segment's customers (of those the tree saw)
    covered: int  # of them, those the rule picks
    picked: int  # customers the rule picks
    wrong: int  # of them, those in another segment

    @property
    def covered_share(self) -> float:
        return self.covered / self.size if self.size else 0.0

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.picked if self.picked else 0.0


@dataclass(frozen=True)
class SegmentRules:
    rules: tuple[SegmentRule, ...]
    agreement: float  # share of the customers the rules put in their own segment
    customers: int  # the customers the tree was fitted on
    depth: int

    def for_segment(self, segment: int) -> SegmentRule | None:
        return next((r for r in self.rules if r.segment == segment), None)


def _paths(tree: object, names: Sequence[str]) -> list[tuple[int, tuple[Condition, ...]]]:
    """Every leaf of a fitted tree as (predicted class index, its conditions merged per feature)."""
    t = tree.tree_  # type: ignore[attr-defined]
    out: list[tuple[int, tuple[Condition, ...]]] = []

    def one_class(node: int) -> int | None:
        """The class every leaf under ``node`` predicts, or None (a split that changes nothing is no rule)."""
        if t.children_left[node] == -1:
            return int(np.argmax(t.value[node][0]))
        left, right = one_class(int(t.children_left[node])), one_class(int(t.children_right[node]))
        return left if left is not None and left == right else None

    def walk(node: int, bounds: dict[int, tuple[float | None, float | None]]) -> None:
        single = one_class(node)
        if single is not None:
            conditions = tuple(Condition(names[f], low, high) for f, (low, high) in sorted(bounds.items()))
            out.append((single, conditions))
            return
        feature, threshold = int(t.feature[node]), float(t.threshold[node])
        low, high = bounds.get(feature, (None, None))
        left = dict(bounds)
        left[feature] = (low, threshold if high is None else min(high, threshold))
        walk(int(t.children_left[node]), left)
        right = dict(bounds)
        right[feature] = (threshold if low is None else max(low, threshold), high)
        walk(int(t.children_right[node]), right)

    walk(0, {})
    return out


def _number(value: float, integer: bool) -> str:
    if integer:
        return f"{value:,.0f}"
    return f"{value:,.{max(0, 2 - int(np.floor(np.log10(abs(value)))) if value else 0)}f}"


def condition_text(condition: Condition, integer: bool) -> str:
    """``x > 69.5`` as "at least 70" for a whole-number feature, "above 69.5" otherwise."""
    name, low, high = condition.feature, condition.low, condition.high
    if integer:
        lo = None if low is None else _number(np.floor(low) + 1, True)
        hi = None if high is None else _number(np.floor(high), True)
        if lo and hi:
            return f"{name} {lo} to {hi}" if lo != hi else f"{name} {lo}"
        return f"{name} at least {lo}" if lo else f"{name} at most {hi}"
    lo = None if low is None else _number(low, False)
    hi = None if high is None else _number(high, False)
    if lo and hi:
        return f"{name} above {lo} and at most {hi}"
    return f"{name} above {lo}" if lo else f"{name} at most {hi}"


def quote_identifier(name: str) -> str:
    """A column name as SQL (SQLite, PostgreSQL, and the standard) reads it: in double quotes, quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def condition_sql(condition: Condition) -> str:
    column = quote_identifier(condition.feature)
    parts = []
    if condition.low is not None:
        parts.append(f"{column} > {condition.low:.10g}")
    if condition.high is not None:
        parts.append(f"{column} <= {condition.high:.10g}")
    return " AND ".join(parts)


def _holds(path: tuple[Condition, ...], X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    mask = np.ones(len(X), dtype=bool)
    for condition in path:
        values = X[:, list(names).index(condition.feature)]
        if condition.low is not None:
            mask &= values > condition.low
        if condition.high is not None:
            mask &= values <= condition.high
    return mask


def segment_rules(X: np.ndarray, labels: np.ndarray, names: Sequence[str], *, seed: int,
                  max_depth: int = MAX_DEPTH) -> SegmentRules:
    """The rules of the segments ``labels`` of the customers ``X`` (features ``names``, in their own units)."""
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(seed)
    if len(X) > MAX_ROWS:
        keep = np.sort(rng.choice(len(X), MAX_ROWS, replace=False))
        X, labels = X[keep], labels[keep]
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, int(MIN_LEAF_SHARE * len(X))),
                                  random_state=seed).fit(X, labels)
    classes = tree.classes_
    integer = {name: bool(np.all(np.mod(X[:, i], 1) == 0)) for i, name in enumerate(names)}
    leaves = _paths(tree, names)
    predicted = np.full(len(X), -1, dtype=np.int64)
    for index, path in leaves:
        predicted[_holds(path, X, names)] = int(classes[index])
    rules = []
    for segment in sorted(int(c) for c in np.unique(labels)):
        paths = tuple(path for index, path in leaves if int(classes[index]) == segment)
        text = " or ".join(
            ("(" if len(paths) > 1 and len(path) > 1 else "")
            + " and ".join(condition_text(c, integer[c.feature]) for c in path)
            + (")" if len(paths) > 1 and len(path) > 1 else "") for path in paths) or "no rule (no leaf of the tree)"
        sql = " OR ".join("(" + " AND ".join(condition_sql(c) for c in path) + ")" for path in paths) or "1 = 0"
        mine, picked = labels == segment, predicted == segment
        rules.append(SegmentRule(segment=segment, paths=paths, text=text, sql=sql, size=int(mine.sum()),
                                 covered=int((mine & picked).sum()), picked=int(picked.sum()),
                                 wrong=int((picked & ~mine).sum())))
    return SegmentRules(rules=tuple(rules), agreement=float(np.mean(predicted == labels)), customers=len(X),
                        depth=int(tree.get_depth()))


def table_name(source_name: str) -> str:
    """The input's name as the table segments.sql reads: ``Mall_Customers.csv`` -> ``Mall_Customers``."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source_name.rsplit("/", 1)[-1]) or "customers"
    return stem


def segments_sql(rules: SegmentRules, *, table: str, run: str, names: Mapping[int, str]) -> str:
    """segments.sql: a SELECT that labels every row of ``table`` with its segment number (NULL where no rule
    holds, as for a missing value) and name."""
    whens = "\n".join(f"    WHEN {r.sql} THEN {r.segment}" for r in rules.rules if r.paths)
    named = "\n".join(f"    WHEN {r.segment} THEN '{names.get(r.segment, '').replace(chr(39), chr(39) * 2)}'"
                      for r in rules.rules if r.paths)
    return (
        f"-- Segments of reportgen run {run}, as rules a database can apply: a decision tree of depth {rules.depth}\n"
        f"-- fitted to the segment labels, in the columns' own units. On the run's data it puts "
        f"{rules.agreement:.1%} of the\n-- customers in their own segment; the rest are near a segment's edge. "
        f"Replace {quote_identifier(table)} with\n-- your table (its columns named as in the input).\n"
        f"SELECT t.*,\n  CASE t.segment\n{named}\n  END AS segment_name\nFROM (\n"
        f"  SELECT *,\n  CASE\n{whens}\n  END AS segment\n  FROM {quote_identifier(table)}\n) AS t;\n"
    )
