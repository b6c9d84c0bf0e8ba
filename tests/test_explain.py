"""Segment rules (issue 15, part 3): a depth-3 decision tree on the segment labels, in words, in rules.csv and as
SQL in segments.sql that a database runs over the input table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.describe.rules import condition_text, quote_identifier, segment_rules
from reportgen.model import Condition

from .conftest import INCOME, SCORE


def test_conditions_in_words_and_quoted_names() -> None:
    assert condition_text(Condition("Income", 69.5, None), True) == "Income at least 70"
    assert condition_text(Condition("Income", None, 39.5), True) == "Income at most 39"
    assert condition_text(Condition("Score", 33.0, 51.5), True) == "Score 34 to 51"
    assert condition_text(Condition("Spend", 1234.5678, None), False) == "Spend above 1,235"
    assert condition_text(Condition("Ratio", None, 0.123456), False) == "Ratio at most 0.123"
    assert quote_identifier('Annual Income (k$)') == '"Annual Income (k$)"'
    assert quote_identifier('say "hi"') == '"say ""hi"""'


def test_rules_describe_well_separated_blobs_exactly() -> None:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal((0, 0), 1, (100, 2)), rng.normal((10, 0), 1, (100, 2)), rng.normal((5, 10), 1, (100, 2))])
    labels = np.repeat([1, 2, 3], 100)
    rules = segment_rules(X, labels, ("x", "y"), seed=1)
    assert rules.agreement == 1.0 and rules.depth <= 3
    assert [(r.segment, r.covered, r.wrong) for r in rules.rules] == [(1, 100, 0), (2, 100, 0), (3, 100, 0)]
    assert all(r.text and r.paths for r in rules.rules)


@pytest.mark.slow
def test_segments_sql_reproduces_the_mall_segments_in_sqlite(invoke, mall_csv: Path, tmp_path: Path) -> None:
    result = invoke("run", str(mall_csv), "--features", f"{INCOME},{SCORE}", "--scale", "none", "-q",
                    "--stability-resamples", "0")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip())
    segments = pd.read_csv(folder / "segments.csv")
    rules = pd.read_csv(folder / "rules.csv")
    assert rules["segment"].tolist() == [1, 2, 3, 4, 5]
    assert rules.loc[rules["segment"] == 2, "rule"].item() == f"{INCOME} at least 70 and {SCORE} at least 52"
    assert (rules["covered_share"] >= 0.9).all() and (rules["wrongly_included_share"] <= 0.1).all()
    sql = (folder / "segments.sql").read_text()
    assert 'FROM "Mall_Customers"' in sql and "97.5% of the" in sql
    with sqlite3.connect(tmp_path / "crm.db") as connection:
        pd.read_csv(mall_csv).to_sql("Mall_Customers", connection, index=False)
        labelled = pd.read_sql(sql, connection)
    merged = segments.merge(labelled, on="CustomerID", suffixes=("", "_sql"))
    assert len(merged) == 200
    agreement = float((merged["segment"] == merged["segment_sql"]).mean())
    assert agreement >= 0.9, agreement
    assert (merged.loc[merged["segment"] == merged["segment_sql"], "segment_name"]
            == merged.loc[merged["segment"] == merged["segment_sql"], "segment_name_sql"]).all()
    html = " ".join((folder / "report.html").read_text().split())
    assert f"Who is in it, as a rule for the CRM:</b> {INCOME} at least 70 and {SCORE} at least 52." in html
    assert "The rules put 97.5% of these customers in their own segment" in html


def test_a_segment_no_leaf_predicts_gets_a_rule_of_its_own() -> None:
    """A small segment in the middle of two big ones: no leaf of the shared depth-3 tree predicts it, so a tree that
    tells it from everyone else gives its rule; segments.sql leaves that rule out when it would put fewer customers
    in their own segment (here it takes in twice as many customers of the big segments as it covers)."""
    from reportgen.describe.rules import segment_rules, segments_sql

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 100, (3000, 2))
    centre = ((X - 50) ** 2).sum(axis=1) < 12 ** 2
    labels = np.where(centre, 3, np.where(X[:, 0] < 50, 1, 2))
    rules = segment_rules(X, labels, ["x", "y"], seed=1)
    small = rules.for_segment(3)
    assert small is not None and small.first and not small.in_sql
    assert small.covered_share == 1.0 and "y above 39.5 and at most 61.6" in small.text
    assert rules.agreement == pytest.approx(np.mean(labels != 3))  # the SQL: the two big segments, exactly
    sql = segments_sql(rules, table="t", run="r", names={1: "a", 2: "b", 3: "c"})
    assert "THEN 3" not in sql and "THEN 1" in sql


def test_a_rule_of_its_own_goes_first_in_the_sql_when_it_helps(mall_csv) -> None:
    """Mall Age, income and score in 6 segments (standardized K-means): the smallest has no leaf of the shared
    tree; its own rule, first in the CASE, puts more customers in their own segment than leaving it out."""
    import sqlite3

    from reportgen.describe.rules import segment_rules, segments_sql
    from reportgen.segmentation.algorithms import ALGORITHMS

    frame = pd.read_csv(mall_csv)
    columns = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    X = frame[columns].to_numpy(float)
    labels = ALGORITHMS["kmeans"].fit((X - X.mean(axis=0)) / X.std(axis=0), 6, 42, 10).labels + 1
    rules = segment_rules(X, labels, columns, seed=42)
    own = [r for r in rules.rules if r.first]
    assert own and all(r.in_sql for r in own)
    with sqlite3.connect(":memory:") as connection:
        frame.to_sql("Mall_Customers", connection, index=False)
        sql = segments_sql(rules, table="Mall_Customers", run="r", names={n: str(n) for n in range(1, 7)})
        found = pd.read_sql_query(sql, connection)["segment"].to_numpy()
    assert np.mean(found == labels) == pytest.approx(rules.agreement) and rules.agreement >= 0.9
    assert sql.index(f"THEN {own[0].segment}\n") < min(sql.index(f"THEN {r.segment}\n") for r in rules.rules
                                                         if not r.first)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_segments_sql_names_columns_as_the_input_writes_them(tmp_path: Path, suffix: str) -> None:
    """Issue 26 (generated tables): a header written ' spend' (a space before it) was named "spend" in
    segments.sql, which a database reads as another column (SQLite: the text 'spend'), so the rules put half the
    customers in the wrong segment while the file's header claimed all of them."""
    from reportgen import Settings, run

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"id": [f"C{i:03d}" for i in range(100)],
                          " spend": np.r_[rng.normal(100, 10, 50), rng.normal(500, 10, 50)].round(2),
                          "visits ": np.r_[rng.normal(5, 1, 50), rng.normal(20, 1, 50)].round(1)})
    path = tmp_path / f"t{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_excel(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=(), stability_resamples=0, k=2))
    assert result.folder is not None
    sql = (result.folder / "segments.sql").read_text()
    assert '" spend"' in sql or '"visits "' in sql
    assert "100.0% of the" in sql
    assert {c.name for c in result.model.columns} == {"id", "spend", "visits"}  # read with the spaces stripped
    with sqlite3.connect(tmp_path / "crm.db") as connection:
        table.to_sql("t", connection, index=False)
        labelled = pd.read_sql(sql, connection)
    segments = pd.read_csv(result.folder / "segments.csv")
    assert (labelled["segment"].to_numpy() == segments["segment"].to_numpy()).all()
