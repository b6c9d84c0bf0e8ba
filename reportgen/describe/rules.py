"""Segment rules a CRM can apply: a shallow decision tree (scikit-learn, depth at most 3) fitted to the segment
labels, in the features' own units. Each segment gets a readable rule ("Annual Income (k$) at least 70 and
Spending Score (1-100) at least 61"), how many of its customers the rule covers and how many customers of other
segments it takes in; all segments together become one SQL ``CASE`` expression (segments.sql) that labels
customers in a warehouse. Categorical columns the segments were clustered on (k-prototypes) enter the tree as
one 0/1 column per level, and come out as one condition per column ("plan is Plus or Premium", "region is not 2";
in SQL ``CAST(col AS TEXT) IN (...)``, which matches a column of codes as the input wrote them). The tree is a
description of the segments, not the segmentation: the report says how many customers it reproduces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..model import CategoricalEncoding
from ..values import level_text

if TYPE_CHECKING:
    import pandas as pd

from ..model import Condition, SegmentRule, SegmentRules

MAX_DEPTH = 3
MIN_LEAF_SHARE = 0.01  # a leaf holds at least this share of the customers (no rule for three customers)
MAX_ROWS = 20_000  # the tree is fitted on a fixed-seed sample of at most this many customers


@dataclass(frozen=True)
class Categories:
    """Categorical columns the segments were clustered on, for the tree: each level a 0/1 column."""

    columns: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    codes: np.ndarray  # (n, columns): the level's index per customer, -1 when missing or unseen


def rule_categories(frame: pd.DataFrame, encoding: CategoricalEncoding | None) -> Categories | None:
    """The clustered categorical columns of ``frame`` coded by ``encoding``'s levels (None without any)."""
    if encoding is None:
        return None
    codes = []
    for column, levels in zip(encoding.columns, encoding.levels, strict=True):
        index = {level: j for j, level in enumerate(levels)}
        codes.append([index.get(v, -1) if v is not None else -1 for v in level_text(frame[column])])
    return Categories(encoding.columns, encoding.levels, np.array(codes, dtype=np.int64).T.reshape(-1, len(codes)))


def _indicators(categories: Categories) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """One 0/1 column per level, and (column, level) of each."""
    columns, named = [], []
    for j, (column, levels) in enumerate(zip(categories.columns, categories.levels, strict=True)):
        for code, level in enumerate(levels):
            columns.append(categories.codes[:, j] == code)
            named.append((column, level))
    return np.column_stack(columns).astype(float), named


def _merge_levels(path: tuple[Condition, ...], levels: Mapping[str, tuple[str, ...]],
                  complete: frozenset[str] = frozenset()) -> tuple[Condition, ...]:
    """A path's conditions on the 0/1 level columns of each categorical column as one condition on the column:
    "is one of" (a level it must have) or "is none of" (the levels it must not have, which a missing value
    passes); "is none of" as "is one of" the other levels when that is shorter and the column is ``complete``
    (no customer the tree saw lacks a known level, so both say the same of them)."""
    out: list[Condition] = []
    wanted: dict[str, set[str]] = {}
    unwanted: dict[str, set[str]] = {}
    for condition in path:
        if not condition.levels:
            out.append(condition)
        elif condition.negated:
            unwanted.setdefault(condition.feature, set()).update(condition.levels)
        else:
            wanted.setdefault(condition.feature, set()).update(condition.levels)
    for column in dict.fromkeys([*wanted, *unwanted]):
        known = levels[column]
        if column in wanted:
            kept = tuple(v for v in known if v in wanted[column] and v not in unwanted.get(column, set()))
            out.append(Condition(column, None, None, kept))
            continue
        rest = tuple(v for v in known if v not in unwanted[column])
        excluded = tuple(v for v in known if v in unwanted[column])
        out.append(Condition(column, None, None, rest) if column in complete and len(rest) <= len(excluded)
                   else Condition(column, None, None, excluded, negated=True))
    return tuple(out)


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


def _listed(levels: Sequence[str]) -> str:
    return levels[0] if len(levels) == 1 else ", ".join(levels[:-1]) + " or " + levels[-1]


def _not_listed(levels: Sequence[str]) -> str:
    if len(levels) == 1:
        return f"not {levels[0]}"
    if len(levels) == 2:
        return f"neither {levels[0]} nor {levels[1]}"
    return f"none of {_listed(levels)}"


def condition_text(condition: Condition, integer: bool) -> str:
    """``x > 69.5`` as "at least 70" for a whole-number feature, "above 69.5" otherwise; a categorical
    feature as "Gender is Female", "region_code is 1 or 3", "region_code is neither 2 nor 4"."""
    name, low, high = condition.feature, condition.low, condition.high
    if condition.levels:
        return f"{name} is {_not_listed(condition.levels) if condition.negated else _listed(condition.levels)}"
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


def quote_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def condition_sql(condition: Condition, written: Mapping[str, str] | None = None) -> str:
    """A condition as SQL. A categorical value is compared as text, trimmed and in lower case, as cleaning merged
    its spellings ("Female ", "FEMALE"); a column of codes (1, 2, 3) compares as it was written. "None of" lets a
    missing value (NULL or empty) through, as the tree does. ``written``: the input's own names of columns whose
    names it writes with spaces around them."""
    column = quote_identifier((written or {}).get(condition.feature, condition.feature))
    if condition.levels:
        value = f"LOWER(TRIM(CAST({column} AS TEXT)))"
        listed = ", ".join(quote_text(v.strip().lower()) for v in condition.levels)
        if condition.negated:
            return f"({column} IS NULL OR {value} = '' OR {value} NOT IN ({listed}))"
        return f"{value} IN ({listed})"
    parts = []
    if condition.low is not None:
        parts.append(f"{column} > {condition.low:.10g}")
    if condition.high is not None:
        parts.append(f"{column} <= {condition.high:.10g}")
    return " AND ".join(parts)


def _holds(path: tuple[Condition, ...], X: np.ndarray, names: Sequence[str],
           categories: Categories | None = None) -> np.ndarray:
    mask = np.ones(len(X), dtype=bool)
    for condition in path:
        if condition.levels:
            assert categories is not None
            j = categories.columns.index(condition.feature)
            codes = [categories.levels[j].index(v) for v in condition.levels]
            inside = np.isin(categories.codes[:, j], codes)
            mask &= ~inside if condition.negated else inside
            continue
        values = X[:, list(names).index(condition.feature)]
        if condition.low is not None:
            mask &= values > condition.low
        if condition.high is not None:
            mask &= values <= condition.high
    return mask


def _leaves(data: np.ndarray, target: np.ndarray, columns: Sequence[str], *, seed: int, max_depth: int,
            min_leaf: int, levels: Mapping[str, tuple[str, ...]], complete: frozenset[str] = frozenset(),
            balanced: bool = False) -> tuple[np.ndarray, list[tuple[int, tuple[Condition, ...]]], int]:
    """A fitted tree's classes, its leaves as (class index, conditions; the 0/1 level columns merged into one
    condition per categorical column) and its depth."""
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf, random_state=seed,
                                  class_weight="balanced" if balanced else None).fit(data, target)
    leaves = _paths(tree, columns)
    if levels:
        level_of = {f"{c}={v}": (c, v) for c, known in levels.items() for v in known}
        leaves = [(index, _merge_levels(tuple(
            Condition(level_of[c.feature][0], None, None, (level_of[c.feature][1],), negated=c.high is not None)
            if c.feature in level_of else c for c in path), levels, complete)) for index, path in leaves]
    return tree.classes_, leaves, int(tree.get_depth())


def _text(paths: Sequence[tuple[Condition, ...]], integer: Mapping[str, bool]) -> str:
    return " or ".join(
        ("(" if len(paths) > 1 and len(path) > 1 else "")
        + " and ".join(condition_text(c, integer.get(c.feature, False)) for c in path)
        + (")" if len(paths) > 1 and len(path) > 1 else "") for path in paths)


def _sample(X: np.ndarray, labels: np.ndarray, categories: Categories | None, seed: int
            ) -> tuple[np.ndarray, np.ndarray, Categories | None]:
    """At most :data:`MAX_ROWS` customers, a fixed-seed sample of them."""
    if len(X) <= MAX_ROWS:
        return X, labels, categories
    keep = np.sort(np.random.default_rng(seed).choice(len(X), MAX_ROWS, replace=False))
    if categories is not None:
        categories = Categories(categories.columns, categories.levels, categories.codes[keep])
    return X[keep], labels[keep], categories


def _tree_inputs(X: np.ndarray, names: Sequence[str], categories: Categories | None
                 ) -> tuple[np.ndarray, list[str], dict[str, tuple[str, ...]], frozenset[str]]:
    """What the tree is fitted on: the features and a 0/1 column per level of each categorical column; their
    names; the levels of each categorical column, and those no customer lacks a known level of."""
    if categories is None:
        return X, list(names), {}, frozenset()
    flags, named = _indicators(categories)
    complete = frozenset(c for j, c in enumerate(categories.columns) if bool((categories.codes[:, j] >= 0).all()))
    return (np.hstack([X, flags]), [*names, *(f"{c}={v}" for c, v in named)],
            dict(zip(categories.columns, categories.levels, strict=True)), complete)


def segment_rules(X: np.ndarray, labels: np.ndarray, names: Sequence[str], *, seed: int,
                  max_depth: int = MAX_DEPTH, categories: Categories | None = None,
                  written: Mapping[str, str] | None = None) -> SegmentRules:
    """The rules of the segments ``labels`` of the customers ``X`` (features ``names``, in their own units), and
    of the clustered ``categories`` (a 0/1 column per level for the tree; one condition per column in a rule).
    ``written``: column names as the input writes them, where they differ (the SQL names the input's columns).

    One tree for all segments partitions the customers (segments.sql applies it); a segment that no leaf of it
    predicts (a small one between others) gets its own rule from a tree of the same depth that tells it from
    everyone else, and goes first in segments.sql when that puts more customers in their own segment."""
    X, labels, categories = _sample(X, labels, categories, seed)
    data, columns, levels, complete = _tree_inputs(X, names, categories)
    grow = partial(_leaves, seed=seed, max_depth=max_depth, min_leaf=max(1, int(MIN_LEAF_SHARE * len(X))),
                   levels=levels, complete=complete)
    classes, leaves, depth = grow(data, labels, columns)
    integer = {name: bool(np.all(np.mod(X[:, i], 1) == 0)) for i, name in enumerate(names)}

    def holds(paths: Sequence[tuple[Condition, ...]]) -> np.ndarray:
        mask = np.zeros(len(X), dtype=bool)
        for path in paths:
            mask |= _holds(path, X, names, categories)
        return mask

    segments = sorted(int(c) for c in np.unique(labels))
    paths = {s: tuple(path for index, path in leaves if int(classes[index]) == s) for s in segments}
    partition = np.full(len(X), -1, dtype=np.int64)
    for index, path in leaves:
        partition[_holds(path, X, names, categories)] = int(classes[index])
    own: dict[int, tuple[tuple[Condition, ...], ...]] = {}
    for segment in (s for s in segments if not paths[s]):
        one, found, _ = grow(data, labels == segment, columns, balanced=True)
        own[segment] = tuple(path for index, path in found if bool(one[index]))
    first = partition.copy()
    for segment in reversed([s for s in own if own[s]]):  # the CASE's order: the first WHEN that holds wins
        first[holds(own[segment])] = segment
    in_sql = bool(own) and float(np.mean(first == labels)) > float(np.mean(partition == labels))
    predicted = first if in_sql else partition
    rules = []
    for segment in segments:
        chosen = paths[segment] or own.get(segment, ())
        alone = not paths[segment] and bool(chosen)
        mine = labels == segment
        picked = holds(chosen)  # the rule as it reads, whatever the CASE's order
        rules.append(SegmentRule(
            segment=segment, paths=chosen, text=_text(chosen, integer) or "no rule (no leaf of the tree)",
            sql=" OR ".join("(" + " AND ".join(condition_sql(c, written) for c in path) + ")" for path in chosen)
            or "1 = 0",
            size=int(mine.sum()), covered=int((mine & picked).sum()), picked=int(picked.sum()),
            wrong=int((picked & ~mine).sum()), in_sql=not alone or in_sql, first=alone))
    return SegmentRules(rules=tuple(rules), agreement=float(np.mean(predicted == labels)), customers=len(X),
                        depth=depth)


def table_name(source_name: str) -> str:
    """The input's name as the table segments.sql reads: ``Mall_Customers.csv`` -> ``Mall_Customers``."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source_name.rsplit("/", 1)[-1]) or "customers"
    return stem


def segments_sql(rules: SegmentRules, *, table: str, run: str, names: Mapping[int, str]) -> str:
    """segments.sql: a SELECT that labels every row of ``table`` with its segment number (NULL where no rule
    holds, as for a missing value) and name."""
    applied = sorted((r for r in rules.rules if r.paths and r.in_sql), key=lambda r: not r.first)  # stable
    whens = "\n".join(f"    WHEN {r.sql} THEN {r.segment}" for r in applied)
    named = "\n".join(f"    WHEN {r.segment} THEN '{names.get(r.segment, '').replace(chr(39), chr(39) * 2)}'"
                      for r in applied)
    return (
        f"-- Segments of reportgen run {run}, as rules a database can apply: a decision tree of depth {rules.depth}\n"
        f"-- fitted to the segment labels, in the columns' own units. On the run's data it puts "
        f"{rules.agreement:.1%} of the\n-- customers in their own segment; the rest are near a segment's edge. "
        f"Replace {quote_identifier(table)} with\n-- your table (its columns named as in the input).\n"
        f"SELECT t.*,\n  CASE t.segment\n{named}\n  END AS segment_name\nFROM (\n"
        f"  SELECT *,\n  CASE\n{whens}\n  END AS segment\n  FROM {quote_identifier(table)}\n) AS t;\n"
    )
