"""The large-input path (issue 7): sampled silhouette and sweep, sampled scatter plots, above the thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from reportgen import Settings
from reportgen.charts.segments import scatter_alt, segment_data
from reportgen.charts.style import MAX_POINTS
from reportgen.clean import clean
from reportgen.cluster import fit_segments, select_k
from reportgen.prepare import build_features, choose_features
from reportgen.profiles import profile
from reportgen.roles import read_dataset
from reportgen.sample import sample_csv


@pytest.mark.slow
def test_large_input_takes_the_sampled_path_and_stays_accurate() -> None:
    dataset = read_dataset(sample_csv(20_000, seed=5, dirty=False), name="big.csv")
    cleaned = clean(dataset, features=choose_features(dataset))
    matrix = build_features(cleaned)
    settings = Settings()
    selection = select_k(matrix, silhouette_sample=settings.silhouette_sample, sweep_sample=10_000)
    assert selection.silhouette_sample_size == settings.silhouette_sample == 5000
    assert selection.sweep_sample_size == 10_000 and selection.n_init == 3
    assert "fixed-seed sample of 10,000 of the 20,000 customers" in selection.reason
    seg = fit_segments(matrix, 5, silhouette_sample=settings.silhouette_sample)
    assert seg.silhouette_sample_size == 5000 and len(seg.labels) == 20_000 and seg.n_init == 10
    full = silhouette_score(matrix.X, seg.labels)
    assert abs(seg.silhouette - full) < 0.01
    data = segment_data(matrix.X, cleaned.frame[list(matrix.names)].to_numpy(float), seg, profile(cleaned, seg),
                        names=matrix.names, scaling="standard", segment_names={n: f"s{n}" for n in seg.numbers})
    assert len(data.X) == len(data.labels) == MAX_POINTS and data.customers == 20_000  # small to send
    alt = scatter_alt(data)
    assert f"A fixed-seed sample of {MAX_POINTS:,} of 20,000 customers is drawn" in alt


def test_small_input_uses_every_row() -> None:
    dataset = read_dataset(sample_csv(2000, seed=5, dirty=False), name="small.csv")
    cleaned = clean(dataset, features=choose_features(dataset))
    selection = select_k(build_features(cleaned))
    assert selection.silhouette_sample_size is None and selection.sweep_sample_size is None
    assert selection.n_init == 10


@pytest.mark.slow
def test_sampled_results_are_deterministic() -> None:
    dataset = read_dataset(sample_csv(12_000, seed=9, dirty=False), name="big.csv")
    matrix = build_features(clean(dataset, features=choose_features(dataset)))
    first = select_k(matrix, sweep_sample=6000, silhouette_sample=3000)
    second = select_k(matrix, sweep_sample=6000, silhouette_sample=3000)
    assert first == second
    assert np.isfinite([c.scores["silhouette"] for c in first.candidates]).all()
