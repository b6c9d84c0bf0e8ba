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
  rows or whole columns; each engine implements them by key (:data:`PANDAS_TABLE_STEPS` here, the Spark engine's
  own), and both take their action and reason from this table.

The order of the table is the order of cleaning: table steps in turn, the value steps in one pass. The account
lists the value steps column by column (every step on the first numeric column, then the next), as cleaning.csv
always has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from .errors import InputError
from .model import CleaningAccount, CleanResult, ColumnInfo, Dataset, MissingPolicy, StepCount
from .values import parse_numbers, per_unique

MISSING_LABEL = "(missing)"
YES, NO = "yes", "no"  # the values of an indicator column
ROLE_NOTES = {
    "id": "identifier", "numeric": "numeric: profiled, not clustered",
    "categorical": "categorical: profiled, not clustered", "date": "date: not used",
    "text": "free text: not used", "personal": "personal data: not used, not shown", "empty": "empty column",
}
LOG_COLUMNS = ("row", "column", "action", "reason", "value")
MARKERS = frozenset({"?", "-", "--", "n/a", "na", "n.a.", "null", "none", "nan", "#n/a", "missing", ".", "nil"})
SPREADSHEET_ERRORS = frozenset({"#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!"})
_AGE = re.compile(r"\bage\b", re.IGNORECASE)
_RANGE = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*[-–]\s*(-?\d+(?:\.\d+)?)\s*\)")
# counts cannot be negative; money, balances, days and differences can (refunds, overdrafts, "days until")
_COUNT = re.compile(
    r"(^|[\s_\-(])(count|counts|visits|orders|purchases|transactions|quantity|qty|items|children|kids|dependents)"
    r"($|[\s_\-)])|(^|[\s_\-])(number|num|n|no)[\s_\-]?of\b",
    re.IGNORECASE,
)
SENTINEL_SHARE = 0.01  # a sentinel stands in at least this share of the rows
# values that stand for "not applicable" when they lie apart from the column's other values
NEGATIVE_SENTINELS = (-1.0, -9.0, -99.0, -999.0, -9999.0)  # ... when every other value is >= 0
HIGH_SENTINELS = (999.0, 9999.0, 99999.0, 999999.0)  # ... when above twice every other value


def _is_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def _text_in(values: pd.Series, vocabulary: frozenset[str]) -> pd.Series:
    """True where a text value, stripped and lower-cased, is in ``vocabulary``."""
    if not _is_text(values):
        return pd.Series(False, index=values.index)

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = np.zeros(len(uniques) + 1, dtype=bool)  # the last place: missing values (code -1), never in it
    if len(uniques):
        found[:-1] = pd.Series(uniques, dtype=object).astype("string").str.strip().str.lower() \
            .isin(vocabulary).fillna(False).to_numpy(dtype=bool)
    return pd.Series(found[codes], index=values.index)


def missing_markers(values: pd.Series) -> pd.Series:
    """True where a value is text that stands for a missing value: ``"?"``, ``"n/a"``, ``"NULL"``, ``"-"``..."""
    return _text_in(values, MARKERS)


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


def find_sentinel(counts: ValueCounts) -> float | None:
    """The value that stands for "not applicable" in a numeric column, from its distinct values and counts: one
    of :data:`NEGATIVE_SENTINELS` when every other value is >= 0, or of :data:`HIGH_SENTINELS` when above twice
    every other value, in at least :data:`SENTINEL_SHARE` of the rows. None when there is none."""
    values = pd.to_numeric(counts["value"], errors="coerce")
    present = counts.assign(value=values)[values.notna()]
    total = int(present["count"].sum())
    if total == 0:
        return None
    best: tuple[int, float] | None = None
    for value, count in zip(present["value"], present["count"], strict=True):
        if count < max(2, SENTINEL_SHARE * total) or (best is not None and count <= best[0]):
            continue
        others = present["value"][present["value"] != value]
        if others.empty:
            continue
        if (value in NEGATIVE_SENTINELS and others.min() >= 0) or (value in HIGH_SENTINELS
                                                                     and value > 2 * others.max()):
            best = (int(count), float(value))
    return None if best is None else best[1]


# ----------------------------------------------------------------------------- the steps
Scope = Literal["rows", "numeric", "categorical", "ids", "features"]


@dataclass(frozen=True)
class Found:
    """What a value step found in a column: the rows (a boolean mask) and the column after the step."""

    rows: pd.Series
    values: pd.Series


# (distinct value, rows with it, first row) of a column, as the values enter a step: what ``learn`` sees
ValueCounts: TypeAlias = pd.DataFrame
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
    return _mask(_text_in(values, SPREADSHEET_ERRORS), values)


def _check_numbers_as_text(values: pd.Series, column: str, vocabulary: Vocabulary) -> Found:
    """Numbers written as text that plain reading gets wrong or cannot read (``1.234,5``; ``1.234`` with a decimal
    comma), read with the column's decimal mark (``vocabulary["decimal"]``, as :func:`decide_numbers` decided)."""
    if not _is_text(values):
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


def value_counts(values: pd.Series) -> ValueCounts:
    """(value, count, first row) of the distinct values of a column (rows numbered by the index)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques))
    if values.index.is_monotonic_increasing:  # factorize numbers values as they first appear: no group-by
        rising = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
        first = pd.Series(values.index.to_numpy()[rising])
    else:
        first = pd.Series(values.index.to_numpy()[present]).groupby(codes[present]).min()
    first = first.reindex(range(len(uniques)))
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    kept = pd.Series(uniques, dtype=values.dtype if numeric else object)  # numbers stay numbers: no text checks
    return pd.DataFrame({"value": kept, "count": counts, "first": first.to_numpy()})


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
    categories (a large table's text, :func:`as_categories`) stays a column of categories. Values that compare
    equal are one distinct value: -0.0 comes back as 0.0, and None as NaN where both are missing."""
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


# ----------------------------------------------------------------------------- the account
EXAMPLE_LENGTH = 40  # an example value in the report is cut to this many characters


def example_text(value: object) -> str:
    text = str(value)
    return text if len(text) <= EXAMPLE_LENGTH else text[:EXAMPLE_LENGTH - 1] + "…"


def examples_of(values: Iterable[object], limit: int = 5) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        text = example_text(value)
        if text not in seen:
            seen.append(text)
        if len(seen) >= limit:
            break
    return tuple(seen)


@dataclass
class Account:
    """Collects the account's lines and the per-row log while one cleaning runs (local to it)."""

    steps: list[StepCount] = field(default_factory=list)
    logs: list[pd.DataFrame] = field(default_factory=list)

    def add(self, entry: CleaningStep, column: str | None, rows: pd.Index, values: pd.Series | None = None, *,
            reason: str | None = None, examples: tuple[str, ...] | None = None) -> None:
        """A line for ``entry`` on ``column``: the rows it touched and, if the step shows them, their values."""
        if len(rows) == 0:
            return
        why = reason or entry.reason_for(column) or ""
        texts = shown(values.loc[rows]) if values is not None and entry.shows_value else None
        if examples is None:
            examples = examples_of(texts.tolist()) if texts is not None else examples_of(rows.tolist())
        self.steps.append(StepCount(step=entry.key, column=column, count=len(rows), action=entry.action,
                                    reason=why, examples=examples))
        self.logs.append(pd.DataFrame({
            "row": np.asarray(rows, dtype=np.int64), "column": column or "", "action": entry.action, "reason": why,
            "value": texts.to_numpy() if texts is not None else "",
        }))

    def add_found(self, entry: CleaningStep, column: str, rows: pd.Index, texts: pd.Series) -> None:
        """A line from rows and values already shown as text (what a value step found)."""
        self.add(entry, column, rows, texts.astype(object) if entry.shows_value else None)

    def add_lines(self, entry: CleaningStep, lines: tuple[tuple[int, str], ...]) -> None:
        """Lines the reader skipped (their own reasons)."""
        if not lines:
            return
        self.steps.append(StepCount(entry.key, None, len(lines), entry.action, entry.reason_for(None) or "",
                                    examples_of(f"line {line}" for line, _ in lines)))
        self.logs.append(pd.DataFrame({"row": np.asarray([line for line, _ in lines], dtype=np.int64), "column": "",
                                       "action": "skipped line", "reason": [why for _, why in lines], "value": ""}))

    def log(self) -> pd.DataFrame:
        if not self.logs:
            return pd.DataFrame({name: pd.Series(dtype=object) for name in LOG_COLUMNS})
        return pd.concat(self.logs, ignore_index=True)


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns cleaning treats how: from the roles and the features asked for."""

    id_column: str | None
    features: tuple[str, ...]
    numeric: tuple[str, ...]  # features first, then the other numeric columns
    categorical: tuple[str, ...]


def plan_columns(columns: Sequence[ColumnInfo], features: Sequence[str]) -> ColumnPlan:
    roles = {info.name: info.role for info in columns}
    return ColumnPlan(
        id_column=next((c for c, role in roles.items() if role == "id"), None), features=tuple(features),
        numeric=tuple(dict.fromkeys([*features, *(c for c, role in roles.items() if role == "numeric")])),
        categorical=tuple(c for c, role in roles.items() if role == "categorical" and c not in features))


def usable_features(account: Account, stats: Mapping[str, tuple[int, float | None]]
                    ) -> tuple[list[str], dict[str, str]]:
    """The feature columns that can be clustered, from ``{column: (distinct values, first value)}``, and why
    the others cannot; the others go into ``account``. Raises :class:`InputError` when none is left."""
    usable: list[str] = []
    unusable: dict[str, str] = {}
    for column, (distinct, first) in stats.items():
        if distinct == 0:
            unusable[column] = "no usable values"
        elif distinct < 2:
            unusable[column] = f"constant: every value is {first:g}"
        else:
            usable.append(column)
    entry = step("unusable_feature")
    for column, why in unusable.items():
        account.steps.append(StepCount(entry.key, column, 0, entry.action, why))
    if not usable:
        detail = "; ".join(f"{c}: {why}" for c, why in unusable.items()) or "none was given"
        raise InputError(f"no usable feature column ({detail})",
                         hint="Choose numeric columns with varying values with --features.")
    return usable, unusable


def finish(frame: pd.DataFrame, account: Account, columns: Sequence[ColumnInfo], plan: ColumnPlan,
           usable: Sequence[str], unusable: Mapping[str, str], *, rows_in: int, rows_out: int,
           missing: MissingPolicy, indicators: Sequence[str] = ()) -> CleanResult:
    """The CleanResult both engines return (``frame``: every cleaned row, or the Spark engine's sample)."""
    excluded = tuple((info.name, unusable.get(info.name) or (f"numeric: {info.why}" if info.role == "numeric"
                                                             and not info.feature else ROLE_NOTES[info.role]))
                     for info in columns if info.name not in usable)
    account_ = CleaningAccount(rows_in=rows_in, rows_out=rows_out, missing_policy=missing,
                               steps=tuple(account.steps), excluded_columns=excluded)
    profiled = tuple(dict.fromkeys([*usable, *(c for c in plan.numeric if c not in plan.features)]))
    return CleanResult(frame=frame, id_column=plan.id_column, features=tuple(usable), numeric=profiled,
                       categorical=(*plan.categorical, *indicators), account=account_, log=account.log())


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


def check_malformed_share(count: int, first: tuple[int, str], rows: int, max_drop: float, name: str) -> None:
    """Refuses a table whose ``count`` skipped lines (the ``first`` of them: line, why) are more than
    ``max_drop`` of its records (``rows`` read, plus the skipped): such a file was exported wrongly (a value
    holding the delimiter without quotes), and reading the rest would misrepresent it."""
    total = rows + count
    if count and count > max(max_drop * total, 1):
        line, why = first
        raise InputError(f"{name}: {count:,} of {total:,} lines ({percent(count / total)}) do not fit the "
                         f"header and would be skipped (line {line}: {why})",
                         hint="Export the table again with values that hold the delimiter in quotes, or raise "
                              "--max-drop to skip them.")


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
        state.account, {c: (v.nunique(), float(v.iloc[0]) if len(v) else None) for c, v in present.items()})


def _drop_missing(state: PandasCleaning, entry: CleaningStep) -> None:
    gaps = state.frame[state.usable].isna()
    for column in state.usable:
        state.account.add(entry, column, state.frame.index[gaps[column]])
    state.frame = state.frame.loc[~gaps.any(axis=1)]


def add_imputed(account: Account, entry: CleaningStep, column: str, rows: pd.Index, median: float,
                **details: str) -> None:
    """The account's line for missing values of ``column`` replaced by ``median`` (both engines)."""
    account.add(entry, column, rows, reason=str(entry.reason).format(median=f"{median:g}", **details),
                examples=(f"{median:g}",))


def percent(share: float) -> str:
    return f"{100 * share:.1f}%".replace(".0%", "%")


def too_many_to_drop(gaps: Mapping[str, Iterable[int]], rows: int, max_drop: float) -> dict[str, str]:
    """The feature columns whose missing values are imputed rather than dropped, so that dropping the rows missing
    the others drops at most ``max_drop`` of the ``rows`` customers: the columns missing most go first. Returns
    ``{column: share of the customers dropping it alone would drop}`` (engine-neutral: ``gaps`` are row numbers)."""
    missing = {column: set(found) for column, found in gaps.items()}
    imputed: dict[str, str] = {}
    for column in sorted(missing, key=lambda c: -len(missing[c])):
        kept = [c for c in missing if c not in imputed]
        if len(set().union(*(missing[c] for c in kept))) <= max_drop * rows:
            break
        imputed[column] = percent(len(missing[column]) / max(rows, 1))
    return imputed


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


def prepared_account(dataset: Dataset) -> Account:
    """A new account that starts with what building the customer table did (a transaction log's lines)."""
    account = Account()
    account.steps.extend(dataset.prepared)
    if dataset.prepared_log is not None and len(dataset.prepared_log):
        account.logs.append(dataset.prepared_log)
    return account


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
