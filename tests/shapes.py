"""A seeded generator of customer-like tables across shapes, for end-to-end tests (and benchmarks).

``shape_of(seed)`` draws a :class:`Shape` (rows, numeric and categorical columns, planted groups, traps, ID kind,
name style, file format) and ``table_of(shape)`` builds its table; both are deterministic for a seed (numpy's
``default_rng``). ``write_table(shape, table, folder)`` writes it in the shape's file format.

The tables look like a CRM export: heavy-tailed money columns, ages, counts, tenure, recency, scores and balances,
with a few planted groups of customers in most shapes (so that clustering has something to find) and none in some.
The traps are those of real exports: a numeric or text ID, 0/1 flags, integer codes, a "not applicable" sentinel
(-1 or 999) in a share of the rows, a constant column, an all-missing column, missing cells, a few extreme
customers, negative balances, and column names that are 130 characters long, have spaces, ``%``, ``$``, ``(``,
unicode or leading digits, or differ from another column's name only by case. Tables of 13 or more numeric columns
with a categorical column of 2 to 8 levels (more features than the exploration charts show, and a column the violins
split by) are common: such a table once crashed the violin chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

IdKind = Literal["none", "numeric", "text"]
NameStyle = Literal["plain", "spaces", "symbols", "unicode", "digits", "long", "mixed"]
FileFormat = Literal["csv", "csv;", "parquet", "xlsx"]
Trap = Literal["flags", "codes", "sentinel", "constant", "all_missing", "missing_cells", "extremes", "negative",
               "case_twins"]
Kind = Literal["money", "age", "count", "tenure", "recency", "score", "balance"]

TRAPS: tuple[str, ...] = get_args(Trap)
NAME_STYLES: tuple[str, ...] = get_args(NameStyle)
FILE_FORMATS: tuple[str, ...] = get_args(FileFormat)
ID_KINDS: tuple[str, ...] = get_args(IdKind)
LONG_NAME = 130  # characters of a name in the "long" style
XLSX_CELLS = 40_000  # above this many cells a workbook is written as CSV instead (openpyxl is slow)
MAX_ROWS = 5_000
MAX_NUMERIC = 60

# The measure columns, in the order a table gets them: (kind, snake_case name). A table with more numeric columns
# than this cycles through it again with a channel suffix (spend_online, orders_store, ...).
MEASURES: tuple[tuple[Kind, str], ...] = (
    ("money", "annual_spend"), ("age", "age"), ("count", "orders_per_year"), ("tenure", "tenure_months"),
    ("money", "avg_basket"), ("recency", "days_since_last_order"), ("score", "satisfaction_score"),
    ("balance", "account_balance"), ("count", "web_visits"), ("money", "lifetime_value"), ("count", "returns"),
    ("money", "credit_limit"), ("count", "support_calls"), ("score", "discount_share"), ("money", "last_order_value"),
)
CHANNELS = ("online", "store", "phone", "app", "partner", "catalogue", "marketplace", "wholesale")
SYMBOLS = (" ($)", " %", " (k$)", " (12m)", " $ net", " (%)")
UNICODE = (" (€)", " — Umsatz", " ñ", " 年間", " Ø", " Δ", " (£)", " · Größe")
FILLER = ("as reported by the customer relationship management export of the marketing department for the "
          "current financial year, all stores and channels included, net of returns")
LEVEL_WORDS = ("North", "South", "East", "West", "Zürich", "São Paulo", "Köln", "東京", "Île-de-France", "Mid West",
               "Gold", "Silver", "Bronze", "Online", "Store", "Partner", "Student", "Retired", "Family", "Single")


@dataclass(frozen=True)
class Shape:
    """What a generated table looks like. ``numeric``: measure columns (money, ages, counts ...), not counting the
    traps' columns; ``levels``: the number of levels of each categorical column; ``groups``: planted groups of
    customers (1: none, the table is one cloud); ``missing_share``: the share of measure cells left empty when
    the ``missing_cells`` trap is on (half as many in the categorical columns)."""

    seed: int
    rows: int
    numeric: int
    levels: tuple[int, ...]
    groups: int
    id_kind: IdKind
    names: NameStyle
    traps: frozenset[str]
    file_format: FileFormat
    missing_share: float = 0.0

    @property
    def wide_with_violins(self) -> bool:
        """More measure columns than the exploration charts show (12) and a categorical column of 2 to 8 levels:
        the shape that once crashed the violin chart."""
        return self.numeric > 12 and any(2 <= n <= 8 for n in self.levels)

    def describe(self) -> str:
        """One line, enough to recognise the shape in a failure (``shape_of(seed)`` rebuilds it)."""
        traps = ",".join(t for t in TRAPS if t in self.traps) or "none"
        missing = f" missing={self.missing_share:.1%}" if "missing_cells" in self.traps else ""
        return (f"seed={self.seed} rows={self.rows} numeric={self.numeric} levels={list(self.levels)} "
                f"groups={self.groups} id={self.id_kind} names={self.names} format={self.file_format} "
                f"traps={traps}{missing}")


def _pick(rng: np.random.Generator, options: tuple[str, ...], weights: tuple[float, ...]) -> str:
    return str(rng.choice(options, p=np.array(weights) / sum(weights)))


def _rows(rng: np.random.Generator) -> int:
    """2 to 5,000 rows: a few tiny tables (reportgen must refuse them clearly), mostly a few hundred."""
    band = rng.choice(4, p=[0.08, 0.32, 0.45, 0.15])
    low, high = [(2, 15), (16, 200), (201, 1500), (1501, MAX_ROWS)][band]
    return int(np.exp(rng.uniform(np.log(low), np.log(high + 1)))) if band else int(rng.integers(low, high + 1))


def _numeric(rng: np.random.Generator) -> int:
    """1 to 60 measure columns: a third of the shapes wider than the 12 columns the charts show."""
    band = rng.choice(3, p=[0.35, 0.35, 0.30])
    low, high = [(1, 4), (5, 12), (13, MAX_NUMERIC)][band]
    return int(rng.integers(low, high + 1))


def _levels(rng: np.random.Generator) -> tuple[int, ...]:
    """0 to 5 categorical columns of 1 to 50 levels, most of them of 2 to 8."""
    count = int(rng.choice(6, p=[0.25, 0.30, 0.20, 0.10, 0.08, 0.07]))
    bands = rng.choice(3, size=count, p=[0.05, 0.60, 0.35])
    return tuple(1 if b == 0 else int(rng.integers(2, 9)) if b == 1 else int(rng.integers(9, 51)) for b in bands)


def shape_of(seed: int) -> Shape:
    """The shape drawn from ``seed`` (the same seed, the same shape)."""
    rng = np.random.default_rng([26, seed])
    rows = _rows(rng)
    numeric = _numeric(rng)
    levels = _levels(rng)
    groups = 1 if rng.random() < 0.2 else int(rng.integers(2, 6))
    id_kind = _pick(rng, ID_KINDS, (0.2, 0.4, 0.4))
    names = _pick(rng, NAME_STYLES, (0.25, 0.15, 0.15, 0.1, 0.1, 0.1, 0.15))
    traps = frozenset(t for t in TRAPS if rng.random() < 0.3)
    file_format = _pick(rng, FILE_FORMATS, (0.55, 0.15, 0.15, 0.15))
    width = numeric + len(levels) + 12
    if file_format == "xlsx" and rows * width > XLSX_CELLS:
        file_format = "csv"
    missing_share = round(float(rng.choice([0.005, 0.02, 0.05, 0.15])), 3) if "missing_cells" in traps else 0.0
    return Shape(seed=seed, rows=rows, numeric=numeric, levels=levels, groups=groups,
                 id_kind=id_kind,  # type: ignore[arg-type]
                 names=names, traps=traps, file_format=file_format,  # type: ignore[arg-type]
                 missing_share=missing_share)


# ----------------------------------------------------------------------------- column names
def _title(snake: str) -> str:
    return " ".join(word.capitalize() for word in snake.split("_"))


def style_name(snake: str, style: NameStyle, index: int, rng: np.random.Generator) -> str:
    """A snake_case name in a name style: ``annual_spend`` -> ``Annual Spend ($)``, ``12m Annual Spend``, a
    130-character name (every other one differs from the others only at its end, and a cut may leave a space at
    either end, as exports do), ... ("mixed": a style drawn for each name)."""
    if style == "mixed":
        style = _pick(rng, NAME_STYLES[:-1], (1,) * (len(NAME_STYLES) - 1))  # type: ignore[assignment]
    if style == "plain":
        return snake
    if style == "spaces":
        return _title(snake)
    if style == "symbols":
        return _title(snake) + SYMBOLS[index % len(SYMBOLS)]
    if style == "unicode":
        return _title(snake) + UNICODE[index % len(UNICODE)]
    if style == "digits":
        return f"{(index % 24) + 1}m {_title(snake)}"
    # long: the common filler first for every other name, so that a label cut short makes the names collide
    title = _title(snake)
    text = f"{FILLER} {FILLER}: {title}" if index % 2 else f"{title}: {FILLER} {FILLER}"
    return text[-LONG_NAME:] if index % 2 else text[:LONG_NAME]


def measure_names(count: int) -> list[tuple[Kind, str]]:
    """The first ``count`` measures (kind, snake_case name); past the catalogue, with a channel suffix."""
    out = []
    for i in range(count):
        kind, name = MEASURES[i % len(MEASURES)]
        lap = i // len(MEASURES)
        out.append((kind, name if lap == 0 else f"{name}_{CHANNELS[(lap - 1) % len(CHANNELS)]}"))
    return out


# ----------------------------------------------------------------------------- values
def _measure(kind: Kind, group: np.ndarray, shift: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """One measure column; ``shift`` (one value per group, in standard deviations) plants the groups in it."""
    n = len(group)
    s = np.zeros(n) if shift is None else shift[group]
    if kind == "money":  # lognormal: a long right tail
        return np.round(np.exp(rng.normal(6.0 + 0.8 * s, rng.uniform(0.5, 1.2), n)), 2)
    if kind == "age":
        return np.clip(np.round(rng.normal(45 + 12 * s, 9, n)), 18, 95)
    if kind == "count":
        return rng.poisson(np.exp(1.5 + 0.7 * s)).astype(float)
    if kind == "tenure":
        return np.round(rng.gamma(2.0, 12.0 * np.exp(0.6 * s)))
    if kind == "recency":
        return np.round(rng.exponential(40.0 * np.exp(0.8 * s))) + 1
    if kind == "score":
        return np.round(np.clip(rng.normal(55 + 18 * s, 12, n), 0, 100), 1)
    return np.round(rng.normal(2500 + 2000 * s, 1500, n), 2)  # balance


def _levels_of(count: int, column: int) -> list[str]:
    """``count`` distinct level names: words (some with unicode and spaces), then numbered ones."""
    words = [LEVEL_WORDS[(column * 3 + i) % len(LEVEL_WORDS)] for i in range(min(count, len(LEVEL_WORDS)))]
    words = list(dict.fromkeys(words))
    return [*words, *(f"Level {i:02d}" for i in range(count - len(words)))][:count]


def _category(levels: int, column: int, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A categorical column of ``levels`` levels, Zipf-like frequencies; the first follows the planted groups."""
    names = np.array(_levels_of(levels, column), dtype=object)
    weights = 1.0 / np.arange(1, levels + 1) ** rng.uniform(0.3, 1.2)
    picks = rng.choice(levels, size=len(group), p=weights / weights.sum())
    if column == 0 and levels > 1:
        follows = rng.random(len(group)) < 0.6
        picks = np.where(follows, group % levels, picks)
    return names[picks]


def table_of(shape: Shape) -> pd.DataFrame:
    """The table of ``shape``: an ID, the measures, the categorical columns and the traps' columns, with missing
    cells, sentinels and extreme customers where the shape asks for them. Deterministic for a shape."""
    rng = np.random.default_rng([26, shape.seed, 1])
    n = shape.rows
    group = rng.choice(shape.groups, size=n, p=rng.dirichlet(np.full(shape.groups, 3.0)))
    columns: dict[str, object] = {}

    def add(snake: str, values: object) -> str:
        name = style_name(snake, shape.names, len(columns), rng)
        name = name if name not in columns else f"{name} {len(columns)}"
        columns[name] = values
        return name

    if shape.id_kind == "numeric":
        add("customer_id", 100_001 + rng.permutation(n))
    elif shape.id_kind == "text":
        add("customer_id", np.array([f"C{i:05d}" for i in rng.permutation(n) + 1], dtype=object))
    measures = measure_names(shape.numeric)
    informative = set(rng.choice(len(measures), size=min(len(measures), int(rng.integers(1, 5))), replace=False))
    measured = []
    for i, (kind, snake) in enumerate(measures):
        shift = rng.normal(0, 1.5, shape.groups) if i in informative and shape.groups > 1 else None
        measured.append(add(snake, _measure(kind, group, shift, rng)))
    categorical_columns = [add(("region", "tier", "channel", "household", "store")[c], _category(levels, c, group, rng))
                           for c, levels in enumerate(shape.levels)]
    _add_trap_columns(shape, add, rng)
    frame = pd.DataFrame(columns)
    _plant_traps(shape, frame, measures, measured, categorical_columns, rng)
    return frame


def _add_trap_columns(shape: Shape, add: Callable[[str, object], str], rng: np.random.Generator) -> None:
    """The columns of the traps: 0/1 flags, integer codes 1-5, a constant text and a constant number, an empty
    column, overdrawn balances, a "days since complaint" with a -1 or 999 "not applicable" code."""
    n, traps = shape.rows, shape.traps
    if "flags" in traps:
        for snake in ("newsletter", "has_app", "is_business")[: int(rng.integers(1, 4))]:
            add(snake, (rng.random(n) < rng.uniform(0.1, 0.9)).astype(int))
    if "codes" in traps:
        for snake in ("region_code", "contact_preference")[: int(rng.integers(1, 3))]:
            add(snake, rng.integers(1, 6, n))
    if "constant" in traps:
        add("country", np.full(n, "DE", dtype=object))
        add("contract_version", np.ones(n))
    if "all_missing" in traps:
        add("loyalty_points", np.full(n, np.nan))
    if "negative" in traps:
        balance = np.round(rng.normal(800, 900, n), 2)
        overdrawn = rng.random(n) < rng.uniform(0.05, 0.4)
        balance[overdrawn] = -np.round(rng.gamma(2.0, 300.0, int(overdrawn.sum())), 2)
        add("overdraft_balance", balance)
    if "sentinel" in traps:
        values = np.round(rng.exponential(90, n)) + 1
        values[rng.random(n) < rng.uniform(0.03, 0.8)] = -1 if rng.random() < 0.5 else 999
        add("days_since_complaint", values)


def _plant_traps(shape: Shape, frame: pd.DataFrame, measures: list[tuple[Kind, str]], measured: list[str],
                 categorical_columns: list[str], rng: np.random.Generator) -> None:
    """The traps planted in the columns of ``frame`` (in place): a case twin of a measure (and of a categorical
    column), a sentinel in a measure too, a few enormous customers, missing cells."""
    n, traps = shape.rows, shape.traps
    if "case_twins" in traps:  # a near copy of a column under its name in other letter case
        for name in [measured[0], *categorical_columns[:1]]:
            twin = name.swapcase() if name.swapcase() != name else name + " "
            if twin in frame.columns:
                continue
            if name in categorical_columns:
                frame[twin] = frame[name].sample(frac=1.0, random_state=shape.seed).to_numpy()
            else:
                frame[twin] = np.round(frame[name].to_numpy() * rng.uniform(0.9, 1.1, n), 2)
    if "sentinel" in traps and rng.random() < 0.5:  # "unknown" coded in a measure as well (-1 age, 999 visits)
        target = measured[int(rng.integers(len(measured)))]
        frame.loc[rng.random(n) < rng.uniform(0.03, 0.4), target] = -1 if rng.random() < 0.5 else 999
    if "extremes" in traps and n >= 20:  # a few enormous customers in the money columns
        money = [name for name, (kind, _) in zip(measured, measures, strict=True) if kind == "money"]
        big = rng.choice(n, size=max(1, n // 200), replace=False)
        for name in money:
            frame.loc[frame.index[big], name] = frame[name].to_numpy()[big] * rng.uniform(30, 100)
    if "missing_cells" in traps:  # in the measures, and fewer in the categorical columns
        for name in measured:
            frame.loc[rng.random(n) < shape.missing_share, name] = np.nan
        for name in categorical_columns:
            frame.loc[rng.random(n) < shape.missing_share / 2, name] = None


def measure_columns(shape: Shape, table: pd.DataFrame) -> list[str]:
    """The names the measures of ``shape`` got in its table (they follow the ID)."""
    start = int(shape.id_kind != "none")
    return [str(name) for name in table.columns[start: start + shape.numeric]]


# ----------------------------------------------------------------------------- files
def write_table(shape: Shape, table: pd.DataFrame, folder: Path) -> Path:
    """Write ``table`` into ``folder`` in the shape's format: customers.csv (comma, or ';' with decimal commas, as a
    European spreadsheet saves it), customers.parquet or customers.xlsx. Returns the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    if shape.file_format == "parquet":
        path = folder / "customers.parquet"
        table.to_parquet(path, index=False)
    elif shape.file_format == "xlsx":
        path = folder / "customers.xlsx"
        table.to_excel(path, index=False, sheet_name="Customers")
    elif shape.file_format == "csv;":
        path = folder / "customers.csv"
        table.to_csv(path, index=False, sep=";", decimal=",")
    else:
        path = folder / "customers.csv"
        table.to_csv(path, index=False)
    return path
