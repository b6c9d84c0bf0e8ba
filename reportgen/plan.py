"""The plan of a run: validated settings plus what checking them against the world loads (the input's path or database,
the rules, the templates, the logo, the output folder, the baseline)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .engines import ENGINES
from .engines.base import Input, Progress
from .errors import ConfigError, InputError
from .model import Scaling
from .segmentation.algorithms import ALGORITHMS, categorical_algorithms
from .settings import Settings, validate

if TYPE_CHECKING:
    from .describe.rulebook import Rules
    from .model import BaselineModel


DataSource = Path | str | bytes | BinaryIO | None  # what a user passes: a path, a database URL, bytes, a stream


# ----------------------------------------------------------------------------- validation before the run
@dataclass(frozen=True)
class RunPlan:
    """A checked run: the settings, and what was loaded to check them (rules, baseline, logo)."""

    settings: Settings
    source: Input
    source_name: str | None
    rules: Rules
    baseline: BaselineModel | None
    scaling: Scaling  # the one asked for, else the baseline's, else standard
    features: tuple[str, ...] | None  # the ones asked for, or the baseline's
    logo: str | None  # data URI


def plan_run(settings: Settings, source: DataSource = None, *, source_name: str | None = None,
             write: bool = True, progress: Progress | None = None) -> RunPlan:
    """Check everything that can be checked before the data is read (the values, :func:`~reportgen.settings.validate`;
    then the files and folders they name), and return the plan of the run.

    Raises :class:`ConfigError` (a setting, the rules file, templates, logo, baseline against the settings) or
    :class:`InputError` / :class:`~reportgen.errors.OutputError` (the input path, the output folder)."""
    from .archive import runs
    from .archive.folder import check_output_root
    from .describe.rulebook import load_rules
    from .report.render import check_templates, logo_data_uri

    settings = validate(settings)
    check_capabilities(settings)
    checked = checked_source(settings, source)
    rules = load_rules(settings.rules)
    check_templates(settings.templates, locale=settings.locale)
    logo = logo_data_uri(settings.logo)
    if write:
        check_output_root(settings.output)
    baseline = None
    if settings.baseline == "latest" and not runs.run_folders(settings.output):
        if progress is not None:
            progress(f"No earlier run in {settings.output}: this run has no baseline")  # the first month
    elif settings.baseline:
        baseline = runs.load_baseline(runs.resolve_run(settings.baseline, settings.output))
    check_baseline_categories(baseline, clusters_categories(settings))
    return RunPlan(settings=settings, source=checked, source_name=source_name, rules=rules, baseline=baseline,
                   scaling=resolve_scale(settings.scale, baseline),
                   features=check_baseline_features(baseline, settings.features), logo=logo)


def checked_source(settings: Settings, source: DataSource) -> Input:
    """The input as the engine reads it: a file that exists, bytes or a stream, or a database (the bundled sample
    without one); what the engine cannot read is refused."""
    from .inputs.database import database_source, is_database_url
    from .inputs.sample import sample_path

    engine = ENGINES[settings.engine]
    if source is None:
        source = sample_path()
    if is_database_url(source):
        assert isinstance(source, str)
        if engine.files_only:
            raise ConfigError(f"--engine {engine.name} reads files, not databases",
                              hint=f"Leave out --engine {engine.name}.")
        return database_source(source, table=settings.table, query=settings.query)
    if settings.table is not None or settings.query is not None:
        raise ConfigError("--table and --query read a database; the input is a file",
                          hint='Pass a database URL such as "sqlite:///crm.db" as DATA, or leave them out.')
    checked = Path(source) if isinstance(source, str) else source
    if isinstance(checked, Path):
        if not checked.exists():
            raise InputError(f"no such file: {checked}", hint="Check the path and the file name.")
        if checked.is_dir():
            raise InputError(f"{checked} is a folder, not a file", hint="Pass the data file itself.")
    elif engine.files_only:
        raise ConfigError(f"--engine {engine.name} reads files, not standard input", hint="Pass the data file's path.")
    return checked


def check_capabilities(settings: Settings) -> None:
    """What the chosen algorithm and engine can do (flags of their table entries), against the settings."""
    algorithm, engine = ALGORITHMS[settings.algorithm], ENGINES[settings.engine]
    for_categories = [key for key, entry in ALGORITHMS.items() if entry.needs_categories]
    if algorithm.needs_categories and settings.categorical == "profile":
        raise ConfigError(f"--algorithm {settings.algorithm} clusters categorical columns, which --categorical "
                          "profile leaves out", hint="Leave out --categorical profile, or choose another --algorithm.")
    if settings.categorical == "cluster" and not algorithm.needs_categories:
        raise ConfigError(f"--categorical cluster needs an algorithm for categories; --algorithm "
                          f"{settings.algorithm} clusters numbers only",
                          hint="Add --algorithm " + " or ".join(
                              f"{key} ({ALGORITHMS[key].name}: numeric and categorical columns together)"
                              for key in for_categories) + ".")
    if engine.algorithms is not None and settings.algorithm not in engine.algorithms:
        names = " or ".join(ALGORITHMS[key].name for key in engine.algorithms)
        raise ConfigError(f"--engine {engine.name} clusters with {names} only, not --algorithm {settings.algorithm}",
                          hint="Leave out --algorithm, or use the default engine.")


def clusters_categories(settings: Settings) -> bool:
    """Whether the run clusters categorical columns too (``--categorical cluster``, or, by default, with an algorithm
    that needs them: k-prototypes)."""
    return settings.categorical == "cluster" or (settings.categorical == "auto"
                                                 and ALGORITHMS[settings.algorithm].needs_categories)


def resolve_scale(scale: Scaling | None, baseline: BaselineModel | None) -> Scaling:
    """The scaling to use: the one asked for, else the baseline's, else standard. A baseline with another
    scaling is an error (its segments would not mean the same)."""
    if baseline is None:
        return scale or "standard"
    if scale is not None and scale != baseline.scaler.method:
        raise ConfigError(f"the baseline run {baseline.run} scales its features with {baseline.scaler.method!r}; "
                          f"this run asks for --scale {scale}",
                          hint=f"Leave out --scale (or use --scale {baseline.scaler.method}) to compare with it.")
    return baseline.scaler.method


def check_baseline_categories(baseline: BaselineModel | None, clustered: bool) -> None:
    """A baseline clustered on categorical columns needs this run to cluster them too, and the other way round."""
    if baseline is None or (baseline.categories is not None) == clustered:
        return
    if baseline.categories is not None:
        raise ConfigError(f"the baseline run {baseline.run} clusters on the categorical columns "
                          f"{', '.join(baseline.categories.columns)} too; this run clusters numbers only",
                          hint=f"Add --algorithm {categorical_algorithms()}, or choose another baseline.")
    raise ConfigError(f"the baseline run {baseline.run} clusters on numeric columns only; this run clusters "
                      "categorical columns too",
                      hint=f"Leave out --algorithm {categorical_algorithms()}, or choose another baseline.")


def check_baseline_features(baseline: BaselineModel | None, requested: tuple[str, ...] | None
                            ) -> tuple[str, ...] | None:
    """The features of the run: the baseline's (which a different --features contradicts), or those asked for."""
    if baseline is None:
        return requested
    clustered = (*baseline.features, *(baseline.categories.columns if baseline.categories else ()))
    if requested is not None and sorted(r.casefold() for r in requested) != sorted(f.casefold() for f in clustered):
        raise ConfigError(
            f"the baseline run {baseline.run} clusters on {', '.join(clustered)}; this run asks for "
            f"{', '.join(requested)}",
            hint="Leave out --features to use the baseline's, or choose another baseline.")
    return baseline.features
