"""What each column is (ID, numeric, categorical, date, free text, empty), from its name and values, and why;
and whether a numeric column is clustered by default.

What a careful analyst would decide from a look at the column:

* **IDs**: named like one (``CustomerNo``, ``client_id``) and nearly unique; or unique whole numbers that count
  rows (1..n) or are long codes of one length (a 9-digit customer number). Never a feature.
* **Codes**: a few small whole numbers named like a code (``region_code`` 1-4, ``Channel``), or 2-6 consecutive
  small values with no count or score in the name, are categories: profiled, not clustered as numbers. 0/1 flags
  are categories too.
* **Personal data**: e-mail addresses, phone numbers, personal names and postal addresses (by the column's name
  or its values, :data:`PERSONAL`) are never clustered, profiled or shown: the report counts them only.
* **Numeric columns that are profiled, not clustered**: almost constant (one value in :data:`NEAR_CONSTANT` of
  the rows), or mostly missing or a "not applicable" code (:func:`reportgen.values.find_sentinel`; a sentinel in
  more than :data:`MOSTLY_MISSING` of the rows).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from ..model import ColumnInfo, Dataset, NumberFormat, Role, Table
from ..values import DECIMAL_WORDS, find_sentinel, missing_markers, parse_numbers, value_counts
from .base import looks_like_id_name

MAX_CATEGORIES = 50
MAX_CATEGORY_LENGTH = 100  # a value longer than this is text, not a category name a report can show
ROLE_SAMPLE = 20_000  # the value checks look at a fixed-seed sample of this many values
NUMERIC_SHARE = 0.75  # a text column is numeric when this share of its values read as numbers ("?" aside)
NEAR_CONSTANT = 0.95  # a numeric column with one value in this share of its rows is not clustered
MOSTLY_MISSING = 0.5  # ... nor one missing (or "not applicable") in more than this share of its rows
MAX_CODES = 10  # a code column has at most this many distinct values
ID_DIGITS = 6  # unique whole numbers of one length with at least this many digits are an ID
_CODE_NAME = re.compile(
    r"(^|[\s_\-])(code|cd|region|channel|type|category|cat|class|group|segment|zone|area|branch|store|status"
    r"|tier|level|cluster|flag|gender|sex)($|[\s_\-])|(Code|Type|Region|Channel|Group)$",
    re.IGNORECASE,
)
_QUANTITY_NAME = re.compile(
    r"count|number|num|qty|quantity|orders|visits|purchases|items|children|kids|dependents|members|times|age"
    r"|score|rating|days|months|years|\(", re.IGNORECASE)


_PERSON = r"(customer|client|contact|member|person|account|holder|user|buyer|card ?holder)"
_SEP = r"[\s_\-.]?"
_OWNER = (r"((customer|client|contact|primary|work|private|personal|home|business|billing|shipping|mailing|delivery"
          rf"|postal){_SEP})?")
PERSONAL: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = (
    # (what it is, a column name that says so, values that show it: at least PERSONAL_SHARE of them). The names
    # are anchored at both ends: "Email" and "Customer E-Mail-Adresse" are e-mail addresses, "Has Email" and
    # "email_opens" are not; "Address Count", "Smartphone", "Phone Calls" are not.
    ("e-mail addresses", re.compile(rf"^{_OWNER}e-?mail({_SEP}(address|addr|adresse))?$|^mail{_SEP}address$",
                                    re.IGNORECASE),
     re.compile(r"[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}")),
    ("phone numbers", re.compile(
        rf"^{_OWNER}(phone|mobile|tel|telephone|telefon|cell|cellphone|fax|handy)"
        rf"({_SEP}(no|nr|number|num|#|\d)\.?)?\.?$|^contact{_SEP}(no|number)$", re.IGNORECASE),
     # with a "+", "00" or parentheses and separators, or three groups ending in four digits: 00000123 is an ID
     re.compile(r"(\+|00)\d{1,3}[\s.\-]\(?\d{1,4}\)?([\s.\-]\d{2,8}){1,4}|\+\d{6,15}|\(\d{2,4}\)\s?\d{3,4}[\s.\-]?\d{3,4}"
                r"|\d{3,5}[\s.\-/]\d{3,4}[\s.\-]\d{4}")),
    ("personal names", re.compile(
        rf"^(({_PERSON}|first|last|given|family|full|sur|fore|middle|maiden){_SEP})?names?$|^surname$|^forename$"
        rf"|^{_PERSON}{_SEP}(full{_SEP})?names?$|^name{_SEP}of{_SEP}(the{_SEP})?{_PERSON}$", re.IGNORECASE), None),
    ("postal addresses", re.compile(
        rf"^{_OWNER}(address|street|addr|street{_SEP}address)({_SEP}(line)?{_SEP}\d)?$"
        rf"|^{_OWNER}(post{_SEP}code|postal{_SEP}code|postcode|zip|zip{_SEP}code|plz|house{_SEP}(no|number))$"
        rf"|^stra(ss|ß)e$", re.IGNORECASE),
     re.compile(r"\d+[A-Za-z]?,?\s+(\w+\.?\s+){0,4}(street|st|road|rd|avenue|ave|lane|ln|drive|dr|way|blvd|boulevard"
                r"|court|ct|place|pl|square|sq|terrace|close|crescent)\.?(\W.*)?|.*(stra(ss|ß)e|str\.|weg|gasse|platz)"
                r"\s*\d+.*", re.IGNORECASE)),
)
PERSONAL_SHARE = 0.8  # the values of a column are e-mail addresses (...) when this share of them match


def personal_data(name: str, values: pd.Series) -> str | None:
    """What personal data a column holds ("e-mail addresses", ...), from its name or its text values; else None.
    ``values`` are the present values (a sample)."""
    for what, named, _ in PERSONAL:
        if named.search(name.strip()):
            return what
    if pd.api.types.is_numeric_dtype(values) or values.empty or looks_like_id_name(name):
        return None  # an ID column (even of e-mail addresses) is the key segments.csv is joined back on
    text = values.astype(str).str.strip()
    for what, _, shaped in PERSONAL:
        if shaped is not None and text.str.fullmatch(shaped).mean() >= PERSONAL_SHARE:
            return what
    return None


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


def _id_like_numbers(numbers: pd.Series, n_rows: int) -> str | None:
    """Why unique whole numbers are an ID (a row number, or long codes of one length), or None."""
    low, high = float(numbers.min()), float(numbers.max())
    if high - low == n_rows - 1:
        return "unique consecutive whole numbers (a row number)"
    digits = numbers.abs().astype(np.int64).astype(str).str.len()
    if low >= 0 and digits.min() >= ID_DIGITS and digits.nunique() == 1:
        return f"unique {digits.iloc[0]}-digit whole numbers (a customer number)"
    return None


def _codes(name: str, numbers: pd.Series, unique: int) -> str | None:
    """Why a few small whole numbers are category codes, or None."""
    if unique > MAX_CODES or not _is_integer_valued(numbers) or numbers.min() < 0 or numbers.max() > 99:
        return None
    distinct = np.sort(numbers.unique())
    if _CODE_NAME.search(name):
        return f"{unique} whole-number codes ({', '.join(f'{v:g}' for v in distinct)}), named like a code"
    consecutive = distinct[-1] - distinct[0] == unique - 1 and distinct[0] in (0, 1)
    if unique <= 6 and consecutive and not _QUANTITY_NAME.search(name):
        return f"{unique} consecutive whole-number codes ({distinct[0]:g}-{distinct[-1]:g})"
    return None


def _profiled_only(numbers: pd.Series, n_rows: int, missing: int) -> str | None:
    """Why a numeric column is profiled but not clustered by default, or None."""
    counts = value_counts(numbers.reset_index(drop=True))
    sentinel = find_sentinel(counts)
    total = len(numbers) + missing
    if sentinel is not None:
        share = float(counts.loc[counts["value"] == sentinel, "count"].sum()) / max(len(numbers), 1)
        if share > MOSTLY_MISSING:
            return f"{sentinel:g} (a 'not applicable' code) in {share:.0%} of the rows: profiled, not clustered"
    if total and missing / total > MOSTLY_MISSING:
        return f"missing in {missing / total:.0%} of the rows: profiled, not clustered"
    top = int(counts["count"].max()) if len(counts) else 0
    if len(numbers) and top / len(numbers) >= NEAR_CONSTANT:
        value = counts.loc[counts["count"].idxmax(), "value"]
        return f"almost constant ({top / len(numbers):.0%} of the rows are {float(value):g}): profiled, not clustered"
    return None


def sampled(values: pd.Series, size: int = ROLE_SAMPLE) -> pd.Series:
    """A fixed-seed sample of ``size`` values in their order (all of them when there are no more); positions drawn
    by numpy, where ``Series.sample`` shuffles every row (half a second on ten million)."""
    if len(values) <= size:
        return values
    return values.iloc[np.sort(np.random.default_rng(0).choice(len(values), size, replace=False))]


def infer_column(name: str, values: pd.Series, *, n_rows: int, have_id: bool, distinct: int | None = None,
                 decimal: str | None = None) -> tuple[Role, str, bool]:
    """One column's role, the reason, and whether it is clustered by default (``distinct``: the number of distinct
    present values, when the caller has counted them; ``decimal``: the decimal mark of its numbers written as
    text)."""
    role, why = infer_role(name, values, n_rows=n_rows, have_id=have_id, distinct=distinct, decimal=decimal)
    if role != "numeric":
        return role, why, False
    present = values.dropna()
    present = present[~missing_markers(present)]
    numbers = present if pd.api.types.is_numeric_dtype(present) else parse_numbers(present, decimal)[0].dropna()
    numbers = sampled(numbers)
    aside = _profiled_only(numbers.astype(float), n_rows, int(len(values) - len(present)))
    return ("numeric", f"{why}; {aside}", False) if aside else ("numeric", why, True)


def _large_id(name: str, values: pd.Series, distinct: int, decimal: str | None = None) -> bool:
    """A column named like an identifier in a table above ROLE_SAMPLE rows whose values are (nearly) all distinct
    and, on a fixed-seed sample, whole numbers or text: an ID, known without parsing ten million distinct values
    (a missing marker such as "?" is one value, and cannot change "nearly all distinct")."""
    present = values.dropna()
    if len(present) <= ROLE_SAMPLE or not looks_like_id_name(name) or distinct < 0.8 * len(present):
        return False
    sample = sampled(present)
    sample = sample[~missing_markers(sample)]
    if pd.api.types.is_numeric_dtype(values):
        return _is_integer_valued(sample)
    parsed = parse_numbers(sample, decimal)[0]
    return parsed.notna().sum() < NUMERIC_SHARE * len(sample) or _is_integer_valued(parsed.dropna())


def infer_role(name: str, values: pd.Series, *, n_rows: int, have_id: bool, distinct: int | None = None,
               decimal: str | None = None) -> tuple[Role, str]:
    """One column's role and the reason, from its name and values (``distinct``: the number of distinct present
    values, when the caller has counted them: hashing ten million texts takes a second; ``decimal``: the decimal
    mark of its numbers written as text, as :func:`reportgen.values.decide_numbers` decided)."""
    if distinct is None:
        distinct = int(values.nunique(dropna=True))
    if _large_id(name, values, distinct, decimal):
        return "id", "named like an identifier and (nearly) unique"
    present = values.dropna()
    markers = missing_markers(present)  # "?", "n/a" ... are missing values written as text
    present = present[~markers] if markers.any() else present
    if present.empty:
        return "empty", "every value is missing"
    unique = int(present.nunique()) if markers.any() else distinct
    unique_ratio = unique / len(present)
    present = sampled(present)  # the checks below look at values, and a fixed-seed sample tells as much
    if pd.api.types.is_bool_dtype(values):
        return "categorical", "true/false values"
    personal = personal_data(name, present)
    if personal:
        return "personal", f"{personal}: personal data, never clustered or shown (counted only)"
    numeric = pd.api.types.is_numeric_dtype(values)
    numbers = present if numeric else None
    if not numeric:
        parsed, _ = parse_numbers(present, decimal)
        if parsed.notna().sum() >= NUMERIC_SHARE * len(present) and parsed.notna().any():
            numeric, numbers = True, parsed.dropna()
    if looks_like_id_name(name) and unique_ratio >= 0.8 and (numbers is None or _is_integer_valued(numbers)):
        return "id", "named like an identifier and (nearly) unique"
    if numeric and numbers is not None:
        return _numeric_role(name, values, numbers, unique=unique, n_rows=n_rows, have_id=have_id, decimal=decimal)
    return _text_role(present, unique=unique, unique_ratio=unique_ratio, n_rows=n_rows, have_id=have_id)


def _numeric_role(name: str, values: pd.Series, numbers: pd.Series, *, unique: int, n_rows: int, have_id: bool,
                  decimal: str | None) -> tuple[Role, str]:
    """A column of numbers: an ID that counts rows, a flag or a code (categories), or numeric."""
    full = values if pd.api.types.is_numeric_dtype(values) else None
    if not have_id and full is not None and unique == n_rows and n_rows >= 20 and _is_integer_valued(numbers):
        why_id = _id_like_numbers(full.dropna(), n_rows)
        if why_id:
            return "id", why_id
    if unique <= 2:
        flag = unique == 2 and set(np.unique(numbers.to_numpy(dtype=float)).tolist()) == {0.0, 1.0}
        return "categorical", ("a 0/1 flag" if flag else f"only {unique} distinct value{'s' if unique > 1 else ''}")
    codes = _codes(name, numbers.astype(float), unique)
    if codes:
        return "categorical", codes
    if pd.api.types.is_numeric_dtype(values):
        return "numeric", "numbers"
    return "numeric", "numbers stored as text" + (f", with {DECIMAL_WORDS[decimal]}" if decimal == "," else "")


def _text_role(present: pd.Series, *, unique: int, unique_ratio: float, n_rows: int, have_id: bool
               ) -> tuple[Role, str]:
    """A column of text: dates, categories, a key, or free text."""
    if _looks_like_dates(present):
        return "date", "dates (not used for clustering)"
    lengths = present.astype(str).str.len()
    if unique <= MAX_CATEGORIES and (unique_ratio <= 0.5 or unique <= 10) and lengths.max() <= MAX_CATEGORY_LENGTH:
        return "categorical", f"{unique} distinct values"
    if (not have_id and unique == n_rows and n_rows >= 20 and lengths.max() <= 40
            and not present.astype(str).str.contains(r"\s").any()):
        return "id", "unique short codes (a key)"
    if lengths.mean() > 30 or present.astype(str).str.contains(r"\s\S+\s").mean() > 0.5:
        return "text", "free text (ignored)"
    return "text", f"{unique} distinct values: too many to profile (ignored)"


class DistinctCounts:
    """The number of distinct present values of each column of one frame, each counted once, when first asked:
    the read stage asks for the customer ID twice (is the table a log? is it an ID?), and ten million distinct IDs
    take two seconds to hash."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._counts: dict[object, int] = {}

    def __getitem__(self, column: object) -> int:
        if column not in self._counts:
            self._counts[column] = int(self._frame[column].nunique(dropna=True))
        return self._counts[column]


def infer_roles(frame: pd.DataFrame, counts: DistinctCounts | None = None, numbers: NumberFormat | None = None
                ) -> tuple[ColumnInfo, ...]:
    """Roles of every column (``counts``: the frame's distinct counts, when the caller has some already;
    ``numbers``: the decimal marks of the text columns). At most the first ID-like column is inferred from values
    alone."""
    numbers = numbers or NumberFormat()
    counts = counts or DistinctCounts(frame)
    infos: list[ColumnInfo] = []
    have_id = False
    for name in frame.columns:
        values = frame[name]
        distinct = counts[name]
        role, why, feature = infer_column(name, values, n_rows=len(frame), have_id=have_id, distinct=distinct,
                                          decimal=numbers.mark(str(name)))
        have_id = have_id or role == "id"
        infos.append(ColumnInfo(name=name, role=role, dtype=str(values.dtype), missing=int(values.isna().sum()),
                                unique=distinct, why=why, feature=feature))
    return tuple(infos)


def with_roles(table: Table, counts: DistinctCounts | None = None) -> Dataset:
    """A table as read, with the role of every column."""
    return Dataset(frame=table.frame, source=table.source,
                   columns=infer_roles(table.frame, counts, table.source.numbers),
                   rows=len(table.frame), malformed_lines=table.malformed_lines)


def read_dataset(source: Path | bytes | BinaryIO, *, name: str | None = None) -> Dataset:
    """Read a table (:func:`reportgen.inputs.readers.read_table`) and infer its column roles: what the pandas engine's
    read stage does, for a notebook."""
    from .readers import read_table

    return with_roles(read_table(Path(source) if isinstance(source, str) else source, name=name))
