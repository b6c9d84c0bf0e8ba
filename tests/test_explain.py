"""Segment rules (issue 15, part 3): a depth-3 decision tree on the segment labels, in words, in rules.csv and as
SQL in segments.sql that a database runs over the input table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.explain import Condition, condition_text, quote_identifier, segment_rules

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
