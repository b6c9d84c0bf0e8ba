"""The data contract of reading and cleaning: the input's facts, the table as read with its column roles, and what
cleaning kept and did."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the annotations are strings: importing the contract loads neither numpy nor pandas
    import pandas as pd



Role = Literal["id", "numeric", "categorical", "date", "text", "personal", "empty"]
MissingPolicy = Literal["drop", "median"]


# --------------------------------------------------------------------------- read
@dataclass(frozen=True)
class NumberFormat:
    """How the input's numbers written as text are read (:func:`reportgen.values.decide_numbers`): the decimal mark
    of each text column that holds numbers with a mark, and of the file."""

    columns: Mapping[str, str] = field(default_factory=dict)  # column -> "." or ","
    decimal: str | None = None  # the file's decimal mark; None: no number with a mark, or columns that disagree
    how: str = ""  # the decision in words, for the data quality account ("a decimal comma, as values such as ...")

    def mark(self, column: str) -> str | None:
        """The decimal mark of ``column`` (None: its values decide, see :func:`reportgen.values.parse_numbers`)."""
        return self.columns.get(column)


@dataclass(frozen=True)
class Source:
    """Where the data came from: enough to find and verify it again."""

    name: str  # file name, or "<stdin>"
    path: str | None  # absolute path, or None for stdin
    size: int  # bytes
    sha256: str
    format: str  # the reader that read it: "csv", "parquet", ...
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None  # a workbook's sheet
    query: str | None = None  # a database's SQL (for a table: SELECT * FROM it); path is then the URL
    query_sha256: str | None = None
    numbers: NumberFormat = field(default_factory=NumberFormat)  # how numbers written as text are read
    # the columns whose names the input writes with spaces around them: name as read -> as written (" spend");
    # segments.sql names them as written, so that it runs on a table loaded from the input
    written_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """What a reader returns: the frame as read, where it came from, and the lines it had to skip."""

    frame: pd.DataFrame
    source: Source
    malformed_lines: tuple[tuple[int, str], ...] = ()  # (line number, what was wrong)


@dataclass(frozen=True)
class ColumnInfo:
    """One input column, its inferred role and why."""

    name: str
    role: Role
    dtype: str
    missing: int
    unique: int
    why: str
    feature: bool = True  # clustered by default (a numeric column); False: profiled only, ``why`` says why


@dataclass(frozen=True)
class TransactionSummary:
    """A transaction log turned into a customer table: how many lines, as of when, and which columns were what."""

    lines: int
    customers: int
    as_of: str  # ISO date
    date_format: str  # how the dates were read, in words
    columns: Mapping[str, str]  # role ("customer", "date", "amount", ...) -> column


@dataclass(frozen=True)
class Dataset:
    """The table as read, with column roles. ``frame.index`` is the 1-based data row number in the input.

    ``rows`` is the number of data rows; with the Spark engine ``frame`` holds only the first rows (from which the
    roles were inferred) and the data itself stays in Spark."""

    frame: pd.DataFrame
    source: Source
    columns: tuple[ColumnInfo, ...]
    rows: int
    malformed_lines: tuple[tuple[int, str], ...] = ()
    transactions: TransactionSummary | None = None  # the input was a transaction log
    prepared: tuple[StepCount, ...] = ()  # what building the customer table left out or netted (log lines)
    prepared_log: pd.DataFrame | None = None  # those lines, for cleaning.csv


# --------------------------------------------------------------------------- clean
@dataclass(frozen=True)
class StepCount:
    """One thing cleaning did, to how many rows (or values), and why: a line of the data quality account."""

    step: str  # the cleaning step's key, e.g. "duplicate_rows"
    column: str | None
    count: int
    action: str  # "dropped rows", "set to missing", "imputed median", ...
    reason: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class CleaningAccount:
    """The full account of cleaning: rows in, rows out, and every step."""

    rows_in: int
    rows_out: int
    missing_policy: MissingPolicy
    steps: tuple[StepCount, ...]
    excluded_columns: tuple[tuple[str, str], ...]  # (column, why it is not a feature)

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out


@dataclass(frozen=True)
class CleanResult:
    """Cleaned rows (input row numbers kept as the index) and the account of what was done.

    With the Spark engine ``frame`` is a fixed-seed sample of the cleaned rows (for the charts); the account
    counts every row."""

    frame: pd.DataFrame
    id_column: str | None
    features: tuple[str, ...]
    numeric: tuple[str, ...]  # every numeric column profiled (features first)
    categorical: tuple[str, ...]
    account: CleaningAccount
    log: pd.DataFrame  # one row per touched input row/value: row, column, action, reason, value
