"""READERS: each turns a file's bytes into a frame plus its Source facts; chosen by content, then by extension.

A reader is one entry: its name (recorded as the input's format), the file extensions it claims, a test on the
first bytes of the file, and a function from the bytes to a :class:`ReadResult`. :func:`read_table` picks the
first reader whose content test passes (a Parquet file is recognised by its magic bytes whatever its name), then
one that claims the extension, and fingerprints the input (size, sha256). The Spark engine uses the same choice
and the same CSV sniffer (:func:`reportgen.inputs.text.sniff_text`), so both engines read a file the same way."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import InputError
from ..model import NumberFormat, Source, Table
from ..values import SAMPLE_ROWS, decide_numbers
from .base import HEAD, MAX_NAME_LENGTH, Reader, ReadOptions, ReadResult, looks_like_id_name
from .text import is_text, long_name, read_text_table


# ----------------------------------------------------------------------------- Parquet, JSON, workbooks
def read_parquet(data: bytes, name: str, options: ReadOptions = ReadOptions()) -> ReadResult:
    try:
        return ReadResult(pd.read_parquet(io.BytesIO(data)))
    except ImportError as exc:
        raise InputError(f"{name} is a Parquet file, and reading Parquet needs pyarrow",
                         hint="pip install 'reportgen[fast]'") from exc
    except Exception as exc:  # pyarrow raises its own error types
        raise InputError(f"{name} is not a readable Parquet file: {exc}") from exc


def is_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def read_json(data: bytes, name: str, options: ReadOptions = ReadOptions()) -> ReadResult:
    """An array of records (``[{"id": 1, ...}, ...]``) or JSON Lines (one record per line)."""
    lines = not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
    try:
        frame = pd.read_json(io.BytesIO(data), lines=lines, orient="records", dtype=False)
    except ValueError as exc:
        raise InputError(f"{name} is not a table of JSON records: {str(exc).splitlines()[0]}",
                         hint="Pass an array of objects, or one object per line (JSON Lines).") from exc
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} is not a table of JSON records")
    for column in frame.columns:  # a nested object or list is a value of its own, written as JSON text
        if frame[column].dtype == object and frame[column].map(lambda v: isinstance(v, (dict, list))).any():
            frame[column] = frame[column].map(lambda v: json.dumps(v, ensure_ascii=False)
                                              if isinstance(v, (dict, list)) else v)
    ids = [c for c in frame.columns if looks_like_id_name(str(c))]
    return ReadResult(frame.astype({c: "string" for c in ids}), encoding="utf-8")


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .xls workbooks


def is_workbook(head: bytes) -> bool:
    """An .xlsx/.xlsm (a zip with xl/ parts), an OpenDocument spreadsheet, or an .xls (OLE2) workbook."""
    if head.startswith(OLE2):
        return True
    return head.startswith(b"PK\x03\x04") and (b"xl/" in head or b"[Content_Types].xml" in head
                                                 or b"opendocument.spreadsheet" in head)


def _engine(head: bytes) -> str:
    if head.startswith(OLE2):
        return "xlrd"
    return "odf" if b"opendocument.spreadsheet" in head else "openpyxl"


def _header_row(raw: pd.DataFrame) -> int:
    """The header of a sheet, found as for CSV: the first row, blank and title rows (one filled cell, while the
    table below has more) aside."""
    filled = raw.notna().sum(axis=1).to_numpy()
    widest = int(filled.max()) if len(filled) else 0
    for row, count in enumerate(filled[:50]):
        if count >= max(2, widest // 2) or (widest == 1 and count == 1):
            return row
    return 0


def read_workbook(data: bytes, name: str, options: ReadOptions = ReadOptions()) -> ReadResult:
    """One sheet of an Excel (.xlsx, .xlsm, .xls) or OpenDocument (.ods) workbook: ``options.sheet`` (a name or
    a 1-based number), else the first sheet with a table (two or more columns and a data row; a sheet of notes is
    passed over). Cells keep their types; numbers stored as text are cleaned as in a CSV."""
    engine = _engine(data[:HEAD])
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine=engine)
    except ImportError as exc:
        raise InputError(f"reading {name} needs the {engine} package",
                         hint=f"pip install {engine if engine != 'odf' else 'odfpy'}") from exc
    except Exception as exc:  # the readers raise their own error types for a damaged file
        raise InputError(f"{name} is not a readable workbook: {exc}",
                         hint="Open it in a spreadsheet program and save it again, or export the sheet as CSV."
                         ) from exc
    sheets = [str(sheet) for sheet in book.sheet_names]
    chosen = _sheet(options.sheet, sheets, name)
    picked: tuple[str, pd.DataFrame] | None = None
    narrow: tuple[str, pd.DataFrame] | None = None  # the first one-column table, if no sheet has a wider one
    for sheet in ([chosen] if chosen is not None else sheets):
        raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
        raw = raw.dropna(how="all").dropna(axis=1, how="all")
        if chosen is not None or (len(raw) >= 2 and raw.shape[1] >= 2):  # a table, not a sheet of notes
            picked = (sheet, raw)
            break
        if len(raw) >= 2 and narrow is None:
            narrow = (sheet, raw)
    picked = picked or narrow
    if picked is None:
        raise InputError(f"{name} has no sheet with a header row and data rows (sheets: {', '.join(sheets)})",
                         hint="Put the table on a sheet with its header in the first row.")
    sheet, raw = picked
    top = _header_row(raw)
    header = [str(v).strip() if pd.notna(v) else f"column {i + 1}" for i, v in enumerate(raw.iloc[top])]
    written = {h: str(v) for h, v in zip(header, raw.iloc[top], strict=True) if pd.notna(v) and str(v) != h and h}
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{name}, sheet {sheet!r}, has duplicate column names: {', '.join(dupes)}",
                         hint="Give every column a unique name in the header row.")
    frame = raw.iloc[top + 1:].reset_index(drop=True)
    frame.columns = header
    frame = frame.infer_objects()
    ids = [c for c in frame.columns if looks_like_id_name(c)]
    for column in ids:  # as the CSV reader reads them: text, whole numbers without ".0"
        frame[column] = frame[column].map(_id_text).astype("string")
    return ReadResult(frame, encoding=None, delimiter=None, sheet=sheet, written_names=written)


def _id_text(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet(wanted: str | None, sheets: list[str], name: str) -> str | None:
    if wanted is None:
        return None
    if wanted in sheets:
        return wanted
    if wanted.isdigit() and 1 <= int(wanted) <= len(sheets):
        return sheets[int(wanted) - 1]
    raise InputError(f"{name} has no sheet {wanted!r} (sheets: {', '.join(sheets)})",
                     hint="Pass --sheet with one of these names, or its number (1 is the first).")


READERS: tuple[Reader, ...] = (
    Reader("parquet", "a Parquet file", (".parquet", ".pq"), lambda head: head[:4] == b"PAR1", read_parquet, typed=True,
           spark="parquet"),
    Reader("excel", "an Excel or OpenDocument workbook", (".xlsx", ".xlsm", ".xls", ".ods"), is_workbook, read_workbook,
           sheets=True),
    Reader("json", "a JSON file", (".json", ".jsonl", ".ndjson"), is_json, read_json),
    Reader("csv", "a CSV or TSV file", (".csv", ".tsv", ".tab", ".txt"), is_text, read_text_table, delimited=True,
           spark="csv"),
)


def labels(readers: tuple[Reader, ...] = READERS) -> str:
    """What the readers read, in words: "a CSV or TSV file, a Parquet file, a JSON file or an Excel or OpenDocument
    workbook" (text tables first)."""
    names = [reader.label for reader in sorted(readers, key=lambda r: not r.delimited)]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


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
        raise InputError(f"{name} is a zip file, not a table",
                         hint=f"Pass {labels()} (unzip it first).")
    raise InputError(f"{name} is not a text table: it contains binary data", hint=f"Pass {labels()}.")


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


def _numbers_of(frame: pd.DataFrame, result: ReadResult, name: str, decimal: str | None
                ) -> tuple[pd.DataFrame, NumberFormat]:
    """The file's decimal marks (:func:`~reportgen.values.decide_numbers`), and the frame with every column the
    parser read as numbers with a decimal point, but which the file writes with a decimal comma (``1.234`` for
    1234), as the text it is (cleaning reads it, and accounts for it)."""
    parsed = [str(c) for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    written = result.as_text(parsed, SAMPLE_ROWS) if result.as_text is not None and parsed else None
    numbers = decide_numbers(frame, name=name, delimiter=result.delimiter, decimal=decimal, written=written)
    misread = [c for c in parsed if numbers.mark(c) == ","]
    if misread and result.as_text is not None:
        text = result.as_text(misread, None)
        frame = frame.assign(**{c: text[c].to_numpy(dtype=object) for c in misread})
    return frame, numbers


def read_table(source: Path | str | bytes | BinaryIO, *, name: str | None = None,
               options: ReadOptions = ReadOptions()) -> Table:
    """Read a table (a path, the file's bytes, or a binary stream) with the reader its content or name calls for.

    Raises :class:`InputError` when the file is empty, binary, unreadable or has no data rows. Row labels are the
    1-based data row numbers."""
    data, display, path = read_bytes(Path(source) if isinstance(source, str) else source, name)
    if not data.strip():
        raise InputError(f"{display} is empty", hint="Pass a table with a header row and one row per customer.")
    reader = choose_reader(data[:HEAD], display)
    if options.sheet is not None and not reader.sheets:
        raise InputError(f"--sheet {options.sheet} was given, but {display} is {reader.name}, not a workbook",
                         hint=f"Leave --sheet out, or pass {labels(tuple(r for r in READERS if r.sheets))}.")
    result = reader.read(data, display, options)
    frame = result.frame
    written = {**result.written_names, **{str(col).strip(): str(col) for col in frame.columns
                                           if str(col).strip() != str(col) and str(col).strip()}}
    frame.columns = [str(col).strip() for col in frame.columns]
    long = next((place for place, col in enumerate(frame.columns, 1) if len(col) > MAX_NAME_LENGTH), None)
    if long is not None:
        raise long_name(display, long, frame.columns[long - 1])
    if len(frame) == 0:
        raise InputError(f"{display} has a header row but no data rows",
                         hint="Add one row per customer below the header.")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    frame, numbers = _numbers_of(frame, result, display, options.decimal)
    facts = Source(name=display, path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                   format=reader.name, encoding=result.encoding, delimiter=result.delimiter, sheet=result.sheet,
                   numbers=numbers, written_names=written)
    return Table(frame=frame, source=facts, malformed_lines=result.malformed_lines)
