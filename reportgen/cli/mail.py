"""'reportgen email': a run's report by e-mail."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import (
    find_config,
)
from .group import CONTEXT, cli, output_root, runs_options


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
    from ..archive.runs import resolve_run
    from ..delivery.mailer import email_run, email_section, resolve_email_settings

    config = config or find_config(Path.cwd())
    folder = resolve_run(run_ref, output_root(output, config))
    settings = resolve_email_settings(email_section(config), to=to, cc=cc, subject=subject)
    result = email_run(folder, settings, attach_html="html" in attach, dry_run=dry_run)
    if isinstance(result, Path):
        click.echo(str(result))
    else:
        click.echo(f"Sent {result.message_id} to {', '.join([*settings.to, *settings.cc])}")
