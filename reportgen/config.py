"""Settings: defaults < config file (reportgen.toml) < environment (secrets only) < flags.

The config file has sections ``[run]``, ``[report]`` and ``[email]``; an unknown section or key is an error
(a typo must not be silently ignored). Paths in the config file are relative to the file's own folder.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_NAME = "reportgen.toml"
SCALINGS = ("standard", "minmax", "none")
MISSING_POLICIES = ("drop", "median")
FORMATS = ("html", "pdf")
PAPERS = ("A4", "letter")
LOCALES = ("en", "de", "fr", "es", "it", "nl", "ch")
ENGINES = ("pandas", "spark")


@dataclass(frozen=True)
class Settings:
    """Every option of a run, resolved. Build with :func:`resolve_settings` or directly in a notebook."""

    # [run]
    features: tuple[str, ...] | None = None
    k: int | None = None
    k_min: int = 2
    k_max: int = 10
    scale: str | None = None  # None: standard, or the baseline's scaling
    seed: int = 42
    n_init: int = 10
    missing: str = "drop"
    silhouette_sample: int = 5000  # above this many rows, silhouettes use a fixed-seed sample of this size
    sweep_sample: int = 20_000  # above this many rows, the k sweep runs on a fixed-seed sample of this size
    output: Path = Path("output")
    name: str | None = None
    formats: tuple[str, ...] = FORMATS
    engine: str = "pandas"
    spark_master: str = "local[*]"
    workers: int = 2  # processes that draw the report: 2 = a helper process draws charts while K-means runs
    baseline: str | None = None  # "latest", a run folder, or a run name under output
    assign_only: bool = False  # label customers with the baseline's segments, no re-clustering
    # [report]
    title: str = "Customer segmentation report"
    organisation: str = ""
    logo: Path | None = None
    accent: str = "#1f4e79"
    paper: str = "A4"
    locale: str = "en"
    templates: Path | None = None
    rules: Path | None = None

    def __post_init__(self) -> None:
        """Accept the natural Python forms in a notebook: str paths, lists, "A,B" feature strings."""
        for name in ("output", "logo", "templates", "rules"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))
        if isinstance(self.features, str | list):
            object.__setattr__(self, "features", tuple(split_list(self.features)) or None)
        if isinstance(self.formats, str | list):
            object.__setattr__(self, "formats", tuple(split_list(self.formats)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the manifest."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out


# ----------------------------------------------------------------------------- value parsers
def _fail(key: str, value: Any, where: str, expected: str) -> ConfigError:
    """``where`` is a flag (``--k-range``) or a place in a config file (``in reportgen.toml [run]``)."""
    said = f"{where} {value!r}" if where.startswith("--") else f"{key} = {value!r} {where}"
    return ConfigError(f"{said} is not valid: expected {expected}",
                       hint="Fix the value or leave it out to use the default.")


def _int(lo: int, hi: int | None = None) -> Callable[[str, Any, str, Path], int]:
    def parse(key: str, value: Any, where: str, base: Path) -> int:
        try:
            number = int(value)
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
        except (TypeError, ValueError):
            raise _fail(key, value, where, "a whole number") from None
        if number < lo or (hi is not None and number > hi):
            limit = f">= {lo}" if hi is None else f"between {lo} and {hi}"
            raise _fail(key, value, where, f"a whole number {limit}")
        return number

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str, Any, str, Path], str]:
    def parse(key: str, value: Any, where: str, base: Path) -> str:
        text = str(value).strip()
        for option in options:
            if text.lower() == option.lower():
                return option
        raise _fail(key, value, where, "one of " + ", ".join(options))

    return parse


def _text(key: str, value: Any, where: str, base: Path) -> str:
    if not isinstance(value, str):
        raise _fail(key, value, where, "text")
    return value


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


def _features(key: str, value: Any, where: str, base: Path) -> tuple[str, ...] | None:
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
    if names == ["none"]:
        return ()  # the data files only, no report
    if not names or any(name not in FORMATS for name in names):
        raise _fail(key, value, where, '"html", "pdf", "html,pdf" or "none"')
    return tuple(f for f in FORMATS if f in names)


def parse_k_range(key: str, value: Any, where: str, base: Path = Path()) -> tuple[int, int]:
    """``"2-10"`` or ``[2, 10]`` -> ``(2, 10)``."""
    expected = 'a range like "2-10" (two whole numbers, 2 <= low <= high <= 50)'
    if isinstance(value, list | tuple) and len(value) == 2:
        parts = list(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*[-:]\s*\d+\s*", value):
        parts = re.split(r"[-:]", value)
    else:
        raise _fail(key, value, where, expected)
    try:
        low, high = (int(part) for part in parts)
    except (TypeError, ValueError):
        raise _fail(key, value, where, expected) from None
    if not 2 <= low <= high <= 50:
        raise _fail(key, value, where, expected)
    return low, high


# key in the config file -> (section, parser); "k_range" fills k_min and k_max
PARSERS: dict[str, tuple[str, Callable[[str, Any, str, Path], Any]]] = {
    "features": ("run", _features),
    "k": ("run", _int(2, 50)),
    "k_range": ("run", parse_k_range),
    "scale": ("run", _choice(SCALINGS)),
    "seed": ("run", _int(0, 2**32 - 1)),
    "n_init": ("run", _int(1, 100)),
    "missing": ("run", _choice(MISSING_POLICIES)),
    "silhouette_sample": ("run", _int(100)),
    "sweep_sample": ("run", _int(1000)),
    "output": ("run", _path),
    "name": ("run", _name),
    "formats": ("run", _formats),
    "engine": ("run", _choice(ENGINES)),
    "workers": ("run", _int(1, 2)),
    "baseline": ("run", _text),
    "assign_only": ("run", _bool),
    "spark_master": ("run", _text),
    "title": ("report", _text),
    "organisation": ("report", _text),
    "logo": ("report", _path),
    "accent": ("report", _color),
    "paper": ("report", _choice(PAPERS)),
    "locale": ("report", _choice(LOCALES)),
    "templates": ("report", _path),
    "rules": ("report", _path),
}
FLAG_NAMES = {"formats": "--format"}
EMAIL_KEYS = ("host", "port", "user", "security", "from", "to", "cc", "subject", "max_attachment_mb", "timeout",
              "ca_file")
SECTIONS = ("run", "report", "email")


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
        known = EMAIL_KEYS if section == "email" else [k for k, (s, _) in PARSERS.items() if s == section]
        if section == "email" and ({"password", "password_file"} & set(body)):
            raise ConfigError(f"config file {path}: the SMTP password must not be in a config file",
                              hint="Set REPORTGEN_SMTP_PASSWORD, or REPORTGEN_SMTP_PASSWORD_FILE naming a file "
                                   "that holds it.")
        for key in body:
            if key not in known:
                raise ConfigError(f"config file {path}: unknown key {key!r} in [{section}]",
                                  hint=f"Known keys in [{section}]: " + ", ".join(known) + ".")
    return data


def _apply(values: dict[str, Any], key: str, raw: Any, where: str, base: Path) -> None:
    parsed = PARSERS[key][1](key, raw, where, base)
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
    for key, raw in (flags or {}).items():
        if raw is None:
            continue
        if key not in PARSERS:
            raise ValueError(f"unknown setting {key!r}")  # a programming error, not a user error
        _apply(values, key, raw, FLAG_NAMES.get(key, f"--{key.replace('_', '-')}"), cwd)
    settings = replace(base or Settings(), **values)
    if settings.assign_only and not settings.baseline:
        raise ConfigError("--assign-only needs a baseline run to take the segments from",
                          hint="Add --baseline latest (or a run folder).")
    if settings.k is not None and not settings.k_min <= settings.k <= settings.k_max:
        settings = replace(settings, k_min=min(settings.k_min, settings.k), k_max=max(settings.k_max, settings.k))
    return settings


def email_section(config: Path | None) -> dict[str, Any]:
    """The ``[email]`` section of a config file ({} without one); mailer.py validates the values. A relative
    ca_file is relative to the config file."""
    if config is None:
        return {}
    section = dict(read_config(config).get("email", {}))
    if section.get("ca_file") and not Path(section["ca_file"]).expanduser().is_absolute():
        section["ca_file"] = str(config.parent / section["ca_file"])
    return section


SETTING_NAMES = tuple(f.name for f in fields(Settings))
