"""The commands over run folders: history, show, compare, trend, verify, extract, archive."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click

from ..settings import (
    find_config,
    resolve_settings,
)
from .group import CONTEXT, StderrProgress, cli, output_root, runs_options, text_table


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
    from ..archive.runs import list_runs

    runs = list_runs(output_root(output, config))
    if as_json:
        click.echo(json.dumps([{"run": r.run, "folder": str(r.folder), "created": r.created, "title": r.title,
                                "input": r.input_name, "rows": r.rows, "k": r.k, "silhouette": r.silhouette,
                                "input_sha256": r.input_sha256, "baseline": r.baseline, "deliveries": r.deliveries}
                               for r in runs], indent=2))
        return
    if not runs:
        click.echo(f"No runs in {output_root(output, config)}.", err=True)
        return
    rows = [[r.run, r.created[:16].replace("T", " "), r.input_name, f"{r.rows:,}", str(r.k or "–"),
             f"{r.silhouette:.3f}" if r.silhouette is not None else "–", r.input_sha256[:12], r.baseline or "",
             str(r.deliveries)] for r in runs]
    click.echo(text_table(rows, ["run", "date", "input", "rows", "k", "silhouette", "sha256", "baseline", "emailed"],
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
    from ..archive.runs import read_json, read_manifest, resolve_run

    folder = resolve_run(run_ref, output_root(output, config))
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
    lines.append(text_table(rows, ["#", "segment", "customers", "share", "headline recommendation"], right={0, 2, 3}))
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
    from ..archive.compare import compare_folders
    from ..archive.contents import comparison_dict
    from ..archive.runs import resolve_run

    root = output_root(output, config)
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
             text_table(rows, ["# earlier", "# later", "segment", "status", "customers", "share", "centroid shift"],
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
    from ..archive.files import jsonable
    from ..archive.trend import trend_dict
    from ..pipeline import run_trend

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
    from ..archive.runs import resolve_run
    from ..archive.runs import verify as verify_files
    from ..errors import SnapshotError

    path = Path(target)
    hint = "The run was changed after it was written; rerun it or restore it from an archive."
    if path.is_file() and _is_pdf(path):
        from ..archive.pdffiles import verify_pdf

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
        path = resolve_run(target, output_root(output, config), trend_ok=True)
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
    from ..archive.pdffiles import extract as extract_files

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
    from ..archive.runs import archive as archive_run
    from ..archive.runs import resolve_run

    click.echo(str(archive_run(resolve_run(run_ref, output_root(output, config), trend_ok=True), zip_path,
                               overwrite=force)))
