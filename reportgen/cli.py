"""The command line: a thin Click layer over the library (parse, call, echo).

This is the only place where errors become messages and exit codes: a ReportgenError prints one
``Error: ...`` line on stderr (exit 1, or 2 for ConfigError); a usage error prints one line (exit 2); anything
else is an internal error: one line, and ``--debug`` shows the traceback. stdout carries only the result.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ReportgenError, ReportgenWarning
from .settings import (
    ALGORITHMS,
    CATEGORICAL_MODES,
    ENGINES,
    LOCALES,
    MISSING_POLICIES,
    OUTLIER_POLICIES,
    PAPERS,
    SCALINGS,
    TRANSACTION_MODES,
    TRANSFORM_POLICIES,
    find_config,
    resolve_settings,
)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _one_line(message: str, hint: str | None = None) -> str:
    text = " ".join(str(message).split())
    if hint:
        text = (text if text.endswith(("?", "!")) else text.rstrip(".") + ".") + " " + " ".join(hint.split())
    return f"Error: {text}"


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """A warning as one ``Warning:`` line on stderr (no file and line: they mean nothing to a user)."""
    click.echo("Warning: " + " ".join(str(message).split()), err=True)


class ReportgenGroup(click.Group):
    """Turns every failure into one line on stderr and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or os.environ.get("REPORTGEN_DEBUG", "") not in ("", "0")
        code = 0
        try:
            with warnings.catch_warnings():
                if not debug:
                    warnings.simplefilter("ignore")
                warnings.simplefilter("always", ReportgenWarning)  # what a user should know, even with -q
                warnings.showwarning = _show_warning
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "reportgen"
            click.echo(_one_line(exc.format_message(), f"See '{where} -h' for help."), err=True)
            code = 2
        except click.ClickException as exc:
            click.echo(_one_line(exc.format_message()), err=True)
            code = exc.exit_code
        except ReportgenError as exc:
            if debug:
                traceback.print_exc()
            click.echo(_one_line(exc.message, exc.hint), err=True)
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("Error: interrupted; nothing was written.", err=True)
            code = 130
        except BrokenPipeError:
            code = 1
        except Exception as exc:
            if debug:
                traceback.print_exc()
            click.echo(_one_line(f"internal error: {type(exc).__name__}: {exc}",
                                 "This is a bug in reportgen: run again with --debug for the traceback "
                                 "and report it."), err=True)
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code)


class StderrProgress:
    """Progress lines on stderr with the elapsed time (the library only calls ``progress(message)``)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        click.echo(f"[{time.perf_counter() - self.start:5.1f}s] {message}", err=True)


def _options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Bundle click options into one decorator (shared by several commands)."""

    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


analysis_options = _options(
    click.option("--features", metavar="A,B,...",
                 help="Numeric columns to cluster on, comma-separated (case-insensitive); with --algorithm "
                      "kprototypes, categorical ones too. Default: every numeric column that is not an ID, a "
                      "code or a flag."),
    click.option("--sheet", metavar="NAME|N",
                 help="The sheet of an Excel or OpenDocument workbook: its name or number (1 is the first).  "
                      "[default: the first sheet with data]"),
    click.option("--decimal", metavar="auto|.|,",
                 help="The decimal mark of numbers written as text: '.' (1,234.5), ',' (1.234,5), or auto: decided "
                      "from the values, file by file; a file whose values leave it open (only 1.234-like values "
                      "in a file that is not comma-delimited) is refused until this says.  [default: auto]"),
    click.option("--table", metavar="NAME", help="With a database URL as DATA: the table of customers."),
    click.option("--query", metavar="SQL", help="With a database URL as DATA: a query that returns the customers."),
    click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="A file holding the database password (else the REPORTGEN_DB_PASSWORD environment "
                      "variable; never in the URL)."),
    click.option("--transactions", type=click.Choice(TRANSACTION_MODES, case_sensitive=False),
                 help="auto: a transaction log (a customer ID that repeats, a date, an amount) is recognised and "
                      "turned into one row per customer (recency, frequency, monetary...); yes: it must be one; "
                      "no: segment the rows as they are.  [default: auto]"),
    click.option("--customer", metavar="COLUMN", help="The customer ID column of a transaction log."),
    click.option("--date", metavar="COLUMN", help="The date column of a transaction log."),
    click.option("--amount", metavar="COLUMN", help="The amount column of a transaction log."),
    click.option("--quantity", metavar="COLUMN", help="The quantity column (with --price, instead of an amount)."),
    click.option("--price", metavar="COLUMN", help="The unit price column (with --quantity)."),
    click.option("--as-of", metavar="YYYY-MM-DD",
                 help="The date recency is counted to.  [default: the day after the last date in the log]"),
    click.option("--date-format", metavar="FORMAT",
                 help="How the log's dates are written (strptime, e.g. %d/%m/%Y).  [default: recognised]"),
    click.option("--k", "k", type=click.IntRange(2, 50), metavar="N",
                 help="Fix the number of segments instead of choosing it by the vote of the indices."),
    click.option("--k-range", metavar="LOW-HIGH", help="Range of k to try.  [default: 2-10]"),
    click.option("--scale", type=click.Choice(SCALINGS, case_sensitive=False),
                 help="Feature scaling before K-means.  [default: standard]"),
    click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Random seed for K-means.  [default: 42]"),
    click.option("--missing", type=click.Choice(MISSING_POLICIES, case_sensitive=False),
                 help="Rows with a missing feature value: drop them, or fill in the median.  [default: drop]"),
    click.option("--max-drop", metavar="SHARE",
                 help="No cleaning step drops more than this share of the customers: a feature whose missing "
                      "values would is filled in with its median instead, and the report says so.  [default: 5%]"),
    click.option("--transform", type=click.Choice(TRANSFORM_POLICIES, case_sensitive=False),
                 help="auto: heavy-tailed features with no negative value (money, counts) are clustered on "
                      "log(1 + x); none: as they are (the textbook).  [default: auto]"),
    click.option("--outliers", type=click.Choice(OUTLIER_POLICIES, case_sensitive=False),
                 help="clip: far-out values (3 IQR beyond the quartiles) are clipped at the 1st/99th percentile "
                      "for the clustering only (the customers keep their segments); keep: as they are.  "
                      "[default: clip]"),
    click.option("--min-share", metavar="SHARE",
                 help="Never choose a k that leaves a segment with a smaller share of the customers.  "
                      "[default: 2%]"),
    click.option("--stability-resamples", type=click.IntRange(0, 1000), metavar="N",
                 help="Bootstrap resamples of the segment stability check; 0 skips it.  [default: 50]"),
    click.option("--algorithm", type=click.Choice(ALGORITHMS, case_sensitive=False),
                 help="Clustering algorithm: kmeans; ward (hierarchical; on a 5,000-customer sample above that); "
                      "gmm (Gaussian mixture, with BIC in the k table); kprototypes (numeric and categorical "
                      "columns together, such as gender or region).  [default: kmeans]"),
    click.option("--categorical", type=click.Choice(CATEGORICAL_MODES, case_sensitive=False),
                 help="profile: categorical columns describe the segments; cluster: they shape them too "
                      "(with --algorithm kprototypes; every categorical column of 2-12 levels, or those named "
                      "in --features).  [default: auto: cluster with kprototypes, else profile]"),
    click.option("--baseline", metavar="RUN",
                 help="An earlier run ('latest', a run folder, or a run name in the output folder): segments keep "
                      "its numbers and names, and the report shows what changed."),
    click.option("--assign-only", is_flag=True, default=None,
                 help="With --baseline: label the customers with the baseline's segments, without re-clustering."),
)

report_options = _options(
    click.option("--title", help="Report title.  [default: Customer segmentation report]"),
    click.option("--organisation", help="Organisation named on the cover."),
    click.option("--logo", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Logo image (PNG, JPEG or SVG) for the cover."),
    click.option("--accent", metavar="#RRGGBB", help="Accent colour of headings.  [default: #1f4e79]"),
    click.option("--paper", type=click.Choice(PAPERS, case_sensitive=False), help="PDF paper size.  [default: A4]"),
    click.option("--locale", type=click.Choice(LOCALES, case_sensitive=False),
                 help="Language of numbers: decimal and thousands separators.  [default: en]"),
    click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
                 help="Folder of templates that override the packaged ones by file name."),
    click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Persona and recommendation rules (TOML); see 'reportgen rules'."),
    click.option("--format", "formats", metavar="html,pdf",
                 help="Report formats to write; 'none' writes the data files only.  [default: html,pdf]"),
)

output_options = _options(
    click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
                 help="Folder that holds the run folders.  [default: output]"),
    click.option("--name", help="Name of the run, appended to its folder name.  [default: the input file name]"),
    click.option("--series", metavar="NAME",
                 help="The series this run belongs to (e.g. monthly), for 'reportgen trend --series NAME'."),
    click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="TOML config file.  [default: ./reportgen.toml if present]"),
    click.option("--email-to", "email_to", multiple=True, metavar="ADDRESS",
                 help="After the run, email the report to ADDRESS (repeatable); SMTP settings as for "
                      "'reportgen email'."),
    click.option("--engine", type=click.Choice(ENGINES, case_sensitive=False),
                 help="pandas (one machine) or spark (PySpark: pip install 'reportgen[spark]', needs Java 17+).  "
                      "[default: pandas]"),
    click.option("--spark-master", metavar="URL", help="Spark master for --engine spark.  [default: local[*]]"),
    click.option("--workers", type=click.IntRange(1, 2),
                 help="2: chart processes draw the charts while this one clusters and prepares the PDF; "
                      "1: one process.  [default: 2]"),
    click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr."),
    click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout instead of the path."),
)


@click.group(cls=ReportgenGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="reportgen")
@click.option("--debug", is_flag=True, help="Show the traceback of internal errors (or set REPORTGEN_DEBUG=1).")
def cli(debug: bool) -> None:
    """Turn a customer table into a customer-segmentation report (HTML and PDF).

    \b
    Example:
        reportgen run customers.csv
        reportgen run customers.csv --features "Annual Income (k$),Spending Score (1-100)" --name mall
    """


class DataArgument(click.ParamType):
    """A data file (it must exist), ``-`` for standard input, or a database URL (``sqlite:///crm.db``)."""

    name = "data"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .database import is_database_url

        if is_database_url(value):
            return value
        return click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path).convert(value, param, ctx)


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
    from .charts import Drawing

    config = config or find_config(Path.cwd())
    settings = resolve_settings(config=config, flags=flags)
    mail = None
    if email_to:  # check the email settings before the work, not after
        from .mailer import resolve_email_settings
        from .settings import email_section

        mail = resolve_email_settings(email_section(config), to=email_to)
    progress = None if quiet else StderrProgress()
    if progress and config:
        progress(f"Using config {config}")
    # the chart processes start before this one imports pandas and scikit-learn: both get going at once
    with Drawing(settings.workers if settings.formats else 1) as drawing:
        from .pipeline import run as run_pipeline

        if data is not None and str(data) == "-":
            source: Any = sys.stdin.buffer.read()
            name = "<stdin>"
        else:
            source, name = data, None
        result = run_pipeline(source, settings, progress=progress, source_name=name, drawing=drawing)
    if progress:
        progress(f"Done: {result.model.segmentation.k} segments, silhouette "
                 f"{result.model.segmentation.silhouette:.3f}")
    if as_json:
        click.echo(json.dumps({
            "folder": str(result.folder), "k": result.model.segmentation.k,
            "silhouette": round(result.model.segmentation.silhouette, 4), "files": list(result.files),
            "segments": [{"segment": s.number, "name": s.name, "size": s.size, "share": round(s.share, 4)}
                         for s in result.model.segments],
        }, indent=2))
    else:
        click.echo(str(result.folder))
    if mail is not None and result.folder is not None:
        from .mailer import email_run

        if progress:
            progress(f"Emailing the report to {', '.join(mail.to)}")
        email_run(result.folder, mail)  # a failure is one Error: line and exit 1; the run folder stays
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
    from .errors import OutputError
    from .sample import sample_csv

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
    from .recommend import default_rules_path

    click.echo(default_rules_path().read_text(encoding="utf-8"), nl=False)


def main() -> None:
    """The console entry point. Once the command has finished and everything is written and flushed, the process
    ends at once: tearing down pandas, scikit-learn, WeasyPrint and the thread pools takes 0.4 s that a user would
    wait for and nothing needs (measured on the Mall data: 5.40 s to done, 5.80 s to exit; 4.77 s with this).
    The chart processes end by themselves when their pipes close."""
    code = cli.main(prog_name="reportgen", standalone_mode=False)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code if isinstance(code, int) else 0)


# ------------------------------------------------------------------------------------------- archived runs
def _root(output: Path | None, config: Path | None) -> Path:
    """The folder that holds the runs: --output, else the config's, else ./output."""
    config = config or find_config(Path.cwd())
    return output or resolve_settings(config=config).output


runs_options = _options(
    click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
                 help="Folder that holds the run folders.  [default: output]"),
    click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="TOML config file (for its output folder).  [default: ./reportgen.toml if present]"),
)


def _table(rows: list[list[str]], headers: list[str], right: frozenset[int] | set[int] = frozenset()) -> str:
    widths = [max(len(str(v)) for v in column) for column in zip(headers, *rows, strict=True)]

    def line(values: list[str]) -> str:
        cells = [str(v).rjust(w) if i in right else str(v).ljust(w) for i, (v, w) in enumerate(zip(values, widths,
                                                                                               strict=True))]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


@cli.command(context_settings=CONTEXT)
@runs_options
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout, for scripts.")
def history(output: Path | None, config: Path | None, as_json: bool) -> None:
    """List the archived runs, oldest first.

    \b
    Example:
        reportgen history
        reportgen history -o reports/ --json
    """
    from .runs import list_runs

    runs = list_runs(_root(output, config))
    if as_json:
        click.echo(json.dumps([{"run": r.run, "folder": str(r.folder), "created": r.created, "title": r.title,
                                "input": r.input_name, "rows": r.rows, "k": r.k, "silhouette": r.silhouette,
                                "input_sha256": r.input_sha256, "baseline": r.baseline, "deliveries": r.deliveries}
                               for r in runs], indent=2))
        return
    if not runs:
        click.echo(f"No runs in {_root(output, config)}.", err=True)
        return
    rows = [[r.run, r.created[:16].replace("T", " "), r.input_name, f"{r.rows:,}", str(r.k or "–"),
             f"{r.silhouette:.3f}" if r.silhouette is not None else "–", r.input_sha256[:12], r.baseline or "",
             str(r.deliveries)] for r in runs]
    click.echo(_table(rows, ["run", "date", "input", "rows", "k", "silhouette", "sha256", "baseline", "emailed"],
                      right={3, 4, 5, 8}))


@cli.command(context_settings=CONTEXT)
@click.argument("run_ref", metavar="RUN", default="latest")
@runs_options
@click.option("--json", "as_json", is_flag=True, help="The run's summary.json on stdout.")
def show(run_ref: str, output: Path | None, config: Path | None, as_json: bool) -> None:
    """Print the summary of one run: segments, shares and headline recommendations.

    RUN is a run folder, a run folder's name in the output folder, the name it was given (what follows the date
    and time: 'mall' for 20261125-093000-mall, when one run has it), or 'latest' (the default).

    \b
    Example:
        reportgen show latest
        reportgen show mall
        reportgen show output/20261125-093000-mall --json
    """
    from .runs import read_json, read_manifest, resolve_run

    folder = resolve_run(run_ref, _root(output, config))
    manifest = read_manifest(folder)
    summary = read_json(folder / "summary.json") or {}
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    lines = [f"{summary.get('title', '')}: run {manifest.get('run', folder.name)} of {manifest.get('started', '')}",
             (f"input {manifest['input']['name']} ({manifest['input']['rows']:,} rows, sha256 "
             f"{manifest['input']['sha256'][:12]}), {summary.get('customers', 0):,} customers segmented"),
             f"k = {summary.get('k')}, silhouette {summary.get('silhouette')} ({summary.get('verdict')})"]
    if manifest.get("baseline"):
        lines.append(f"baseline: {manifest['baseline']['run']}")
    lines.append("")
    rows = [[str(s["segment"]), s["name"] + (f" [{s['status']}]" if s.get("status") else ""), f"{s['size']:,}",
             f"{s['share']:.1%}", s["recommendations"][0]["action"]] for s in summary.get("segments", [])]
    lines.append(_table(rows, ["#", "segment", "customers", "share", "headline recommendation"], right={0, 2, 3}))
    comparison = read_json(folder / "comparison.json")
    if comparison and comparison["customers"]["shared"]:
        c = comparison["customers"]
        lines += ["", (f"since {comparison['baseline']['run']}: {c['same_segment_share']:.0%} of {c['shared']:,} "
                      f"shared customers kept their segment; {c['entered']:,} entered, {c['left']:,} left")]
    click.echo("\n".join(lines))


@cli.command(context_settings=CONTEXT)
@click.argument("before", metavar="RUN_A")
@click.argument("after", metavar="RUN_B")
@runs_options
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON (as comparison.json) on stdout.")
def compare(before: str, after: str, output: Path | None, config: Path | None, as_json: bool) -> None:
    """Compare two runs: segments matched by centroid, sizes, centroid shifts, drift and migration.

    RUN_A is the earlier run, RUN_B the later one: each a run folder, a run folder's name in the output folder,
    the name it was given (what follows the date and time: 'october' for 20261001-080000-october, when one run
    has it), or 'latest'. Works from the run folders alone (model.json, segments.csv), without the data. Each
    segment's number is shown as each run has it ('–': not in that run), and a customer kept its segment when it
    is in the later run's segment matched to its earlier one, whatever the numbers.

    \b
    Example:
        reportgen compare output/20261001-080000-october output/20261101-080000-november
        reportgen compare october latest --json
    """
    from .compare import compare_folders
    from .runs import resolve_run
    from .snapshot import comparison_dict

    root = _root(output, config)
    earlier, later = resolve_run(before, root), resolve_run(after, root)
    result = compare_folders(earlier, later)
    if as_json:
        click.echo(json.dumps(comparison_dict(result), indent=2, ensure_ascii=False))
        return

    def number(value: int | None) -> str:
        return "–" if value is None else str(value)

    rows = [[number(c.number_before), number(c.number_now), c.name, c.status,
             f"{c.size_before or 0:,} -> {c.size_now or 0:,}",
             f"{(c.share_before or 0):.1%} -> {(c.share_now or 0):.1%}",
             ", ".join(f"{f} {v:+.1f}" for f, v in c.shift.items())] for c in result.changes]
    lines = [f"earlier run: {earlier.name}", f"later run:   {later.name}", "",
             _table(rows, ["# earlier", "# later", "segment", "status", "customers", "share", "centroid shift"],
                    right={0, 1}),
             "", ("kept: matched to a segment of the earlier run by its centre; new: no match there; gone: no match "
                  "in the later run.")]
    if result.shared_customers:
        lines += [(f"{result.stayed / result.shared_customers:.0%} of {result.shared_customers:,} shared customers "
                   f"kept their segment (as matched in the table, whatever the numbers); {result.entered:,} entered, "
                   f"{result.left:,} left")]
        if result.in_gone and result.stayed_where_kept is not None:
            lines += [(f"{result.in_gone:,} of them were in a segment that is gone; of the others, "
                       f"{result.stayed_where_kept:.0%} kept theirs")]
    click.echo("\n".join(lines))


@cli.command(context_settings=CONTEXT)
@click.argument("run_ref", metavar="[RUN]", default="latest", required=False)
@click.option("--series", metavar="NAME",
              help="Every run made with 'reportgen run --series NAME', instead of the --baseline links.")
@click.option("--last", type=click.IntRange(2, None), metavar="N", help="Only the latest N runs of the series.")
@runs_options
@click.option("--name", help="Name of the trend report, appended to its folder name after 'trend-'.  "
                             "[default: trend-<series or last run>]")
@click.option("--title", help="Title of the report.  [default: 'Customer segments over N periods']")
@click.option("--format", "formats", metavar="html,pdf",
              help="Report formats to write; 'none' writes the data files only.  [default: html,pdf]")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the trend as JSON on stdout (trend.json) instead of the "
                                                      "folder's path.")
def trend(run_ref: str, series: str | None, last: int | None, output: Path | None, config: Path | None,
          name: str | None, title: str | None, formats: str | None, quiet: bool, as_json: bool) -> None:
    """One report over every run of a series: each segment's share over time, how many customers moved between
    segments from one period to the next, and the segments that appeared or vanished, under numbers and names
    that stay the same. The series is the runs linked by --baseline that end at RUN (default: latest), or the
    runs made with --series NAME. The report (HTML and PDF, with trend.json, shares.csv, steps.csv and flows.csv)
    is written to a folder of its own under --output; its path is printed on stdout.

    \b
    Example:
        reportgen trend
        reportgen trend --series monthly --last 12
        reportgen trend output/20261201-060000-december --json
    """
    from .pipeline import run_trend
    from .snapshot import jsonable
    from .trend import trend_dict

    if series is not None and run_ref != "latest":
        raise click.UsageError("give RUN (the last run of a chain of --baseline links) or --series NAME, not both")
    config = config or find_config(Path.cwd())
    flags = {"output": output, "name": name, "formats": formats}
    settings = resolve_settings(config=config, flags={k: v for k, v in flags.items() if v is not None})
    series_name = resolve_settings(flags={"series": series}).series if series is not None else None
    result = run_trend(settings.output, series=series_name, run=run_ref, last=last, settings=settings, title=title,
                       progress=None if quiet else StderrProgress())
    if as_json:
        click.echo(json.dumps(jsonable({"folder": str(result.folder), **trend_dict(result.trend)}), indent=2))
    else:
        click.echo(str(result.folder))


@cli.command(context_settings=CONTEXT)
@click.argument("target", metavar="RUN_ZIP_OR_PDF")
@runs_options
def verify(target: str, output: Path | None, config: Path | None) -> None:
    """Check every file of a run folder (or an archive made by 'reportgen archive') against the sha256 in its
    manifest, and report.pdf against seal.json. Given a report.pdf alone, check the files it embeds against the
    manifest it embeds. Exits 1 and names the files that differ.

    \b
    Example:
        reportgen verify output/20261125-093000-mall
        reportgen verify output/20261125-093000-mall.zip
        reportgen verify ~/Downloads/report.pdf
    """
    from .errors import SnapshotError
    from .runs import resolve_run
    from .runs import verify as verify_files

    path = Path(target)
    hint = "The run was changed after it was written; rerun it or restore it from an archive."
    if path.is_file() and _is_pdf(path):
        from .pdffiles import verify_pdf

        check = verify_pdf(path)
        if check.problems:
            raise SnapshotError(f"{path}: {_mismatches(check.problems, 'the manifest it embeds')}",
                                hint="The PDF was changed after reportgen wrote it; use the run folder's copy.")
        left = "".join(f"; {name} is not embedded (too many customers), its sha256 is in the manifest"
                       for name in check.left_out)
        click.echo(f"OK: {path}: all {len(check.checked)} embedded files match the embedded manifest "
                   f"of run {check.run}{left} (the pages themselves are checked by seal.json in the run folder: "
                   f"reportgen verify RUN)")
        return
    if not (path.is_file() and path.suffix.lower() == ".zip"):
        path = resolve_run(target, _root(output, config), trend_ok=True)
    checked, problems = verify_files(path)
    if problems:
        raise SnapshotError(f"{path}: {_mismatches(problems, 'the manifest')}", hint=hint)
    click.echo(f"OK: {path}: all {checked} files match the manifest")


def _is_pdf(path: Path) -> bool:
    if path.suffix.lower() == ".pdf":
        return True
    with contextlib.suppress(OSError), path.open("rb") as handle:  # unreadable: verify says so
        return handle.read(5) == b"%PDF-"
    return False


def _mismatches(problems: Any, against: str) -> str:
    described = "; ".join(f"{name} ({what})" for name, what in problems)
    many = len(problems) > 1
    return f"{len(problems)} file{'s' if many else ''} {'do' if many else 'does'} not match {against}: {described}"


@cli.command(context_settings=CONTEXT)
@click.argument("pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--unverified", is_flag=True,
              help="Write the files out even if they do not match the embedded manifest.")
def extract(pdf: Path, folder: Path, unverified: bool) -> None:
    """Write the files a report.pdf carries (segments.csv, profiles.csv, metrics.json, manifest.json, ...) into
    the new folder FOLDER, after checking them against the manifest it embeds. Nothing is overwritten. Prints
    the files written.

    \b
    Example:
        reportgen extract ~/Downloads/report.pdf march-data/
    """
    from .pdffiles import extract as extract_files

    _, written = extract_files(pdf, folder, unverified=unverified)
    for name in written:
        click.echo(str(folder / name))


@cli.command(context_settings=CONTEXT)
@click.argument("run_ref", metavar="RUN")
@runs_options
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the archive.  [default: the run folder's path + .zip]")
@click.option("--force", is_flag=True, help="Overwrite an existing archive.")
def archive(run_ref: str, output: Path | None, config: Path | None, zip_path: Path | None, force: bool) -> None:
    """Write one .zip snapshot of a verified run (every file and its manifest), for the record.

    'reportgen verify' accepts the archive too.

    \b
    Example:
        reportgen archive output/20261125-093000-mall
        reportgen archive latest --zip records/november.zip
    """
    from .runs import archive as archive_run
    from .runs import resolve_run

    click.echo(str(archive_run(resolve_run(run_ref, _root(output, config), trend_ok=True), zip_path,
                               overwrite=force)))


@cli.command(context_settings=CONTEXT)
@click.argument("run_ref", metavar="RUN")
@click.option("--to", "to", multiple=True, metavar="ADDRESS", help="Recipient (repeatable).")
@click.option("--cc", "cc", multiple=True, metavar="ADDRESS", help="Copy recipient (repeatable).")
@click.option("--subject", help="Subject.  [default: '<title>, <month year>: <k> customer segments']")
@click.option("--attach", type=click.Choice(["html"]), multiple=True,
              help="Also attach the HTML report (the PDF is always attached).")
@click.option("--dry-run", "dry_run", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.eml",
              help="Write the message to FILE.eml instead of sending it.")
@runs_options
def email(run_ref: str, to: tuple[str, ...], cc: tuple[str, ...], subject: str | None, attach: tuple[str, ...],
          dry_run: Path | None, output: Path | None, config: Path | None) -> None:
    """Email a run's report: the executive summary in the message, the PDF attached.

    RUN is a run folder, a run name, or 'latest'. SMTP settings come from the [email] section of the config
    and the environment: REPORTGEN_SMTP_HOST, REPORTGEN_SMTP_PORT, REPORTGEN_SMTP_USER,
    REPORTGEN_SMTP_SECURITY (starttls, ssl or none), REPORTGEN_MAIL_FROM, REPORTGEN_SMTP_CA_FILE; the password
    only from REPORTGEN_SMTP_PASSWORD or the file named in REPORTGEN_SMTP_PASSWORD_FILE. Every sending is
    recorded in the run folder's deliveries.json.

    \b
    Example:
        reportgen email output/20261125-093000-mall --to cmo@example.com --to team@example.com
        reportgen email latest --to a@example.com --dry-run message.eml
    """
    from .mailer import email_run, resolve_email_settings
    from .runs import resolve_run
    from .settings import email_section

    config = config or find_config(Path.cwd())
    folder = resolve_run(run_ref, _root(output, config))
    settings = resolve_email_settings(email_section(config), to=to, cc=cc, subject=subject)
    result = email_run(folder, settings, attach_html="html" in attach, dry_run=dry_run)
    if isinstance(result, Path):
        click.echo(str(result))
    else:
        click.echo(f"Sent {result.message_id} to {', '.join([*settings.to, *settings.cc])}")
