"""The command group: every failure becomes one line on stderr and an exit code; progress and tables for the
terminal."""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import ReportgenError, ReportgenWarning
from ..settings import (
    find_config,
    resolve_settings,
)
from ..version import __version__

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


def option_bundle(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Bundle click options into one decorator (shared by several commands)."""

    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


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


# ------------------------------------------------------------------------------------------- archived runs
def output_root(output: Path | None, config: Path | None) -> Path:
    """The folder that holds the runs: --output, else the config's, else ./output."""
    config = config or find_config(Path.cwd())
    return output or resolve_settings(config=config).output


runs_options = option_bundle(
    click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
                 help="Folder that holds the run folders.  [default: output]"),
    click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="TOML config file (for its output folder).  [default: ./reportgen.toml if present]"),
)


def text_table(rows: list[list[str]], headers: list[str], right: frozenset[int] | set[int] = frozenset()) -> str:
    widths = [max(len(str(v)) for v in column) for column in zip(headers, *rows, strict=True)]

    def line(values: list[str]) -> str:
        cells = [str(v).rjust(w) if i in right else str(v).ljust(w) for i, (v, w) in enumerate(zip(values, widths,
                                                                                               strict=True))]
        return "  ".join(cells).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])
