"""Bad input a hostile reviewer would try, read by :func:`reportgen.inputs.readers.read_table`: each case is read
correctly (the rows, columns and skipped lines it must give) or refused with one clear line. The table in the
issue-14 note is this list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.inputs.readers import read_table
from reportgen.inputs.roles import with_roles

HEADER = b"CustomerID,Gender,Age,Income,Score"
ROWS = [b"1,Male,19,15,39", b"2,Female,21,15,81", b"3,Female,20,16,6", b"4,Male,23,16,77", b"5,Female,31,17,40"]


def table(*rows: bytes, header: bytes = HEADER, end: bytes = b"\n") -> bytes:
    return end.join([header, *rows]) + end


@dataclass(frozen=True)
class Read:
    """The input is read: ``rows`` data rows, these ``columns``, these skipped ``lines`` ((line, why), ...), and
    optionally the first row's values."""

    rows: int
    columns: tuple[str, ...] = ("CustomerID", "Gender", "Age", "Income", "Score")
    lines: tuple[tuple[int, str], ...] = ()
    first: tuple[object, ...] | None = None


@dataclass(frozen=True)
class Refused:
    message: str  # a part of the one-line message


FIRST = ("1", "Male", 19, 15, 39)
CASES: dict[str, tuple[bytes, Read | Refused]] = {
    # rows with the wrong number of fields, anywhere
    "an extra field in the first data row (an unquoted comma)": (
        table(b"1,Smith, John,19,15,39", *ROWS[1:]),
        Read(4, lines=((2, "expected 5 fields, saw 6"),), first=("2", "Female", 21, 15, 81))),
    "an extra field in a later row": (
        table(*ROWS[:3], b"9,Smith, John,19,15,39", *ROWS[3:]),
        Read(5, lines=((5, "expected 5 fields, saw 6"),), first=FIRST)),
    "a field missing in the first data row": (
        table(b"1,Male,19,15", *ROWS[1:]), Read(4, lines=((2, "expected 5 fields, saw 4"),))),
    "a row cut short in the middle": (
        table(*ROWS[:2], b"9,Male", *ROWS[2:]), Read(5, lines=((4, "expected 5 fields, saw 2"),), first=FIRST)),
    "a cut-off last line": (table(*ROWS, b"6,Fem", end=b"\n")[:-1], Read(5, lines=((7, "expected 5 fields, saw 2"),))),
    "every row one field longer than the header (an index column)": (
        table(*[b"0," + r for r in ROWS]), Refused("none of its 5 data lines fits the header (line 2: expected 5")),
    # the header
    "duplicate column names": (table(*ROWS, header=b"CustomerID,Age,Age,Income,Score"),
                               Refused("duplicate column names: Age")),
    "duplicate names that differ in spaces only": (table(*ROWS, header=b"CustomerID,Age, Age ,Income,Score"),
                                                    Refused("duplicate column names: Age")),
    "an empty column name with values": (
        table(*ROWS, header=b"CustomerID,,Age,Income,Score"),
        Read(5, columns=("CustomerID", "column 2", "Age", "Income", "Score"), first=FIRST)),
    "a delimiter at the end of every line": (table(*[r + b"," for r in ROWS], header=HEADER + b","),
                                             Read(5, first=FIRST)),
    "the header repeated inside the data (two exports pasted together)": (
        table(*ROWS[:2], HEADER, *ROWS[2:]), Read(5, lines=((4, "the header row repeated"),), first=FIRST)),
    "the header repeated with other spacing": (
        table(*ROWS[:2], b"CustomerID, Gender, Age, Income, Score", *ROWS[2:]),
        Read(5, lines=((4, "the header row repeated"),))),
    "a column name of 1 MB": (table(*ROWS, header=b"CustomerID,Gender,Age,Income," + b"S" * 1_000_000),
                              Refused("is 1,000,000 characters long, not a column name")),
    "a header only": (HEADER + b"\n", Refused("has a header row but no data rows")),
    "comment lines and blank lines before the header": (b"# export 2026-03\n\n# filter: all\n" + table(*ROWS),
                                                        Read(5, first=FIRST)),
    # line ends
    "Windows line ends (CR LF)": (table(*ROWS, end=b"\r\n"), Read(5, first=FIRST)),
    "old Mac line ends (CR only)": (table(*ROWS, end=b"\r"), Read(5, first=FIRST)),
    "mixed line ends": (HEADER + b"\r\n" + ROWS[0] + b"\n" + ROWS[1] + b"\r" + b"\r\n".join(ROWS[2:]) + b"\n",
                        Read(5, first=FIRST)),
    "an extra field after CR-only line ends": (table(ROWS[0], b"9,Male,x,19,15,39", *ROWS[1:], end=b"\r"),
                                               Read(5, lines=((3, "expected 5 fields, saw 6"),), first=FIRST)),
    "blank lines between the rows": (b"\n\n".join([HEADER, *ROWS]) + b"\n", Read(5, first=FIRST)),
    # bytes and encodings
    "a NUL byte in the first kilobytes": (table(ROWS[0], b"2,Fe\x00male,21,15,81", *ROWS[2:]),
                                          Refused("not a text table")),
    "a NUL byte far into the file": (table(*ROWS * 2000, b"9,Fe\x00male,21,15,81"),
                                     Refused("has a NUL byte on line 10002")),
    "UTF-16 with a byte order mark": (table(*ROWS).decode().encode("utf-16"), Read(5, first=FIRST)),
    "UTF-16 without a byte order mark (little-endian)": (table(*ROWS).decode().encode("utf-16-le"),
                                                          Read(5, first=FIRST)),
    "UTF-16 without a byte order mark (big-endian)": (table(*ROWS).decode().encode("utf-16-be"),
                                                       Read(5, first=FIRST)),
    "UTF-16 cut off in the middle of a character": (table(*ROWS).decode().encode("utf-16")[:-1],
                                                     Refused("damaged or cut-off character")),
    "a UTF-8 byte order mark": (b"\xef\xbb\xbf" + table(*ROWS), Read(5, first=FIRST)),
    "Latin-1 accents": (table(b"1,Jos\xe9,19,15,39", *ROWS[1:]), Read(5, first=("1", "José", 19, 15, 39))),
    "random binary": (bytes(range(256)) * 10, Refused("not a text table")),
    "an empty file": (b"", Refused("is empty")),
    "only spaces and line ends": (b"  \n\r\n \t\n", Refused("is empty")),
    "a zip archive": (b"PK\x03\x04" + b"\x00" * 100, Refused("is a zip file, not a table")),
    # quotes
    "an unbalanced quote in the middle": (table(*ROWS[:2], b'9,"Male,19,15,39', *ROWS[2:]),
                                          Refused("unbalanced quote: the quoted value that starts on line 4")),
    "an unbalanced quote in the last row": (table(*ROWS, b'9,"Male,19,15,39'),
                                            Refused("unbalanced quote: the quoted value that starts on line 7")),
    "a quoted comma and a quoted line break": (
        table(b'1,"Male, 19",19,15,39', b'2,"Fe\nmale",21,15,81', *ROWS[2:]),
        Read(5, first=("1", "Male, 19", 19, 15, 39))),
    "doubled quotes inside a quoted value": (table(b'1,"the ""best"" one",19,15,39', *ROWS[1:]),
                                             Read(5, first=("1", 'the "best" one', 19, 15, 39))),
    # sizes
    "a single enormous line (20 MB, no line end)": (b"CustomerID,Note\n1," + b"9" * 20_000_000,
                                                    Read(1, columns=("CustomerID", "Note"))),
    "a 1 MB text value in a cell": (table(b"1,Male,19,15,39", b"2," + b"F" * 1_000_000 + b",21,15,81", *ROWS[2:]),
                                    Read(5, first=FIRST)),
    "semicolons and decimal commas": (b"id;Income;Score\n1;1,5;3\n2;2,5;4\n3;3,5;5\n",
                                      Read(3, columns=("id", "Income", "Score"))),
    "a balanced quoted line break in a row with a field missing": (
        table(b'1,"Male\nor not",19,15', *ROWS[1:]), Read(4, lines=((2, "expected 5 fields, saw 4"),))),
    "a few short and long rows and a ';' in a value (the delimiter stays ',')": (
        table(ROWS[0], b"2,Female,21", b"3,Female,20,16,6,x;y", b"4,Male,23,16,77", b"5,Female;x,31,17,40"),
        Read(3, lines=((3, "expected 5 fields, saw 3"), (4, "expected 5 fields, saw 6")), first=FIRST)),
    "the header repeated with a byte order mark (two files pasted together)": (
        table(*ROWS[:2], b"\xef\xbb\xbf" + HEADER, *ROWS[2:]), Read(5, lines=((4, "the header row repeated"),))),
    "a delimiter at the end of some lines only": (table(ROWS[0], *ROWS[1:3], ROWS[3] + b",", ROWS[4] + b", "),
                                                  Read(5, first=FIRST)),
    "a delimiter at the end of the first data line and of a quoted line": (
        table(ROWS[0] + b",", b'2,"Fe,male",21,15,81,', *ROWS[2:]), Read(5, first=FIRST)),
    "two empty fields after the last column": (table(ROWS[0] + b",,", *ROWS[1:]),
                                               Read(4, lines=((2, "expected 5 fields, saw 7"),))),
    "formula-like values": (table(b'1,=HYPERLINK("http://x"),19,15,39', b"2,+cmd|' /C calc'!A0,21,15,81",
                                  *ROWS[2:]), Read(5, first=("1", '=HYPERLINK("http://x")', 19, 15, 39))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_read_correctly_or_refused(case: str) -> None:
    data, expected = CASES[case]
    if isinstance(expected, Refused):
        with pytest.raises(InputError) as caught:
            read_table(data, name="bad.csv")
        assert expected.message in str(caught.value), str(caught.value)
        assert "\n" not in str(caught.value)
        return
    result = read_table(data, name="bad.csv")
    assert tuple(result.frame.columns) == expected.columns
    assert len(result.frame) == expected.rows
    assert result.malformed_lines == expected.lines
    if expected.first is not None:
        assert tuple(result.frame.iloc[0]) == expected.first


def test_the_table_has_forty_cases() -> None:
    assert len(CASES) >= 40


def test_nested_json_values_are_text() -> None:
    table_ = read_table(b'[{"id": 1, "a": {"x": 1}, "b": [1, 2], "n": 3}, {"id": 2, "a": {"x": 2}, "b": [], "n": 4}]',
                        name="nested.json")
    assert table_.frame["a"].tolist() == ['{"x": 1}', '{"x": 2}'] and table_.frame["b"].tolist() == ["[1, 2]", "[]"]
    assert with_roles(table_).columns[0].role == "id"


def test_a_file_of_many_malformed_lines_is_refused_not_shrunk(invoke, tmp_path: Path) -> None:
    """Skipping 15% of the lines would misrepresent the customers: over --max-drop (5%) the run is refused with
    the first bad line; 1.5% are skipped, listed in cleaning.csv, and the run goes on; --max-drop 20% allows 15%."""
    def rows(bad: set[int]) -> bytes:
        lines = [b"%d,%s,%d,%d,%d" % (i + 1, b"Male" if i % 2 else b"Female", 20 + i % 40, 15 + i % 70, i % 99)
                 for i in range(200)]
        return table(*[line.replace(b",", b",x,", 1) if i in bad else line for i, line in enumerate(lines)])

    many = tmp_path / "many.csv"
    many.write_bytes(rows(set(range(0, 200, 7)) - {7}))  # 28 of 200 lines
    result = invoke("run", str(many), "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("Error: many.csv: 28 of 200 lines (14%) do not fit the header and would be "
                                    "skipped (line 2: expected 5 fields, saw 6)"), result.stderr
    assert "--max-drop" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    few = tmp_path / "few.csv"
    few.write_bytes(rows({0, 50, 120}))
    ok = invoke("run", str(few), "-o", str(tmp_path / "out"), "-q", "--stability-resamples", "0", "--format", "html")
    assert ok.exit_code == 0, ok.stderr
    log = pd.read_csv(Path(ok.stdout.strip()) / "cleaning.csv")
    assert log.loc[log["action"] == "skipped line", "row"].tolist() == [2, 52, 122]
    allowed = invoke("run", str(many), "-o", str(tmp_path / "out"), "-q", "--max-drop", "20%",
                     "--stability-resamples", "0", "--format", "html")
    assert allowed.exit_code == 0, allowed.stderr
    assert len(pd.read_csv(Path(allowed.stdout.strip()) / "segments.csv")) == 172


def test_an_unquoted_comma_in_the_first_data_row_does_not_shift_the_columns(invoke, mall_csv: Path,
                                                                            tmp_path: Path) -> None:
    """Regression: pandas took the first column for the row labels when the first data row had one field more
    than the header, and read every column one place over: Gender was profiled as the ID, income as age, the
    account blamed "ages above 120", and the report looked normal."""
    lines = mall_csv.read_bytes().split(b"\n")
    lines[1] = b"1,Male, Sr.,19,15,39"  # the first customer, with an unquoted comma in a value
    path = tmp_path / "shifted_first_row.csv"
    path.write_bytes(b"\n".join(lines))
    dataset = with_roles(read_table(path))
    roles = {c.name: c.role for c in dataset.columns}
    assert roles == {"CustomerID": "id", "Gender": "categorical", "Age": "numeric",
                     "Annual Income (k$)": "numeric", "Spending Score (1-100)": "numeric"}
    assert dataset.frame["Gender"].isin(["Male", "Female"]).all()
    assert dataset.frame["Age"].between(18, 70).all() and dataset.malformed_lines == ((2, "expected 5 fields, saw 6"),)
    result = invoke("run", str(path), "-o", str(tmp_path / "out"), "-q", "--stability-resamples", "0",
                    "--features", "Annual Income (k$),Spending Score (1-100)", "--format", "html")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip())
    segments = pd.read_csv(folder / "segments.csv", dtype={"CustomerID": str})
    assert len(segments) == 199 and "1" not in set(segments["CustomerID"])
    log = pd.read_csv(folder / "cleaning.csv")
    assert log[["row", "action", "reason"]].values.tolist() == [[2, "skipped line", "expected 5 fields, saw 6"]]
    html = (folder / "report.html").read_text()
    assert "impossible" not in html.lower() and "above 120" not in html
