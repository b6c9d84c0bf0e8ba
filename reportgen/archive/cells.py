"""Spreadsheet-safe CSV cells (OWASP "CSV injection"): a text cell that a spreadsheet would run as a formula.

A cell of a CSV that reportgen writes is a formula to Excel, LibreOffice or Google Sheets when it starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one): a customer ID or category such as
``=HYPERLINK("http://...")`` would run when the file is opened. :func:`escape_cell` puts a ``'`` before such a
text, which spreadsheets show as text; numbers (numeric columns, and text that is a plain number such as ``-5``)
are left as they are. :func:`unescape_cell` takes the ``'`` off again, so that an ID read back from segments.csv
joins with the input's.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def needs_escape(text: str) -> bool:
    """A formula to a spreadsheet, or such a text behind ``'`` (escaped too, so that unescaping gives it back)."""
    bare = text.lstrip("'")
    return bare.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(bare)


def escape_cell(value: object) -> object:
    """``'`` + the text when a spreadsheet would take it for a formula; any other value unchanged."""
    return "'" + value if isinstance(value, str) and needs_escape(value) else value


def unescape_cell(value: object) -> object:
    """The text :func:`escape_cell` was given."""
    if isinstance(value, str) and value.startswith("'") and needs_escape(value[1:]):
        return value[1:]
    return value


def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
                or pd.api.types.is_datetime64_any_dtype(series.dtype))


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and column name that a spreadsheet would run escaped; numeric columns, and
    a frame with nothing to escape, are returned as they are (no copy)."""
    out = frame
    for place, column in enumerate(frame.columns):
        series = frame.iloc[:, place]
        if not _is_text(series):
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = [escape_cell(c) for c in series.cat.categories]
            if categories != list(series.cat.categories):
                out = out.copy() if out is frame else out
                out[column] = series.cat.rename_categories(categories)
            continue
        text = series.dropna()
        if text.dtype == object and pd.api.types.infer_dtype(text, skipna=True) != "string":  # mixed: the texts
            text = text[text.map(lambda v: isinstance(v, str))]
        text = text.astype(str)
        if len(text) and text.str.lstrip("'").str.startswith(FORMULA_START).any():
            out = out.copy() if out is frame else out
            out[column] = series.map(escape_cell).astype(series.dtype if series.dtype != "category" else object)
    names = [escape_cell(str(c)) for c in out.columns]
    if names != [str(c) for c in out.columns]:
        out = out.copy() if out is frame else out
        out.columns = names
    return out


def unescape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read back from a CSV reportgen wrote, with :func:`escape_cell`'s ``'`` taken off again."""
    out = frame.copy()
    out.columns = [str(unescape_cell(str(c))) for c in out.columns]
    for column in out.columns:
        if not _is_text(out[column]):
            continue
        out[column] = out[column].map(unescape_cell)
    return out
