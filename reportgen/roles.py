"""What each column is (ID, numeric, categorical, date, free text, empty), from its name and values, and why."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from .clean import missing_markers, parse_numbers
from .model import ColumnInfo, Dataset, Role, Table
from .readers import looks_like_id_name

MAX_CATEGORIES = 50
ROLE_SAMPLE = 20_000  # the value checks look at a fixed-seed sample of this many values
NUMERIC_SHARE = 0.75  # a text column is numeric when this share of its values read as numbers ("?" aside)


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


def with_roles(table: Table) -> Dataset:
    """A table as read, with the role of every column."""
    return Dataset(frame=table.frame, source=table.source, columns=infer_roles(table.frame), rows=len(table.frame),
                   malformed_lines=table.malformed_lines)


def read_dataset(source: Path | bytes | BinaryIO, *, name: str | None = None) -> Dataset:
    """Read a table (:func:`reportgen.readers.read_table`) and infer its column roles: what the pandas engine's
    read stage does, for a notebook."""
    from .readers import read_table

    return with_roles(read_table(Path(source) if isinstance(source, str) else source, name=name))
