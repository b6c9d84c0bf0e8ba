"""Cleaning as an account: every row dropped and every value changed is counted, with why.

Order: malformed lines, empty rows, numbers stored as text, impossible values, categorical spellings,
duplicate rows, duplicate IDs, unusable feature columns, missing feature values (drop or median).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import InputError
from .model import CleaningAccount, CleaningStep, CleanResult, Dataset, MissingPolicy

MISSING_LABEL = "(missing)"
ROLE_NOTES = {
    "id": "identifier", "numeric": "numeric: profiled, not clustered",
    "categorical": "categorical: profiled, not clustered", "date": "date: not used",
    "text": "free text: not used", "empty": "empty column",
}
LOG_COLUMNS = ("row", "column", "action", "reason", "value")
_AGE = re.compile(r"\bage\b", re.IGNORECASE)
_RANGE = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*[-–]\s*(-?\d+(?:\.\d+)?)\s*\)")
_NON_NEGATIVE = re.compile(
    r"income|salary|earning|wage|spend|amount|price|revenue|sales|count|visits|orders|purchases|frequency"
    r"|recency|tenure|quantity|k\$|\$|€|£|monetary|balance|days|months|years",
    re.IGNORECASE,
)


MARKERS = frozenset({"?", "-", "--", "n/a", "na", "n.a.", "null", "none", "nan", "#n/a", "missing", ".", "nil"})


def _per_unique(values: pd.Series, function) -> pd.Series:
    """``function`` applied to the distinct values only, then spread back (a million rows of "Male"/"Female"
    are two values to look at). ``function`` takes and returns a Series; missing values stay missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    result = function(pd.Series(uniques, dtype=values.dtype if len(uniques) else object)).to_numpy()
    if codes.min(initial=0) >= 0 and len(uniques):
        return pd.Series(result[codes], index=values.index)
    padded = np.concatenate([result, np.array([None], dtype=object)]) if result.dtype == object else \
        np.concatenate([result, np.array([np.nan])])
    return pd.Series(padded[codes], index=values.index)


def missing_markers(values: pd.Series) -> pd.Series:
    """True where a value is text that stands for a missing value: ``"?"``, ``"n/a"``, ``"NULL"``, ``"-"``..."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return pd.Series(False, index=values.index)

    def check(uniques: pd.Series) -> pd.Series:
        return uniques.astype("string").str.strip().str.lower().isin(MARKERS).fillna(False).astype(object)

    return _per_unique(values, check).fillna(False).astype(bool)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read numbers stored as text: ``" 12 "``, ``"1,234"``, ``"$1,200.50"``, ``"45%"``, ``"3,5"``.

    Returns ``(numbers, unreadable)``: floats (NaN where unreadable or missing) and a mask of the values that
    were present but are not numbers (``"?"``, ``"abc"``).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        return numbers, pd.Series(False, index=values.index)

    def parse(uniques: pd.Series) -> pd.Series:
        text = uniques.astype("string").str.strip().str.replace(r"[\s$€£¥%]", "", regex=True)
        for _ in range(3):  # 1,234,567: each pass removes one separator per group boundary
            text = text.str.replace(r"([0-9])[,']([0-9]{3})\b", r"\1\2", regex=True)
        text = text.str.replace(r"^(-?[0-9]+),([0-9]+)$", r"\1.\2", regex=True)
        return pd.to_numeric(text, errors="coerce").astype(float)

    numbers = _per_unique(values, parse).astype(float)
    unreadable = numbers.isna() & values.notna()
    return numbers, unreadable.astype(bool)


def valid_range(column: str) -> tuple[float, float, str] | None:
    """The values a column can possibly take, from its name: ``(low, high, why)`` or None."""
    match = _RANGE.search(column)
    if match:
        low, high = float(match.group(1)), float(match.group(2))
        if low < high:
            return low, high, f"outside the range {match.group(1)}-{match.group(2)} stated in the column name"
    if _AGE.search(column):
        return 0.0, 120.0, "an age must be between 0 and 120"
    if _NON_NEGATIVE.search(column):
        return 0.0, float("inf"), "this quantity cannot be negative"
    return None


def examples_of(values: Iterable[object], limit: int = 5) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        text = str(value)
        if text not in seen:
            seen.append(text)
        if len(seen) >= limit:
            break
    return tuple(seen)


class Account:
    """Collects steps and the per-row log while ``clean`` runs (local to one call)."""

    def __init__(self) -> None:
        self.steps: list[CleaningStep] = []
        self.logs: list[pd.DataFrame] = []

    def add(self, step: str, column: str | None, rows: pd.Index, action: str, reason: str,
            values: pd.Series | None = None, examples: tuple[str, ...] | None = None) -> None:
        if len(rows) == 0:
            return
        shown = values.loc[rows] if values is not None else None
        if shown is not None and pd.api.types.is_float_dtype(shown):
            shown = shown.map("{:g}".format)
        if examples is None:
            examples = examples_of(shown.tolist()) if shown is not None else examples_of(rows.tolist())
        self.steps.append(CleaningStep(step=step, column=column, count=len(rows), action=action, reason=reason,
                                       examples=examples))
        self.logs.append(pd.DataFrame({
            "row": np.asarray(rows, dtype=np.int64),
            "column": column or "",
            "action": action,
            "reason": reason,
            "value": shown.astype(str).to_numpy() if shown is not None else "",
        }))

    def log(self) -> pd.DataFrame:
        if not self.logs:
            return pd.DataFrame({name: pd.Series(dtype=object) for name in LOG_COLUMNS})
        return pd.concat(self.logs, ignore_index=True)


def usable_features(account: Account, stats: dict[str, tuple[int, float | None]]
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
    for column, why in unusable.items():
        account.steps.append(CleaningStep("unusable_feature", column, 0, "excluded column", why))
    if not usable:
        detail = "; ".join(f"{c}: {why}" for c, why in unusable.items()) or "none was given"
        raise InputError(f"no usable feature column ({detail})",
                         hint="Choose numeric columns with varying values with --features.")
    return usable, unusable


def _unify_spellings(values: pd.Series) -> tuple[pd.Series, pd.Index]:
    """Strip spaces and merge values that differ only by case ("male", "Male ") into the most common one."""
    codes, uniques = pd.factorize(values.astype("string").str.strip(), use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    canonical: dict[str, str] = {}
    for i in np.argsort(-counts, kind="stable"):  # most common spelling first
        canonical.setdefault(str(uniques[i]).casefold(), str(uniques[i]))
    spelled = np.array([canonical[str(u).casefold()] if str(u) != "" else None for u in uniques] + [None],
                       dtype=object)
    unified = pd.Series(spelled[codes], index=values.index, dtype=object)
    changed = values.index[(unified.astype(object) != values.astype(object)) & values.notna() & unified.notna()]
    return unified, changed


def clean(
    dataset: Dataset,
    *,
    features: tuple[str, ...],
    missing: MissingPolicy = "drop",
) -> CleanResult:
    """Clean ``dataset`` for clustering on ``features`` and account for everything done.

    Raises :class:`InputError` when no usable feature column remains.
    """
    account = Account()
    roles = {info.name: info.role for info in dataset.columns}
    frame = dataset.frame.copy()
    rows_in = len(frame) + len(dataset.malformed_lines)
    id_column = next((c for c in frame.columns if roles[c] == "id"), None)
    numeric = tuple(dict.fromkeys([*features, *(c for c in frame.columns if roles[c] == "numeric")]))
    categorical = tuple(c for c in frame.columns if roles[c] == "categorical" and c not in features)

    if dataset.malformed_lines:
        lines = [line for line, _ in dataset.malformed_lines]
        account.steps.append(CleaningStep(
            "malformed_lines", None, len(lines), "skipped lines",
            "the line has a different number of fields than the header",
            examples_of(f"line {line}" for line in lines)))
        account.logs.append(pd.DataFrame({"row": np.asarray(lines, dtype=np.int64), "column": "",
                                          "action": "skipped line",
                                          "reason": [why for _, why in dataset.malformed_lines], "value": ""}))

    empty = frame.index[frame.isna().all(axis=1)]
    account.add("empty_rows", None, empty, "dropped rows", "every value in the row is missing")
    frame = frame.drop(index=empty)

    for column in numeric:
        original = frame[column]
        markers = missing_markers(original)
        account.add("missing_marker", column, frame.index[markers], "set to missing",
                    "text that stands for a missing value", original)
        original = original.mask(markers)
        numbers, unreadable = parse_numbers(original)
        if not pd.api.types.is_numeric_dtype(original):
            plain = pd.to_numeric(original.astype("string").str.strip(), errors="coerce")
            converted = frame.index[plain.isna().to_numpy() & numbers.notna().to_numpy()]
            account.add("numbers_as_text", column, converted, "converted to numbers",
                        "numbers written as text (spaces, thousands separators, currency or % signs)", original)
        account.add("not_a_number", column, frame.index[unreadable], "set to missing",
                    "not a number", original)
        infinite = frame.index[np.isinf(numbers.to_numpy())]
        account.add("infinite", column, infinite, "set to missing", "infinite value", numbers)
        numbers = numbers.mask(np.isinf(numbers))
        limits = valid_range(column)
        if limits is not None:
            low, high, why = limits
            impossible = frame.index[(numbers < low) | (numbers > high)]
            account.add("impossible_value", column, impossible, "set to missing", why, numbers)
            numbers = numbers.mask((numbers < low) | (numbers > high))
        frame[column] = numbers

    for column in categorical:
        markers = missing_markers(frame[column])
        account.add("missing_marker", column, frame.index[markers], "set to missing",
                    "text that stands for a missing value", frame[column])
        frame[column] = frame[column].mask(markers)
        unified, changed = _unify_spellings(frame[column])
        account.add("spelling", column, changed, "unified spelling",
                    "the same category written with other case or spaces", frame[column])
        filled = frame.index[unified.isna()]
        account.add("missing_category", column, filled, f"labelled {MISSING_LABEL}",
                    "missing category (kept, shown as its own group)")
        frame[column] = unified.where(unified.notna(), MISSING_LABEL)

    duplicated = frame.index[frame.duplicated(keep="first")]
    account.add("duplicate_rows", None, duplicated, "dropped rows", "exact copy of an earlier row")
    frame = frame.drop(index=duplicated)

    if id_column is not None:
        ids = frame[id_column]
        dup_ids = frame.index[ids.notna() & ids.duplicated(keep="first")]
        account.add("duplicate_ids", id_column, dup_ids, "dropped rows",
                    "the ID was already used by an earlier row (the first one is kept)", ids)
        frame = frame.drop(index=dup_ids)
        missing_ids = frame.index[frame[id_column].isna()]
        account.add("missing_ids", id_column, missing_ids, "kept",
                    "no customer ID (the row is kept; its ID is blank in segments.csv)")

    present = {column: frame[column].dropna() for column in features}
    usable, unusable = usable_features(
        account, {c: (v.nunique(), float(v.iloc[0]) if len(v) else None) for c, v in present.items()})
    excluded = tuple((info.name, unusable.get(info.name) or ROLE_NOTES[info.role])
                     for info in dataset.columns if info.name not in usable)

    if missing == "drop":
        gaps = frame[usable].isna()
        for column in usable:
            rows = frame.index[gaps[column]]
            account.add("missing_value", column, rows, "dropped rows",
                        "missing value in a feature column (--missing drop)")
        frame = frame.loc[~gaps.any(axis=1)]
    else:
        for column in usable:
            rows = frame.index[frame[column].isna()]
            if len(rows) == 0:
                continue
            median = float(frame[column].median())
            account.add("missing_value", column, rows, "imputed median",
                        f"missing value in a feature column, replaced by the median {median:g} (--missing median)",
                        examples=(f"{median:g}",))
            frame[column] = frame[column].fillna(median)

    acct = CleaningAccount(rows_in=rows_in, rows_out=len(frame), missing_policy=missing,
                           steps=tuple(account.steps), excluded_columns=excluded)
    profiled = tuple(dict.fromkeys([*usable, *(c for c in numeric if c not in features)]))
    return CleanResult(frame=frame, id_column=id_column, features=tuple(usable), numeric=profiled,
                       categorical=categorical, account=acct, log=account.log())
