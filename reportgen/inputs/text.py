"""Text tables (CSV, TSV, semicolon- and pipe-separated): encoding and delimiter sniffing, comment lines before the
header, lines that do not fit the header, and the pyarrow path for large files."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import InputError
from .base import ARROW_BYTES, HEAD, MAX_NAME_LENGTH, ReadOptions, ReadResult, TextColumns, looks_like_id_name

DELIMITERS = (",", "\t", ";", "|")


# ----------------------------------------------------------------------------- text tables (CSV, TSV, ...)
@dataclass(frozen=True)
class TextFormat:
    """How a text table is written: what the sniffer found."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]  # the column names, stripped of spaces
    name: str = ""  # the file's display name, for messages
    written: tuple[str, ...] = ()  # the column names as the header writes them

    def written_names(self) -> dict[str, str]:
        """{name: as written} for the names the header writes with spaces around them."""
        return {name: raw for name, raw in zip(self.header, self.written, strict=False) if name and raw != name}


def utf16_without_bom(head: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for text written as UTF-16 without a byte order mark (every other byte of the
    first characters is NUL), else None."""
    sample = head[:2048] if len(head) % 2 == 0 else head[:2047]
    if len(sample) < 8:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    half = len(sample) // 2
    if odd >= 0.7 * half and even == 0:
        return "utf-16-le"
    if even >= 0.7 * half and odd == 0:
        return "utf-16-be"
    return None


def decode(data: bytes, *, latin1: bool = True) -> tuple[str, str]:
    """The text and its encoding: UTF-16 (by its byte order mark, or by its NUL bytes without one), UTF-8 with or
    without BOM, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    bomless = utf16_without_bom(data[:HEAD])
    if bomless is not None:
        try:
            return data.decode(bomless), bomless
        except UnicodeDecodeError:
            if not latin1:
                raise
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        if not latin1:
            raise
        return data.decode("latin-1"), "latin-1"


def one_line_end(text: str) -> str:
    """Windows (CR LF), old Mac (CR) and mixed line ends as LF: one line end per line, so line numbers stay."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the number of fields most of the first lines have (the most
    fields, among such); failing that, the one that splits the first lines into the most, equally many, fields
    (',' if none does). A few lines with a field too many or too few do not turn a comma file into a semicolon
    file because a value holds a ';'."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_fields = ",", 1
    fitting: list[tuple[int, str]] = []
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts:
            continue
        header = counts[0]
        if header >= 2 and counts.count(header) >= 0.5 * len(counts):
            fitting.append((header, delimiter))
        distinct = set(counts)
        fields = max(distinct)
        consistent = len(distinct) == 1 or (len(lines) > 2 and len(distinct) <= 2)
        if fields > best_fields and consistent:
            best, best_fields = delimiter, fields
    if fitting:
        return max(fitting, key=lambda pair: (pair[0], -DELIMITERS.index(pair[1])))[1]
    return best


def decode_head(head: bytes) -> tuple[str, str]:
    """:func:`decode` for the first bytes of a file, which may end inside a UTF-8 or UTF-16 character."""
    for cut in range(4):
        try:
            return decode(head[: len(head) - cut] if cut else head, latin1=False)
        except UnicodeDecodeError:
            continue
    try:
        return decode(head)
    except UnicodeDecodeError:
        return head.decode("latin-1"), "latin-1"


def long_name(name: str, place: int, column: str) -> InputError:
    return InputError(f"{name}: the name of column {place} is {len(column):,} characters long, not a column name",
                      hint="Check that the first line (after any comment lines) is the header, with names of at "
                           f"most {MAX_NAME_LENGTH} characters.")


def sniff_text(text: str, encoding: str, name: str) -> TextFormat:
    """Delimiter and header of a text table, from its (first) text. Raises :class:`InputError` for an empty file
    or duplicate column names."""
    if not text.strip():
        raise InputError(f"{name} is empty", hint="Pass a table with a header row and one row per customer.")
    delimiter = sniff_delimiter(text[:65536])
    first_line = text[:max(65536, text.find("\n") + 1)]  # the whole header, however long its line
    with _field_limit():
        written = tuple(next(csv.reader(io.StringIO(first_line), delimiter=delimiter), []))
    header = tuple(col.strip() for col in written)
    long = next((place for place, col in enumerate(header, 1) if len(col) > MAX_NAME_LENGTH), None)
    if long is not None:
        raise long_name(name, long, header[long - 1])
    dupes = sorted({col for col in header if col and header.count(col) > 1})
    if dupes:
        raise InputError(f"{name} has duplicate column names: {', '.join(dupes)}",
                         hint="Give every column a unique name in the header row.")
    return TextFormat(encoding=encoding, delimiter=delimiter, header=header,
                      written=tuple(col.lstrip("\ufeff") for col in written))


def is_text(head: bytes) -> bool:
    """No NUL bytes (a UTF-16 file has them, after its byte order mark or every other byte) and not a zip."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(head):
        return True
    return not head.startswith(b"PK\x03\x04") and b"\x00" not in head


def skip_preamble(text: str) -> tuple[str, int]:
    """The text from its header on: blank lines and ``#`` comment lines before the header (as exports write a
    title, a date or a filter there) are left out. Returns the rest and how many lines were left out."""
    skipped, position = 0, 0
    while True:  # line by line from the top: no list of ten million lines
        end = text.find("\n", position)
        if end < 0:  # the last line is never left out
            break
        line = text[position:end]
        if line.strip() and not line.lstrip().startswith("#"):
            break
        skipped, position = skipped + 1, end + 1
    return (text[position:], skipped) if skipped else (text, 0)


@contextmanager
def _field_limit() -> Iterator[None]:
    """The csv module refuses fields over 128 KiB; a cell holding a long text is still a cell."""
    previous = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


@dataclass(frozen=True)
class Misfits:
    """The records of a text table that are not rows of it: (line, what is wrong), and the lines they take."""

    lines: tuple[tuple[int, str], ...]
    spans: tuple[tuple[int, int], ...]  # (first, last) 1-based line of each, and of lines of spaces, in the text
    last_record: int  # the line the last record starts on (where an unbalanced quote opens)
    trimmed: tuple[int, ...] = ()  # lines ending in one delimiter too many (an empty last field): cut there


def misfits(text: str, fmt: TextFormat, offset: int = 0) -> Misfits:
    """Every record whose number of fields differs from the header's, and every repeat of the header row. pandas
    pads a short row with missing values and, when the first data row is one field longer than the header, takes
    the first column for the row labels, shifting every column one place: both are found here first. ``offset``
    is added to the reported line numbers (the lines left out before the header)."""
    width = len(fmt.header)
    if '"' not in text:
        return _misfits_unquoted(text, fmt, offset)
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    trimmed: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=fmt.delimiter, skipinitialspace=True)
    raw: list[str] = []  # the text's lines, split when a record does not fit
    start = last = 1
    with _field_limit():
        next(reader, None)
        previous = reader.line_num
        for record in reader:
            start, end = previous + 1, reader.line_num
            previous = end
            last = start
            if not record:
                continue
            if len(record) == 1 and not record[0].strip() and end == start:
                spans.append((start, end))  # a line of spaces is a blank line, as Spark reads it: left out
                continue
            if len(record) == width + 1 and not record[width].strip() and end == start:
                trimmed.append(start)  # a delimiter at the end of the line, after the last column
                continue
            if len(record) != width:
                raw = raw or text.split("\n")
                if _opens_a_quote("\n".join(raw[start - 1:end]), fmt.delimiter):
                    raise InputError(
                        f"{fmt_name(fmt)}has an unbalanced quote: the quoted value that starts on line "
                        f"{start + offset} never ends where it should"
                        + (f" (it runs over {end - start + 1} lines)" if end > start else ""),
                        hint="Close the quote, or remove the stray quote character, and export again.")
                why = f"expected {width} fields, saw {len(record)}"
            elif tuple(field.strip().lstrip("\ufeff") for field in record) == fmt.header:
                why = "the header row repeated"
            else:
                continue
            found.append((start + offset, why))
            spans.append((start, end))
    return Misfits(tuple(found), tuple(spans), last + offset, tuple(trimmed))


MISFIT_CHUNK = 1 << 24  # bytes of text counted at once (bounded temporary arrays)


def _misfits_unquoted(text: str, fmt: TextFormat, offset: int) -> Misfits:
    """:func:`misfits` for a text without a quote character, where a line is a record and its fields are its
    delimiters plus one. numpy counts the delimiters of every line (ten million lines in a second, with no Python
    string per line); the lines that could be wrong (another number of fields, or a start like the header's) are
    then judged one by one."""
    width, delimiter = len(fmt.header), fmt.delimiter
    data = text.encode("utf-8")
    if width < 2 or len(delimiter.encode("utf-8")) != 1:
        return _judged(text.split("\n"), range(2, text.count("\n") + 2), fmt, offset)
    raw = np.frombuffer(data, dtype=np.uint8)
    mark, head = ord(delimiter), fmt.header[0].encode("utf-8")
    candidates: list[np.ndarray] = []
    starts_of: list[np.ndarray] = []
    first_line, position = 1, 0  # line number and byte offset of the chunk's first line
    while position < len(raw):
        stop = min(len(raw), position + MISFIT_CHUNK)
        if stop < len(raw):
            cut = data.find(b"\n", stop)
            stop = len(raw) if cut < 0 else cut + 1
        chunk = raw[position:stop]
        ends = np.flatnonzero(chunk == 10)
        line_starts = np.concatenate([[0], ends + 1])
        if line_starts[-1] >= len(chunk):
            line_starts = line_starts[:-1]  # the text ends with a line end: no line after it
        fields = np.bincount(np.searchsorted(ends, np.flatnonzero(chunk == mark)), minlength=len(line_starts))
        fields = fields[:len(line_starts)] + 1
        first = chunk[line_starts]
        suspect = (fields != width) | (first <= 32) | (first == 0xEF)  # spaces, a byte order mark
        if len(head):
            begins = first == head[0]
            for j in range(1, len(head)):
                at = line_starts + j
                begins &= (at < len(chunk)) & (chunk[np.minimum(at, len(chunk) - 1)] == head[j])
            suspect |= begins
        numbers = np.flatnonzero(suspect)
        candidates.append(numbers + first_line)
        starts_of.append(line_starts[numbers] + position)
        first_line += len(line_starts)
        position = stop
    lines_total = text.count("\n") + 1
    picked = np.concatenate(candidates) if candidates else np.zeros(0, dtype=np.int64)
    offsets = np.concatenate(starts_of) if starts_of else np.zeros(0, dtype=np.int64)
    texts = {}
    for number, begin in zip(picked.tolist(), offsets.tolist(), strict=True):
        if number < 2:
            continue
        cut = data.find(b"\n", begin)
        texts[number] = data[begin:cut if cut >= 0 else len(data)].decode("utf-8")
    return _judged(texts, sorted(texts), fmt, offset, last=lines_total if not text.endswith("\n")
                   else lines_total - 1)


def _judged(lines: list[str] | dict[int, str], numbers: object, fmt: TextFormat, offset: int,
            last: int | None = None) -> Misfits:
    """The per-line rule of :func:`_misfits_unquoted` on the lines ``numbers`` (1-based) of ``lines`` (a list of
    every line, or the lines to judge by number)."""
    width, delimiter = len(fmt.header), fmt.delimiter
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    trimmed: list[int] = []
    for number in numbers:  # type: ignore[attr-defined]
        line = lines[number - 1] if isinstance(lines, list) else lines[number]
        fields = line.count(delimiter) + 1
        if fields == 1 and not line.strip():
            if line:
                spans.append((number, number))  # a line of spaces is a blank line
            continue
        if fields == width + 1 and not line.rsplit(delimiter, 1)[1].strip():
            trimmed.append(number)
            continue
        if fields != width:
            why = f"expected {width} fields, saw {fields}"
        elif line.lstrip().lstrip("\ufeff").startswith(fmt.header[0]) and tuple(
                field.strip().lstrip("\ufeff") for field in line.split(delimiter)) == fmt.header:
            why = "the header row repeated"
        else:
            continue
        found.append((number + offset, why))
        spans.append((number, number))
    if last is None:
        assert isinstance(lines, list)
        last = len(lines) if lines[-1] else len(lines) - 1
    return Misfits(tuple(found), tuple(spans), last + offset, tuple(trimmed))


def _opens_a_quote(line: str, delimiter: str) -> bool:
    """An odd number of quotes, one of them opening a field: a quoted value that never closes."""
    return line.count('"') % 2 == 1 and re.search(rf'(^|{re.escape(delimiter)})\s*"', line) is not None


def fmt_name(fmt: TextFormat) -> str:
    return f"{fmt.name} " if fmt.name else ""


def without_lines(text: str, spans: tuple[tuple[int, int], ...], trimmed: tuple[int, ...] = (),
                  delimiter: str = ",") -> str:
    """The text without the given (first, last) 1-based line spans, and with the ``trimmed`` lines cut before
    their last delimiter."""
    drop = {line for first, last in spans for line in range(first, last + 1)}
    cut = set(trimmed)
    return "\n".join(line.rsplit(delimiter, 1)[0] if number in cut else line
                     for number, line in enumerate(text.split("\n"), 1) if number not in drop)


def column_names(header: tuple[str, ...]) -> list[str]:
    """The header, with an empty name given as "column N" (N its 1-based place)."""
    return [name if name else f"column {place}" for place, name in enumerate(header, 1)]


def read_text_table(data: bytes, name: str, options: ReadOptions = ReadOptions()) -> ReadResult:
    """CSV, TSV, semicolon- or pipe-separated text. Records with the wrong number of fields and repeats of the
    header row are skipped and listed (by their line number in the file); blank and ``#`` comment lines before
    the header are left out; a column with no name is "column N", and dropped when it holds no value (a delimiter
    at the end of every line). A NUL byte or an unbalanced quote is refused."""
    fast = _read_large_utf8(data, name)
    if fast is not None:
        return fast
    try:
        text, encoding = decode(data)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is {exc.encoding.upper()} text with a damaged or cut-off character at byte "
                         f"{exc.start}", hint="Export the table again, as CSV in UTF-8.") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{name} has a NUL byte on line {line}: it is a binary or damaged file, not a text table",
                         hint="Export the table again as CSV (UTF-8), or remove the NUL bytes.")
    text, preamble = skip_preamble(one_line_end(text))
    fmt = replace(sniff_text(text, encoding, name), name=name)
    names = column_names(fmt.header)
    id_like = {col: "string" for col in names if looks_like_id_name(col)}
    if len(data) >= ARROW_BYTES and fmt.encoding == "utf-8" and not preamble and "\r" not in text[:HEAD]:
        frame = _read_with_arrow(data, fmt, names, id_like)
        if frame is not None:
            return ReadResult(_without_empty_unnamed(frame, fmt.header), fmt.encoding, fmt.delimiter,
                              written_names=fmt.written_names(),
                              as_text=_text_columns(lambda: io.BytesIO(data), fmt, names))
    bad = misfits(text, fmt, preamble)
    if bad.spans or bad.trimmed:
        text = without_lines(text, bad.spans, bad.trimmed, fmt.delimiter)
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=fmt.delimiter, header=0, names=names, index_col=False, dtype=id_like or None,
            skipinitialspace=True, keep_default_na=False, na_values=[""], on_bad_lines="error", low_memory=False,
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"{name} is empty", hint="Pass a table with a header row and data rows.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1]
        if "EOF inside string" in detail:
            raise InputError(f"{name} has an unbalanced quote: the quoted value that starts on line "
                             f"{bad.last_record} never ends",
                             hint="Close the quote, or remove the stray quote character, and export again.") from exc
        raise InputError(f"{name} cannot be read as a table: {detail}",
                         hint="Check that every line has the same number of fields as the header.") from exc
    if frame.empty and bad.lines:
        line, why = bad.lines[0]
        raise InputError(f"{name}: none of its {len(bad.lines):,} data lines fits the header (line {line}: {why})",
                         hint="Check the delimiter and the quoting; a first column without a name in the header "
                              "(an index column) makes every line one field longer.")
    return ReadResult(_without_empty_unnamed(frame, fmt.header), fmt.encoding, fmt.delimiter, bad.lines,
                      written_names=fmt.written_names(), as_text=_text_columns(lambda: io.StringIO(text), fmt, names))


def _text_columns(opened: Callable[[], io.BytesIO | io.StringIO], fmt: TextFormat, names: list[str]) -> TextColumns:
    """Reads columns of the table again as text (the records the table was read from: misfits are left out)."""
    def read(columns: list[str], rows: int | None) -> pd.DataFrame:
        wanted = set(columns)
        frame = pd.read_csv(opened(), sep=fmt.delimiter, header=0, names=names, index_col=False, dtype=str,
                            usecols=lambda name: str(name).strip() in wanted, nrows=rows, skipinitialspace=True,
                            keep_default_na=False, na_values=[""], low_memory=False)
        frame.columns = [str(name).strip() for name in frame.columns]
        return frame

    return read


def _read_large_utf8(data: bytes, name: str) -> ReadResult | None:
    """A large UTF-8 file without a byte order mark, NUL bytes, a preamble or CR line ends in its head, read by
    pyarrow from its bytes: the delimiter and header are sniffed on the head, so ten million lines are never
    decoded to one Python string (230 MB and half a second). None when any of that does not hold, or pyarrow
    cannot read it as it is: the full reader then decodes the text and explains."""
    if len(data) < ARROW_BYTES or data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) \
            or b"\r" in data[:HEAD] or b"\x00" in data:
        return None
    head = data[:65536]
    try:
        text, encoding = decode(head[:head.rfind(b"\n") + 1] or head, latin1=False)
    except UnicodeDecodeError:
        return None
    if encoding != "utf-8" or skip_preamble(text)[1] or "\n" not in text:
        return None
    fmt = replace(sniff_text(text, encoding, name), name=name)
    names = column_names(fmt.header)
    frame = _read_with_arrow(data, fmt, names, {col: "string" for col in names if looks_like_id_name(col)})
    if frame is None or any(_holds_bytes(frame[col]) for col in frame.columns):
        return None  # a byte that is not UTF-8 further down: pyarrow gives its column as bytes
    return ReadResult(_without_empty_unnamed(frame, fmt.header), fmt.encoding, fmt.delimiter,
                      written_names=fmt.written_names(), as_text=_text_columns(lambda: io.BytesIO(data), fmt, names))


def _holds_bytes(values: pd.Series) -> bool:
    present = values.dropna().head(1) if values.dtype == object else values.iloc[:0]
    return len(present) > 0 and isinstance(present.iloc[0], bytes)


def _without_empty_unnamed(frame: pd.DataFrame, header: tuple[str, ...]) -> pd.DataFrame:
    """A column without a name and without a value is a delimiter at the end of the lines: not a column."""
    empty = [frame.columns[i] for i, col in enumerate(header) if not col and frame.iloc[:, i].isna().all()]
    return frame.drop(columns=empty) if empty else frame


def _read_with_arrow(data: bytes, fmt: TextFormat, names: list[str], id_like: dict[str, str]
                     ) -> pd.DataFrame | None:
    """pyarrow's multithreaded CSV reader, three times faster on large files; None when pyarrow is missing, or
    the file has lines with the wrong number of fields or the header repeated (the C reader then reads it again
    and reports their line numbers)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # IDs as pyarrow strings: ten million of them take 0.1 GB, not 0.7 GB of Python str objects
            frame = pd.read_csv(io.BytesIO(data), sep=fmt.delimiter, engine="pyarrow", header=0, names=names,
                                dtype={c: pd.StringDtype("pyarrow") for c in id_like} or None,
                                keep_default_na=False, na_values=[""], on_bad_lines="error")
        except Exception:  # pyarrow's own errors: let the C reader try and explain
            return None
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught) or frame.shape[1] != len(names):
        return None
    first = frame.iloc[:, 0]
    text = first.dtype == object or isinstance(first.dtype, pd.StringDtype) or str(first.dtype) == "str"
    if text and first.astype("string").str.strip().eq(fmt.header[0]).any():
        return None  # the header repeated inside the data
    return frame
