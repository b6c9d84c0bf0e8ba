"""Numbers written as text: the decimal mark decided per file from the values (a decimal comma read as such,
1.234 as 1234 in a decimal-comma file), a refusal where nothing tells, and --decimal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.cli.group import cli
from reportgen.errors import InputError
from reportgen.inputs.base import ReadOptions
from reportgen.inputs.readers import read_table
from reportgen.inputs.roles import with_roles
from reportgen.values import decide_numbers, evidence, parse_numbers


def european(value: float, decimals: int = 2) -> str:
    """1234.5 -> '1.234,50'."""
    return f"{value:,.{decimals}f}".replace(",", "\0").replace(".", ",").replace("\0", ".")


@pytest.mark.parametrize(("text", "point", "comma", "ambiguous"), [
    ("1.234,5", 0, 1, 0), ("1,234.5", 1, 0, 0), ("1.234.567", 0, 1, 0), ("1,234,567", 1, 0, 0),
    ("3,5", 0, 1, 0), ("12.25", 1, 0, 0), ("0,125", 0, 1, 0), ("0.125", 1, 0, 0), ("1234.567", 1, 0, 0),
    ("€ 1.234,50", 0, 1, 0), ("-1 234,5", 0, 1, 0), ("1'234.5", 1, 0, 0), ("45%", 0, 0, 0), ("1234", 0, 0, 0),
    ("1.234", 0, 0, 1), ("1,234", 0, 0, 1), ("999.000", 0, 0, 1), ("abc", 0, 0, 0),
])
def test_a_value_shows_its_decimal_mark_only_when_it_reads_one_way(text: str, point: int, comma: int,
                                                                   ambiguous: int) -> None:
    found = evidence(pd.Series([text]))
    assert (found.point, found.comma, len(found.ambiguous)) == (point, comma, ambiguous)


def test_a_decimal_comma_file_reads_thousands_dots_as_thousands() -> None:
    """The issue's example: 1.234,5 is 1234.5, and a column of 1.234, 2.345, 987, 999 in the same file is
    1234, 2345, 987, 999 (not 1.234: incomes off by a factor of 1,000)."""
    text = "id;income;balance\n1;1.234;1.234,5\n2;2.345;-20,25\n3;987;3,5\n4;999;1.000.000,75\n"
    table = read_table(text.encode(), name="euro.csv")
    assert table.source.numbers.decimal == ","
    assert dict(table.source.numbers.columns) == {"income": ",", "balance": ","}
    assert "decimal comma" in table.source.numbers.how and "1.234,5" in table.source.numbers.how
    dataset = with_roles(table)
    roles = {c.name: c.role for c in dataset.columns}
    assert roles["income"] == roles["balance"] == "numeric"
    for column, expected in (("income", [1234, 2345, 987, 999]), ("balance", [1234.5, -20.25, 3.5, 1000000.75])):
        numbers, bad = parse_numbers(table.frame[column], table.source.numbers.mark(column))
        assert numbers.tolist() == expected and not bad.any()


def test_a_comma_delimited_file_reads_1_234_as_a_thousand() -> None:
    table = read_table(b'id,income\n1,"1,234"\n2,"2,345"\n3,987\n', name="us.csv")
    assert table.source.numbers.decimal == "."
    assert "comma-delimited" in table.source.numbers.how
    assert parse_numbers(table.frame["income"], ".")[0].tolist() == [1234, 2345, 987]


def test_ambiguous_numbers_with_nothing_to_tell_are_refused_with_one_line() -> None:
    with pytest.raises(InputError) as caught:
        read_table(b"id;income\n1;1.234\n2;2.345\n3;987\n4;999\n", name="which.csv")
    error = caught.value
    assert "\n" not in str(error)
    assert "'income'" in error.message and "1.234" in error.message and "factor of 1,000" in error.message
    assert "--decimal , reads 1.234 as 1234" in (error.hint or "")
    assert "--decimal . as 1.234" in (error.hint or "")


@pytest.mark.parametrize(("decimal", "expected"), [(",", [1234, 2345, 987, 999]), (".", [1.234, 2.345, 987, 999])])
def test_decimal_option_settles_it(decimal: str, expected: list[float]) -> None:
    table = read_table(b"id;income\n1;1.234\n2;2.345\n3;987\n4;999\n", name="which.csv",
                       options=ReadOptions(decimal=decimal))
    assert table.source.numbers.decimal == decimal and f"--decimal {decimal}" in table.source.numbers.how
    assert parse_numbers(table.frame["income"], table.source.numbers.mark("income"))[0].tolist() == expected


def test_a_column_follows_its_own_values_over_the_file() -> None:
    frame = pd.DataFrame({"a": ["1.234,5", "2,5"], "b": ["1,234.5", "3.25"]})
    numbers = decide_numbers(frame, name="mixed.csv", delimiter=";")
    assert dict(numbers.columns) == {"a": ",", "b": "."} and numbers.decimal is None
    assert "column by column" in numbers.how


def test_a_stray_value_of_the_other_convention_is_not_a_number() -> None:
    values = pd.Series(["1.234,5", "2,75", "3.5", "12"])  # 3.5 in a decimal-comma column
    numbers, bad = parse_numbers(values, ",")
    assert numbers.tolist()[:2] == [1234.5, 2.75] and np.isnan(numbers.iloc[2]) and numbers.iloc[3] == 12
    assert bad.tolist() == [False, False, True, False]
    numbers, bad = parse_numbers(pd.Series(["1,234.5", "3,5"]), ".")
    assert numbers.iloc[0] == 1234.5 and bad.tolist() == [False, True]


def test_the_account_and_the_roles_say_what_was_decided(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    income = np.concatenate([rng.normal(900, 80, 60), rng.normal(2600, 150, 60)])
    lines = ["id;income;balance"] + [f"{i};{european(v, 0)};{european(b)}"
                                     for i, (v, b) in enumerate(zip(income, rng.normal(1500, 400, 120), strict=True))]
    path = tmp_path / "euro.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(path), "-q", "--format", "none", "--stability-resamples", "0",
                                      "-o", str(tmp_path / "out"), "--features", "income,balance"])
    assert result.exit_code == 0, result.output
    folder = Path(result.output.strip().splitlines()[-1])
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["input"]["numbers"]["decimal"] == ","
    why = {c["column"]: c["why"] for c in manifest["input"]["columns_detail"]}
    assert why["income"] == why["balance"] == "numbers stored as text, with a decimal comma"
    profiles = pd.read_csv(folder / "profiles.csv").set_index("segment")
    assert 1500 < profiles.loc["all", "mean: income"] < 2000  # in euros, not 1.7
    converted = {s["column"]: s["count"] for s in manifest["data_quality"]["steps"] if s["step"] == "numbers_as_text"}
    assert converted["income"] == int((income.round() >= 1000).sum())  # 1.234 read as 1234: accounted for
    assert converted["balance"] == 120


def test_an_ambiguous_file_exits_with_one_error_line_and_no_run_folder(tmp_path: Path) -> None:
    path = tmp_path / "which.csv"
    path.write_text("id;income;age\n" + "".join(f"{i};{1 + i % 9}.{100 + i:03d};{20 + i % 50}\n" for i in range(60)))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(path), "-q", "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: which.csv: the numbers in column")
    assert "--decimal" in result.output
    assert not out.exists() or not any(out.iterdir())
    result = CliRunner().invoke(cli, ["run", str(path), "-q", "-o", str(out), "--format", "none",
                                      "--stability-resamples", "0", "--decimal", "comma"])
    assert result.exit_code == 0, result.output


def test_a_transaction_log_with_decimal_commas(tmp_path: Path) -> None:
    lines = ["kunde;datum;betrag"]
    for customer in range(40):
        for day in range(1, 4):
            lines.append(f"K{customer:03d};2026-0{day}-1{customer % 9};{european(1000 + 10 * customer + day)}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["run", str(path), "-q", "--format", "none", "--stability-resamples", "0",
                                      "-o", str(tmp_path / "out"), "--customer", "kunde", "--date", "datum",
                                      "--amount", "betrag"])
    assert result.exit_code == 0, result.output
    folder = Path(result.output.strip().splitlines()[-1])
    profiles = pd.read_csv(folder / "profiles.csv").set_index("segment")
    assert profiles.loc["all", "mean: monetary"] == pytest.approx(3000 + 30 * 19.5 + 6)  # 1.001,00 is 1001


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=1, max_size=30),
       st.sampled_from([";", "\t", "|", ","]), st.booleans())
def test_numbers_written_in_either_convention_read_back(values: list[float], delimiter: str, comma: bool) -> None:
    """Any numbers written with two decimals in either convention read back as written, whatever the delimiter
    (two decimals always show the convention)."""
    rounded = [round(v, 2) for v in values]
    texts = [european(v) if comma else f"{v:,.2f}" for v in rounded]
    quote = '"' if delimiter in ("".join(texts)) else ""
    lines = ["id" + delimiter + "amount"] + [f"{i}{delimiter}{quote}{t}{quote}" for i, t in enumerate(texts)]
    table = read_table(("\n".join(lines) + "\n").encode(), name="any.csv")
    column = table.frame["amount"]
    numbers, bad = parse_numbers(column, table.source.numbers.mark("amount"))
    assert not bad.any()
    assert numbers.round(2).tolist() == pytest.approx(rounded)
