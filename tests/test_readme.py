"""Every ``reportgen ...`` line of the README's bash blocks works, on the bundled sample (issue 26).

The lines are run in the README's order (a block's runs come before its history, show and compare), all through
the CLI in one temporary folder, with the README's file names standing for copies of data/sample_customers.csv.
Lines that need a server (SMTP, a database server, Spark) are skipped by name, below; a README line that is
neither run nor skipped fails the test, and so does a skipped line the README no longer has.
"""

from __future__ import annotations

import itertools
import re
import shlex
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from reportgen.archive.runs import run_folders

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SAMPLE = ROOT / "data" / "sample_customers.csv"

# the README's data files: each a copy of the bundled sample
DATA_FILES = ("customers.csv", "customers-2026-10.csv", "customers-2026-11.csv", "new-customers.csv")

NEEDS_A_SERVER = {  # README line (without its comment) -> what it needs
    'reportgen run "postgresql+psycopg://analyst@db.example.com/crm" --query "SELECT * FROM customers WHERE active"':
        "a PostgreSQL server",
    "reportgen run data.parquet --engine spark": "Spark (and Java)",
    "reportgen run data.csv --engine spark --spark-master spark://host:7077": "a Spark master",
    "PYSPARK_PYTHON=/opt/venvs/reportgen/bin/python reportgen run /shared/crm/customers.parquet --engine spark "
    "--spark-master spark://spark-master:7077": "a Spark cluster",
    "reportgen email output/<run> --to cmo@example.com --to team@example.com [--cc ...] [--subject TEXT]":
        "an SMTP server",
    "reportgen run customers.csv --baseline latest --email-to team@example.com": "an SMTP server",
}
RUN_FOLDER = "output/<run>"  # the latest run folder
ENVIRONMENT = {"REPORTGEN_MAIL_FROM": "reports@example.com"}  # as the README's email section sets it
QUICK = {"run": (("--stability-resamples", "0"), ("--format", "none")),  # added where the line does not set them
         "trend": (("--format", "none"),)}
TWICE = "--series"  # a run of a series stands for one period, and a trend needs two


@dataclass(frozen=True)
class ReadmeLine:
    number: int  # line number in README.md
    text: str  # the command, continuation lines joined, without its comment

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text)


def readme_lines(readme: Path = README) -> list[ReadmeLine]:
    """The commands of the README's fenced bash blocks that call reportgen (directly, after environment variables,
    or at the end of a pipe), in the README's order."""
    found = []
    inside, pending, start = False, "", 0
    for number, line in enumerate(readme.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        if not inside:
            continue
        pending, start = (pending + " " + line.strip(), start) if pending else (line.strip(), number)
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        text = re.sub(r"\s+#\s.*$", "", pending).strip()
        pending = ""
        if _without_environment(shlex.split(text))[:1] == ["reportgen"] or " | reportgen " in text:
            found.append(ReadmeLine(start, text))
    return found


def test_every_readme_command_is_run_or_skipped_on_purpose() -> None:
    lines = readme_lines()
    texts = [line.text for line in lines]
    assert set(NEEDS_A_SERVER) <= set(texts), "a skipped line is no longer in the README: update NEEDS_A_SERVER"
    for line in lines:
        if line.text not in NEEDS_A_SERVER:
            known = line.text.replace(RUN_FOLDER, "")
            assert "<" not in known and "[" not in known, f"README.md:{line.number}: a placeholder not filled here"
    assert len(texts) - len(NEEDS_A_SERVER) >= 20  # the usage, PDF, database, monthly, trend and email lines


@pytest.mark.slow  # the README's --format pdf line and its report.pdf lines render a PDF
def test_every_readme_command_runs_on_the_sample(invoke, tmp_path: Path) -> None:
    for name in DATA_FILES:
        shutil.copyfile(SAMPLE, tmp_path / name)
    with sqlite3.connect(tmp_path / "crm.db") as connection:  # reportgen run "sqlite:///crm.db" --table customers
        pd.read_csv(SAMPLE).to_sql("customers", connection, index=False)
    ran = []
    for line in readme_lines():
        if line.text in NEEDS_A_SERVER:
            continue
        words, stdin = _command(line, tmp_path)
        if words[0] == "email" and not (run_folders(tmp_path / "output")[-1] / "report.pdf").is_file():
            made = invoke("run", "customers.csv", "--stability-resamples", "0", "-q")  # a report to send, in full
            assert made.exit_code == 0, made.stderr
        for _ in range(2 if words[0] == "run" and TWICE in words else 1):
            result = invoke(*words, input=stdin, env=ENVIRONMENT)
            assert result.exit_code == 0, f"README.md:{line.number}: {line.text}\n{result.stderr}"
        ran.append(words[0])
    assert {"run", "history", "show", "compare", "verify", "extract", "archive", "trend", "email"} <= set(ran)
    assert (tmp_path / "march" / "manifest.json").is_file() and (tmp_path / "message.eml").is_file()


def _command(line: ReadmeLine, folder: Path) -> tuple[list[str], bytes | None]:
    """The line's arguments (after ``reportgen``) and standard input, with the README's placeholders filled in
    from ``folder``, the quick options added where the line does not set them."""
    words = line.words
    stdin = None
    if "|" in words:  # cat FILE | reportgen ...
        pipe = words.index("|")
        assert words[:1] == ["cat"] and pipe == 2, f"README.md:{line.number}: a pipe this test cannot run"
        stdin = (folder / words[1]).read_bytes()
        words = words[pipe + 1:]
    words = _without_environment(words)
    assert words[0] == "reportgen"
    words = [_filled(w, folder, line) for w in words[1:]]
    for option, value in QUICK.get(words[0], ()):
        if option not in words:
            words += [option, value]
    return words, stdin


def _without_environment(words: list[str]) -> list[str]:
    """The command after the environment variables set before it (``PYSPARK_PYTHON=... reportgen ...``)."""
    return list(itertools.dropwhile(lambda word: re.fullmatch(r"[A-Z_]+=\S*", word) is not None, words))


def _filled(word: str, folder: Path, line: ReadmeLine) -> str:
    """A README placeholder as a real file or folder under ``folder``."""
    if word == RUN_FOLDER:
        return str(run_folders(folder / "output")[-1])
    if word == "report.pdf" and not (folder / word).is_file():  # a report e-mailed or copied out of its run folder
        made = sorted(folder.rglob("report.pdf"), key=lambda p: p.stat().st_mtime)
        assert made, f"README.md:{line.number}: no run has written a report.pdf yet"
        shutil.copyfile(made[-1], folder / word)
    assert "<" not in word, f"README.md:{line.number}: the placeholder {word} is not known to this test"
    return word
