from __future__ import annotations

from sklearn.metrics import adjusted_rand_score

from reportgen import Settings
from reportgen.inputs.sample import COLUMNS, generate_customers, sample_csv, sample_path
from reportgen.pipeline import run

from .conftest import ROOT


def test_bundled_sample_is_the_generator_output() -> None:
    assert (ROOT / "data" / "sample_customers.csv").read_bytes() == sample_csv()
    assert sample_path().read_bytes() == sample_csv()


def test_generator_is_seeded() -> None:
    assert sample_csv(500, seed=3) == sample_csv(500, seed=3)
    assert sample_csv(500, seed=3) != sample_csv(500, seed=4)
    frame = generate_customers(1000, dirty=False)
    assert tuple(frame.columns) == COLUMNS and len(frame) == 1000
    assert frame["CustomerID"].is_unique


def test_planted_segments_are_recovered(tmp_path) -> None:
    frame = generate_customers(600, seed=11, dirty=False, truth=True)
    data = frame.drop(columns="planted").to_csv(index=False).encode()
    result = run(data, Settings(features=("Annual Income (k$)", "Spending Score (1-100)"), output=tmp_path,
                                formats=()), write=False)
    assert result.model.segmentation.k == 5
    assert adjusted_rand_score(frame["planted"], result.model.segmentation.labels) > 0.9
