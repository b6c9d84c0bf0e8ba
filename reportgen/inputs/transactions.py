"""Transaction logs: one row per purchase line turned into one row per customer (recency, frequency, monetary...).

Most companies have an order log, not a customer table. :func:`detect` recognises one (a customer ID that
repeats, a date, and an amount or a quantity and a price); :func:`to_customers` builds the customer table the rest
of the pipeline segments, and accounts for every line it left out or netted, as cleaning does:

* lines without a customer ID or without a readable date are left out (they cannot be anyone's purchase);
* exact copies of a line are left out;
* lines with a zero price are left out; returns and cancellations (a negative amount or quantity, or an invoice
  number starting with ``C``) are netted into the customer's monetary value, not counted as purchases.

Per customer: ``recency_days`` (days from the last purchase to the as-of date: by default the day after the last
date in the log), ``frequency`` (distinct orders, or purchase days without an order column), ``monetary`` (the
net amount), ``tenure_days`` (days from the first purchase to the as-of date), ``avg_order_value`` and, with a
product column, ``products`` (distinct products bought).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError
from ..model import Dataset, NumberFormat, StepCount, Table, TransactionSummary
from ..values import parse_numbers
from .base import looks_like_id_name
from .roles import DistinctCounts, infer_roles, sampled

if TYPE_CHECKING:
    from ..settings import Settings

_DATE_NAME = re.compile(r"date|time|day|timestamp|created|ordered", re.IGNORECASE)
_AMOUNT_NAME = re.compile(r"amount|amt|value|revenue|sales|total|spend|sum|price_total|line_total", re.IGNORECASE)
_QUANTITY_NAME = re.compile(r"quantity|qty|units|count", re.IGNORECASE)
_PRICE_NAME = re.compile(r"price|unit_?cost", re.IGNORECASE)
_ORDER_NAME = re.compile(r"invoice|order|receipt|basket|transaction_?id|trans_?id|ticket", re.IGNORECASE)
_PRODUCT_NAME = re.compile(r"product|stock|sku|item|article", re.IGNORECASE)
_CUSTOMER_NAME = re.compile(r"customer|client|member|account|user|buyer|cust", re.IGNORECASE)
# (strptime format, how the report states it), tried in this order; the first that reads (nearly) every value wins
DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%Y-%m-%d", "ISO (2024-03-31)"), ("%Y-%m-%d %H:%M:%S", "ISO with time"), ("%Y-%m-%dT%H:%M:%S", "ISO with time"),
    ("%d-%b-%y", "day-month name-year (31-Mar-24)"), ("%d-%b-%Y", "day-month name-year (31-Mar-2024)"),
    ("%d %b %Y", "day month name year (31 Mar 2024)"),
    ("%d/%m/%Y", "day/month/year (31/03/2024)"), ("%m/%d/%Y", "month/day/year (03/31/2024)"),
    ("%d/%m/%Y %H:%M", "day/month/year with time"), ("%m/%d/%Y %H:%M", "month/day/year with time"),
    ("%d.%m.%Y", "day.month.year (31.03.2024)"), ("%d/%m/%y", "day/month/year (31/03/24)"),
    ("%m/%d/%y", "month/day/year (03/31/24)"), ("%Y%m%d", "year month day (20240331)"),
)
FEATURES = ("recency_days", "frequency", "monetary", "tenure_days", "avg_order_value")
LABELS = {"recency_days": "days since last purchase", "frequency": "purchases", "monetary": "net spend",
          "tenure_days": "days since first purchase", "avg_order_value": "order value"}  # the report's words


@dataclass(frozen=True)
class TransactionColumns:
    """Which columns of a log are what (None: the log has none)."""

    customer: str
    date: str
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    order: str | None = None
    product: str | None = None


def summary_of(table: CustomerTable) -> TransactionSummary:
    c = table.columns
    return TransactionSummary(lines=table.lines, customers=len(table.frame), as_of=table.as_of.date().isoformat(),
                              date_format=table.date_format,
                              columns={k: v for k, v in (("customer", c.customer), ("date", c.date),
                                                         ("amount", c.amount), ("quantity", c.quantity),
                                                         ("price", c.price), ("order", c.order),
                                                         ("product", c.product)) if v is not None})


@dataclass(frozen=True)
class CustomerTable:
    """The customer table built from a log, and the account of the lines."""

    frame: pd.DataFrame  # one row per customer, index 1..n, the customer ID column first
    columns: TransactionColumns
    lines: int  # lines in the log
    as_of: pd.Timestamp
    date_format: str  # how the dates were read, in words
    steps: tuple[StepCount, ...]  # lines left out or netted, as the data quality account shows them
    log: pd.DataFrame  # one row per line left out: row, column, action, reason, value


def _numeric(values: pd.Series, numbers: NumberFormat) -> pd.Series:
    """A column of the log as numbers, read with its decimal mark."""
    return parse_numbers(values, numbers.mark(str(values.name)))[0]


def parse_dates(values: pd.Series, date_format: str | None = None) -> tuple[pd.Series, str]:
    """The dates of a column and how they were read: ``date_format`` (strptime) when given, else the first of
    :data:`DATE_FORMATS` that reads at least 98% of the values; a day/month order both readings allow is resolved by
    the values (a first number above 12 is a day); Excel serial numbers (days since 1899-12-30) are read too."""
    text = values.astype("string").str.strip()
    present = text.dropna()
    present = present[present != ""]
    if date_format is not None:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        return parsed, f"{date_format} (--date-format)"
    if present.empty:
        return pd.to_datetime(text, errors="coerce"), "none"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all() and numbers.between(20_000, 80_000).all() and not present.str.len().eq(8).all():
        serial = pd.to_numeric(text, errors="coerce")
        return pd.to_datetime(serial, unit="D", origin="1899-12-30"), "Excel serial numbers (days since 1899-12-30)"
    sample = sampled(present, 2000)
    readable = []
    for fmt, words in DATE_FORMATS:
        ok = pd.to_datetime(sample, format=fmt, errors="coerce").notna().mean()
        if ok >= 0.98:
            readable.append((fmt, words))
    if not readable:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        return parsed, "mixed formats, read one by one"
    fmt, words = readable[0]
    if len(readable) > 1 and {f for f, _ in readable[:2]} in ({"%d/%m/%Y", "%m/%d/%Y"}, {"%d/%m/%y", "%m/%d/%y"}):
        words += " (ambiguous: every day and month is 12 or less; pass --date-format to choose)"
    return pd.to_datetime(text, format=fmt, errors="coerce"), words


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(300)
    if sample.empty:
        return False
    return any(pd.to_datetime(sample, format=fmt, errors="coerce").notna().mean() >= 0.98 for fmt, _ in DATE_FORMATS)


def _first(columns: Sequence[str], pattern: re.Pattern[str], exclude: Sequence[str | None] = ()) -> str | None:
    return next((c for c in columns if pattern.search(c) and c not in exclude), None)


def detect(frame: pd.DataFrame, *, customer: str | None = None, date: str | None = None, amount: str | None = None,
           quantity: str | None = None, price: str | None = None) -> TransactionColumns | None:
    """The columns of a transaction log, or None when ``frame`` is not one: a customer ID that repeats (fewer
    distinct values than half the lines), a column of dates, and an amount or a quantity and a price. Columns
    named by the caller are taken as they are."""
    found, _ = recognise(frame, customer=customer, date=date, amount=amount, quantity=quantity, price=price)
    return found


def recognise(frame: pd.DataFrame, *, customer: str | None = None, date: str | None = None,
              amount: str | None = None, quantity: str | None = None, price: str | None = None,
              counts: DistinctCounts | None = None, numbers: NumberFormat | None = None
              ) -> tuple[TransactionColumns | None, str]:
    """:func:`detect`, and what is missing when ``frame`` is not a log (for the error message); ``counts``: the
    distinct values of the columns, when the caller keeps them; ``numbers``: the decimal marks of its text
    columns."""
    numbers = numbers or NumberFormat()
    names = [str(c) for c in frame.columns]
    if customer is None:
        ids = [c for c in names if looks_like_id_name(c) or _CUSTOMER_NAME.search(c)]
        ids = [c for c in ids if _CUSTOMER_NAME.search(c)] or ids
        distinct = counts or DistinctCounts(frame)
        customer = next((c for c in ids if 1 < distinct[c] < 0.5 * len(frame)), None)
    if customer is None:
        return None, "no customer ID column that repeats (name it with --customer)"
    if date is None:
        dated = [c for c in names if c != customer and _looks_like_dates(frame[c])]
        date = next((c for c in dated if _DATE_NAME.search(c)), dated[0] if dated else None)
    if date is None:
        return None, "no column of dates (name it with --date, and its format with --date-format)"
    rest = [c for c in names if c not in (customer, date)]
    numeric = [c for c in rest if _numeric(frame[c].head(500), numbers).notna().mean() >= 0.9]
    amount = amount or _first(numeric, _AMOUNT_NAME)
    quantity = quantity or _first(numeric, _QUANTITY_NAME, (amount,))
    price = price or _first(numeric, _PRICE_NAME, (amount, quantity))
    if amount is None and (quantity is None or price is None):
        return None, "no amount column, nor a quantity and a price (name them with --amount, or --quantity and --price)"
    order = _first(rest, _ORDER_NAME, (amount, quantity, price))
    product = _first(rest, _PRODUCT_NAME, (amount, quantity, price, order))
    return TransactionColumns(customer, date, amount, quantity, price, order, product), ""


def _step(key: str, column: str | None, rows: pd.Index, action: str, reason: str, values: pd.Series | None = None
          ) -> tuple[StepCount, pd.DataFrame]:
    shown = values.loc[rows].astype(str) if values is not None else pd.Series("", index=rows)
    examples = tuple(dict.fromkeys(shown.tolist()))[:5] if values is not None else tuple(
        str(r) for r in rows[:5])
    return (StepCount(key, column, len(rows), action, reason, examples),
            pd.DataFrame({"row": np.asarray(rows, dtype=np.int64), "column": column or "", "action": action,
                          "reason": reason, "value": shown.to_numpy()}))


Found = list[tuple[StepCount, pd.DataFrame]]  # the account's lines, and the log lines of each


def to_customers(frame: pd.DataFrame, columns: TransactionColumns, *, as_of: pd.Timestamp | None = None,
                 date_format: str | None = None, numbers: NumberFormat | None = None) -> CustomerTable:
    """One row per customer from a log (``frame.index``: the log's 1-based line numbers; ``numbers``: the decimal
    marks of its text columns)."""
    c = columns
    found: Found = []
    log = frame.copy()
    ids, dates, words, keep = _identified(log, c, date_format, found)
    value, cancelled, keep = _valued(log, c, numbers or NumberFormat(), keep, found)
    if not keep.any():
        raise InputError("the transaction log has no line with a customer ID, a readable date and an amount",
                         hint="Check the columns with --customer, --date and --amount, or the dates with "
                              "--date-format.")
    kept = pd.DataFrame({"customer": ids, "date": dates.dt.normalize(), "value": value,
                         "purchase": ~cancelled}).loc[keep]
    if c.order is not None:
        kept["order"] = log.loc[keep, c.order].astype("string")
    if c.product is not None:
        kept["product"] = log.loc[keep, c.product].astype("string")
    as_of = as_of if as_of is not None else dates.max().normalize() + pd.Timedelta(days=1)  # any line's date
    customers = _per_customer(kept, as_of, has_order=c.order is not None, has_product=c.product is not None)
    returns_only = kept.index[~kept["customer"].isin(customers.index)]
    if len(returns_only):
        count = kept.loc[returns_only, "customer"].nunique()
        found.append(_step("returns_only", c.customer, returns_only, "left out lines",
                           f"the customer's only lines are returns or cancellations ({count:,} customers)",
                           kept["customer"]))
    customers.insert(0, c.customer, customers.index.astype("string"))
    customers = customers.reset_index(drop=True)
    customers.index = pd.RangeIndex(1, len(customers) + 1, name="row")
    lines_log = pd.concat([part for _, part in found], ignore_index=True) if found else pd.DataFrame(
        {name: pd.Series(dtype=object) for name in ("row", "column", "action", "reason", "value")})
    return CustomerTable(frame=customers, columns=c, lines=len(frame), as_of=as_of, date_format=words,
                         steps=tuple(step for step, _ in found), log=lines_log)


def _identified(log: pd.DataFrame, c: TransactionColumns, date_format: str | None, found: Found
                ) -> tuple[pd.Series, pd.Series, str, np.ndarray]:
    """The lines with a customer ID and a readable date that are no copy of an earlier line: (the IDs, the dates,
    how they were read, which lines are kept); the others go into ``found``."""
    ids = log[c.customer].astype("string").str.strip()
    no_id = log.index[ids.isna() | (ids == "")]
    if len(no_id):
        found.append(_step("no_customer", c.customer, no_id, "left out lines",
                           "no customer ID: the line is nobody's purchase"))
    dates, words = parse_dates(log[c.date], date_format)
    no_date = log.index[dates.isna() & ~log.index.isin(no_id)]
    if len(no_date):
        found.append(_step("unreadable_date", c.date, no_date, "left out lines",
                           f"the date cannot be read as {words}", log[c.date]))
    keep = ~log.index.isin(no_id.union(no_date))
    copies = log.index[log.duplicated(keep="first") & keep]
    if len(copies):
        found.append(_step("duplicate_lines", None, copies, "left out lines", "exact copy of an earlier line"))
    return ids, dates, words, keep & ~log.index.isin(copies)


def _valued(log: pd.DataFrame, c: TransactionColumns, numbers: NumberFormat, keep: np.ndarray, found: Found
            ) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Each line's value (amount, or quantity times price; negative for a return or cancellation), which lines
    are returns or cancellations, and which lines are kept: not those of no value or an unreadable one."""
    if c.amount is not None:
        value = _numeric(log[c.amount], numbers)
        nothing = log.index[(value == 0) & keep]
        if len(nothing):
            found.append(_step("zero_amount", c.amount, nothing, "left out lines",
                               "a zero amount (a correction or a free item, not a sale)", log[c.amount]))
        keep = keep & ~log.index.isin(nothing)
    else:
        assert c.quantity is not None and c.price is not None
        price = _numeric(log[c.price], numbers)
        free = log.index[(price <= 0) & keep]
        if len(free):
            found.append(_step("zero_price", c.price, free, "left out lines",
                               "zero or negative price (a correction or a free item, not a sale)", log[c.price]))
        keep = keep & ~log.index.isin(free)
        value = _numeric(log[c.quantity], numbers) * price
    no_value = log.index[value.isna() & keep]
    if len(no_value):
        found.append(_step("unreadable_amount", c.amount or c.quantity, no_value, "left out lines",
                           "the amount is missing or not a number", log[c.amount or c.quantity]))
    keep = keep & ~log.index.isin(no_value)
    cancelled = value < 0
    if c.order is not None:
        cancelled |= log[c.order].astype("string").str.upper().str.startswith("C").fillna(False)
    value = value.where(~cancelled, -value.abs())  # a cancellation subtracts, whatever its sign in the log
    returns = log.index[cancelled & keep]
    if len(returns):
        found.append(_step("returns", c.amount or c.quantity, returns, "netted",
                           "a return or cancellation: subtracted from the customer's monetary value, not counted as "
                           "a purchase", value.astype(str)))
    return value, cancelled, keep


def _per_customer(kept: pd.DataFrame, as_of: pd.Timestamp, *, has_order: bool, has_product: bool) -> pd.DataFrame:
    purchases = kept[kept["purchase"]]
    grouped = kept.groupby("customer", sort=True)
    bought = purchases.groupby("customer", sort=True)
    first, last = bought["date"].min(), bought["date"].max()
    frequency = bought["order"].nunique() if has_order else bought["date"].nunique()
    monetary = grouped["value"].sum()
    out = pd.DataFrame({
        "recency_days": (as_of - last).dt.days,
        "frequency": frequency,
        "monetary": monetary.reindex(frequency.index).round(2),
        "tenure_days": (as_of - first).dt.days,
    })
    out["avg_order_value"] = (out["monetary"] / out["frequency"]).round(2)
    if has_product:
        out["products"] = bought["product"].nunique()
    out.index.name = None
    return out


def customers_of(table: Table, settings: Settings, counts: DistinctCounts | None = None) -> Dataset | None:
    """The Dataset of the customers of a transaction log, or None when ``table`` is not one (or
    ``--transactions no``). Raises :class:`InputError` for ``--transactions yes`` on a table that is not a log,
    and for a named column that is not in it. ``counts``: as for :func:`recognise`."""
    if settings.transactions == "no":
        return None
    named = {"customer": settings.customer, "date": settings.date, "amount": settings.amount,
             "quantity": settings.quantity, "price": settings.price}
    for option, column in named.items():
        if column is not None and column not in table.frame.columns:
            raise InputError(f"--{option} names a column that is not in {table.source.name}: {column!r}",
                             hint="Columns: " + ", ".join(map(str, table.frame.columns)) + ".")
    columns, missing = recognise(table.frame, **named, counts=counts, numbers=table.source.numbers)
    if columns is None:
        if settings.transactions == "yes" or any(v is not None for v in named.values()):
            raise InputError(f"{table.source.name} is not a transaction log: it has {missing}",
                             hint="A log needs a customer ID that repeats, a date, and an amount (or a quantity and "
                                  "a price); or leave out --transactions yes.")
        return None
    as_of = pd.Timestamp(settings.as_of) if settings.as_of else None
    built = to_customers(table.frame, columns, as_of=as_of, date_format=settings.date_format,
                         numbers=table.source.numbers)
    return Dataset(frame=built.frame, source=table.source, columns=infer_roles(built.frame), rows=len(built.frame),
                   malformed_lines=table.malformed_lines, transactions=summary_of(built), prepared=built.steps,
                   prepared_log=built.log)
