"""Deterministic files: JSON without NaN and with sorted keys, CSV with a fixed float format and ``\\n`` line ends
(long CSVs written by pyarrow byte for byte as pandas), and their sha256. Text cells that could run as spreadsheet
formulas are escaped by :mod:`reportgen.archive.cells`."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cells import escape_frame

FLOAT_FORMAT = "%.4f"


# ----------------------------------------------------------------------------- deterministic serialisation
def sig(value: float | None, digits: int = 8) -> float | None:
    """Round to ``digits`` significant digits, so metrics stay byte-identical across BLAS builds."""
    if value is None or not np.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}")


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities -> None, numpy scalars and arrays -> Python, paths -> str."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):  # milliseconds: two runs in one second still sort in the order they started
        return value.isoformat(timespec="milliseconds")
    return value


def json_bytes(value: Any) -> bytes:
    """Stable, valid JSON (``allow_nan=False``), two-space indented, ending with a newline."""
    return (json.dumps(jsonable(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


ARROW_CSV_ROWS = 100_000  # frames this long (segments.csv of many customers) are joined by pyarrow
ARROW_CSV_CHUNK = 1_000_000


Part = bytes | memoryview
FileData = bytes | Iterable[Part]  # a file's bytes, or its parts, made as they are written (a long CSV)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with a fixed float format and ``\\n`` line ends, so runs diff cleanly; safe to open in a spreadsheet
    (a text cell that would run as a formula gets a leading ``'``: :mod:`reportgen.archive.cells`). A long frame of
    whole numbers and texts that need no quotes is written by pyarrow (ten times faster), byte for byte as pandas
    would."""
    return b"".join(csv_parts(frame))


def csv_parts(frame: pd.DataFrame) -> Iterable[Part]:
    """:func:`csv_bytes` in parts, each made as it is written (once): a long frame's CSV is never held whole."""
    frame = escape_frame(frame)
    if len(frame) >= ARROW_CSV_ROWS:
        fast = _arrow_csv(frame)
        if fast is not None:
            return fast
    return (frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n").encode("utf-8"),)


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _quoted(text: str) -> str:
    """A CSV field as pandas (csv.QUOTE_MINIMAL) writes it."""
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def _may_need_quotes(field: Any) -> bool:
    """Whether a pyarrow string array may hold a comma, a quote or a line end: one look at its data buffer (which
    may hold bytes of values outside the array: then it says yes, and pandas writes the file)."""
    for chunk in getattr(field, "chunks", [field]):
        data = chunk.buffers()[2]
        text = b"" if data is None else data.to_pybytes()  # a copy, searched by memchr: 0.1 s for 90 MB
        if any(mark in text for mark in (b",", b'"', b"\n", b"\r")):
            return True
    return False


def _category_chunk(rendered: Any, codes: np.ndarray, start: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    part = codes[start:start + ARROW_CSV_CHUNK]
    return pc.take(rendered, pa.array(part, mask=part < 0))


def _number_chunk(numbers: Any, start: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(numbers.slice(start, ARROW_CSV_CHUNK), pa.string())


def _text_chunk(texts: Any, start: int) -> Any:
    return texts.slice(start, ARROW_CSV_CHUNK)


def _arrow_csv(frame: pd.DataFrame) -> Iterator[Part] | None:
    """The frame as pandas writes it, its lines joined by pyarrow's compute functions a million at a time, as the
    file is written (ten million lines of segments.csv are 470 MB, never held at once): integers as pyarrow spells
    them, categories quoted once each, texts as they are. None where the result could differ from pandas' (floats,
    which pandas writes in FLOAT_FORMAT; booleans and dates; a text that needs quotes) or pyarrow is missing."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    fields: list[Callable[[int], Any]] = []  # the first line of a chunk -> its field of each line, as text
    for j in range(frame.shape[1]):
        series = frame.iloc[:, j]
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes = series.cat.codes.to_numpy()
            rendered = pa.array([_quoted(str(c)) for c in series.cat.categories], type=pa.string())
            fields.append(partial(_category_chunk, rendered, codes))
        elif pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            numbers = pa.array(series, from_pandas=True)
            fields.append(partial(_number_chunk, numbers))
        elif pd.api.types.is_string_dtype(series.dtype) and (
                series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")):
            texts = pa.array(series, type=pa.string(), from_pandas=True)
            if _may_need_quotes(texts):
                return None
            fields.append(partial(_text_chunk, texts))
        else:
            return None
    if not fields:
        return None
    header = frame.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8")

    def parts() -> Iterator[Part]:
        comma, newline = pa.scalar(",", type=pa.large_string()), pa.scalar("\n", type=pa.large_string())
        yield header
        for start in range(0, len(frame), ARROW_CSV_CHUNK):
            lines = pc.binary_join_element_wise(
                *(pc.fill_null(field(start), "").cast(pa.large_string()) for field in fields), comma)
            body = pc.binary_join(pa.LargeListArray.from_arrays(pa.array([0, len(lines)], type=pa.int64()), lines),
                                  newline)
            offsets = np.frombuffer(body.buffers()[1], dtype=np.int64)[:2]
            yield memoryview(body.buffers()[2])[int(offsets[0]):int(offsets[1])]  # the buffer itself, no copy
            yield b"\n"

    return parts()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
