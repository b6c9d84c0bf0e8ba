"""SQL databases as input: any SQLAlchemy URL (``sqlite:///crm.db``, ``postgresql://user@host/db``) with
``--table NAME`` or ``--query "SELECT ..."``.

A password never goes on the command line, into the manifest or a log: a URL that holds one is refused, and the
password comes from the environment (:data:`PASSWORD_ENV`) or a file (``--password-file``). The run records the
URL without it, the query text and its sha256, and the rows read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, InputError
from ..model import Source, Table
from ..values import decide_numbers

PASSWORD_ENV = "REPORTGEN_DB_PASSWORD"
CONNECT_TIMEOUT = 10  # seconds before an unreachable server is reported
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True)
class DatabaseSource:
    """A database to read the customers from: the URL (without a password) and a table or a query."""

    url: str
    table: str | None = None
    query: str | None = None

    @property
    def statement(self) -> str:
        """The SQL that is run (for a table: ``SELECT * FROM`` it), as the manifest records it."""
        return self.query if self.query is not None else f'SELECT * FROM "{self.table}"'


def is_database_url(value: object) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def database_source(url: str, *, table: str | None, query: str | None) -> DatabaseSource:
    """The checked source: a URL SQLAlchemy reads, without a password, and exactly one of a table and a query."""
    try:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError
    except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dependency
        raise ConfigError("reading a database needs SQLAlchemy", hint="pip install sqlalchemy") from exc
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"{url!r} is not a database URL: {exc}",
                          hint='Write it as SQLAlchemy does, e.g. "sqlite:///crm.db" or '
                               '"postgresql://user@host/db".') from exc
    if parsed.password:
        raise ConfigError("the database URL holds a password; it would end up in your shell history and logs",
                          hint=f"Remove it from the URL and set {PASSWORD_ENV}, or pass --password-file.")
    if (table is None) == (query is None):
        raise ConfigError("a database needs --table NAME or --query \"SELECT ...\" (one of them)",
                          hint="Name the table that holds one row per customer, or a query that returns them.")
    return DatabaseSource(url=url, table=table, query=query)


def read_password(env: dict[str, str], password_file: Path | None) -> str | None:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the password file {password_file}: {exc.strerror or exc}") from exc
    return env.get(PASSWORD_ENV) or None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_database(source: DatabaseSource, *, password: str | None, decimal: str | None = None) -> Table:
    """The rows of the table or the query, as a Table (row labels 1..n; ID-like columns as text, as from a CSV;
    ``decimal``: the decimal mark of numbers stored as text, else decided from the values).

    Raises :class:`InputError` for an unreachable database, a missing table or a failing query."""
    import pandas as pd
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from .base import looks_like_id_name

    url = make_url(source.url)
    shown = url.render_as_string(hide_password=True)
    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if url.get_backend_name().startswith("postgres") else {}
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        raise InputError(f"no such SQLite database: {url.database}", hint="Check the path in the URL.")
    try:
        engine = create_engine(url.set(password=password) if password else url, connect_args=connect_args)
    except (SQLAlchemyError, ImportError) as exc:
        raise InputError(f"cannot open {shown}: {_first_line(exc)}",
                         hint="Check the URL; PostgreSQL needs pip install 'reportgen[postgres]'.") from exc
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise InputError(f"cannot connect to {shown}: {_first_line(exc)}",
                             hint=f"Check the host, the port, the user and the password ({PASSWORD_ENV} or "
                                  "--password-file), and that the server runs.") from exc
        with connection:
            if source.table is not None and not inspect(connection).has_table(source.table):
                names = inspect(connection).get_table_names()
                raise InputError(f"{shown} has no table {source.table!r}"
                                 + (f" (tables: {', '.join(names)})" if names else ""),
                                 hint="Pass --table with one of these names, or --query.")
            try:
                frame = pd.read_sql_query(text(source.statement), connection)
            except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
                cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
                what = "the query failed" if source.query is not None else f"reading table {source.table!r} failed"
                raise InputError(f"{shown}: {what}: {_first_line(cause)}",
                                 hint="Check the query: run it in the database's own client first.") from exc
    finally:
        engine.dispose()
    if len(frame) == 0:
        raise InputError(f"{shown}: the {'query' if source.query else 'table'} returned no rows",
                         hint="Check the query's conditions, or the table.")
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in [c for c in frame.columns if looks_like_id_name(c)]:
        frame[column] = frame[column].map(lambda v: None if v is None or v != v else str(v)).astype("string")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    data = frame.to_csv(index=False).encode("utf-8")
    statement = source.statement
    facts = Source(name=source.table or "query", path=shown, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                   format="sql", query=statement, query_sha256=hashlib.sha256(statement.encode("utf-8")).hexdigest(),
                   numbers=decide_numbers(frame, name=source.table or "the query", decimal=decimal))
    return Table(frame=frame, source=facts)
