"""The exceptions reportgen raises across module boundaries.

Every message says what is wrong, with the value and the limit; ``hint`` says what to do about it.
The CLI turns these into one ``Error:`` line on stderr and the exit code in ``exit_code``.
"""

from __future__ import annotations


class ReportgenError(Exception):
    """Base class of every error reportgen reports to a user."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class InputError(ReportgenError):
    """The data cannot be used: unreadable file, no usable column, too few usable rows."""


class ConfigError(ReportgenError):
    """What was asked for is wrong: a bad option or config value, an unknown column, a bad rules file
    or template folder. Exit code 2, like a usage error: the fix is to change the command or its config."""

    exit_code = 2


class OutputError(ReportgenError):
    """The run folder or another output file cannot be written."""


class SnapshotError(ReportgenError):
    """An archived run cannot be used: unknown run, missing, corrupt or tampered files."""


class MailError(ReportgenError):
    """The report could not be emailed: SMTP connect, login, recipients, send, attachment size."""


class ReportgenWarning(UserWarning):
    """Something a user should know that did not stop the run (a chart that could not be drawn and was left out
    of the report). The command line prints each on stderr as one ``Warning:`` line, even with ``--quiet``."""
