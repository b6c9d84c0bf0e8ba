from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from reportgen.cleaning.pandas import clean
from reportgen.errors import ConfigError, InputError
from reportgen.inputs.roles import read_dataset
from reportgen.segmentation.features import apply_scaler, build_features, choose_features, fit_scaler, unscale

from .conftest import INCOME, SCORE


def test_default_features_are_the_numeric_columns(mall_csv) -> None:
    assert choose_features(read_dataset(mall_csv)) == ("Age", INCOME, SCORE)


def test_requested_features_match_case_insensitively(mall_csv) -> None:
    ds = read_dataset(mall_csv)
    assert choose_features(ds, ("annual income (K$)", " spending  score (1-100)")) == (INCOME, SCORE)


def test_unknown_feature_lists_the_columns(mall_csv) -> None:
    with pytest.raises(ConfigError) as info:
        choose_features(read_dataset(mall_csv), ("Income",))
    assert "'Income'" in info.value.message
    assert "CustomerID, Gender, Age, Annual Income (k$), Spending Score (1-100)" in info.value.hint
    assert info.value.exit_code == 2


def test_non_numeric_feature_is_refused(mall_csv) -> None:
    with pytest.raises(ConfigError, match="'Gender' is categorical, not numeric"):
        choose_features(read_dataset(mall_csv), ("Gender",))


def test_no_numeric_column() -> None:
    with pytest.raises(InputError, match="no numeric column"):
        choose_features(read_dataset(b"name,city\nann,paris\nbob,rome\n"))


@pytest.mark.parametrize("method, reference", [("standard", StandardScaler), ("minmax", MinMaxScaler)])
def test_scaling_matches_scikit_learn(method: str, reference) -> None:
    X = np.random.default_rng(1).normal(50, 20, size=(100, 3))
    scaler = fit_scaler(X, method)
    np.testing.assert_allclose(apply_scaler(X, scaler), reference().fit_transform(X), atol=1e-12)
    np.testing.assert_allclose(unscale(apply_scaler(X, scaler), scaler), X, atol=1e-9)


def test_no_scaling_and_constant_columns() -> None:
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    assert fit_scaler(X, "none").scale == (1.0, 1.0)
    assert fit_scaler(X, "standard").scale[1] == 1.0  # zero spread does not divide by zero


def test_feature_matrix_keeps_row_numbers(mall_csv) -> None:
    ds = read_dataset(mall_csv)
    fm = build_features(clean(ds, features=(INCOME, SCORE)), scale="none")
    assert fm.X.shape == (200, 2) and fm.names == (INCOME, SCORE)
    assert fm.rows[0] == 1 and fm.rows[-1] == 200
    assert fm.X[0].tolist() == [15.0, 39.0]


def _stats(values):
    from reportgen.segmentation.features import feature_stats

    return feature_stats("x", np.asarray(values, dtype=float))


def test_heavy_tailed_positive_features_are_logged_others_not() -> None:
    from reportgen.segmentation.features import plan_treatment

    rng = np.random.default_rng(0)
    money = rng.lognormal(6, 1.0, 2000)
    assert plan_treatment(_stats(money), transform="auto", outliers="clip").transform == "log"
    assert plan_treatment(_stats(money), transform="none", outliers="clip").transform == ""
    balance = np.concatenate([money, -rng.gamma(2, 100, 400)])  # overdrafts: negative values, left as they are
    plan = plan_treatment(_stats(balance), transform="auto", outliers="clip")
    assert plan.transform == "" and "negative" in plan.why
    normal = rng.normal(50, 10, 2000)
    assert plan_treatment(_stats(normal), transform="auto", outliers="clip").transform == ""


def test_far_out_values_are_clipped_for_the_clustering_only() -> None:
    from reportgen.segmentation.features import apply_scaler, fit_treated_scaler

    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(50, 5, 1000), rng.normal(0, 1, 1000)])
    X[:10, 0] = 500.0  # ten far-out values, on the high side only
    scaler, records, extreme = fit_treated_scaler(X, ("a", "b"), scale="standard", transform="auto",
                                                  outliers="clip")
    assert extreme == 10 and records[0].extreme == 10 and records[1].extreme == 0
    assert scaler.clip_low[0] is None and scaler.clip_high[0] is not None  # only the side with far-out values
    assert scaler.clip_high[0] < 500 and records[0].clipped >= 10
    assert scaler.clip_low[1] is None and scaler.clip_high[1] is None
    scaled = apply_scaler(X, scaler)
    assert scaled[:10, 0].max() == scaled[:, 0].max()  # the extreme customers sit at the bound, not beyond
    kept, _, _ = fit_treated_scaler(X, ("a", "b"), scale="standard", transform="auto", outliers="keep")
    assert kept.clip_low == () and kept.clip_high == ()


def test_the_treatment_round_trips_in_the_features_units() -> None:
    from reportgen.segmentation.features import apply_scaler, fit_treated_scaler, unscale

    rng = np.random.default_rng(2)
    X = np.column_stack([rng.lognormal(5, 0.8, 500), rng.normal(10, 2, 500)])
    scaler, _, _ = fit_treated_scaler(X, ("spend", "age"), scale="standard", transform="auto", outliers="keep")
    assert scaler.transforms == ("log", "")
    np.testing.assert_allclose(unscale(apply_scaler(X, scaler), scaler), X, rtol=1e-9)
