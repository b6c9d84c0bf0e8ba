"""The data quality account: what cleaning did, to which rows, and why (both engines fill it the same way), and the
CleanResult it ends with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import CleaningAccount, CleanResult, ColumnInfo, Dataset, MissingPolicy, StepCount
from .steps import CleaningStep, shown

ROLE_NOTES = {
    "id": "identifier", "numeric": "numeric: profiled, not clustered",
    "categorical": "categorical: profiled, not clustered", "date": "date: not used",
    "text": "free text: not used", "personal": "personal data: not used, not shown", "empty": "empty column",
}
LOG_COLUMNS = ("row", "column", "action", "reason", "value")


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


def usable_features(account: Account, entry: CleaningStep, stats: Mapping[str, tuple[int, float | None]]
                    ) -> tuple[list[str], dict[str, str]]:
    """The feature columns that can be clustered, from ``{column: (distinct values, first value)}``, and why
    the others cannot; the others go into ``account`` as lines of ``entry``. Raises :class:`InputError` when none is
    left."""
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


def prepared_account(dataset: Dataset) -> Account:
    """A new account that starts with what building the customer table did (a transaction log's lines)."""
    account = Account()
    account.steps.extend(dataset.prepared)
    if dataset.prepared_log is not None and len(dataset.prepared_log):
        account.logs.append(dataset.prepared_log)
    return account
