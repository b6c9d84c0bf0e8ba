"""Cleaning as an account: CLEANING_STEPS, declared once as data, run by every engine.

Each step has a key (the line of the data quality account and of ``cleaning.csv``), the columns it looks at
(``scopes``), what it does (``action``) and why (``reason``). Two kinds:

* **Value steps** have a ``check``: a pandas function from a column's values to the rows it found and the column
  after the step. A check looks at one value at a time (a marker, a number written as text, an impossible age), so
  it gives the same answer on the whole column (the pandas engine) and on each batch of rows (the Spark engine runs
  the very same functions with ``mapInPandas``). A step that needs to know the whole column first (which
  spelling of a category is the common one) has a ``learn`` function over the column's distinct values and counts.
  Adding a value step is one entry here: both engines run it.
* **Table steps** (empty rows, duplicate rows and IDs, unusable features, missing feature values) look at whole
  rows or whole columns; each engine implements them by key (:data:`reportgen.cleaning.pandas.PANDAS_TABLE_STEPS`, the
  Spark engine's own), and both take their action and reason from this table.

The order of the table is the order of cleaning: table steps in turn, the value steps in one pass. The account
lists the value steps column by column (every step on the first numeric column, then the next), as cleaning.csv
always has."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..model import Dataset, MissingPolicy
from ..values import (
    MISSING_LABEL,
    SPREADSHEET_ERRORS,
    ValueCounts,
    find_sentinel,
    holds_text,
    missing_markers,
    parse_numbers,
    per_unique,
    text_in,
)

YES, NO = "yes", "no"  # the values of an indicator column
_AGE = re.compile(r"\bage\b", re.IGNORECASE)
_RANGE = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*[-–]\s*(-?\d+(?:\.\d+)?)\s*\)")
# counts cannot be negative; money, balances, days and differences can (refunds, overdrafts, "days until")
_COUNT = re.compile(
    r"(^|[\s_\-(])(count|counts|visits|orders|purchases|transactions|quantity|qty|items|children|kids|dependents)"
    r"($|[\s_\-)])|(^|[\s_\-])(number|num|n|no)[\s_\-]?of\b",
    re.IGNORECASE,
)


def valid_range(column: str) -> tuple[float, float, str] | None:
    """The values a column can possibly take, from its name: ``(low, high, why)`` or None."""
    match = _RANGE.search(column)
    if match:
        low, high = float(match.group(1)), float(match.group(2))
        if low < high:
            return low, high, f"outside the range {match.group(1)}-{match.group(2)} stated in the column name"
    if _AGE.search(column):
        return 0.0, 120.0, "an age must be between 0 and 120"
    if _COUNT.search(column):
        return 0.0, float("inf"), "a count cannot be negative"
    return None


# ----------------------------------------------------------------------------- the steps
Scope = Literal["rows", "numeric", "categorical", "ids", "features"]


@dataclass(frozen=True)
class Found:
    """What a value step found in a column: the rows (a boolean mask) and the column after the step."""

    rows: pd.Series
    values: pd.Series
Vocabulary = Mapping[str, str]
Check = Callable[[pd.Series, str, Vocabulary], Found]  # (values, column name, what the step learned)


@dataclass(frozen=True)
class CleaningStep:
    key: str
    scopes: tuple[Scope, ...]
    action: str
    reason: str | Callable[[str], str | None]  # a callable gives the reason per column, None where it does not apply
    check: Check | None = None  # value steps
    learn: Callable[[ValueCounts], Vocabulary] | None = None  # from the whole column, before ``check`` runs
    shows_value: bool = True  # cleaning.csv shows the value that was found
    policy: MissingPolicy | None = None  # table steps that run only under this --missing policy
    # value steps whose findings are kept as a yes/no column: (column, what it learned) -> that column's name
    indicator: Callable[[str, Vocabulary], str] | None = None

    def reason_for(self, column: str | None) -> str | None:
        return self.reason(column or "") if callable(self.reason) else self.reason


def _mask(found: pd.Series, values: pd.Series) -> Found:
    return Found(found, values.mask(found))


def _check_markers(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    return _mask(missing_markers(values), values)


def _check_spreadsheet_errors(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    return _mask(text_in(values, SPREADSHEET_ERRORS), values)


def _check_numbers_as_text(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    """Numbers written as text that plain reading gets wrong or cannot read (``1.234,5``; ``1.234`` with a decimal
    comma), read with the column's decimal mark (``vocabulary["decimal"]``, as :func:`reportgen.values.decide_numbers`
    decided)."""
    if not holds_text(values):
        return Found(pd.Series(False, index=values.index), values)
    numbers, _ = parse_numbers(values, vocabulary.get("decimal"))
    plain = per_unique(values, lambda u: pd.to_numeric(u.astype("string").str.strip(), errors="coerce").astype(float))
    return Found((numbers.notna() & (plain.isna() | (plain != numbers))).astype(bool), values)


def _check_not_a_number(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    numbers, unreadable = parse_numbers(values, vocabulary.get("decimal"))
    return Found(unreadable, numbers)


def _check_infinite(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    return _mask(pd.Series(np.isinf(values.to_numpy(dtype=float)), index=values.index), values)


def _check_impossible(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    limits = valid_range(column)
    if limits is None:
        return Found(pd.Series(False, index=values.index), values)
    low, high, _ = limits
    return _mask((values < low) | (values > high), values)


def learn_sentinel(counts: ValueCounts) -> Vocabulary:
    sentinel = find_sentinel(counts)
    return {} if sentinel is None else {"value": f"{sentinel:g}"}


def _check_sentinel(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    if "value" not in vocabulary:
        return Found(pd.Series(False, index=values.index), values)
    return _mask((values == float(vocabulary["value"])).fillna(False).astype(bool), values)


def sentinel_indicator(column: str, vocabulary: Vocabulary) -> str:
    """The name of the yes/no column that keeps where a sentinel stood."""
    return f"{column} is {vocabulary['value']}"


def _impossible_reason(column: str) -> str | None:
    limits = valid_range(column)
    return limits[2] if limits else None


def learn_spellings(counts: ValueCounts) -> Vocabulary:
    """Each spelling of a category (spaces stripped) -> the most common spelling that differs only by case
    (ties: the one seen first)."""
    present = counts[counts["value"].notna()]
    stripped = present.assign(value=present["value"].astype(str).str.strip())
    grouped = stripped.groupby("value", sort=False).agg(count=("count", "sum"), first=("first", "min"))
    canonical: dict[str, str] = {}
    for value in grouped.sort_values(["count", "first"], ascending=[False, True], kind="stable").index:
        canonical.setdefault(str(value).casefold(), str(value))
    return {str(value): canonical[str(value).casefold()] for value in grouped.index if value != ""}


def _check_spelling(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    unified = per_unique(values, lambda u: u.astype("string").str.strip().map(vocabulary).astype(object))
    unified = unified.astype(object).where(unified.notna(), None)
    # compared as text: a category of numbers (1, 2, 3) becomes text without being "respelled"
    as_text = per_unique(values, lambda u: u.astype("string").astype(object))
    changed = values.notna() & unified.notna() & (unified != as_text)
    return Found(changed.astype(bool), unified)


def _check_missing_category(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    missing = values.isna()
    return Found(missing, values.where(~missing, MISSING_LABEL))


CLEANING_STEPS: tuple[CleaningStep, ...] = (
    CleaningStep("malformed_lines", ("rows",), "skipped lines",
                 "the line does not fit the header (another number of fields, or the header repeated)"),
    CleaningStep("empty_rows", ("rows",), "dropped rows", "every value in the row is missing", shows_value=False),
    CleaningStep("missing_marker", ("numeric", "categorical"), "set to missing",
                 "text that stands for a missing value", check=_check_markers),
    CleaningStep("spreadsheet_error", ("numeric", "categorical"), "set to missing",
                 "a spreadsheet error value (a formula that failed)", check=_check_spreadsheet_errors),
    CleaningStep("numbers_as_text", ("numeric",), "converted to numbers",
                 "numbers written as text (spaces, thousands separators, currency or % signs)",
                 check=_check_numbers_as_text),
    CleaningStep("not_a_number", ("numeric",), "set to missing", "not a number", check=_check_not_a_number),
    CleaningStep("infinite", ("numeric",), "set to missing", "infinite value", check=_check_infinite),
    CleaningStep("sentinel", ("numeric",), "set to missing, kept as a yes/no column",
                 "a code that stands for 'not applicable': a yes/no column '<column> is <code>' keeps where it stood",
                 check=_check_sentinel, learn=learn_sentinel, indicator=sentinel_indicator),
    CleaningStep("impossible_value", ("numeric",), "set to missing", _impossible_reason, check=_check_impossible),
    CleaningStep("spelling", ("categorical",), "unified spelling",
                 "the same category written with other case or spaces", check=_check_spelling,
                 learn=learn_spellings),
    CleaningStep("missing_category", ("categorical",), f"labelled {MISSING_LABEL}",
                 "missing category (kept, shown as its own group)", check=_check_missing_category,
                 shows_value=False),
    CleaningStep("duplicate_rows", ("rows",), "dropped rows", "exact copy of an earlier row", shows_value=False),
    CleaningStep("duplicate_ids", ("ids",), "dropped rows",
                 "the ID was already used by an earlier row (the first one is kept)"),
    CleaningStep("missing_ids", ("ids",), "kept", "no customer ID (the row is kept; its ID is blank in segments.csv)",
                 shows_value=False),
    # its reason in the account says why the column cannot be clustered ("constant: every value is 5")
    CleaningStep("unusable_feature", ("features",), "excluded column", "cannot be clustered: constant or empty"),
    CleaningStep("missing_share", ("features",), "imputed median",
                 "missing value in a feature column; dropping every such row would drop {share} of the customers "
                 "(more than --max-drop {limit}), so they are replaced by the median {median}",
                 shows_value=False, policy="drop"),
    CleaningStep("missing_value", ("features",), "dropped rows", "missing value in a feature column (--missing drop)",
                 shows_value=False, policy="drop"),
    CleaningStep("missing_value", ("features",), "imputed median",
                 "missing value in a feature column, replaced by the median {median} (--missing median)",
                 shows_value=False, policy="median"),
)


def step(key: str, policy: MissingPolicy | None = None, steps: Sequence[CleaningStep] = CLEANING_STEPS
         ) -> CleaningStep:
    """The table entry with ``key`` (and, for missing_value, the policy)."""
    return next(s for s in steps if s.key == key and (s.policy is None or s.policy == policy))


def split_steps(steps: Sequence[CleaningStep] = CLEANING_STEPS
                ) -> tuple[tuple[CleaningStep, ...], tuple[CleaningStep, ...], tuple[CleaningStep, ...]]:
    """(table steps before the value steps, the value steps, table steps after): value steps run in one pass."""
    kinds = [s.check is not None for s in steps]
    first, last = kinds.index(True), len(kinds) - 1 - kinds[::-1].index(True)
    if not all(kinds[first:last + 1]):
        raise ValueError("the value steps of CLEANING_STEPS must be next to each other")
    return tuple(steps[:first]), tuple(steps[first:last + 1]), tuple(steps[last + 1:])


# ----------------------------------------------------------------------------- running the value steps
@dataclass(frozen=True)
class ValueStepPlan:
    """The value steps to run on each column, with what each learned: the same for every batch of rows."""

    columns: tuple[tuple[str, tuple[tuple[CleaningStep, Vocabulary], ...]], ...]

    def pairs(self) -> list[tuple[CleaningStep, str]]:
        """(step, column) in the order of the account."""
        return [(s, column) for column, chain in self.columns for s, _ in chain]

    def vocabularies(self) -> list[Vocabulary]:
        """What each step of :meth:`pairs` learned."""
        return [vocabulary for _, chain in self.columns for _, vocabulary in chain]


def plan_value_steps(numeric: Sequence[str], categorical: Sequence[str],
                     counts: Callable[[str], ValueCounts],
                     steps: Sequence[CleaningStep] = CLEANING_STEPS, *,
                     known: Mapping[str, Vocabulary] | None = None) -> ValueStepPlan:
    """Which value steps run on which column; a step that learns sees the column's distinct values as they
    reach it (the steps before it applied to the distinct values, which is the same as applying them to the
    rows: value steps look at one value at a time). ``counts(column)`` gives the column's raw value counts;
    ``known``: what every step knows of a column beforehand (its decimal mark, :func:`known_of`)."""
    _, values, _ = split_steps(steps)
    columns = []
    for scope, names in (("numeric", numeric), ("categorical", categorical)):
        for column in names:
            chain = [s for s in values if scope in s.scopes and s.reason_for(column) is not None]
            learned: list[tuple[CleaningStep, Vocabulary]] = []
            distinct: ValueCounts | None = None
            given = (known or {}).get(column, {}) if scope == "numeric" else {}  # a number's marks
            for s in chain:
                vocabulary: Vocabulary = dict(given)
                if s.learn is not None:
                    distinct = counts(column) if distinct is None else distinct
                    entering = distinct["value"]
                    for before, learned_before in learned:
                        assert before.check is not None
                        entering = before.check(entering, column, learned_before).values
                    vocabulary = {**given, **s.learn(distinct.assign(value=entering.astype(object)))}
                learned.append((s, vocabulary))
            columns.append((column, tuple(learned)))
    return ValueStepPlan(tuple(columns))


def known_of(dataset: Dataset) -> dict[str, Vocabulary]:
    """What the value steps know of each column before they look: the decimal mark of its numbers written as
    text (``{"decimal": ","}``), as the reader decided it for the file."""
    return {column: {"decimal": mark} for column, mark in dataset.source.numbers.columns.items()}


def shown(values: pd.Series) -> pd.Series:
    """Values as cleaning.csv shows them: numbers as ``%g``, text as it was."""
    if pd.api.types.is_float_dtype(values):
        return values.map("{:g}".format)
    return values.astype(str)


@dataclass(frozen=True)
class ValueStepOutcome:
    columns: Mapping[str, pd.Series]  # the cleaned columns
    findings: tuple[tuple[pd.Index, pd.Series], ...]  # per (step, column) of plan.pairs(): rows, shown values


def run_value_steps(frame: pd.DataFrame, plan: ValueStepPlan) -> ValueStepOutcome:
    """Every value step of the plan on ``frame`` (the whole table, or one batch of it).

    A value step looks at one value at a time, so each column's chain of steps runs on the column's distinct
    values (a missing value among them) and its outcome is spread back to the rows once: ten million rows of
    five columns are a few hundred values for each step to look at."""
    columns: dict[str, pd.Series] = {}
    findings = []
    for column, chain in plan.columns:
        raw = frame[column]
        if not chain:
            columns[column] = raw
            continue
        codes, uniques = pd.factorize(raw, use_na_sentinel=False)
        values = pd.Series(uniques)
        for s, vocabulary in chain:
            assert s.check is not None
            found = s.check(values, column, vocabulary)
            hit = found.rows.to_numpy(dtype=bool)
            at = hit[codes] if hit.any() else np.zeros(len(codes), dtype=bool)
            rows = frame.index[at]
            if s.shows_value:
                texts = np.empty(len(values), dtype=object)
                texts[hit] = shown(values[hit]).to_numpy(dtype=object)
                findings.append((rows, pd.Series(texts[codes[at]], index=rows, dtype=object)))
            else:
                findings.append((rows, pd.Series("", index=rows)))
            values = found.values
        columns[column] = _spread(values, codes, raw)
    return ValueStepOutcome(columns=columns, findings=tuple(findings))


def _spread(values: pd.Series, codes: np.ndarray, raw: pd.Series) -> pd.Series:
    """The cleaned distinct ``values`` back on the rows of ``raw`` (row i has value ``codes[i]``): a column of
    categories (a large table's text, :func:`reportgen.cleaning.pandas.as_categories`) stays a column of categories.
    Values that compare equal are one distinct value: -0.0 comes back as 0.0, and None as NaN where both are missing."""
    if isinstance(raw.dtype, pd.CategoricalDtype) and values.dtype == object:
        texts, levels = pd.factorize(values, use_na_sentinel=True)
        return pd.Series(pd.Categorical.from_codes(texts[codes], pd.Index(levels, dtype=object)), index=raw.index)
    spread = values.take(codes)
    spread.index = raw.index
    return spread


def value_step_batch(frame: pd.DataFrame, plan: ValueStepPlan, finding_columns: Sequence[str]) -> pd.DataFrame:
    """One batch as the Spark engine wants it back: the cleaned columns, then per (step, column) the shown value
    where the step found something (None elsewhere)."""
    outcome = run_value_steps(frame, plan)
    out = frame.assign(**dict(outcome.columns))
    for name, (rows, values) in zip(finding_columns, outcome.findings, strict=True):
        column = pd.Series(None, index=frame.index, dtype=object)
        column.loc[rows] = values.to_numpy(dtype=object)
        out[name] = column
    return out


def table_key(entry: CleaningStep) -> str:
    """How engines look up their implementation of a table step."""
    return f"{entry.key}:{entry.policy}" if entry.policy else entry.key


def indicators(plan: ValueStepPlan, found: Sequence[int]) -> list[tuple[int, str]]:
    """(position in ``plan.pairs()``, column name) of the yes/no columns to keep: one per (step with an indicator,
    column) that found something; ``found[j]`` counts what pair j found."""
    out = []
    for j, ((entry, column), vocabulary) in enumerate(zip(plan.pairs(), plan.vocabularies(), strict=True)):
        if entry.indicator is not None and found[j]:
            out.append((j, entry.indicator(column, vocabulary)))
    return out
