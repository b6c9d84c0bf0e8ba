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


@pytest.mark.slow
def test_the_final_fit_starts_from_the_sweeps_centres_and_loses_nothing() -> None:
    """Above the sweep's sample the final K-means runs Lloyd's iterations from the sample's centres at the chosen k
    (issue 16): one start instead of ten k-means++ starts on every row, with the same inertia (within 0.5%)."""
    from sklearn.cluster import KMeans

    dataset = read_dataset(sample_csv(60_000, seed=9, dirty=False), name="big.csv")
    matrix = build_features(clean(dataset, features=choose_features(dataset)))
    selection = select_k(matrix, fixed_k=5, sweep_sample=10_000)
    assert set(selection.starts) == set(range(2, 11)) and selection.starts[5].shape == (5, matrix.X.shape[1])
    assert "starting from the sample's centres at the chosen k" in selection.reason
    started = fit_segments(matrix, 5, start=selection.starts[5])
    bare = KMeans(n_clusters=5, n_init=10, random_state=42).fit(matrix.X)
    assert started.inertia <= bare.inertia_ * 1.005, (started.inertia, bare.inertia_)
    few = read_dataset(sample_csv(500, seed=9, dirty=False), name="small.csv")
    small = select_k(build_features(clean(few, features=choose_features(few))))
    assert not small.starts  # every row in the sweep: the final fit is the usual n_init starts


def test_long_segment_files_are_written_by_pyarrow_byte_for_byte_as_pandas() -> None:
    import pandas as pd

    from reportgen.snapshot import ARROW_CSV_ROWS, csv_bytes

    n = ARROW_CSV_ROWS + 3
    ids = pd.Series(np.arange(n).astype(str), dtype="str")
    ids[3], ids[7] = None, "=HYPERLINK(1)"  # a missing ID and one a spreadsheet would run
    frame = pd.DataFrame({"id": ids, "segment": np.arange(n) % 5,
                          "count": pd.array([1, None] * (n // 2) + [1] * (n % 2), dtype="Int64")})
    frame["segment_name"] = pd.Categorical.from_codes(frame["segment"].to_numpy(), list("abcde"))
    expected = frame.assign(id=frame["id"].where(frame["id"] != "=HYPERLINK(1)", "'=HYPERLINK(1)")).to_csv(
        index=False, lineterminator="\n").encode()
    assert csv_bytes(frame) == expected
    quoted = frame.assign(segment_name=frame["segment_name"].cat.rename_categories(["a, b", *"bcde"]))
    assert csv_bytes(quoted).startswith(b'id,segment,count,segment_name\n0,0,1,"a, b"\n')  # pandas writes it
