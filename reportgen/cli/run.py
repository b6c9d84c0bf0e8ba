"""'reportgen run', 'reportgen sample' and 'reportgen rules'."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..settings import (
    find_config,
    resolve_settings,
)
from .group import CONTEXT, StderrProgress, cli
from .options import DataArgument, analysis_options, output_options, report_options

if TYPE_CHECKING:
    from ..delivery.mailer import EmailSettings
    from ..model import RunResult


@cli.command(context_settings=CONTEXT)
@click.argument("data", required=False, type=DataArgument())
@analysis_options
@report_options
@output_options
def run(data: Path | str | None, config: Path | None, quiet: bool, as_json: bool, email_to: tuple[str, ...],
        **flags: Any) -> None:
    """Segment the customers in DATA and write a run folder with the report.

    DATA is a CSV or TSV file (delimiter and encoding detected; '#' comment lines before the header are
    skipped), a Parquet or JSON file, an Excel (.xlsx, .xls) or OpenDocument (.ods) workbook (--sheet), or a
    database URL with --table or --query (any SQLAlchemy URL: "sqlite:///crm.db", "postgresql://user@host/db";
    the password from REPORTGEN_DB_PASSWORD or --password-file); '-' reads standard input; without DATA the
    bundled sample is used. The run folder output/<date>-<time>-<name>/ holds
    report.html, report.pdf, segments.csv, profiles.csv, metrics.json, manifest.json and charts/. Its path
    is printed on stdout; progress goes to stderr.

    Options can also come from a config file ([run] and [report] sections); flags override it.

    \b
    Example:
        reportgen run
        reportgen run customers.csv --features "Annual Income (k$),Spending Score (1-100)" --scale none
        reportgen run customers.csv --k 5 --name march -o reports/ --format pdf
        cat customers.csv | reportgen run - --name stdin-test
    """
    from ..report.charts import Drawing

    config = config or find_config(Path.cwd())
    settings = resolve_settings(config=config, flags=flags)
    mail = None
    if email_to:  # check the email settings before the work, not after
        from ..delivery.mailer import email_section, resolve_email_settings

        mail = resolve_email_settings(email_section(config), to=email_to)
    progress = None if quiet else StderrProgress()
    if progress and config:
        progress(f"Using config {config}")
    # the chart processes start before this one imports pandas and scikit-learn: both get going at once
    with Drawing(settings.workers if settings.formats else 1) as drawing:
        from ..pipeline import run as run_pipeline

        source, name = _source_of(data)
        result = run_pipeline(source, settings, progress=progress, source_name=name, drawing=drawing)
    if progress:
        progress(f"Done: {result.model.segmentation.k} segments, silhouette "
                 f"{result.model.segmentation.silhouette:.3f}")
    click.echo(json.dumps(_summary(result), indent=2) if as_json else str(result.folder))
    if mail is not None and result.folder is not None:
        _email(result.folder, mail, progress)


def _source_of(data: Path | str | None) -> tuple[Any, str | None]:
    """What the pipeline reads, and its name: standard input's bytes for '-'."""
    if data is not None and str(data) == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    return data, None


def _summary(result: RunResult) -> dict[str, Any]:
    """The --json summary of a run."""
    return {"folder": str(result.folder), "k": result.model.segmentation.k,
            "silhouette": round(result.model.segmentation.silhouette, 4), "files": list(result.files),
            "segments": [{"segment": s.number, "name": s.name, "size": s.size, "share": round(s.share, 4)}
                         for s in result.model.segments]}


def _email(folder: Path, mail: EmailSettings, progress: StderrProgress | None) -> None:
    """The run's report by e-mail: a failure is one Error: line and exit 1, and the run folder stays."""
    from ..delivery.mailer import email_run

    if progress:
        progress(f"Emailing the report to {', '.join(mail.to)}")
    email_run(folder, mail)
    if progress:
        progress("Sent")


@cli.command(context_settings=CONTEXT)
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--rows", type=click.IntRange(10, 100_000_000), default=300, show_default=True,
              help="Number of customers.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=20261125, show_default=True,
              help="Random seed (the same seed gives the same file).")
@click.option("--clean", "clean_", is_flag=True, help="Leave out the few dirty values the sample has.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def sample(out: Path, rows: int, seed: int, clean_: bool, force: bool) -> None:
    """Write a generated customer table with planted segments to OUT ('-' for stdout).

    Same columns as the Kaggle Mall Customers data; this is how data/sample_customers.csv is made.

    \b
    Example:
        reportgen sample customers.csv --rows 10000
    """
    from ..errors import OutputError
    from ..inputs.sample import sample_csv

    data = sample_csv(rows, seed=seed, dirty=not clean_)
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        return
    if out.exists() and not force:
        raise OutputError(f"{out} already exists", hint="Choose another file name or pass --force.")
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc
    click.echo(str(out))


@cli.command(context_settings=CONTEXT)
def rules() -> None:
    """Print the packaged persona and recommendation rules (TOML), to copy and edit.

    \b
    Example:
        reportgen rules > my-rules.toml
        reportgen run customers.csv --rules my-rules.toml
    """
    from ..describe.rulebook import default_rules_path

    click.echo(default_rules_path().read_text(encoding="utf-8"), nl=False)
