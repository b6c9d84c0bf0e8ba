"""Beyond K-means (issue 15, parts 1 and 2): Ward's hierarchical clustering and a Gaussian mixture from the
algorithm table, through the whole run, and the agreement between methods in the report and metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from reportgen.segmentation.agreement import agreement
from reportgen.segmentation.algorithms import ALGORITHMS, WARD_SAMPLE

from .conftest import INCOME, SCORE


def test_ward_above_its_sample_size_assigns_the_rest_to_the_nearest_centre() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [8, 0], [4, 8]])
    X = np.vstack([rng.normal(c, 1, (WARD_SAMPLE // 2, 2)) for c in centres])
    truth = np.repeat([0, 1, 2], WARD_SAMPLE // 2)
    fitted = ALGORITHMS["ward"].fit(X, 3, 7, 1)
    assert len(fitted.labels) == len(X) > WARD_SAMPLE
    assert adjusted_rand_score(truth, fitted.labels) > 0.98
    assert np.allclose(np.sort(fitted.centroids[:, 0]), [0, 4, 8], atol=0.2)


def test_agreement_in_words() -> None:
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 0.5, (60, 2)) for c in ([0, 0], [6, 0], [3, 6])])
    labels = ALGORITHMS["kmeans"].fit(X, 3, 1, 10).labels
    found = agreement(X, labels, chosen="kmeans", k=3, seed=1, n_init=10)
    assert [m.algorithm for m in found.methods] == ["ward", "gmm"] and min(m.ari for m in found.methods) > 0.95
    assert found.sentence.startswith("Ward's hierarchical clustering and Gaussian mixture find nearly the same 3")
    noise = rng.uniform(size=(300, 2))
    loose = agreement(noise, ALGORITHMS["kmeans"].fit(noise, 6, 1, 10).labels, chosen="kmeans", k=6, seed=1,
                      n_init=10)
    assert min(m.ari for m in loose.methods) < 0.8 and ("depend" in loose.sentence or "partly" in loose.sentence)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["ward", "gmm"])
def test_ward_and_the_gaussian_mixture_find_the_mall_segments(invoke, mall_csv: Path, algorithm: str) -> None:
    """On Mall income + score (raw, as the reference): k = 5 by the indices' vote, and adjusted Rand index >= 0.85
    with the K-means segments of the same run settings; the report says how the methods agree."""
    common = ("--features", f"{INCOME},{SCORE}", "--scale", "none", "-q", "--stability-resamples", "10")
    kmeans = invoke("run", str(mall_csv), *common, "--format", "none", "--name", "kmeans")
    other = invoke("run", str(mall_csv), *common, "--algorithm", algorithm, "--format", "html", "--name", algorithm)
    assert kmeans.exit_code == 0 and other.exit_code == 0, other.stderr
    folders = [Path(r.stdout.strip()) for r in (kmeans, other)]
    metrics = [json.loads((f / "metrics.json").read_text()) for f in folders]
    assert metrics[1]["k"] == 5 and metrics[1]["k_selection"]["votes"]["silhouette"] == 5
    segments = [pd.read_csv(f / "segments.csv") for f in folders]
    ari = adjusted_rand_score(segments[0]["segment"], segments[1]["segment"])
    assert ari >= 0.85, ari
    assert metrics[0]["agreement"]["ari"][algorithm] >= 0.85  # what the K-means run's report states
    html = " ".join((folders[1] / "report.html").read_text().split())
    assert "Agreement between methods" in html and "the segments are in the data, not an artefact of one method" in html
    model = json.loads((folders[1] / "model.json").read_text())
    assert model["kind"] == algorithm
    candidates = metrics[1]["k_selection"]["candidates"]
    if algorithm == "gmm":  # the mixture's BIC: a column of the k table and a vote, lowest at k = 5 on Mall
        assert metrics[1]["k_selection"]["votes"]["bic"] == 5
        assert min(candidates, key=lambda c: c["bic"])["k"] == 5
        assert ">BIC<br>" in html and "Bayesian information criterion" in html
    else:
        assert "bic" not in candidates[0] and "Bayesian information criterion" not in html


@pytest.mark.slow
def test_a_ward_run_is_a_baseline_for_assign_only(invoke, mall_csv: Path) -> None:
    common = ("--features", f"{INCOME},{SCORE}", "--scale", "none", "-q", "--stability-resamples", "0",
              "--format", "none")
    base = invoke("run", str(mall_csv), *common, "--algorithm", "ward", "--name", "base")
    assert base.exit_code == 0, base.stderr
    again = invoke("run", str(mall_csv), *common, "--algorithm", "ward", "--baseline", "latest", "--assign-only")
    assert again.exit_code == 0, again.stderr
    first, second = (pd.read_csv(Path(r.stdout.strip()) / "segments.csv") for r in (base, again))
    assert (first["segment"] == second["segment"]).mean() >= 0.95  # Ward's own labels against the nearest centre
