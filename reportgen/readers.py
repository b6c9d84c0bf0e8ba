"""READERS: each turns a file's bytes into a frame plus its Source facts; chosen by content, then by extension.

A reader is one entry: its name (recorded as the input's format), the file extensions it claims, a test on the
first bytes of the file, and a function from the bytes to a :class:`ReadResult`. :func:`read_table` picks the
first reader whose content test passes (a Parquet file is recognised by its magic bytes whatever its name), then
one that claims the extension, and fingerprints the input (size, sha256). The Spark engine uses the same choice
and the same CSV sniffer (:func:`sniff_text`), so both engines read a file the same way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from .errors import InputError
from .model import Source, Table

DELIMITERS = (",", "\t", ";", "|")
ARROW_BYTES = 8 * 1024 * 1024  # CSV files this large are read with pyarrow when it is installed
HEAD = 8192  # bytes a reader's content test sees
_ID_NAME = re.compile(r"(^|[\s_\-.#])(id|key|uuid|guid|no|nr|number|code)$|^(id|key|uuid|#)$", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](ID|Id|Key|No)$")


def looks_like_id_name(name: str) -> bool:
    """``CustomerID``, ``customer_id``, ``Client No`` ... but not ``Paid`` or ``Valid``. Such columns are read as
    text, so that ``007`` keeps its zeros."""
    name = name.strip()
    return bool(_ID_NAME.search(name) or _CAMEL_ID.search(name))


@dataclass(frozen=True)
class ReadResult:
    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    malformed_lines: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Reader:
    name: str  # recorded as Source.format
    extensions: tuple[str, ...]
    recognise: Callable[[bytes], bool]  # a test on the first HEAD bytes
    read: Callable[[bytes, str], ReadResult]  # (the file's bytes, its display name)


# ----------------------------------------------------------------------------- text tables (CSV, TSV, ...)
@dataclass(frozen=True)
class TextFormat:
    """How a text table is written: what the sniffer found."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]


def decode(data: bytes, *, latin1: bool = True) -> tuple[str, str]:
    """The text and its encoding: UTF-16 (by its byte order mark), UTF-8 with or without BOM, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        if not latin1:
            raise
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most, equally many, fields (',' if none does)."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        except csv.Error:
            continue
        fields = max(counts) if counts else 1
        consistent = len(counts) == 1 or (len(lines) > 2 and len(counts) <= 2)
        if fields > best_fields and consistent:
            best, best_fields = delimiter, fields
    return best


def decode_head(head: bytes) -> tuple[str, str]:
    """:func:`decode` for the first bytes of a file, which may end inside a UTF-8 or UTF-16 character."""
    for cut in range(4):
        try:
            return decode(head[: len(head) - cut] if cut else head, latin1=False)
        except UnicodeDecodeError:
            continue
    return decode(head)


def sniff_text(text: str, encoding: str, name: str) -> TextFormat:
    """Delimiter and header of a text table, from its (first) text. Raises :class:`InputError` for an empty file
    or duplicate column names."""
    if not text.strip():
        raise InputError(f"{name} is empty", hint="Pass a table with a header row and one row per customer.")
    delimiter = sniff_delimiter(text[:65536])
    header = tuple(col.strip() for col in next(csv.reader(io.StringIO(text[:65536]), delimiter=delimiter), []))
    dupes = sorted({col for col in header if header.count(col) > 1})
    if dupes:
        raise InputError(f"{name} has duplicate column names: {', '.join(dupes)}",
                         hint="Give every column a unique name in the header row.")
    return TextFormat(encoding=encoding, delimiter=delimiter, header=header)


def is_text(head: bytes) -> bool:
    """No NUL bytes (a UTF-16 file has them, after its byte order mark) and not a zip archive."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return not head.startswith(b"PK\x03\x04") and b"\x00" not in head


def read_text_table(data: bytes, name: str) -> ReadResult:
    """CSV, TSV, semicolon- or pipe-separated text; lines with the wrong number of fields are skipped and listed."""
    text, encoding = decode(data)
    fmt = sniff_text(text, encoding, name)
    id_like = {col: "string" for col in fmt.header if looks_like_id_name(col)}
    if len(data) >= ARROW_BYTES and fmt.encoding == "utf-8":
        frame = _read_with_arrow(data, fmt.delimiter, id_like)
        if frame is not None:
            return ReadResult(frame, fmt.encoding, fmt.delimiter)
    malformed: list[tuple[int, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=fmt.delimiter, dtype=id_like or None, skipinitialspace=True,
                keep_default_na=False, na_values=[""], on_bad_lines="warn", low_memory=False,
            )
        except pd.errors.EmptyDataError:
            raise InputError(f"{name} is empty", hint="Pass a table with a header row and data rows.") from None
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(f"{name} cannot be read as a table: {str(exc).strip().splitlines()[-1]}",
                             hint="Check that every line has the same number of fields as the header.") from exc
    for warning in caught:
        for line, detail in re.findall(r"Skipping line (\d+): (.*)", str(warning.message)):
            malformed.append((int(line), detail.strip()))
    return ReadResult(frame, fmt.encoding, fmt.delimiter, tuple(malformed))


def _read_with_arrow(data: bytes, delimiter: str, id_like: dict[str, str]) -> pd.DataFrame | None:
    """pyarrow's multithreaded CSV reader, three times faster on large files; None when pyarrow is missing or the
    file has malformed lines (the C reader then reads it again and reports their line numbers)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(io.BytesIO(data), sep=delimiter, engine="pyarrow", dtype=id_like or None,
                                keep_default_na=False, na_values=[""], on_bad_lines="warn")
        except Exception:  # pyarrow's own errors: let the C reader try and explain
            return None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        return None
    return frame


# ----------------------------------------------------------------------------- Parquet, JSON
def read_parquet(data: bytes, name: str) -> ReadResult:
    try:
        return ReadResult(pd.read_parquet(io.BytesIO(data)))
    except ImportError as exc:
        raise InputError(f"{name} is a Parquet file, and reading Parquet needs pyarrow",
                         hint="pip install 'reportgen[fast]'") from exc
    except Exception as exc:  # pyarrow raises its own error types
        raise InputError(f"{name} is not a readable Parquet file: {exc}") from exc


def is_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def read_json(data: bytes, name: str) -> ReadResult:
    """An array of records (``[{"id": 1, ...}, ...]``) or JSON Lines (one record per line)."""
    lines = not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
    try:
        frame = pd.read_json(io.BytesIO(data), lines=lines, orient="records", dtype=False)
    except ValueError as exc:
        raise InputError(f"{name} is not a table of JSON records: {str(exc).splitlines()[0]}",
                         hint="Pass an array of objects, or one object per line (JSON Lines).") from exc
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} is not a table of JSON records")
    ids = [c for c in frame.columns if looks_like_id_name(str(c))]
    return ReadResult(frame.astype({c: "string" for c in ids}), encoding="utf-8")


READERS: tuple[Reader, ...] = (
    Reader("parquet", (".parquet", ".pq"), lambda head: head[:4] == b"PAR1", read_parquet),
    Reader("json", (".json", ".jsonl", ".ndjson"), is_json, read_json),
    Reader("csv", (".csv", ".tsv", ".tab", ".txt"), is_text, read_text_table),
)


def choose_reader(head: bytes, name: str) -> Reader:
    """Among the readers that recognise the content, the one that claims the file's extension, else the first."""
    candidates = [reader for reader in READERS if reader.recognise(head)]
    suffix = Path(name).suffix.lower()
    for reader in candidates:
        if suffix in reader.extensions:
            return reader
    if candidates:
        return candidates[0]
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{name} looks like an Excel workbook or a zip file, not a CSV",
                         hint="Save the sheet as CSV (File > Save as > CSV UTF-8) and pass that file.")
    raise InputError(f"{name} is not a text table: it contains binary data",
                     hint="Pass a CSV, TSV, JSON or Parquet file.")


def read_bytes(source: Path | bytes | BinaryIO, name: str | None) -> tuple[bytes, str, str | None]:
    """The input's bytes, its display name and its absolute path (None for bytes and streams)."""
    if isinstance(source, bytes):
        return source, name or "<stdin>", None
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except FileNotFoundError:
            raise InputError(f"no such file: {source}", hint="Check the path and the file name.") from None
        except IsADirectoryError:
            raise InputError(f"{source} is a folder, not a file", hint="Pass the data file itself.") from None
        except OSError as exc:
            raise InputError(f"cannot read {source}: {exc.strerror or exc}",
                             hint="Check the file's permissions.") from exc
        return data, name or source.name, str(source.resolve())
    return source.read(), name or "<stdin>", None


def read_table(source: Path | str | bytes | BinaryIO, *, name: str | None = None) -> Table:
    """Read a table (a path, the file's bytes, or a binary stream) with the reader its content or name calls for.

    Raises :class:`InputError` when the file is empty, binary, unreadable or has no data rows. Row labels are the
    1-based data row numbers."""
    data, display, path = read_bytes(Path(source) if isinstance(source, str) else source, name)
    if not data.strip():
        raise InputError(f"{display} is empty", hint="Pass a table with a header row and one row per customer.")
    reader = choose_reader(data[:HEAD], display)
    result = reader.read(data, display)
    frame = result.frame
    frame.columns = [str(col).strip() for col in frame.columns]
    if len(frame) == 0:
        raise InputError(f"{display} has a header row but no data rows",
                         hint="Add one row per customer below the header.")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    facts = Source(name=display, path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                   format=reader.name, encoding=result.encoding, delimiter=result.delimiter)
    return Table(frame=frame, source=facts, malformed_lines=result.malformed_lines)
