"""Settings and their validation: once, at the boundary, before any data is read.

Defaults < config file (reportgen.toml) < environment (secrets only) < flags. The config file has sections
``[run]``, ``[report]`` and ``[email]``; an unknown section or key is an error (a typo must not be silently
ignored). Paths in the config file are relative to the file's own folder.

``FIELDS`` declares every setting once: its config section and the parser that checks it (as scikit-learn's
``_parameter_constraints`` do). The same table parses flags and config values (:func:`resolve_settings`) and
checks a :class:`Settings` built directly in a notebook (:func:`validate`: values and their combinations only, no
I/O), so a value is judged the same way wherever it comes from. What needs the world (the input path, the output
folder, the rules file, the templates, the logo, a baseline run) is checked after it by
:func:`reportgen.plan.plan_run`, which returns the plan the pipeline runs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from .errors import ConfigError
from .model import MissingPolicy, OutlierPolicy, Scaling, TransformPolicy

Format = Literal["html", "pdf"]
Paper = Literal["A4", "letter"]
Locale = Literal["en", "de", "fr", "es", "it", "nl", "ch"]
EngineName = Literal["pandas", "spark"]  # the keys of reportgen.engines.ENGINES (a test holds them equal)
AlgorithmName = Literal["kmeans", "ward", "gmm", "kprototypes"]  # ... of reportgen.segmentation.algorithms.ALGORITHMS
CategoricalMode = Literal["auto", "profile", "cluster"]  # auto: cluster with k-prototypes, profile otherwise
TransactionMode = Literal["auto", "yes", "no"]
DecimalMark = Literal["auto", ".", ","]  # auto: decided from the values (reportgen.values.decide_numbers)

CONFIG_NAME = "reportgen.toml"
SCALINGS: tuple[str, ...] = get_args(Scaling)
MISSING_POLICIES: tuple[str, ...] = get_args(MissingPolicy)
TRANSFORM_POLICIES: tuple[str, ...] = get_args(TransformPolicy)
OUTLIER_POLICIES: tuple[str, ...] = get_args(OutlierPolicy)
FORMATS: tuple[str, ...] = get_args(Format)
PAPERS: tuple[str, ...] = get_args(Paper)
LOCALES: tuple[str, ...] = get_args(Locale)
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)
ALGORITHM_NAMES: tuple[str, ...] = get_args(AlgorithmName)
CATEGORICAL_MODES: tuple[str, ...] = get_args(CategoricalMode)
TRANSACTION_MODES: tuple[str, ...] = get_args(TransactionMode)
DECIMAL_MARKS: tuple[str, ...] = get_args(DecimalMark)
DECIMAL_NAMES = {"point": ".", "dot": ".", "comma": ","}  # words --decimal accepts too


@dataclass(frozen=True)
class Settings:
    """Every option of a run. Build with :func:`resolve_settings` or directly in a notebook; :func:`validate`
    checks it before a run."""

    # [run]
    features: tuple[str, ...] | None = None
    sheet: str | None = None  # a workbook's sheet: its name or 1-based number (default: the first with data)
    decimal: DecimalMark = "auto"  # the decimal mark of numbers written as text; auto: decided from the values
    table: str | None = None  # a database input's table ...
    query: str | None = None  # ... or query
    password_file: Path | None = None  # a database password, else REPORTGEN_DB_PASSWORD
    transactions: TransactionMode = "auto"  # auto: a transaction log is recognised and turned into customers
    customer: str | None = None  # the columns of a transaction log (default: recognised)
    date: str | None = None
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    as_of: str | None = None  # ISO date; default: the day after the last date in the log
    date_format: str | None = None  # strptime format of the log's dates; default: recognised
    k: int | None = None
    k_min: int = 2
    k_max: int = 10
    scale: Scaling | None = None  # None: standard, or the baseline's scaling
    seed: int = 42
    n_init: int = 10
    missing: MissingPolicy = "drop"
    max_drop: float = 0.05  # a cleaning step that would drop more of the customers handles the column otherwise
    transform: TransformPolicy = "auto"  # auto: heavy-tailed positive features are clustered on log(1 + x)
    outliers: OutlierPolicy = "clip"  # clip: far-out values are clipped for the clustering only
    min_share: float = 0.02  # no k is chosen whose smallest segment has fewer of the customers
    stability_resamples: int = 50  # bootstrap resamples of the stability check (0: no check)
    silhouette_sample: int = 5000  # above this many rows, silhouettes use a fixed-seed sample of this size
    sweep_sample: int = 20_000  # above this many rows, the k sweep runs on a fixed-seed sample of this size
    algorithm: AlgorithmName = "kmeans"
    categorical: CategoricalMode = "auto"  # cluster: categorical columns are clustered too (k-prototypes)
    output: Path = Path("output")
    name: str | None = None
    series: str | None = None  # the series the run belongs to ('reportgen trend --series NAME')
    formats: tuple[Format, ...] = ("html", "pdf")
    engine: EngineName = "pandas"
    spark_master: str = "local[*]"
    workers: int = 2  # 2: chart processes draw the charts beside this one; 1: this process draws them
    baseline: str | None = None  # "latest", a run folder, or a run name under output
    assign_only: bool = False  # label customers with the baseline's segments, no re-clustering
    # [report]
    title: str = "Customer segmentation report"
    organisation: str = ""
    logo: Path | None = None
    accent: str = "#1f4e79"
    paper: Paper = "A4"
    locale: Locale = "en"
    templates: Path | None = None
    rules: Path | None = None
    currency: str = ""  # the currency of money columns whose header shows none: "€", "$", "EUR"
    # [labels]: readable names of columns in the report's text, tables and charts (column -> label)
    labels: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Accept the natural Python forms in a notebook: str paths, lists, "A,B" feature strings."""
        for name in ("output", "logo", "templates", "rules", "password_file"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))
        if isinstance(self.features, str | list):
            object.__setattr__(self, "features", tuple(split_list(self.features)) or None)
        if isinstance(self.formats, str | list):
            object.__setattr__(self, "formats", tuple(split_list(self.formats)))
        if isinstance(self.labels, Mapping):
            object.__setattr__(self, "labels", tuple((str(k), str(v)) for k, v in self.labels.items()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the manifest."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[item.name] = value
        return out


# ----------------------------------------------------------------------------- value parsers
Parser = Callable[[str, Any, str, Path], Any]


def _fail(key: str, value: Any, where: str, expected: str) -> ConfigError:
    """``where`` is a flag (``--k-range``), a place in a config file (``in reportgen.toml [run]``) or
    ``in Settings``."""
    said = f"{where} {value!r}" if where.startswith("--") else f"{key} = {value!r} {where}"
    return ConfigError(f"{said} is not valid: expected {expected}",
                       hint="Fix the value or leave it out to use the default.")


def _int(lo: int, hi: int | None = None) -> Parser:
    def parse(key: str, value: Any, where: str, base: Path) -> int:
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            raise _fail(key, value, where, "a whole number") from None
        if number < lo or (hi is not None and number > hi):
            limit = f">= {lo}" if hi is None else f"between {lo} and {hi}"
            raise _fail(key, value, where, f"a whole number {limit}")
        return number

    return parse


def _optional(parser: Parser) -> Parser:
    def parse(key: str, value: Any, where: str, base: Path) -> Any:
        return None if value is None else parser(key, value, where, base)

    return parse


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(key: str, value: Any, where: str, base: Path) -> str:
        text = str(value).strip()
        for option in options:
            if text.lower() == option.lower():
                return option
        raise _fail(key, value, where, "one of " + ", ".join(options))

    return parse


def _share(lo: float, hi: float) -> Parser:
    """A share: ``0.05`` or ``"5%"``."""
    def parse(key: str, value: Any, where: str, base: Path) -> float:
        text = str(value).strip()
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except (TypeError, ValueError):
            raise _fail(key, value, where, f"a share between {lo:g} and {hi:g}, e.g. 0.05 or 5%") from None
        if not lo <= number <= hi:
            raise _fail(key, value, where, f"a share between {lo:g} and {hi:g}, e.g. 0.05 or 5%")
        return number

    return parse


def _sheet(key: str, value: Any, where: str, base: Path) -> str:
    """A sheet name, or its 1-based number (a TOML integer is accepted)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise _fail(key, value, where, "a sheet name or number, e.g. \"Customers\" or 2")
    return str(value).strip()


def _decimal(key: str, value: Any, where: str, base: Path) -> str:
    """The decimal mark: ``.`` or ``,`` (or the words point, dot, comma), or ``auto``."""
    text = str(value).strip().lower()
    text = DECIMAL_NAMES.get(text, text)
    if text not in DECIMAL_MARKS:
        raise _fail(key, value, where, "'.' (a decimal point, 1,234.5), ',' (a decimal comma, 1.234,5) or auto")
    return text


def _iso_date(key: str, value: Any, where: str, base: Path) -> str:
    from datetime import date

    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise _fail(key, value, where, "a date like 2026-11-30") from None


def _date_format(key: str, value: Any, where: str, base: Path) -> str:
    text = str(value).strip()
    if "%" not in text:
        raise _fail(key, value, where, "a strptime format like %d/%m/%Y")
    return text


def _text(key: str, value: Any, where: str, base: Path) -> str:
    if not isinstance(value, str):
        raise _fail(key, value, where, "text")
    return value


def _currency(key: str, value: Any, where: str, base: Path) -> str:
    """A currency symbol or code: "€", "$", "£", "EUR", "CHF" (at most five characters, no digits)."""
    text = _text(key, value, where, base).strip()
    if len(text) > 5 or re.search(r"[\d\s]", text):
        raise _fail(key, value, where, "a currency symbol or code such as €, $ or EUR")
    return text


def _labels(key: str, value: Any, where: str, base: Path) -> tuple[tuple[str, str], ...]:
    """[labels]: column = "label", both text, the label at most 60 characters."""
    pairs = value.items() if isinstance(value, Mapping) else value
    try:
        out = tuple((str(column), label) for column, label in pairs)
    except (TypeError, ValueError):
        raise _fail(key, value, where, "a table of column = \"label\"") from None
    for column, label in out:
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            raise _fail(f"labels.{column}", label, where, "a label of 1 to 60 characters")
    return tuple((column, label.strip()) for column, label in out)


def _bool(key: str, value: Any, where: str, base: Path) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(key, value, where, "true or false")


def _name(key: str, value: Any, where: str, base: Path) -> str:
    text = _text(key, value, where, base).strip()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    if not slug:
        raise _fail(key, value, where, "a name with letters or digits")
    return slug[:60]


def _path(key: str, value: Any, where: str, base: Path) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise _fail(key, value, where, "a path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _color(key: str, value: Any, where: str, base: Path) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise _fail(key, value, where, "a colour like #1f4e79")
    return text.lower()


def split_list(value: Any) -> list[str]:
    """``"a,b"`` or ``["a", "b"]`` -> ``["a", "b"]``; blanks dropped."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def _features(key: str, value: Any, where: str, base: Path) -> tuple[str, ...]:
    if not isinstance(value, str | list | tuple):
        raise _fail(key, value, where, 'column names, e.g. "Age,Annual Income (k$)"')
    names = split_list(value)
    if not names:
        raise _fail(key, value, where, "at least one column name")
    return tuple(names)


def _formats(key: str, value: Any, where: str, base: Path) -> tuple[str, ...]:
    if not isinstance(value, str | list | tuple):
        raise _fail(key, value, where, '"html", "pdf" or "html,pdf"')
    names = [name.lower() for name in split_list(value)]
    if names == ["none"] or (not names and not isinstance(value, str)):
        return ()  # the data files only, no report
    if not names or any(name not in FORMATS for name in names):
        raise _fail(key, value, where, '"html", "pdf", "html,pdf" or "none"')
    return tuple(f for f in FORMATS if f in names)


K_RANGE = 'a range like "2-10" (two whole numbers, 2 <= low <= high <= 50)'


def parse_k_range(key: str, value: Any, where: str, base: Path = Path()) -> tuple[int, int]:
    """``"2-10"`` or ``[2, 10]`` -> ``(2, 10)``."""
    if isinstance(value, list | tuple) and len(value) == 2:
        parts = list(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*[-:]\s*\d+\s*", value):
        parts = re.split(r"[-:]", value)
    else:
        raise _fail(key, value, where, K_RANGE)
    try:
        low, high = (int(part) for part in parts)
    except (TypeError, ValueError):
        raise _fail(key, value, where, K_RANGE) from None
    if not 2 <= low <= high <= 50:
        raise _fail(key, value, where, K_RANGE)
    return low, high


@dataclass(frozen=True)
class Field:
    section: Literal["run", "report", "labels"]
    parse: Parser
    flag: str | None = None  # the flag's name when it is not --<key with dashes>


# Every setting once: its config section and its parser. "k_range" is the config and flag form of k_min and k_max.
FIELDS: dict[str, Field] = {
    "features": Field("run", _optional(_features)),
    "sheet": Field("run", _optional(_sheet)),
    "decimal": Field("run", _decimal),
    "table": Field("run", _optional(_text)),
    "query": Field("run", _optional(_text)),
    "password_file": Field("run", _optional(_path)),
    "transactions": Field("run", _choice(TRANSACTION_MODES)),
    "customer": Field("run", _optional(_text)),
    "date": Field("run", _optional(_text)),
    "amount": Field("run", _optional(_text)),
    "quantity": Field("run", _optional(_text)),
    "price": Field("run", _optional(_text)),
    "as_of": Field("run", _optional(_iso_date)),
    "date_format": Field("run", _optional(_date_format)),
    "k": Field("run", _optional(_int(2, 50))),
    "k_range": Field("run", parse_k_range),
    "k_min": Field("run", _int(2, 50)),
    "k_max": Field("run", _int(2, 50)),
    "scale": Field("run", _optional(_choice(SCALINGS))),
    "seed": Field("run", _int(0, 2**32 - 1)),
    "n_init": Field("run", _int(1, 100)),
    "missing": Field("run", _choice(MISSING_POLICIES)),
    "max_drop": Field("run", _share(0.0, 1.0)),
    "transform": Field("run", _choice(TRANSFORM_POLICIES)),
    "outliers": Field("run", _choice(OUTLIER_POLICIES)),
    "min_share": Field("run", _share(0.0, 0.5)),
    "stability_resamples": Field("run", _int(0, 1000)),
    "silhouette_sample": Field("run", _int(100)),
    "sweep_sample": Field("run", _int(1000)),
    "algorithm": Field("run", _choice(ALGORITHM_NAMES)),
    "categorical": Field("run", _choice(CATEGORICAL_MODES)),
    "output": Field("run", _path),
    "name": Field("run", _optional(_name)),
    "series": Field("run", _optional(_name)),
    "formats": Field("run", _formats, flag="--format"),
    "engine": Field("run", _choice(ENGINE_NAMES)),
    "workers": Field("run", _int(1, 2)),
    "baseline": Field("run", _optional(_text)),
    "assign_only": Field("run", _bool),
    "spark_master": Field("run", _text),
    "title": Field("report", _text),
    "organisation": Field("report", _text),
    "logo": Field("report", _optional(_path)),
    "accent": Field("report", _color),
    "paper": Field("report", _choice(PAPERS)),
    "locale": Field("report", _choice(LOCALES)),
    "templates": Field("report", _optional(_path)),
    "rules": Field("report", _optional(_path)),
    "currency": Field("report", _currency),
    "labels": Field("labels", _labels),
}
CONFIG_KEYS = {key for key in FIELDS if key not in ("k_min", "k_max")}
EMAIL_KEYS = ("host", "port", "user", "security", "from", "to", "cc", "subject", "max_attachment_mb", "timeout",
              "ca_file")
SECTIONS = ("run", "report", "labels", "email")


def read_config(path: Path) -> dict[str, dict[str, Any]]:
    """Read and check the structure of a config file (sections and key names, not values)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", hint="Check the --config path.") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder", hint="Pass the .toml file itself.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}",
                          hint="Fix the syntax; see the README's config example.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    for section, body in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"config file {path}: unknown section [{section}]",
                              hint="Known sections: " + ", ".join(f"[{s}]" for s in SECTIONS) + ".")
        if not isinstance(body, dict):
            raise ConfigError(f"config file {path}: {section} must be a section ([{section}])")
        if section == "labels":
            continue  # any column name; _labels checks the values
        known = EMAIL_KEYS if section == "email" else [k for k in FIELDS if k in CONFIG_KEYS
                                                         and FIELDS[k].section == section]
        if section == "email" and ({"password", "password_file"} & set(body)):
            raise ConfigError(f"config file {path}: the SMTP password must not be in a config file",
                              hint="Set REPORTGEN_SMTP_PASSWORD, or REPORTGEN_SMTP_PASSWORD_FILE naming a file "
                                   "that holds it.")
        for key in body:
            if key not in known:
                raise ConfigError(f"config file {path}: unknown key {key!r} in [{section}]",
                                  hint=f"Known keys in [{section}]: " + ", ".join(known) + ".")
    return data


def _flag(key: str) -> str:
    return FIELDS[key].flag or f"--{key.replace('_', '-')}"


def _apply(values: dict[str, Any], key: str, raw: Any, where: str, base: Path) -> None:
    parsed = FIELDS[key].parse(key, raw, where, base)
    if key == "k_range":
        values["k_min"], values["k_max"] = parsed
    else:
        values[key] = parsed


def find_config(cwd: Path) -> Path | None:
    """The ``reportgen.toml`` of the working folder, if there is one."""
    candidate = cwd / CONFIG_NAME
    return candidate if candidate.is_file() else None


def resolve_settings(
    *,
    config: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
    base: Settings | None = None,
) -> Settings:
    """Defaults < config file < flags. ``flags`` holds only what the user gave (None values are skipped);
    flag paths are relative to ``cwd``, config paths to the config file's folder."""
    cwd = cwd or Path.cwd()
    values: dict[str, Any] = {}
    if config is not None:
        data = read_config(config)
        for section in ("run", "report"):
            for key, raw in data.get(section, {}).items():
                _apply(values, key, raw, f"in {config.name} [{section}]", config.parent)
        if "labels" in data:
            _apply(values, "labels", data["labels"], f"in {config.name} [labels]", config.parent)
    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        if key not in CONFIG_KEYS:
            raise ValueError(f"unknown setting {key!r}")  # a programming error, not a user error
        _apply(values, key, raw, _flag(key), cwd)
    return _check_combination(replace(base or Settings(), **values))


def _check_combination(settings: Settings) -> Settings:
    """The rules between settings: a fixed k widens the range, --assign-only needs a baseline (what an algorithm
    or an engine can do is its table entry's, checked by :func:`reportgen.plan.plan_run`)."""
    if settings.k_min > settings.k_max:
        raise ConfigError(f"k_min = {settings.k_min} is above k_max = {settings.k_max}",
                          hint=f"Use a range like --k-range {settings.k_max}-{settings.k_min}.")
    if settings.assign_only and not settings.baseline:
        raise ConfigError("--assign-only needs a baseline run to take the segments from",
                          hint="Add --baseline latest (or a run folder).")
    if settings.k is not None and not settings.k_min <= settings.k <= settings.k_max:
        settings = replace(settings, k_min=min(settings.k_min, settings.k), k_max=max(settings.k_max, settings.k))
    return settings


def validate(settings: Settings) -> Settings:
    """Every field through its parser (a Settings built in a notebook is judged like a flag), and the
    combinations of fields: values only, no I/O (:func:`reportgen.plan.plan_run` checks the files and folders)."""
    values = {}
    for item in fields(settings):
        value = getattr(settings, item.name)
        values[item.name] = FIELDS[item.name].parse(item.name, value, "in Settings", Path())
    return _check_combination(replace(settings, **values))
