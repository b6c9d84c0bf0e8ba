"""The Spark engine on the Mall data (issue 7). Marked `spark`: deselect with -m "not spark"; CI runs it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import INCOME, SCORE

pytestmark = [pytest.mark.spark, pytest.mark.slow]


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
    # one silhouette: computed as the pandas engine does (0.555), Spark's own (0.739) only an extra
    assert spark_metrics["silhouette"] == pytest.approx(pandas_metrics["silhouette"], abs=0.005)
    assert spark_metrics["spark_silhouette"] == pytest.approx(0.739, abs=0.01)
    assert spark_metrics["k_selection"]["candidates"][3]["silhouette"] == pytest.approx(
        pandas_metrics["k_selection"]["candidates"][3]["silhouette"], abs=0.005)
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


def _dirty_table(with_id: bool) -> pd.DataFrame:
    from reportgen.inputs.sample import generate_customers

    frame = generate_customers(300, seed=7).astype(object)  # the sample's own dirt: "?", -49, "female ", copies
    frame.loc[5, "Annual Income (k$)"] = "1,200"
    frame.loc[9, "Annual Income (k$)"] = "abc"
    frame.loc[11, "Gender"] = "n/a"
    frame.loc[12, "Spending Score (1-100)"] = "inf"
    # a "not applicable" code in most rows: a learned value step and its yes/no column, on both engines
    rng = np.random.default_rng(3)
    frame["days_since_complaint"] = np.where(rng.random(len(frame)) < 0.7, -1, rng.integers(1, 500, len(frame)))
    frame.loc[13] = [None] * len(frame.columns)
    frame.loc[14, "Age"] = "#DIV/0!"  # the example cleaning step: both engines run it from the one table
    frame.loc[15, "Gender"] = 'the "best", one'  # a doubled quote and a comma inside a quoted value
    return frame if with_id else frame.drop(columns=["CustomerID"])


@pytest.mark.parametrize("with_id", [True, False], ids=["with-ids", "row-numbers"])
def test_spark_cleans_and_numbers_rows_as_the_pandas_engine(spark_available, invoke, tmp_path: Path,
                                                            with_id: bool) -> None:
    """The same cleaning.csv (every row touched, with why), the same account in manifest.json and the same row
    numbers in segments.csv, with the input split into several Spark partitions."""
    from reportgen.engines.spark.session import session

    path = tmp_path / "dirty.csv"
    _dirty_table(with_id).to_csv(path, index=False)
    # lines that do not fit the header: one field too many, one too few, the header repeated; blank lines
    lines = path.read_text().split("\n")
    lines[21] += ",Smith"
    lines[40] = ",".join(lines[40].split(",")[:2])
    lines[30] += ","  # one delimiter at the end of a line: kept on both engines
    lines.insert(60, lines[0])
    lines.insert(80, "")
    lines.insert(90, "   ")
    path.write_text("\n".join(lines))
    spark = session("local[*]")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2048")  # a 10 kB file in several partitions
    spark.conf.set("spark.sql.files.openCostInBytes", "0")
    try:
        assert spark.read.csv(str(path), header=True).rdd.getNumPartitions() >= 3
        # k fixed: this test is about cleaning and row numbers (the k choice on Spark: the Mall and skewed tests)
        runs = {engine: invoke("run", str(path), "-q", "--format", "none", "--engine", engine, "--name", engine,
                               "--k", "5")
                for engine in ("pandas", "spark")}
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    assert all(r.exit_code == 0 for r in runs.values()), runs["spark"].stderr
    pandas_folder, spark_folder = (tmp_path / runs[e].stdout.strip() for e in ("pandas", "spark"))
    log = (spark_folder / "cleaning.csv").read_text()
    assert log == (pandas_folder / "cleaning.csv").read_text()
    for expected in ('22,,skipped line,"expected', '41,,skipped line,"expected',
                     "61,,skipped line,the header row repeated", "1,200", "not a number,abc", "infinite value,inf",
                     "unified spelling", "labelled (missing)",
                     "every value in the row is missing", "exact copy of an earlier row",
                     "a spreadsheet error value (a formula that failed),#DIV/0!",
                     "days_since_complaint,\"set to missing, kept as a yes/no column\""):
        assert expected in log
    quality = [json.loads((f / "manifest.json").read_text())["data_quality"] for f in (pandas_folder, spark_folder)]
    assert quality[0] == quality[1]
    profiles = [pd.read_csv(f / "profiles.csv") for f in (pandas_folder, spark_folder)]
    assert all("share: days_since_complaint is -1=yes" in p.columns for p in profiles)
    segments = [pd.read_csv(f / "segments.csv") for f in (pandas_folder, spark_folder)]
    key = "CustomerID" if with_id else "row"
    assert segments[1][key].tolist() == segments[0][key].tolist()
    assert (segments[1]["segment"] == segments[0]["segment"]).mean() >= 0.95


def test_spark_keeps_a_baseline_and_assigns_to_it(spark_available, invoke, mall_csv: Path, tmp_path: Path) -> None:
    """--baseline and --assign-only work with Spark as with the default engine, across engines."""
    features = f"{INCOME},{SCORE}"
    base = invoke("run", str(mall_csv), "--features", features, "-q", "--format", "none", "--name", "base")
    assert base.exit_code == 0
    base_folder = tmp_path / base.stdout.strip()
    kept = invoke("run", str(mall_csv), "-q", "--format", "none", "--engine", "spark", "--baseline", "latest",
                  "--name", "kept")
    assert kept.exit_code == 0, kept.stderr
    comparison = json.loads((tmp_path / kept.stdout.strip() / "comparison.json").read_text())
    assert [s["status"] for s in comparison["segments"]] == ["kept"] * 5
    assert comparison["features"] == [INCOME, SCORE]  # the baseline's features, without --features
    assigned = invoke("run", str(mall_csv), "-q", "--format", "none", "--engine", "spark", "--baseline",
                      str(base_folder), "--assign-only", "--name", "assigned")
    assert assigned.exit_code == 0, assigned.stderr
    assigned_folder = tmp_path / assigned.stdout.strip()
    # a K-means solution is a fixed point: each customer is nearest to its own segment's centroid
    assert (assigned_folder / "segments.csv").read_bytes() == (base_folder / "segments.csv").read_bytes()
    manifest = json.loads((assigned_folder / "manifest.json").read_text())
    assert manifest["baseline"]["assign_only"] is True


def test_spark_treats_skewed_customers_as_the_pandas_engine(spark_available, invoke, skewed_csv: Path) -> None:
    """The shared transform and clip decisions from Spark's statistics: the same log transforms, clip bounds, extreme
    customers and k as the pandas engine, and the same segments."""
    from sklearn.metrics import adjusted_rand_score

    runs = {engine: invoke("run", str(skewed_csv), "-q", "--format", "none", "--engine", engine, "--name", engine)
            for engine in ("pandas", "spark")}
    assert all(r.exit_code == 0 for r in runs.values()), runs["spark"].stderr
    folders = [Path(runs[e].stdout.strip()) for e in ("pandas", "spark")]
    metrics = [json.loads((Path.cwd() / f / "metrics.json").read_text()) for f in folders]
    prepared = [m["preparation"] for m in metrics]
    assert prepared[0]["extreme_customers"] == prepared[1]["extreme_customers"] == 30
    for a, b in zip(prepared[0]["features"], prepared[1]["features"], strict=True):
        assert (a["feature"], a["transform"], a["extreme"]) == (b["feature"], b["transform"], b["extreme"])
        for bound in ("clip_low", "clip_high"):
            assert (a[bound] is None) == (b[bound] is None)
            if a[bound] is not None:
                assert abs(a[bound] - b[bound]) <= 1e-6 * abs(a[bound])
        assert abs(a["skewness"] - b["skewness"]) <= 1e-3 * abs(a["skewness"])
    assert metrics[0]["k"] == metrics[1]["k"] == 4
    assert set(metrics[1]["stability"]["segments"]) == {"1", "2", "3", "4"}
    segments = [pd.read_csv(Path.cwd() / f / "segments.csv") for f in folders]
    assert segments[0]["CustomerNo"].tolist() == segments[1]["CustomerNo"].tolist()
    assert adjusted_rand_score(segments[0]["segment"], segments[1]["segment"]) >= 0.95


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def spark_cluster(spark_available, tmp_path: Path):
    """A Spark standalone master and one worker (2 cores, 2 GiB) on 127.0.0.1, from the pyspark package's own
    spark-class; yields (master URL, the master's JSON status URL). Stopped, with their process groups, after."""
    import signal
    import subprocess
    import time
    import urllib.request

    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(tmp_path / "logs"), "SPARK_WORKER_DIR": str(tmp_path / "work")}
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    status = f"http://127.0.0.1:{ui}/json/"
    logs = [(tmp_path / f"{name}.log").open("wb") for name in ("master", "worker")]
    processes = [subprocess.Popen(
        [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
         "--port", str(port), "--webui-port", str(ui)], env=env, stdout=logs[0], stderr=subprocess.STDOUT,
        start_new_session=True)]
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(status, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or processes[0].poll() is not None:
                    pytest.fail("the Spark master did not start: " + (tmp_path / "master.log").read_text()[-2000:])
                time.sleep(0.5)
        processes.append(subprocess.Popen(
            [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
             "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", str(worker_ui),
             "--work-dir", str(tmp_path / "work")], env=env, stdout=logs[1], stderr=subprocess.STDOUT,
            start_new_session=True))
        while json.loads(urllib.request.urlopen(status, timeout=2).read()).get("aliveworkers", 0) < 1:
            if time.monotonic() > deadline or processes[1].poll() is not None:
                pytest.fail("the Spark worker did not register: " + (tmp_path / "worker.log").read_text()[-2000:])
            time.sleep(0.5)
        yield f"spark://127.0.0.1:{port}", status
    finally:
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs:
            log.close()


def test_spark_on_a_standalone_cluster_finds_the_pandas_segments(spark_cluster, invoke, mall_csv: Path,
                                                                  tmp_path: Path) -> None:
    """A real cluster: the run is a fresh process (a Spark session lives as long as its process) whose executors
    run on the worker, in this Python (PYSPARK_PYTHON, as the README says for a cluster). The segments and the
    silhouette are the pandas engine's; Spark's own silhouette (squared distances) is only an extra."""
    import subprocess
    import sys
    import urllib.request

    master, status = spark_cluster
    common = ("--features", f"{INCOME},{SCORE}", "--k-range", "4-6", "-q", "--format", "none")
    pandas_run = invoke("run", str(mall_csv), *common, "--name", "pandas")
    assert pandas_run.exit_code == 0, pandas_run.stderr
    done = subprocess.run(
        [sys.executable, "-m", "reportgen", "run", str(mall_csv), *common, "--engine", "spark", "--spark-master",
         master, "--name", "cluster", "--output", str(tmp_path / "output")],
        env={**os.environ, "PYSPARK_PYTHON": sys.executable}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = Path(done.stdout.strip())
    pandas_folder = tmp_path / pandas_run.stdout.strip()
    metrics = [json.loads((f / "metrics.json").read_text()) for f in (pandas_folder, folder)]
    assert metrics[1]["engine"] == "spark" and metrics[1]["k"] == metrics[0]["k"] == 5
    segments = [pd.read_csv(f / "segments.csv") for f in (pandas_folder, folder)]
    assert (segments[0]["segment"] == segments[1]["segment"]).mean() >= 0.98
    # one silhouette: the pandas engine's figure (Euclidean), 0.555 on these standardized Mall segments
    assert metrics[1]["silhouette"] == pytest.approx(metrics[0]["silhouette"], abs=0.005)
    assert metrics[0]["silhouette"] == pytest.approx(0.555, abs=0.002)
    assert metrics[1]["spark_silhouette"] > metrics[1]["silhouette"] + 0.1  # squared distances read higher
    apps = json.loads(urllib.request.urlopen(status, timeout=5).read())
    ran = [app for app in apps.get("completedapps", []) + apps.get("activeapps", []) if app["name"] == "reportgen"]
    assert ran, "the run did not use the cluster"
