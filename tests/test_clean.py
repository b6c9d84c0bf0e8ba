from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.cleaning.pandas import clean
from reportgen.cleaning.steps import valid_range
from reportgen.errors import InputError
from reportgen.inputs.roles import read_dataset
from reportgen.values import missing_markers, parse_numbers

DIRTY = (
    "CustomerID,Gender,Age,Annual Income (k$),Spending Score (1-100),Note\n"
    "1,Male,19,15,39,a\n"
    "2,Female,?,\"1,234\",81,b\n"      # '?' age, income with a thousands separator
    "3,female ,-5,16,6,c\n"           # impossible age, odd spelling
    "4,Female,23,16,177,d\n"          # score outside 1-100
    "5,Male,31,n/a,40,e\n"            # missing marker
    "6,Male,31,17,40,e\n"
    "6,Male,31,17,40,e\n"             # exact duplicate row
    "6,Female,50,90,90,f\n"           # duplicate ID
    "7,,64,19,3,g\n"                  # missing category
    "8,Male,abc,19,14,h\n"            # not a number
    ",,,,,\n"                         # empty row
    "9,Male,40,25,70,i\n"
)
FEATURES = ("Age", "Annual Income (k$)", "Spending Score (1-100)")


def counts(result) -> dict[tuple[str, str | None], int]:
    return {(s.step, s.column): s.count for s in result.account.steps}


def test_parse_numbers() -> None:
    values = pd.Series([" 12 ", "1,234", "1,234,567", "$1,200.50", "45%", "1'234.5", "abc", None])
    numbers, bad = parse_numbers(values)
    assert numbers.tolist()[:6] == [12.0, 1234.0, 1234567.0, 1200.5, 45.0, 1234.5]
    assert bad.tolist() == [False] * 6 + [True, False]


def test_parse_numbers_with_a_decimal_comma_its_values_show() -> None:
    numbers, bad = parse_numbers(pd.Series(["3,5", "1.234,5", "€ 12", "1.234", None]))
    assert numbers.tolist()[:4] == [3.5, 1234.5, 12.0, 1234.0] and not bad.any()


def test_parse_numbers_of_mixed_conventions_follows_the_majority() -> None:
    """A column whose values disagree is read with the mark most of them show; the others are not numbers."""
    numbers, bad = parse_numbers(pd.Series(["1,234.5", "$1,200.50", "3,5"]))
    assert numbers.tolist()[:2] == [1234.5, 1200.5] and bad.tolist() == [False, False, True]


def test_missing_markers() -> None:
    assert missing_markers(pd.Series(["?", "N/A", " null ", "x", None, "-"])).tolist() == [
        True, True, True, False, False, True]


def test_valid_range_from_names() -> None:
    assert valid_range("Spending Score (1-100)")[:2] == (1.0, 100.0)
    assert valid_range("Age")[:2] == (0.0, 120.0)
    assert valid_range("orders_per_year")[:2] == (0.0, float("inf"))  # a count
    assert valid_range("Number of children")[:2] == (0.0, float("inf"))
    # money, balances, days and differences can be negative: refunds, overdrafts, "days until"
    for name in ("Annual Income (k$)", "balance", "account_balance_eur", "days_since_complaint", "net_spend",
                 "tenure_months", "Temperature", "Discount"):
        assert valid_range(name) is None, name
    assert valid_range("Page views") is None  # 'age' inside a word is not an age


def test_every_dirty_value_is_accounted_for() -> None:
    ds = read_dataset(DIRTY.encode(), name="dirty.csv")
    result = clean(ds, features=FEATURES, missing="drop", max_drop=1.0)  # drop every row with a gap, however many
    c = counts(result)
    assert c[("empty_rows", None)] == 1
    assert c[("missing_marker", "Age")] == 1
    assert c[("missing_marker", "Annual Income (k$)")] == 1
    assert c[("numbers_as_text", "Annual Income (k$)")] == 1
    assert c[("not_a_number", "Age")] == 1
    assert c[("impossible_value", "Age")] == 1
    assert c[("impossible_value", "Spending Score (1-100)")] == 1
    assert c[("spelling", "Gender")] == 1
    assert c[("missing_category", "Gender")] == 1
    assert c[("duplicate_rows", None)] == 1
    assert c[("duplicate_ids", "CustomerID")] == 1
    # rows 2 (age ?), 3 (age -5), 4 (score 177), 5 (income n/a), 10 (age abc) lose a feature value
    assert c[("missing_value", "Age")] == 3
    assert result.account.rows_in == 12 and result.account.rows_out == 4
    assert sorted(result.frame.index) == [1, 6, 9, 12]
    assert result.frame.loc[9, "Gender"] == "(missing)"
    assert set(result.log["row"]) >= {2, 3, 4, 5, 7, 8, 10, 11}


def test_no_step_drops_more_than_max_drop_of_the_customers() -> None:
    ds = read_dataset(DIRTY.encode(), name="dirty.csv")
    result = clean(ds, features=FEATURES, missing="drop")  # default --max-drop 5%: 1 of 9 rows would be too many
    c = counts(result)
    assert "missing_value" not in {step for step, _ in c}
    assert c[("missing_share", "Age")] == 3 and c[("missing_share", "Spending Score (1-100)")] == 1
    assert result.account.rows_out == 9 and not result.frame[list(FEATURES)].isna().any().any()
    age = next(s for s in result.account.steps if s.step == "missing_share" and s.column == "Age")
    assert age.action == "imputed median"
    assert "would drop 33.3% of the customers (more than --max-drop 5%)" in age.reason


def test_max_drop_imputes_only_the_columns_it_must() -> None:
    rows = ["id,a,b"] + [f"{i},{i % 17},{i % 13}" for i in range(1, 201)]
    rows[5] = "5,,3"  # a: 1 gap (0.5%)
    for i in range(10, 40):  # b: 30 gaps (15%)
        rows[i] = f"{i},{i % 17},"
    result = clean(read_dataset("\n".join(rows).encode()), features=("a", "b"))
    c = counts(result)
    assert c[("missing_share", "b")] == 30  # imputed: dropping them would drop 15%
    assert c[("missing_value", "a")] == 1  # dropped: 0.5% is within --max-drop
    assert result.account.rows_out == 199


def test_too_many_to_drop_takes_the_worst_columns_first() -> None:
    from reportgen.cleaning.account import too_many_to_drop

    gaps = {"a": range(0, 30), "b": range(0, 3), "c": range(50, 54)}
    assert too_many_to_drop(gaps, 100, 0.05) == {"a": "30%", "c": "4%"}  # b and c together: 7 rows, over 5
    assert too_many_to_drop(gaps, 200, 0.05) == {"a": "15%"}  # b, c: 7 of 200 = 3.5%
    assert too_many_to_drop(gaps, 100, 0.5) == {}
    assert too_many_to_drop(gaps, 100, 0.0) == {"a": "30%", "c": "4%", "b": "3%"}


def test_median_imputation_keeps_rows() -> None:
    ds = read_dataset(DIRTY.encode(), name="dirty.csv")
    result = clean(ds, features=FEATURES, missing="median")
    assert result.account.rows_out == 9
    assert not result.frame[list(FEATURES)].isna().any().any()
    imputed = [s for s in result.account.steps if s.action == "imputed median"]
    assert {s.column for s in imputed} == set(FEATURES)
    assert result.frame.loc[2, "Annual Income (k$)"] == 1234.0


def test_constant_feature_is_excluded_and_none_left_fails() -> None:
    ds = read_dataset(b"id,a,b\n1,5,1\n2,5,2\n3,5,3\n4,5,9\n")
    result = clean(ds, features=("a", "b"))
    assert result.features == ("b",)
    assert ("a", "constant: every value is 5") in result.account.excluded_columns
    with pytest.raises(InputError, match="no usable feature column"):
        clean(ds, features=("a",))


def test_clean_does_not_mutate_its_input() -> None:
    ds = read_dataset(DIRTY.encode())
    before = ds.frame.copy()
    clean(ds, features=FEATURES)
    pd.testing.assert_frame_equal(ds.frame, before)


def test_clean_data_has_empty_account(mall_csv) -> None:
    ds = read_dataset(mall_csv)
    result = clean(ds, features=FEATURES)
    assert result.account.steps == ()
    assert result.account.rows_out == 200 and len(result.log) == 0
    assert np.isfinite(result.frame[list(FEATURES)].to_numpy()).all()


def test_every_table_step_has_an_implementation_in_both_engines() -> None:
    from reportgen.cleaning.pandas import PANDAS_TABLE_STEPS
    from reportgen.cleaning.steps import CLEANING_STEPS, split_steps, table_key
    from reportgen.engines.spark.cleaning import SPARK_TABLE_STEPS

    before, values, after = split_steps()
    table_steps = {table_key(s) for s in (*before, *after)}
    assert set(PANDAS_TABLE_STEPS) == table_steps == set(SPARK_TABLE_STEPS)
    assert all(s.check is not None for s in values)
    assert len(before) + len(values) + len(after) == len(CLEANING_STEPS)


def test_no_cleaning_reason_is_written_in_an_engine() -> None:
    """The reasons and actions live in the table; the engines take them from there."""
    import ast
    from pathlib import Path

    from reportgen.cleaning.steps import CLEANING_STEPS

    engines = Path(__file__).resolve().parents[1] / "reportgen" / "engines"
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(engines.rglob("*.py")))
    texts = [node.value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    words = [s.reason for s in CLEANING_STEPS if isinstance(s.reason, str)]
    words += [s.action for s in CLEANING_STEPS if " " in s.action]
    assert words and not [w for w in words if any(w.split(" (")[0] in text for text in texts)]


def test_value_steps_give_the_same_answer_in_batches() -> None:
    """What lets the Spark engine run the pandas functions on each batch of rows: the value steps look at one
    value at a time, so a table cleaned in pieces is the table cleaned whole."""
    from reportgen.cleaning.steps import plan_value_steps, run_value_steps
    from reportgen.values import value_counts

    frame = read_dataset(DIRTY.encode()).frame.iloc[:-2]
    numeric, categorical = FEATURES, ("Gender",)
    plan = plan_value_steps(numeric, categorical, lambda c: value_counts(frame[c]))
    whole = run_value_steps(frame, plan)
    parts = [run_value_steps(frame.iloc[i:i + 3], plan) for i in range(0, len(frame), 3)]
    for column in (*numeric, *categorical):
        pd.testing.assert_series_equal(pd.concat([p.columns[column] for p in parts]), whole.columns[column],
                                       check_dtype=False)
    for j, (rows, texts) in enumerate(whole.findings):
        assert list(rows) == [r for p in parts for r in p.findings[j][0]]
        assert texts.tolist() == [t for p in parts for t in p.findings[j][1].tolist()]


def test_spreadsheet_error_values_are_reported_as_such() -> None:
    ds = read_dataset(b"id,Income,Segment\n1,10,a\n2,#DIV/0!,b\n3,30,#VALUE!\n4,40,a\n5,50,b\n6,60,a\n", name="x.csv")
    result = clean(ds, features=("Income",))
    found = [(s.step, s.column, s.count, s.action) for s in result.account.steps]
    assert ("spreadsheet_error", "Income", 1, "set to missing") in found
    assert ("spreadsheet_error", "Segment", 1, "set to missing") in found
    assert "not_a_number" not in {s.step for s in result.account.steps}  # a failed formula, not a typo
    assert result.frame.loc[3, "Segment"] == "(missing)"
    assert "2,Income,set to missing,a spreadsheet error value (a formula that failed),#DIV/0!" in (
        result.log.to_csv(index=False, lineterminator="\n"))


def test_a_category_of_numbers_is_not_respelled() -> None:
    """A 0/1 column read as numbers becomes text categories without a "unified spelling" line per row."""
    rows = "".join(f"{i},{i % 2},{i * 3 % 17}\n" for i in range(1, 41))
    ds = read_dataset(("id,member,spend\n" + rows).encode(), name="x.csv")
    result = clean(ds, features=("spend",))
    assert "member" in result.categorical and result.account.steps == ()
    assert sorted(result.frame["member"].unique()) == ["0", "1"]
