"""SQL databases as input (issue 13): SQLite from a file, and a real PostgreSQL server that the test starts."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

PASSWORD = "s3cret-Pa55-in-env"


@pytest.fixture
def mall_sqlite(mall_csv: Path, tmp_path: Path) -> Path:
    import sqlite3

    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as connection:
        pd.read_csv(mall_csv).to_sql("customers", connection, index=False)
    return path


@pytest.mark.slow
def test_sqlite_query_and_table_give_the_csv_segments(invoke, mall_csv: Path, mall_sqlite: Path,
                                                      tmp_path: Path) -> None:
    url = f"sqlite:///{mall_sqlite}"
    query = "SELECT * FROM customers ORDER BY CustomerID"
    runs = [invoke("run", str(mall_csv), "-q", "--format", "none", "--name", "csv"),
            invoke("run", url, "--query", query, "-q", "--format", "none", "--name", "query"),
            invoke("run", url, "--table", "customers", "-q", "--format", "none", "--name", "table")]
    assert all(r.exit_code == 0 for r in runs), [r.stderr for r in runs]
    folders = [tmp_path / r.stdout.strip() for r in runs]
    expected = (folders[0] / "segments.csv").read_bytes()
    assert all((f / "segments.csv").read_bytes() == expected for f in folders[1:])
    manifest = json.loads((folders[1] / "manifest.json").read_text())["input"]
    assert manifest["format"] == "sql" and manifest["path"] == url and manifest["query"] == query
    assert manifest["rows"] == 200 and len(manifest["query_sha256"]) == 64


@pytest.mark.parametrize(("args", "message"), [
    (["--query", "SELEC * FROM customers"], "the query failed: near \"SELEC\": syntax error"),
    (["--table", "orders"], "has no table 'orders' (tables: customers)"),
    ([], "a database needs --table NAME or --query"),
])
def test_database_errors_are_one_line(invoke, mall_sqlite: Path, tmp_path: Path, args, message) -> None:
    result = invoke("run", f"sqlite:///{mall_sqlite}", *args, "-q")
    assert result.exit_code in (1, 2)
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").iterdir())


def test_a_password_in_the_url_or_an_unreachable_server_is_refused(invoke, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    held = invoke("run", f"postgresql+psycopg://bob:{PASSWORD}@127.0.0.1:{port}/crm", "--table", "customers", "-q")
    assert held.exit_code == 2 and "the database URL holds a password" in held.stderr
    assert PASSWORD not in held.stderr
    down = invoke("run", f"postgresql+psycopg://bob@127.0.0.1:{port}/crm", "--table", "customers", "-q")
    assert down.exit_code == 1 and down.stderr.startswith(f"Error: cannot connect to postgresql+psycopg://bob@127.0.0.1:{port}/crm")
    assert len(down.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- a real PostgreSQL server
def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[tuple[str, int]]:
    """A PostgreSQL server of its own (Debian's postgresql package; .ci/run installs it), on a free port, with
    password authentication; stopped after the module. Yields (host, port)."""
    binaries = _pg_bin()
    if binaries is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed")
    pytest.importorskip("psycopg")
    root = Path(tempfile.mkdtemp(prefix="reportgen-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    (root / "pw").write_text(PASSWORD)
    if run_as:
        shutil.chown(root / "pw", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = root / "data"
    subprocess.run([*run_as, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                    f"--pwfile={root / 'pw'}"], check=True, capture_output=True)
    subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                    f"-p {port} -k {root} -h 127.0.0.1", "start"], check=True, capture_output=True)
    try:
        yield "127.0.0.1", port
    finally:
        subprocess.run([*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_postgresql_with_the_password_from_the_environment(postgres, invoke, mall_csv: Path,
                                                           tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    host, port = postgres
    url = f"postgresql+psycopg://postgres@{host}:{port}/postgres"
    engine = create_engine(f"postgresql+psycopg://postgres:{PASSWORD}@{host}:{port}/postgres")
    with engine.begin() as connection:
        pd.read_csv(mall_csv).to_sql("customers", connection, index=False, if_exists="replace")
    engine.dispose()
    csv = invoke("run", str(mall_csv), "-q", "--format", "html", "--name", "csv")
    wrong = invoke("run", url, "--table", "customers", "-q", env={"REPORTGEN_DB_PASSWORD": "wrong"})
    assert wrong.exit_code == 1 and "cannot connect to " + url in wrong.stderr and PASSWORD not in wrong.stderr
    result = invoke("run", url, "--table", "customers", "-q", "--format", "html", "--name", "pg",
                    env={"REPORTGEN_DB_PASSWORD": PASSWORD})
    assert csv.exit_code == 0 and result.exit_code == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    assert (folder / "segments.csv").read_bytes() == (tmp_path / csv.stdout.strip() / "segments.csv").read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["input"]["path"] == url and manifest["input"]["rows"] == 200
    for path in folder.rglob("*"):  # the password is in no file of the run
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert PASSWORD not in result.stderr + result.stdout
    from_file = tmp_path / "pw.txt"
    from_file.write_text(PASSWORD + "\n")
    again = invoke("run", url, "--table", "customers", "-q", "--format", "none", "--password-file", str(from_file))
    assert again.exit_code == 0, again.stderr
