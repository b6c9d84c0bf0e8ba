"""The Spark engine on the Mall data (issue 7). Marked `spark`: deselect with -m "not spark"; CI runs it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from .conftest import INCOME, SCORE

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_available() -> None:
    missing = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("PySpark (pip install 'reportgen[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("Java 17+ (apt-get install openjdk-17-jre-headless)")
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the Spark test cannot run: missing " + ", ".join(missing))
        pytest.skip("missing " + ", ".join(missing))


def test_spark_finds_the_same_mall_segments(spark_available, invoke, mall_csv: Path, tmp_path: Path) -> None:
    pandas_run = invoke("run", str(mall_csv), "--features", f"{INCOME},{SCORE}", "-q", "--format", "none",
                        "--name", "pandas")
    spark_run = invoke("run", str(mall_csv), "--features", f"{INCOME},{SCORE}", "-q", "--engine", "spark",
                       "--name", "spark", "--workers", "1")
    assert pandas_run.exit_code == 0 and spark_run.exit_code == 0, spark_run.stderr
    pandas_folder, spark_folder = tmp_path / pandas_run.stdout.strip(), tmp_path / spark_run.stdout.strip()
    pandas_metrics = json.loads((pandas_folder / "metrics.json").read_text())
    spark_metrics = json.loads((spark_folder / "metrics.json").read_text())
    assert spark_metrics["engine"] == "spark" and spark_metrics["k"] == 5 == pandas_metrics["k"]
    assert spark_metrics["rows"] == 200
    assert all(abs(a - b) <= 2 for a, b in zip(spark_metrics["sizes"], pandas_metrics["sizes"], strict=True))
    # the same run folder and report as with the default engine
    expected = {"report.html", "report.pdf", "segments.csv", "profiles.csv", "metrics.json", "manifest.json",
                "model.json", "summary.json", "cleaning.csv"}
    assert expected <= {p.name for p in spark_folder.iterdir()}
    segments = pd.read_csv(spark_folder / "segments.csv")
    assert list(segments.columns) == ["CustomerID", "segment", "segment_name"]
    assert segments["CustomerID"].tolist() == list(range(1, 201))
    agree = (segments["segment"] == pd.read_csv(pandas_folder / "segments.csv")["segment"]).mean()
    assert agree >= 0.98
    names = segments.groupby("segment")["segment_name"].first().tolist()
    assert names == ["Average income, average spending", "High income, high spending", "High income, low spending",
                     "Low income, low spending", "Low income, high spending"]
    assert invoke("verify", str(spark_folder)).exit_code == 0
