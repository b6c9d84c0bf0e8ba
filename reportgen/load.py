"""Read a customer table (CSV, TSV or Parquet), fingerprint it, and infer what each column is."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .clean import missing_markers, parse_numbers
from .errors import InputError
from .model import ColumnInfo, Dataset, Role, Source

DELIMITERS = (",", "\t", ";", "|")
_ID_NAME = re.compile(r"(^|[\s_\-.#])(id|key|uuid|guid|no|nr|number|code)$|^(id|key|uuid|#)$", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](ID|Id|Key|No)$")
MAX_CATEGORIES = 50
ROLE_SAMPLE = 20_000
NUMERIC_SHARE = 0.75  # a text column is numeric when this share of its values read as numbers ("?" aside)
ARROW_BYTES = 8 * 1024 * 1024  # files this large are read with pyarrow when it is installed


def looks_like_id_name(name: str) -> bool:
    """``CustomerID``, ``customer_id``, ``Client No`` ... but not ``Paid`` or ``Valid``."""
    name = name.strip()
    return bool(_ID_NAME.search(name) or _CAMEL_ID.search(name))


def _read_source(source: Path | bytes | BinaryIO, name: str | None) -> tuple[bytes, str, str | None]:
    if isinstance(source, bytes):
        return source, name or "<stdin>", None
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise InputError(f"no such file: {path}", hint="Check the path and the file name.")
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a file", hint="Pass the CSV, TSV or Parquet file itself.")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}",
                             hint="Check the file's permissions.") from exc
        return data, name or path.name, str(path.resolve())
    return source.read(), name or "<stdin>", None


def _sniff_delimiter(text: str) -> str:
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


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _check_not_binary(data: bytes, name: str) -> None:
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{name} looks like an Excel workbook or a zip file, not a CSV",
                         hint="Save the sheet as CSV (File > Save as > CSV UTF-8) and pass that file.")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name} is not a text table: it contains binary data",
                         hint="Pass a CSV, TSV or Parquet file.")


def _read_parquet(data: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except ImportError as exc:
        raise InputError(f"{name} is a Parquet file, and reading Parquet needs pyarrow",
                         hint="pip install 'reportgen[fast]'") from exc
    except Exception as exc:  # pyarrow raises its own error types
        raise InputError(f"{name} is not a readable Parquet file: {exc}") from exc


def _read_text_table(data: bytes, name: str) -> tuple[pd.DataFrame, str, str, tuple[tuple[int, str], ...]]:
    text, encoding = _decode(data)
    if not text.strip():
        raise InputError(f"{name} is empty", hint="Pass a table with a header row and one row per customer.")
    delimiter = _sniff_delimiter(text[:65536])
    header = [col.strip() for col in next(csv.reader(io.StringIO(text[:65536]), delimiter=delimiter), [])]
    dupes = sorted({col for col in header if header.count(col) > 1})
    if dupes:
        raise InputError(f"{name} has duplicate column names: {', '.join(dupes)}",
                         hint="Give every column a unique name in the header row.")
    id_like = {col: "string" for col in header if looks_like_id_name(col)}
    if len(data) >= ARROW_BYTES and encoding == "utf-8":
        frame = _read_with_arrow(data, delimiter, id_like)
        if frame is not None:
            return frame, encoding, delimiter, ()
    malformed: list[tuple[int, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(
                io.StringIO(text), sep=delimiter, dtype=id_like or None, skipinitialspace=True,
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
    return frame, encoding, delimiter, tuple(malformed)


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


def load_customers(source: Path | str | bytes | BinaryIO, *, name: str | None = None) -> Dataset:
    """Read a CSV/TSV (delimiter sniffed; UTF-8 with or without BOM, UTF-16, Latin-1 fallback) or Parquet file.

    ``source`` is a path, the file's bytes, or a binary file object (stdin). Raises :class:`InputError`
    when the file is missing, empty, binary, has no data rows or no column reportgen can use.
    """
    data, display, path = _read_source(source, name)
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(f"{display} is empty", hint="Pass a table with a header row and one row per customer.")
    malformed: tuple[tuple[int, str], ...] = ()
    if data[:4] == b"PAR1":
        frame = _read_parquet(data, display)
        fmt, encoding, delimiter = "parquet", None, None
    else:
        _check_not_binary(data, display)
        frame, encoding, delimiter, malformed = _read_text_table(data, display)
        fmt = "csv"
    frame.columns = [str(col).strip() for col in frame.columns]
    if len(frame) == 0:
        raise InputError(f"{display} has a header row but no data rows",
                         hint="Add one row per customer below the header.")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    source_info = Source(name=display, path=path, size=len(data), sha256=digest, format=fmt,  # type: ignore[arg-type]
                         encoding=encoding, delimiter=delimiter)
    columns = infer_roles(frame)
    return Dataset(frame=frame, source=source_info, columns=columns, malformed_lines=malformed)


def _is_integer_valued(values: pd.Series) -> bool:
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    arr = arr[~np.isnan(arr)]
    return bool(arr.size) and bool(np.all(np.mod(arr, 1) == 0))


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    if sample.empty or not sample.str.contains(r"\d").all():
        return False
    if not sample.str.fullmatch(r"[\dT:\-/. +Z]{6,35}").mean() >= 0.9:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def infer_role(name: str, values: pd.Series, *, n_rows: int, have_id: bool) -> tuple[Role, str]:
    """One column's role and the reason, from its name and values."""
    present = values.dropna()
    present = present[~missing_markers(present)]  # "?", "n/a" ... are missing values written as text
    if present.empty:
        return "empty", "every value is missing"
    unique = int(present.nunique())
    unique_ratio = unique / len(present)
    if len(present) > ROLE_SAMPLE:  # the checks below look at values, and a fixed-seed sample tells as much
        present = present.sample(ROLE_SAMPLE, random_state=0)
    if pd.api.types.is_bool_dtype(values):
        return "categorical", "true/false values"
    numeric = pd.api.types.is_numeric_dtype(values)
    numbers = present if numeric else None
    if not numeric:
        parsed, _ = parse_numbers(present)
        if parsed.notna().sum() >= NUMERIC_SHARE * len(present) and parsed.notna().any():
            numeric, numbers = True, parsed.dropna()
    if looks_like_id_name(name) and unique_ratio >= 0.8 and (numbers is None or _is_integer_valued(numbers)):
        return "id", "named like an identifier and (nearly) unique"
    if numeric and numbers is not None:
        full = values if pd.api.types.is_numeric_dtype(values) else None
        if (not have_id and full is not None and unique == n_rows and n_rows >= 20 and _is_integer_valued(numbers)
                and float(full.max()) - float(full.min()) == n_rows - 1):
            return "id", "unique consecutive whole numbers (a row number)"
        if unique <= 2:
            return "categorical", f"only {unique} distinct value{'s' if unique > 1 else ''}"
        return "numeric", "numbers" if pd.api.types.is_numeric_dtype(values) else "numbers stored as text"
    if _looks_like_dates(present):
        return "date", "dates (not used for clustering)"
    lengths = present.astype(str).str.len()
    if unique <= MAX_CATEGORIES and (unique_ratio <= 0.5 or unique <= 10):
        return "categorical", f"{unique} distinct values"
    if (not have_id and unique == n_rows and n_rows >= 20 and lengths.max() <= 40
            and not present.astype(str).str.contains(r"\s").any()):
        return "id", "unique short codes (a key)"
    if lengths.mean() > 30 or present.astype(str).str.contains(r"\s\S+\s").mean() > 0.5:
        return "text", "free text (ignored)"
    return "text", f"{unique} distinct values: too many to profile (ignored)"


def infer_roles(frame: pd.DataFrame) -> tuple[ColumnInfo, ...]:
    """Roles of every column. At most the first ID-like column is inferred from values alone."""
    infos: list[ColumnInfo] = []
    have_id = False
    for name in frame.columns:
        values = frame[name]
        role, why = infer_role(name, values, n_rows=len(frame), have_id=have_id)
        have_id = have_id or role == "id"
        infos.append(ColumnInfo(name=name, role=role, dtype=str(values.dtype), missing=int(values.isna().sum()),
                                unique=int(values.nunique(dropna=True)), why=why))
    return tuple(infos)
