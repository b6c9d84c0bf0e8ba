"""What every reader shares: the reader table's entry, what a reader returns, the options a user gives, and the input's
hash."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


ARROW_BYTES = 8 * 1024 * 1024  # CSV files this large are read with pyarrow when it is installed
HEAD = 8192  # bytes a reader's content test sees
MAX_NAME_LENGTH = 200  # a longer "column name" is data, not a header
_ID_NAME = re.compile(r"(^|[\s_\-.#])(id|key|uuid|guid|no|nr|number|code)$|^(id|key|uuid|#)$", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](ID|Id|Key|No)$")


def looks_like_id_name(name: str) -> bool:
    """``CustomerID``, ``customer_id``, ``Client No`` ... but not ``Paid`` or ``Valid``. Such columns are read as
    text, so that ``007`` keeps its zeros."""
    name = name.strip()
    return bool(_ID_NAME.search(name) or _CAMEL_ID.search(name))


# (column names, the first rows or None: every row) -> those columns of a text table again, as the text they hold
TextColumns = Callable[[list[str], int | None], pd.DataFrame]


@dataclass(frozen=True)
class ReadResult:
    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    malformed_lines: tuple[tuple[int, str], ...] = ()
    sheet: str | None = None  # the workbook sheet read
    written_names: dict[str, str] = field(default_factory=dict)  # {name: as written} for names with spaces around
    # a text table's columns as written: the parser read 1.234 as a number before the file's decimal mark was known
    as_text: TextColumns | None = None


@dataclass(frozen=True)
class ReadOptions:
    """What the user said about how to read the input."""

    sheet: str | None = None  # a workbook's sheet: its name, or its 1-based number; None: the first with data
    decimal: str | None = None  # the decimal mark of numbers written as text; None: decided from the values


@dataclass(frozen=True)
class Reader:
    """An entry of the reader table (:data:`reportgen.inputs.readers.READERS`): what it reads, how it knows a file
    of its kind, and what else reads such files (flags, never the name, choose behaviour elsewhere)."""

    name: str  # recorded as Source.format
    label: str  # in words, for hints and help ("a CSV or TSV file")
    extensions: tuple[str, ...]
    recognise: Callable[[bytes], bool]  # a test on the first HEAD bytes
    read: Callable[[bytes, str, ReadOptions], ReadResult]  # (the file's bytes, its display name, the options)
    sheets: bool = False  # a workbook: --sheet chooses among its sheets
    delimited: bool = False  # delimited text: its delimiter and header are sniffed, lines that do not fit skipped
    typed: bool = False  # its columns carry their types (a text column of numbers is still text)
    spark: str | None = None  # the format Spark's DataFrameReader reads it as (None: the Spark engine cannot)
