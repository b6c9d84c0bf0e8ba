"""The traps of real customer tables, end to end: skewed_customers.csv (../shared/data), a bank table with
overdrafts and a "never contacted" code, and uniform noise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen import Settings
from reportgen.pipeline import run

FEATURES = ("annual_spend", "orders_per_year", "avg_basket", "days_since_last_order", "tenure_months")
NOT_CLUSTERED = ("CustomerNo", "region_code", "newsletter", "days_since_complaint", "gender")


@pytest.fixture(scope="module")
def skewed_run(skewed_csv: Path, tmp_path_factory):
    return run(skewed_csv, Settings(output=tmp_path_factory.mktemp("skewed"), formats=("html",)))


@pytest.mark.slow
def test_skewed_customers_get_the_planted_segments(skewed_run, skewed_truth: pd.DataFrame) -> None:
    from sklearn.metrics import adjusted_rand_score

    folder = skewed_run.folder
    segments = pd.read_csv(folder / "segments.csv")
    assert len(segments) == 3000 and segments["CustomerNo"].is_unique  # every customer
    metrics = json.loads((folder / "metrics.json").read_text())
    assert tuple(metrics["features"]) == FEATURES
    assert not set(NOT_CLUSTERED) & set(metrics["features"])
    assert metrics["k"] == 4
    assert metrics["k_selection"]["method"] == "vote"
    assert metrics["k_selection"]["votes"]["silhouette"] == 4
    assert min(metrics["sizes"]) / 3000 >= 0.02
    merged = segments.merge(skewed_truth, on="CustomerNo")
    assert len(merged) == 3000
    assert adjusted_rand_score(merged["planted_segment"], merged["segment"]) >= 0.9
    stability = metrics["stability"]["segments"]
    assert set(stability) == {"1", "2", "3", "4"} and all(0 <= j <= 1 for j in stability.values())
    # the 30 corporate accounts are extreme; clipped for the clustering, they keep their segments
    assert metrics["preparation"]["extreme_customers"] == 30
    assert {f["feature"]: f["transform"] for f in metrics["preparation"]["features"]} == dict.fromkeys(FEATURES,
                                                                                                     "log")
    corporate = merged[merged["corporate_outlier"] == 1]
    assert len(corporate) == 30 and corporate["segment"].notna().all()


@pytest.mark.slow
def test_skewed_customers_decisions_are_in_the_manifest_and_report(skewed_run) -> None:
    manifest = json.loads((skewed_run.folder / "manifest.json").read_text())
    detail = {c["column"]: c for c in manifest["input"]["columns_detail"]}
    assert detail["CustomerNo"]["role"] == "id"
    assert detail["region_code"]["role"] == "categorical" and "code" in detail["region_code"]["why"]
    assert detail["newsletter"]["why"] == "a 0/1 flag"
    assert "'not applicable' code" in detail["days_since_complaint"]["why"]
    assert not any(detail[c]["clustered"] for c in NOT_CLUSTERED)
    assert manifest["coverage"] == {"customers_in_input": 3000, "customers_in_segments": 3000}
    assert manifest["k_selection"]["votes"]["gap"] == 4
    assert manifest["stability"]["resamples"] == 50
    steps = {(s["step"], s["column"]): s for s in manifest["data_quality"]["steps"]}
    assert steps[("sentinel", "days_since_complaint")]["count"] == 2561
    html = (skewed_run.folder / "report.html").read_text(encoding="utf-8")
    assert "The segments cover <b>3,000 of the 3,000 customers</b>" in html
    assert "30 customers have extreme values" in html
    assert "Each index picks" in html and "Gap statistic" in html
    assert "Days since complaint is -1" in html  # the sentinel's yes/no column is profiled, under its label


def bank_table(n: int = 1000, seed: int = 11) -> pd.DataFrame:
    """A bank's customers: 20% overdrawn balances and a -1 "never contacted" code in most rows."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n)
    balance = np.where(group == 1, rng.normal(6000, 1500, n), rng.normal(800, 900, n)).round(2)
    overdrawn = rng.random(n) < 0.2
    balance[overdrawn] = -rng.gamma(2.0, 300.0, overdrawn.sum()).round(2)
    return pd.DataFrame({
        "client": [f"B{i:06d}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "balance": balance,
        "duration_minutes": np.where(group == 1, rng.normal(30, 5, n), rng.normal(10, 3, n)).round(1),
        "days_since_last_contact": np.where(rng.random(n) < 0.8, -1, rng.integers(1, 400, n)),
    })


@pytest.mark.slow
def test_negative_balances_and_a_sentinel_keep_every_customer(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    bank_table().to_csv(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=()))
    account = result.model.account
    assert account.rows_in == account.rows_out == 1000
    assert not [s for s in account.steps if s.step == "impossible_value"]  # an overdraft is a balance
    assert "balance" in result.model.features and "days_since_last_contact" not in result.model.features
    segments = pd.read_csv(result.folder / "segments.csv")
    assert len(segments) == 1000
    assert "days_since_last_contact is -1" in result.model.profiles.categorical


@pytest.mark.slow
def test_a_sentinel_in_a_clustered_column_is_imputed_and_flagged(tmp_path: Path) -> None:
    frame = bank_table(seed=12)
    frame.loc[frame.sample(frac=0.2, random_state=1).index, "age"] = -1  # "unknown", in 20% of the rows
    path = tmp_path / "bank.csv"
    frame.to_csv(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=()))
    steps = {(s.step, s.column): s for s in result.model.account.steps}
    assert steps[("sentinel", "age")].count == 200
    assert steps[("missing_share", "age")].count == 200  # dropping them would drop 20%: imputed
    assert result.model.account.rows_out == 1000
    assert "age is -1" in result.model.profiles.categorical


def wholesale_table(n: int = 440, seed: int = 21) -> pd.DataFrame:
    """Like the UCI wholesale customers: an integer-coded channel and region, six heavy-tailed annual spend
    columns, five enormous customers."""
    rng = np.random.default_rng(seed)
    channel = np.where(rng.random(n) < 0.68, 1, 2)
    horeca = channel == 1

    def spend(horeca_median: float, retail_median: float, sigma: float) -> np.ndarray:
        return np.round(np.exp(rng.normal(np.log(np.where(horeca, horeca_median, retail_median)), sigma)))

    frame = pd.DataFrame({
        "Channel": channel, "Region": rng.choice([1, 2, 3], n, p=[0.18, 0.11, 0.71]),
        "Fresh": spend(9000, 5000, 1.0), "Milk": spend(2000, 7500, 0.8), "Grocery": spend(2500, 11000, 0.7),
        "Frozen": spend(2000, 800, 1.0), "Detergents_Paper": spend(400, 4500, 0.9), "Delicassen": spend(900, 1100, 1.0),
    })
    frame.loc[rng.choice(n, 5, replace=False), ["Fresh", "Milk", "Grocery"]] *= 12
    return frame


@pytest.mark.slow
def test_a_wholesale_table_is_not_typical_customers_plus_the_biggest(tmp_path: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    frame = wholesale_table()
    path = tmp_path / "wholesale.csv"
    frame.to_csv(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=()))
    model = result.model
    roles = {c.name: c.role for c in model.columns}
    assert roles["Channel"] == roles["Region"] == "categorical"  # integer codes, not numbers
    assert model.scaler.transforms == ("log",) * 6
    assert min(model.segmentation.sizes) / sum(model.segmentation.sizes) >= 0.2
    assert adjusted_rand_score(frame["Channel"], model.segmentation.labels) >= 0.7  # the two channels
    textbook = run(path, Settings(output=tmp_path / "textbook", formats=(), transform="none", outliers="keep"))
    assert min(textbook.model.segmentation.sizes) <= 5  # one segment of a few enormous customers...
    assert textbook.model.verdict == "weak"  # ...is not called a structure
    assert "ruled out" in textbook.model.selection.reason


@pytest.mark.slow
def test_uniform_noise_gets_a_weak_verdict(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    path = tmp_path / "noise.csv"
    pd.DataFrame({"x": rng.uniform(0, 100, 600), "y": rng.uniform(0, 100, 600)}).to_csv(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=()))
    assert result.model.verdict == "weak"
    assert next(v.k for v in result.model.selection.votes if v.key == "gap") == 1
    assert any("no more grouped than random data" in reason for reason in result.model.verdict_reasons)


@pytest.mark.slow
def test_uniform_values_on_one_axis_are_weak_despite_a_high_silhouette(tmp_path: Path) -> None:
    """Uniform amounts split in two with a silhouette near 0.6: only the gap statistic sees there is nothing."""
    path = tmp_path / "amounts.csv"
    pd.DataFrame({"amount": np.random.default_rng(8).uniform(10, 100, 800).round(2)}).to_csv(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=()))
    assert result.model.segmentation.silhouette >= 0.5
    assert result.model.verdict == "weak"
    assert any("no more grouped than random data" in reason for reason in result.model.verdict_reasons)


@pytest.mark.slow
def test_textbook_options_turn_the_treatment_off(skewed_csv: Path, tmp_path: Path) -> None:
    result = run(skewed_csv, Settings(output=tmp_path, formats=(), transform="none", outliers="keep",
                                      stability_resamples=0))
    scaler = result.model.scaler
    assert scaler.transforms == () and scaler.clip_low == () and scaler.clip_high == ()
    assert result.model.stability is None
    assert json.loads((result.folder / "metrics.json").read_text())["stability"] is None
