"""Property-based tests (hypothesis): arbitrary bytes and CSV-like text through the reader, the roles, the feature
choice and the cleaning. Whatever the input, the outcome is a result or a :class:`ReportgenError` (one clear
line), never another exception; a result keeps its promises (unique column names, data rows numbered 1..n,
skipped lines that are real line numbers). Fixed seed and a bounded number of examples, so CI is repeatable."""

from __future__ import annotations

import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.cleaning.pandas import clean
from reportgen.errors import ReportgenError
from reportgen.inputs.readers import read_table
from reportgen.inputs.roles import with_roles
from reportgen.segmentation.features import choose_features

FUZZ = settings(max_examples=250, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def read_and_clean(data: bytes) -> pd.DataFrame | None:
    """The read and clean stages on ``data``: the cleaned frame, or None when reportgen refused the input."""
    try:
        table = read_table(data, name="fuzz.csv")
    except ReportgenError as exc:
        assert str(exc) and "\n" not in str(exc).strip(), repr(str(exc))
        return None
    frame = table.frame
    assert len(frame) > 0 and frame.columns.is_unique, list(frame.columns)
    assert frame.index.tolist() == list(range(1, len(frame) + 1))
    lines = data.count(b"\n") + data.count(b"\r") + 1
    assert all(1 <= line <= lines for line, _ in table.malformed_lines)
    try:
        dataset = with_roles(table)
        features = choose_features(dataset)
        cleaned = clean(dataset, features=features)
    except ReportgenError as exc:
        assert str(exc), exc
        return None
    account = cleaned.account
    assert account.rows_out == len(cleaned.frame) <= account.rows_in
    return cleaned.frame


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_read_or_refused(data: bytes) -> None:
    read_and_clean(data)


CELLS = st.one_of(
    st.integers(-10**6, 10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "?", "n/a", "NULL", "-", "#DIV/0!", "1,234.5", "€ 12", "12%", "-1", "0", "1",
                     "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "2024-03-31", "31/12/2023",
                     "\"quoted, comma\"", "\"", "'", "\t", "Ann\u00e9", "x" * 300, "\u0000", "\ufeff", "\r"]),
    st.text(string.printable, max_size=12),
)


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    """A header and rows, with the traps: a random delimiter and line end, rows one field short or long, quotes,
    a repeated header, comment lines, and an encoding."""
    width = draw(st.integers(1, 6))
    names = draw(st.lists(st.sampled_from(["id", "CustomerID", "Age", "Income", "Score", "Gender", "", "email",
                                           "phone", "region_code", "spend", "a", "A ", "#"]),
                          min_size=width, max_size=width))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        cells = draw(st.lists(CELLS, min_size=max(0, width - 1), max_size=width + 1))
        rows.append(delimiter.join(cells))
    if rows and draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), delimiter.join(names))
    lines = [delimiter.join(names), *rows]
    if draw(st.booleans()):
        lines.insert(0, "# exported 2026-03-01")
    text = end.join(lines) + draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(csv_texts())
def test_csv_like_text_read_or_refused(data: bytes) -> None:
    read_and_clean(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 120), st.integers(0, 200), st.integers(1, 100)), min_size=1, max_size=60),
       st.integers(0, 60), st.integers(1, 3))
def test_a_wrong_field_count_never_shifts_columns(rows: list[tuple[int, int, int]], where: int, extra: int) -> None:
    """Whatever line gets extra or missing fields, every row that is read holds its own values, in its columns."""
    lines = ["CustomerID,Age,Income,Score"] + [f"{i + 1},{a},{b},{c}" for i, (a, b, c) in enumerate(rows)]
    where = min(where, len(rows) - 1) + 1  # the data row (and customer) to break
    broken = lines[where] + ",x" * extra if where % 2 else ",".join(lines[where].split(",")[:-extra])
    text = "\n".join([*lines[:where], broken, *lines[where + 1:]]) + "\n"
    try:
        table = read_table(text.encode(), name="fuzz.csv")
    except ReportgenError:  # only the header and the broken line: no data row left
        assert len(rows) == 1
        return
    assert table.malformed_lines and table.malformed_lines[0][0] == where + 1
    frame = table.frame
    assert list(frame.columns) == ["CustomerID", "Age", "Income", "Score"]
    expected = {str(i + 1): row for i, row in enumerate(rows) if i + 1 != where}
    assert len(frame) == len(expected)
    for customer, age, income, score in frame.itertuples(index=False):
        assert (int(age), int(income), int(score)) == expected[str(customer)]


@pytest.mark.parametrize("data", [b"\xff\xfe", b"\xfe\xff\x00", b"a\r", b"\r\r\r", b'"', b"a,b\n\"", b"#\n#"])
def test_known_corners(data: bytes) -> None:
    read_and_clean(data)
