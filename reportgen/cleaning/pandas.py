"""The pandas engine's cleaning: the table steps of CLEANING_STEPS on a pandas frame, and :func:`clean`, which runs the
whole table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model import CleanResult, ColumnInfo, Dataset, MissingPolicy
from ..values import value_counts
from .account import (
    Account,
    ColumnPlan,
    add_imputed,
    check_malformed_share,
    finish,
    percent,
    plan_columns,
    prepared_account,
    too_many_to_drop,
    usable_features,
)
from .steps import (
    CLEANING_STEPS,
    NO,
    YES,
    CleaningStep,
    indicators,
    known_of,
    plan_value_steps,
    run_value_steps,
    split_steps,
    table_key,
)


# ----------------------------------------------------------------------------- the pandas engine's cleaning
@dataclass
class PandasCleaning:
    """The state of one pandas cleaning run, passed from table step to table step."""

    frame: pd.DataFrame
    account: Account
    plan: ColumnPlan
    dataset: Dataset
    missing: MissingPolicy
    max_drop: float = 0.05
    usable: list[str] = field(default_factory=list)
    unusable: dict[str, str] = field(default_factory=dict)


def _malformed(state: PandasCleaning, entry: CleaningStep) -> None:
    lines = state.dataset.malformed_lines
    if lines:
        check_malformed_share(len(lines), lines[0], state.dataset.rows, state.max_drop, state.dataset.source.name)
    state.account.add_lines(entry, lines)


def _empty_rows(state: PandasCleaning, entry: CleaningStep) -> None:
    empty = state.frame.index[state.frame.isna().all(axis=1)]
    state.account.add(entry, None, empty)
    state.frame = state.frame.drop(index=empty)


def _all_distinct(state: PandasCleaning) -> bool:
    """Whether some column holds a different present value in every input row (an ID of distinct values, as the
    roles counted them): then no two rows are the same and no ID repeats, and hashing ten million rows to find
    none can be skipped."""
    return any(info.unique == state.dataset.rows and info.missing == 0 for info in state.dataset.columns
               if info.name in state.frame.columns and info.name == state.plan.id_column)


def _duplicate_rows(state: PandasCleaning, entry: CleaningStep) -> None:
    if _all_distinct(state):
        state.account.add(entry, None, state.frame.index[:0])
        return
    duplicated = state.frame.index[state.frame.duplicated(keep="first")]
    state.account.add(entry, None, duplicated)
    state.frame = state.frame.drop(index=duplicated)


def _duplicate_ids(state: PandasCleaning, entry: CleaningStep) -> None:
    if state.plan.id_column is None:
        return
    ids = state.frame[state.plan.id_column]
    if _all_distinct(state):
        state.account.add(entry, state.plan.id_column, state.frame.index[:0], ids)
        return
    dup = state.frame.index[ids.notna() & ids.duplicated(keep="first")]
    state.account.add(entry, state.plan.id_column, dup, ids)
    state.frame = state.frame.drop(index=dup)


def _missing_ids(state: PandasCleaning, entry: CleaningStep) -> None:
    if state.plan.id_column is not None:
        state.account.add(entry, state.plan.id_column, state.frame.index[state.frame[state.plan.id_column].isna()])


def _unusable(state: PandasCleaning, entry: CleaningStep) -> None:
    present = {column: state.frame[column].dropna() for column in state.plan.features}
    state.usable, state.unusable = usable_features(
        state.account, entry, {c: (v.nunique(), float(v.iloc[0]) if len(v) else None) for c, v in present.items()})


def _drop_missing(state: PandasCleaning, entry: CleaningStep) -> None:
    gaps = state.frame[state.usable].isna()
    for column in state.usable:
        state.account.add(entry, column, state.frame.index[gaps[column]])
    state.frame = state.frame.loc[~gaps.any(axis=1)]


def _impute(state: PandasCleaning, entry: CleaningStep, columns: Mapping[str, Mapping[str, str]]) -> None:
    for column, details in columns.items():
        rows = state.frame.index[state.frame[column].isna()]
        if len(rows):
            median = float(state.frame[column].median())
            add_imputed(state.account, entry, column, rows, median, **details)
            state.frame[column] = state.frame[column].fillna(median)


def _impute_median(state: PandasCleaning, entry: CleaningStep) -> None:
    _impute(state, entry, {column: {} for column in state.usable})


def _missing_share(state: PandasCleaning, entry: CleaningStep) -> None:
    gaps = {c: state.frame.index[state.frame[c].isna()] for c in state.usable}
    imputed = too_many_to_drop(gaps, len(state.frame), state.max_drop)
    _impute(state, entry, {c: {"share": share, "limit": percent(state.max_drop)} for c, share in imputed.items()})


TableStep = Callable[[PandasCleaning, CleaningStep], None]
PANDAS_TABLE_STEPS: dict[str, TableStep] = {
    "malformed_lines": _malformed, "empty_rows": _empty_rows, "duplicate_rows": _duplicate_rows,
    "duplicate_ids": _duplicate_ids, "missing_ids": _missing_ids, "unusable_feature": _unusable,
    "missing_share:drop": _missing_share, "missing_value:drop": _drop_missing,
    "missing_value:median": _impute_median,
}


CATEGORY_ROWS = 10_000  # from this many rows, text categories are held as pandas categoricals while cleaning


def as_categories(frame: pd.DataFrame, columns: Sequence[ColumnInfo], categorical: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its categorical text columns as pandas categoricals (their distinct values once, each row a
    code): every step that looks at one distinct value at a time then hashes a few codes, not ten million texts."""
    if len(frame) < CATEGORY_ROWS:
        return frame
    distinct = {info.name: info.unique for info in columns}
    for column in categorical:
        values = frame[column]
        if (pd.api.types.is_string_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype)
                and distinct.get(column, len(frame)) <= 0.01 * len(frame)):
            frame[column] = values.astype("category")
    return frame


def clean(dataset: Dataset, *, features: tuple[str, ...], missing: MissingPolicy = "drop", max_drop: float = 0.05,
          steps: Sequence[CleaningStep] = CLEANING_STEPS) -> CleanResult:
    """Clean ``dataset`` for clustering on ``features`` and account for everything done (the pandas engine).

    Raises :class:`InputError` when no usable feature column remains."""
    plan = plan_columns(dataset.columns, features)
    state = PandasCleaning(frame=as_categories(dataset.frame.copy(), dataset.columns, plan.categorical),
                           account=prepared_account(dataset), plan=plan, dataset=dataset, missing=missing,
                           max_drop=max_drop)
    before, values, after = split_steps(steps)
    for entry in before:
        PANDAS_TABLE_STEPS[table_key(entry)](state, entry)
    value_plan = plan_value_steps(plan.numeric, plan.categorical, lambda c: value_counts(state.frame[c]), values,
                                  known=known_of(dataset))
    outcome = run_value_steps(state.frame, value_plan)
    for (entry, column), (rows, texts) in zip(value_plan.pairs(), outcome.findings, strict=True):
        state.account.add_found(entry, column, rows, texts)
    for column, cleaned in outcome.columns.items():
        state.frame[column] = cleaned
    kept = indicators(value_plan, [len(rows) for rows, _ in outcome.findings])
    for j, name in kept:
        state.frame[name] = np.where(state.frame.index.isin(outcome.findings[j][0]), YES, NO)
    for entry in after:
        if entry.policy is None or entry.policy == missing:
            PANDAS_TABLE_STEPS[table_key(entry)](state, entry)
    return finish(state.frame, state.account, dataset.columns, plan, state.usable, state.unusable,
                  rows_in=dataset.rows + len(dataset.malformed_lines), rows_out=len(state.frame), missing=missing,
                  indicators=tuple(name for _, name in kept))
