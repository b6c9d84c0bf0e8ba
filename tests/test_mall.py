"""Known answers on the Kaggle Mall Customers data (../shared/data/Mall_Customers.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reportgen import Settings
from reportgen.pipeline import run

from .conftest import INCOME, SCORE


@pytest.fixture(scope="module")
def raw_run(mall_csv: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("mall")
    return run(mall_csv, Settings(features=(INCOME, SCORE), scale="none", output=out, name="mall",
                                  formats=("html",)))


@pytest.mark.slow
def test_raw_income_and_spending(raw_run) -> None:
    seg = raw_run.model.segmentation
    assert seg.k == 5
    assert abs(seg.silhouette - 0.554) <= 0.005
    assert seg.sizes == (81, 39, 35, 23, 22)
    metrics = json.loads((raw_run.folder / "metrics.json").read_text())
    assert metrics["k"] == 5 and metrics["scaling"] == "none"
    assert metrics["features"] == [INCOME, SCORE]
    assert round(metrics["silhouette"], 3) == 0.554
    assert metrics["k_selection"]["method"] == "vote"
    votes = metrics["k_selection"]["votes"]
    assert set(votes) == {"silhouette", "davies_bouldin", "calinski_harabasz", "gap", "elbow"}
    assert votes["silhouette"] == votes["davies_bouldin"] == votes["elbow"] == 5
    assert [c["k"] for c in metrics["k_selection"]["candidates"]] == list(range(2, 11))
    best = max(metrics["k_selection"]["candidates"], key=lambda c: c["silhouette"])
    assert best["k"] == 5
    assert metrics["k_selection"]["elbow_k"] in (4, 5, 6)
    # not heavy-tailed: no transform, nothing clipped (the textbook answer stands)
    assert [f["transform"] for f in metrics["preparation"]["features"]] == ["none", "none"]
    assert metrics["preparation"]["extreme_customers"] == 0


@pytest.mark.slow
def test_every_mall_segment_is_highly_stable(raw_run) -> None:
    stability = json.loads((raw_run.folder / "metrics.json").read_text())["stability"]
    assert stability["method"] == "bootstrap" and stability["resamples"] == 50
    assert set(stability["segments"]) == {"1", "2", "3", "4", "5"}
    assert all(j >= 0.85 for j in stability["segments"].values()), stability["segments"]
    assert set(stability["words"].values()) == {"highly stable"}
    assert raw_run.model.verdict == "clear"
    html = (raw_run.folder / "report.html").read_text(encoding="utf-8")
    assert "Segments 1, 2, 3, 4 and 5 are highly stable" in html
    assert html.count("Highly stable") == 5  # on every segment page


@pytest.mark.slow
def test_golden_profiles(raw_run) -> None:
    profiles = pd.read_csv(raw_run.folder / "profiles.csv")
    got = profiles.set_index("segment")[["size", f"mean: {INCOME}", f"mean: {SCORE}"]].round(1)
    expected = pd.DataFrame({
        "segment": ["1", "2", "3", "4", "5", "all"],
        "size": [81, 39, 35, 23, 22, 200],
        f"mean: {INCOME}": [55.3, 86.5, 88.2, 26.3, 25.7, 60.6],
        f"mean: {SCORE}": [49.5, 82.1, 17.1, 20.9, 79.4, 50.2],
    }).set_index("segment")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.slow
def test_segments_csv(raw_run) -> None:
    segments = pd.read_csv(raw_run.folder / "segments.csv")
    assert list(segments.columns) == ["CustomerID", "segment", "segment_name"]
    assert segments["CustomerID"].tolist() == list(range(1, 201))  # input order
    assert segments["segment"].value_counts().sort_index().tolist() == [81, 39, 35, 23, 22]
    names = segments.groupby("segment")["segment_name"].unique()
    assert all(len(v) == 1 for v in names) and names.map(lambda v: v[0]).nunique() == 5


@pytest.mark.slow
def test_standardized_income_and_spending(mall_csv: Path, tmp_path: Path) -> None:
    result = run(mall_csv, Settings(features=(INCOME, SCORE), output=tmp_path, formats=()))
    seg = result.model.segmentation
    assert seg.k == 5 and abs(seg.silhouette - 0.555) <= 0.005
    assert seg.sizes == (81, 39, 35, 23, 22)


@pytest.mark.slow
def test_default_features(mall_csv: Path, tmp_path: Path) -> None:
    result = run(mall_csv, Settings(output=tmp_path, formats=("html",)))
    model = result.model
    assert model.features == ("Age", INCOME, SCORE)
    assert "Gender" in model.profiles.categorical
    assert model.segmentation.k == 6  # the known answer: Age, income and score standardized
    assert abs(model.segmentation.silhouette - 0.428) <= 0.005
    assert model.selection.method == "vote" and model.selection.silhouette_k == 6
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert f"k = {model.segmentation.k}" in html
    for segment in model.segments:
        assert segment.profile.categories["Gender"]
