"""The value vocabulary every stage may use (a leaf: it imports only the model and the errors): numbers written as
text and their decimal and thousands marks; text that stands for a missing value ("?", "n/a") and spreadsheet
errors; "not applicable" sentinels (-1, 999); a column's distinct values and counts; the text of a categorical
column's levels.

Which mark is the decimal one is decided per file from the values, before the roles are inferred
(:func:`decide_numbers`), and each text column's numbers are then read with it (:func:`parse_numbers`):

* A value shows its convention when it can be read only one way: both marks (``1.234,5``, ``1,234.5``), one mark
  repeated (``1.234.567``), or one mark not followed by a group of exactly three digits (``3,5``, ``12.25``,
  ``0,125``, ``1234.5``).
* ``1.234`` and ``1,234`` are ambiguous: a thousands mark (1234) or a decimal one (1.234). A column of them follows
  the convention its own other values show; failing that, the rest of the file's; failing that, a comma-delimited
  file's (a decimal comma would need quotes around every number: such files use ``;``). Where nothing tells,
  reportgen refuses with one line rather than guess a factor of 1,000 (``--decimal`` says).
* A column whose values disagree follows its majority; the values of the other convention are not numbers (the
  data quality account lists them).

No library serves here: babel's ``parse_decimal`` and the standard ``locale`` module read one value in a locale
named beforehand, and price-parser guesses each value alone (``1.234`` is 1.234 in one row and ``1.234,5`` is
1234.5 in the next), while the decision must be made from a whole file's values. Once the marks are decided, the
reading itself is pandas' vectorised string methods and ``to_numeric``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from .errors import InputError
from .model import NumberFormat

Decimal = Literal[".", ","]
DECIMALS: tuple[Decimal, ...] = (".", ",")
DECIMAL_WORDS = {".": "a decimal point", ",": "a decimal comma"}
READS = {".": "1,234.5 is 1234.5", ",": "1.234,5 is 1234.5"}
THOUSANDS = {".": ",", ",": "."}  # the thousands mark that goes with each decimal mark (and ' and spaces, always)
SAMPLE_ROWS = 20_000  # the decision looks at the distinct values of a fixed-seed sample of this many rows a column
_NOISE = re.compile(r"[\s$€£¥%]")  # currency and percent signs and spaces (thin and no-break ones too)
_SIGNED = r"^[-+]?"
# a value that shows its convention; {m}: the decimal mark, {t}: the thousands mark
_SHOWS = (r"\d{{1,3}}([{t}']\d{{3}})+{m}\d+$", r"\d{{1,3}}({t}\d{{3}}){{2,}}$", r"\d*{m}\d+([eE][-+]?\d+)?$")
_AMBIGUOUS = r"[1-9]\d{{0,2}}{m}\d{{3}}$"  # one mark before exactly three digits: 1.234 or 1,234


@dataclass(frozen=True)
class Evidence:
    """What one column's distinct values tell of its decimal mark."""

    point: int = 0  # values readable only with a decimal point
    comma: int = 0  # ... only with a decimal comma
    ambiguous: tuple[str, ...] = ()  # examples of values readable both ways (1.234)
    shown: Mapping[str, str] | None = None  # an example value of each convention

    @property
    def decided(self) -> Decimal | None:
        if self.point > self.comma:
            return "."
        if self.comma > self.point:
            return ","
        return None


def _pattern(template: str, decimal: Decimal) -> re.Pattern[str]:
    return re.compile(_SIGNED + template.format(m=re.escape(decimal), t=re.escape(THOUSANDS[decimal])))


_SHOWING = {decimal: tuple(_pattern(t, decimal) for t in _SHOWS) for decimal in DECIMALS}
_AMBIGUOUS_BY = {decimal: _pattern(_AMBIGUOUS, decimal) for decimal in DECIMALS}


def _core(values: pd.Series) -> pd.Series:
    """Text values without currency and percent signs and spaces."""
    return values.astype("string").str.replace(_NOISE, "", regex=True)


def evidence(values: pd.Series) -> Evidence:
    """What the distinct text ``values`` of one column show of the decimal mark."""
    present = values.dropna()
    if present.empty or pd.api.types.is_numeric_dtype(present) or pd.api.types.is_bool_dtype(present):
        return Evidence()
    core = _core(pd.Series(pd.unique(present.astype(str)), dtype=object)).dropna()
    core = core[core.str.contains(r"[.,]\d", regex=True)]
    if core.empty:
        return Evidence()
    ambiguous = pd.Series(False, index=core.index)
    for pattern in _AMBIGUOUS_BY.values():
        ambiguous |= core.str.fullmatch(pattern).fillna(False).astype(bool)
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    for decimal in DECIMALS:
        shows = pd.Series(False, index=core.index)
        for pattern in _SHOWING[decimal]:
            shows |= core.str.fullmatch(pattern).fillna(False).astype(bool)
        shows &= ~ambiguous
        counts[decimal] = int(shows.sum())
        if counts[decimal]:
            shown[decimal] = str(core[shows].iloc[0])
    return Evidence(point=counts["."], comma=counts[","], ambiguous=tuple(core[ambiguous].head(3).astype(str)),
                    shown=shown)


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                              or pd.api.types.is_bool_dtype(frame[c])
                                              or pd.api.types.is_datetime64_any_dtype(frame[c]))]


def _sample(values: pd.Series, seed: int = 0) -> pd.Series:
    if len(values) <= SAMPLE_ROWS:
        return values
    return values.iloc[np.sort(np.random.default_rng(seed).choice(len(values), SAMPLE_ROWS, replace=False))]


def decide_numbers(frame: pd.DataFrame, *, name: str, delimiter: str | None = None, decimal: str | None = None,
                   written: pd.DataFrame | None = None) -> NumberFormat:
    """The decimal mark of every text column of ``frame`` that holds numbers with a mark, and of the file.

    ``decimal``: the mark the user gave (``--decimal``), which every such column is read with. ``written``: the
    text of columns a parser read as numbers (a sample of rows), which the decision takes into account as text
    (a CSV parser reads ``1.234`` as 1.234). Raises :class:`InputError` when a column's values could be read both
    ways by a factor of 1,000 and nothing in the file tells which."""
    columns = {str(c): frame[c] for c in _text_columns(frame)}
    if written is not None:
        columns.update({str(c): written[c] for c in written.columns})
    found = {c: evidence(_sample(values)) for c, values in columns.items()}
    found = {c: e for c, e in found.items() if e.point or e.comma or e.ambiguous}
    if not found:
        return NumberFormat()
    if decimal is not None:
        return NumberFormat(columns=dict.fromkeys(found, decimal), decimal=decimal,
                            how=f"{DECIMAL_WORDS[decimal]}, as --decimal {decimal} says")
    decided = {c: e.decided for c, e in found.items() if e.decided is not None}
    conventions = set(decided.values())
    undecided = [c for c, e in found.items() if e.decided is None]
    file_mark: Decimal | None = next(iter(conventions)) if len(conventions) == 1 else None
    why: str
    if file_mark is not None:
        column = next(c for c, m in decided.items() if m == file_mark)
        example = (found[column].shown or {}).get(file_mark, "")
        why = f"as values such as \u2018{example}\u2019 in {column} show"
    elif not conventions and delimiter == ",":
        file_mark, why = ".", "as in a comma-delimited file, whose decimal commas would each need quotes"
    if undecided and file_mark is None:
        column = undecided[0]
        examples = ", ".join(f"\u2018{v}\u2019" for v in found[column].ambiguous[:2])
        first = found[column].ambiguous[0] if found[column].ambiguous else "1.234"
        mark = "." if "." in first else ","
        raise InputError(
            f"{name}: the numbers in column {column!r} ({examples}) can be read with {mark!r} as the thousands mark "
            f"or as the decimal mark, a factor of 1,000 apart, and "
            + ("the file's other columns disagree" if conventions else "nothing else in the file tells which"),
            hint=f"Say which mark is the decimal one: --decimal {',' if mark == '.' else '.'} reads "
                 f"{first} as {_as_number(first, ',' if mark == '.' else '.')}, --decimal {mark} as "
                 f"{_as_number(first, mark)}.")
    marks: dict[str, str] = {**decided, **dict.fromkeys(undecided, file_mark)} if file_mark else dict(decided)
    if file_mark is None:  # columns disagree with each other, and each is decided by its own values
        shown = sorted(set(marks.values()))
        return NumberFormat(columns=marks, decimal=None,
                            how="decided column by column: " + "; ".join(
                                f"{DECIMAL_WORDS[m]} in {', '.join(c for c, v in marks.items() if v == m)}"
                                for m in shown))
    return NumberFormat(columns=marks, decimal=file_mark,
                        how=f"{DECIMAL_WORDS[file_mark]} ({READS[file_mark]}), {why}")


def _as_number(text: str, decimal: str) -> str:
    value = parse_numbers(pd.Series([text]), decimal)[0].iloc[0]
    return "?" if pd.isna(value) else f"{value:g}"


# ----------------------------------------------------------------------------- reading numbers written as text
def per_unique(values: pd.Series, function: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``function`` applied to the distinct values only, then spread back (a million rows of "Male"/"Female"
    are two values to look at). ``function`` takes and returns a Series; missing values stay missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    result = function(pd.Series(uniques, dtype=values.dtype if len(uniques) else object)).to_numpy()
    if isinstance(values.dtype, pd.CategoricalDtype) and result.dtype == object:  # texts stay categories
        texts, levels = pd.factorize(pd.Series(result, dtype=object), use_na_sentinel=True)
        spread = np.where(codes >= 0, texts[np.maximum(codes, 0)], -1) if len(texts) else np.full(len(codes), -1)
        return pd.Series(pd.Categorical.from_codes(spread, pd.Index(levels, dtype=object)), index=values.index)
    if codes.min(initial=0) >= 0 and len(uniques):
        return pd.Series(result[codes], index=values.index)
    padded = np.concatenate([result, np.array([None], dtype=object)]) if result.dtype == object else \
        np.concatenate([result, np.array([np.nan])])
    return pd.Series(padded[codes], index=values.index)


def _read(uniques: pd.Series, decimal: str) -> pd.Series:
    """Distinct text values as numbers with ``decimal`` as the decimal mark (NaN where they are not numbers)."""
    text = _core(uniques).str.strip()
    grouping = f"[{re.escape(THOUSANDS[decimal])}']"
    for _ in range(3):  # 1,234,567: each pass removes one mark per group boundary
        text = text.str.replace(rf"([0-9]){grouping}([0-9]{{3}})\b", r"\1\2", regex=True)
    other = THOUSANDS[decimal]
    text = text.where(~text.str.contains(other, regex=False).fillna(False))  # a stray mark: not a number
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def column_decimal(values: pd.Series) -> Decimal:
    """A column's decimal mark from its own values alone (a decimal point unless they show a comma)."""
    return evidence(_sample(values)).decided or "."


def parse_numbers(values: pd.Series, decimal: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Read numbers stored as text: ``" 12 "``, ``"1,234"``, ``"$1,200.50"``, ``"45%"``, ``"3,5"``, with
    ``decimal`` as the decimal mark (None: the one the values themselves show, else a point).

    Returns ``(numbers, unreadable)``: floats (NaN where unreadable or missing) and a mask of the values that
    were present but are not numbers (``"?"``, ``"abc"``, ``"3,5"`` read with a decimal point).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)
    mark = decimal or column_decimal(values)
    numbers = per_unique(values, lambda uniques: _read(uniques, mark)).astype(float)
    return numbers, (numbers.isna() & values.notna()).astype(bool)


MISSING_LABEL = "(missing)"
MARKERS = frozenset({"?", "-", "--", "n/a", "na", "n.a.", "null", "none", "nan", "#n/a", "missing", ".", "nil"})
SPREADSHEET_ERRORS = frozenset({"#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!"})
SENTINEL_SHARE = 0.01  # a sentinel stands in at least this share of the rows
# values that stand for "not applicable" when they lie apart from the column's other values
NEGATIVE_SENTINELS = (-1.0, -9.0, -99.0, -999.0, -9999.0)  # ... when every other value is >= 0
HIGH_SENTINELS = (999.0, 9999.0, 99999.0, 999999.0)  # ... when above twice every other value


def holds_text(values: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))


def text_in(values: pd.Series, vocabulary: frozenset[str]) -> pd.Series:
    """True where a text value, stripped and lower-cased, is in ``vocabulary``."""
    if not holds_text(values):
        return pd.Series(False, index=values.index)

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = np.zeros(len(uniques) + 1, dtype=bool)  # the last place: missing values (code -1), never in it
    if len(uniques):
        found[:-1] = pd.Series(uniques, dtype=object).astype("string").str.strip().str.lower() \
            .isin(vocabulary).fillna(False).to_numpy(dtype=bool)
    return pd.Series(found[codes], index=values.index)


def missing_markers(values: pd.Series) -> pd.Series:
    """True where a value is text that stands for a missing value: ``"?"``, ``"n/a"``, ``"NULL"``, ``"-"``..."""
    return text_in(values, MARKERS)


def find_sentinel(counts: ValueCounts) -> float | None:
    """The value that stands for "not applicable" in a numeric column, from its distinct values and counts: one
    of :data:`NEGATIVE_SENTINELS` when every other value is >= 0, or of :data:`HIGH_SENTINELS` when above twice
    every other value, in at least :data:`SENTINEL_SHARE` of the rows. None when there is none."""
    values = pd.to_numeric(counts["value"], errors="coerce")
    present = counts.assign(value=values)[values.notna()]
    total = int(present["count"].sum())
    if total == 0:
        return None
    best: tuple[int, float] | None = None
    for value, count in zip(present["value"], present["count"], strict=True):
        if count < max(2, SENTINEL_SHARE * total) or (best is not None and count <= best[0]):
            continue
        others = present["value"][present["value"] != value]
        if others.empty:
            continue
        if (value in NEGATIVE_SENTINELS and others.min() >= 0) or (value in HIGH_SENTINELS
                                                                     and value > 2 * others.max()):
            best = (int(count), float(value))
    return None if best is None else best[1]


# (distinct value, rows with it, first row) of a column, as the values enter a step: what ``learn`` sees
ValueCounts: TypeAlias = pd.DataFrame


def value_counts(values: pd.Series) -> ValueCounts:
    """(value, count, first row) of the distinct values of a column (rows numbered by the index)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques))
    if values.index.is_monotonic_increasing:  # factorize numbers values as they first appear: no group-by
        rising = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
        first = pd.Series(values.index.to_numpy()[rising])
    else:
        first = pd.Series(values.index.to_numpy()[present]).groupby(codes[present]).min()
    first = first.reindex(range(len(uniques)))
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    kept = pd.Series(uniques, dtype=values.dtype if numeric else object)  # numbers stay numbers: no text checks
    return pd.DataFrame({"value": kept, "count": counts, "first": first.to_numpy()})


def level_text(values: object) -> np.ndarray:
    """A categorical column's values as the text of its levels: whole numbers as integers (a Parquet or database
    column of codes with gaps holds 1.0, 2.0: levels "1", "2", as a CSV writes them); missing values, and the
    label cleaning gave them, None."""
    series = pd.Series(values)
    if pd.api.types.is_float_dtype(series.dtype):
        whole = series.dropna()
        if len(whole) and bool((whole == np.round(whole)).all()):
            series = series.astype("Int64")
    text = series.astype(str)
    return np.asarray(np.where(series.isna() | (text == MISSING_LABEL), None, text), dtype=object)
