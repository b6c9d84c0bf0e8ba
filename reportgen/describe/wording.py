"""How the report writes columns and their values: readable labels, units, the currency of money, and the
statistic a quoted value is (a median is called a median).

A column's label is the config's ``[labels]`` entry, or its header as words (``annual_spend`` -> "annual spend",
``Annual Income (k$)`` -> "annual income"). Money columns (a rules concept with ``money = true``, or a currency in
the header of a column no concept names, such as ``Total ($)``; income in k$ is money, but not the customer's;
a score is not money) carry the header's currency, or else the ``currency`` setting's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np

from ..model import Profiles, SegmentProfile, Wording
from .rulebook import Concept, concept_of, words_of

CURRENCIES = ("$", "€", "£", "¥", "k$", "k€", "k£", "m$", "USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD")
NOT_MONEY = re.compile(r"score|index|rank|rating|\(\s*-?\d+(\.\d+)?\s*[-–]\s*-?\d+(\.\d+)?\s*\)", re.IGNORECASE)
SYMBOLS = ("$", "€", "£", "¥")  # written before the number: $1,234; codes after it: 1,234 EUR


def unit_of(column: str) -> str:
    """``"Annual Income (k$)"`` -> ``"k$"``; a stated range such as ``(1-100)`` is not a unit."""
    match = re.search(r"\(([^)]*)\)\s*$", column)
    if not match or re.fullmatch(r"\s*-?\d+(\.\d+)?\s*[-–]\s*-?\d+(\.\d+)?\s*", match.group(1)):
        return ""
    return match.group(1).strip()


def label_of(column: str, wording: Wording | None = None) -> str:
    """The column's readable name: the ``[labels]`` entry, else ``"Annual Income (k$)"`` -> ``"annual income"``."""
    if wording is not None and column in wording.labels:
        return wording.labels[column]
    return words_of(column)


def _money(concept: Concept | None, column: str) -> bool:
    return concept.money if concept is not None else unit_of(column) in CURRENCIES


def make_wording(columns: Iterable[str], concepts: tuple[Concept, ...], *, labels: Mapping[str, str] | None = None,
                 currency: str = "") -> Wording:
    """The wording of a run: ``labels`` as given, money columns by concept or by a currency in their header."""
    columns = list(columns)
    money = tuple(c for c in columns if not NOT_MONEY.search(c) and _money(concept_of(c, concepts), c))
    given = dict(labels or {})
    headings = {}
    for column in columns:
        unit = unit_of(column) or (currency if column in money else "")
        headings[column] = capitalise(given.get(column) or words_of(column)) + (f" ({unit})" if unit else "")
    return Wording(labels=given, currency=currency, money=money, headings=headings)


def format_value(value: float | None, column: str, wording: Wording | None = None) -> str:
    """A value as prose shows it: ``87 k$``, ``$1,234``, ``1,234 EUR``, ``82/100``, ``4.5``; ``–`` for none."""
    if value is None or not np.isfinite(value):
        return "–"
    unit = unit_of(column)
    digits = 0 if abs(value) >= 10 or float(value).is_integer() else 1
    text = f"{value:,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        text = "0"
    stated = re.search(r"\(\s*-?\d+(?:\.\d+)?\s*[-–]\s*(-?\d+(?:\.\d+)?)\s*\)", column)
    if stated:
        return f"{text}/{stated.group(1)}"
    if not unit and wording is not None and wording.currency and column in wording.money:
        unit = wording.currency
    if unit in SYMBOLS:
        return f"-{unit}{text[1:]}" if text.startswith("-") else f"{unit}{text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def statistic(column: str, profiles: Profiles) -> str:
    """"median" for a feature clustered on a log scale (a few big values make its mean), "mean" otherwise."""
    return "median" if column in profiles.logged else "mean"


def typical(seg: SegmentProfile, profiles: Profiles, column: str, wording: Wording | None = None
            ) -> tuple[str, str]:
    """The segment's and all customers' quoted value of ``column`` (the :func:`statistic`), as text."""
    if column in profiles.logged:
        return (format_value(seg.medians[column], column, wording),
                format_value(profiles.overall_medians[column], column, wording))
    return (format_value(seg.means[column], column, wording),
            format_value(profiles.overall_means[column], column, wording))


def quoted(seg: SegmentProfile, profiles: Profiles, column: str, wording: Wording | None = None) -> str:
    """A segment's value as a noun phrase that says what it is: "median annual spend 4,203 €"."""
    return f"{statistic(column, profiles)} {label_of(column, wording)} {typical(seg, profiles, column, wording)[0]}"


def trait(seg: SegmentProfile, profiles: Profiles, column: str, wording: Wording | None = None) -> str:
    """"median days since last order 40 (all customers: 79)"."""
    value, overall = typical(seg, profiles, column, wording)
    return f"{statistic(column, profiles)} {label_of(column, wording)} {value} (all customers: {overall})"


def highlight(seg: SegmentProfile, profiles: Profiles, column: str, wording: Wording | None = None) -> str:
    """The short form for tables: "median annual spend 4,203 (all 562)"."""
    value, overall = typical(seg, profiles, column, wording)
    return f"{statistic(column, profiles)} {label_of(column, wording)} {value} (all {overall})"


def join(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
