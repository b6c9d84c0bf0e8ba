"""The large-input path (issue 7): sampled silhouette and sweep, sampled scatter plots, above the thresholds."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from reportgen import Settings
from reportgen.cleaning.pandas import clean
from reportgen.describe.profiles import profile
from reportgen.inputs.roles import read_dataset
from reportgen.inputs.sample import sample_csv
from reportgen.report.charts.segments import scatter_alt, segment_data
from reportgen.report.charts.style import MAX_POINTS
from reportgen.segmentation.cluster import fit_segments, select_k
from reportgen.segmentation.features import build_features, choose_features


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

    from reportgen.archive.files import ARROW_CSV_ROWS, csv_bytes

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


# ----------------------------------------------------------------------------- issue 16, part 2: the stage floors
def test_davies_bouldin_and_calinski_harabasz_in_one_pass_are_scikit_learns() -> None:
    """indices.geometry computes both indices from one pass over the rows; scikit-learn's functions give the same
    figures on any labeling (segment numbers with gaps, one-row segments, identical rows)."""
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    from reportgen.segmentation.indices import INDICES, Scoring, score

    rng = np.random.default_rng(3)
    pair = [index for index in INDICES if index.info.key != "silhouette"]
    cases = [(rng.normal(size=(300, 2)), rng.integers(0, 5, 300) * 3 + 1),
             (rng.normal(size=(2000, 4)), rng.integers(0, 2, 2000)),
             (np.repeat(rng.normal(size=(4, 3)), 25, axis=0), np.repeat(np.arange(4), 25)),  # no spread (0 or 3e-8)
             (rng.normal(size=(50, 3)), np.r_[np.zeros(49, dtype=int), 7])]  # a segment of one row
    for X, labels in cases:
        got = score(Scoring(X=X, sample=None), labels, pair)
        assert got["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9, abs=1e-6)
        assert got["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-9)
    X, labels = cases[0]
    for other in (labels - 10, labels.astype(float), np.array([f"s{v}" for v in labels])):  # as scikit-learn takes
        got = score(Scoring(X=X, sample=None), other, pair)
        assert got["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9)
        assert got["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-9)
    assert np.isnan(score(Scoring(X=X, sample=None), np.ones(300, dtype=int), pair)["davies_bouldin"])


def test_silhouette_from_the_distance_matrix_is_scikit_learns() -> None:
    """The sweep's silhouettes come from one matrix product over the sample's distances; scikit-learn's
    precomputed silhouette gives the same figure, with one-row segments, identical rows and text labels."""
    from sklearn.metrics import pairwise_distances, silhouette_score

    from reportgen.segmentation.indices import score, scoring, silhouette_of_distances

    rng = np.random.default_rng(5)
    X = rng.normal(size=(1200, 3))
    X[:40] = X[0]  # identical rows: zero distances
    for labels in (rng.integers(0, 6, 1200) * 2 + 3, np.r_[rng.integers(0, 3, 1199), 9],  # gaps; a lone row
                   np.array([f"s{v}" for v in rng.integers(0, 4, 1200)])):
        expected = silhouette_score(pairwise_distances(X), labels, metric="precomputed")
        assert silhouette_of_distances(pairwise_distances(X), labels) == pytest.approx(expected, abs=1e-12)
    shared = scoring(X, silhouette_sample=500, seed=1, precompute=True)  # as the k sweep scores every k
    labels = rng.integers(0, 4, 1200)
    assert score(shared, labels)["silhouette"] == pytest.approx(
        silhouette_score(X[shared.sample], labels[shared.sample]), abs=1e-12)


def test_profiles_from_codes_are_the_group_by_figures() -> None:
    """profiles.profile counts categories from their codes and takes medians segment by segment; the figures are
    what pandas' crosstab and group-by give (missing values left out, values counted by their text)."""
    import pandas as pd

    from reportgen.describe.profiles import category_counts, profile

    rng = np.random.default_rng(4)
    labels = rng.integers(1, 5, 3000)
    values = pd.Series(rng.choice(np.array(["a", "b", None, "c"], dtype=object), 3000), dtype=object)
    values[5] = 1  # a number among the texts is counted as its text, with the "1" below
    values[6] = "1"
    expected = pd.crosstab(pd.Series(labels), values.astype(str))
    got = category_counts(labels, values)
    assert got == {int(n): {str(v): int(c) for v, c in row.items() if c} for n, row in expected.iterrows()}
    assert got[int(labels[5])]["1"] >= 1 and "nan" not in {v for counts in got.values() for v in counts}
    dataset = read_dataset(sample_csv(3000, seed=2, dirty=True), name="dirty.csv")
    cleaned = clean(dataset, features=choose_features(dataset))
    seg = fit_segments(build_features(cleaned), 4)
    profiles = profile(cleaned, seg)
    frame = cleaned.frame[list(cleaned.numeric)].astype(float)
    grouped = frame.groupby(pd.Series(seg.labels, index=frame.index))
    for p in profiles.segments:
        for column in cleaned.numeric:
            assert p.means[column] == pytest.approx(grouped.mean().loc[p.segment, column], rel=1e-12)
            assert p.medians[column] == pytest.approx(grouped.median().loc[p.segment, column], rel=1e-12)
    for column in cleaned.categorical:
        counts = pd.crosstab(pd.Series(seg.labels, index=frame.index), cleaned.frame[column].astype(str))
        for p in profiles.segments:
            row = counts.loc[p.segment]
            assert p.categories[column] == pytest.approx({str(v): c / row.sum() for v, c in row.items() if c})


def test_value_steps_on_distinct_values_clean_as_the_rows_would(skewed_csv) -> None:
    """run_value_steps runs each column's steps on its distinct values and spreads the outcome back: the cleaned
    columns and every finding are those of the steps run on every row (a CRM export with its traps)."""
    import pandas as pd

    from reportgen.cleaning.account import plan_columns
    from reportgen.cleaning.steps import plan_value_steps, run_value_steps
    from reportgen.values import value_counts

    dataset = read_dataset(skewed_csv)
    plan = plan_columns(dataset.columns, choose_features(dataset))
    frame = dataset.frame
    value_plan = plan_value_steps(plan.numeric, plan.categorical, lambda c: value_counts(frame[c]))
    outcome = run_value_steps(frame, value_plan)
    found = 0
    for (column, chain), cleaned in zip(value_plan.columns, outcome.columns.values(), strict=True):
        values = frame[column]
        for s, vocabulary in chain:  # the steps on every row, as the engine ran them before
            result = s.check(values, column, vocabulary)
            rows = frame.index[result.rows.to_numpy(dtype=bool)]
            index = next(j for j, (entry, name) in enumerate(value_plan.pairs()) if entry is s and name == column)
            got_rows, got_texts = outcome.findings[index]
            assert got_rows.equals(rows), (s.key, column)
            if s.shows_value:
                assert got_texts.astype(str).tolist() == values.loc[rows].map(
                    lambda v: f"{v:g}" if isinstance(v, float) else str(v)).tolist()
            found += len(rows)
            values = result.values
        pd.testing.assert_series_equal(cleaned.astype(object), values.astype(object), check_names=False)
    assert found > 50  # the dirty sample has markers, spellings, sentinels and numbers as text to find


def test_first_rows_of_distinct_values_without_a_group_by() -> None:
    import pandas as pd

    from reportgen.values import value_counts

    rng = np.random.default_rng(1)
    for _ in range(100):
        n = int(rng.integers(1, 60))
        values = pd.Series(rng.choice(np.array(["a", "b", None, "c"], dtype=object), n),
                           index=np.sort(rng.choice(1000, n, replace=False)) + 1)
        codes, uniques = pd.factorize(values)
        present = codes >= 0
        expected = pd.Series(values.index.to_numpy()[present]).groupby(codes[present]).min()
        assert value_counts(values)["first"].tolist() == expected.reindex(range(len(uniques))).tolist()
        shuffled = values.sample(frac=1.0, random_state=int(rng.integers(1000)))  # an index out of order
        codes, uniques = pd.factorize(shuffled)
        present = codes >= 0
        expected = pd.Series(shuffled.index.to_numpy()[present]).groupby(codes[present]).min()
        assert value_counts(shuffled)["first"].tolist() == expected.reindex(range(len(uniques))).tolist()


def test_a_large_csv_is_read_from_its_bytes_as_the_full_reader_reads_it(monkeypatch) -> None:
    """Above ARROW_BYTES a UTF-8 CSV is read by pyarrow from its bytes, its delimiter and header sniffed on its head;
    the frame is the one the full reader gives. A file with a preamble, a byte order mark or a line that does not
    fit takes the full reader, which reports what it skipped."""
    import pandas as pd

    from reportgen.inputs import text as readers

    monkeypatch.setattr(readers, "ARROW_BYTES", 10_000)
    text = sample_csv(2000, seed=3, dirty=False).decode()
    data = text.encode()
    fast = readers._read_large_utf8(data, "big.csv")
    assert fast is not None
    monkeypatch.setattr(readers, "_read_large_utf8", lambda data, name: None)
    full = readers.read_text_table(data, "big.csv")
    pd.testing.assert_frame_equal(fast.frame, full.frame, check_dtype=False)
    monkeypatch.undo()
    monkeypatch.setattr(readers, "ARROW_BYTES", 10_000)
    for other in (b"# exported 2026-12-01\n" + data, b"\xef\xbb\xbf" + data):
        assert readers._read_large_utf8(other, "big.csv") is None
        assert len(readers.read_text_table(other, "big.csv").frame) == 2000
    lines = text.splitlines(keepends=True)
    latin1 = "".join([*lines[:1500], lines[1500].replace(",", ",Montr\xe9al ", 1), *lines[1501:]]).encode("latin-1")
    assert readers._read_large_utf8(latin1, "big.csv") is None  # UTF-8 only in its head: the full reader decides
    assert readers.read_text_table(latin1, "big.csv").encoding == "latin-1"
    broken = "".join([*lines[:500], "1,2\n", *lines[500:]]).encode()
    assert readers._read_large_utf8(broken, "big.csv") is None
    result = readers.read_text_table(broken, "big.csv")
    assert len(result.frame) == 2000 and [line for line, _ in result.malformed_lines] == [501]


def test_the_customer_ids_are_counted_once_for_the_log_check_and_the_roles() -> None:
    import pandas as pd

    from reportgen.inputs.roles import DistinctCounts, with_roles
    from reportgen.inputs.transactions import customers_of
    from reportgen.model import Source, Table

    asked: list[str] = []

    class Counting(DistinctCounts):
        def __getitem__(self, column: object) -> int:
            if column not in self._counts:
                asked.append(str(column))
            return super().__getitem__(column)

    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(50)], "spend": np.arange(50.0)})
    table = Table(frame=frame, source=Source(name="t.csv", path=None, size=0, sha256="", format="csv",
                                             encoding="utf-8", delimiter=","), malformed_lines=())
    counts = Counting(frame)
    assert customers_of(table, Settings(), counts) is None  # every ID once: not a log
    dataset = with_roles(table, counts)
    assert asked.count("customer_id") == 1
    assert dict((c.name, c.unique) for c in dataset.columns) == {"customer_id": 50, "spend": 50}


def test_exploration_charts_get_a_sample_and_counts_of_every_row() -> None:
    import pandas as pd

    from reportgen.report.charts.exploration import EXPLORATION_ROWS, _top_counts, categories_alt, exploration_data

    n = EXPLORATION_ROWS + 5000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"spend": rng.gamma(2.0, 50.0, n), "visits": rng.poisson(4, n).astype(float),
                          "plan": rng.choice(["Basic", "Plus", "Pro"], n, p=[0.6, 0.3, 0.1])})
    data = exploration_data(frame, numeric=("spend", "visits"), categorical=("plan",), features=("spend", "visits"),
                            customers=n, seed=42)
    assert len(data.frame) == EXPLORATION_ROWS and data.counted == n and data.distinct == {"plan": 3}
    assert _top_counts(data, "plan").to_dict() == frame["plan"].value_counts().to_dict()
    assert f"Basic {int((frame['plan'] == 'Basic').sum()):,}" in categories_alt(data)
    assert data.correlation.loc["spend", "visits"] == pytest.approx(frame["spend"].corr(frame["visits"]))
    small = exploration_data(frame.head(300), numeric=("spend",), categorical=("plan",), features=("spend",),
                             customers=300, seed=42)
    assert len(small.frame) == 300  # below the sample size: every row


def test_a_function_runs_in_a_chart_process_or_here() -> None:
    """Drawing.call runs the PDF rendering in a chart process while this one writes the data files; without chart
    processes it runs here, and so does it when the chart process fails."""
    from reportgen.report.charts import Drawing
    from reportgen.report.render import write_pdf

    with Drawing(2) as drawing:
        pending = drawing.call(write_pdf, "<h1>Segments</h1>")
        assert pending().startswith(b"%PDF")
    with Drawing(1) as drawing:
        assert drawing.call(write_pdf, "<h1>Segments</h1>")().startswith(b"%PDF")
    with Drawing(2) as drawing:  # a failure in the chart process is raised here, where it is run again
        pending = drawing.call(int, "not a number")
        with pytest.raises(ValueError):
            pending()


def test_long_files_are_written_part_by_part_with_their_hash(tmp_path) -> None:
    import hashlib

    from reportgen.archive.folder import write_run

    parts = (b"id,segment\n", memoryview(b"1,2\n3,4\n")[:4], b"3,4\n")
    folder = write_run(tmp_path, "20261202-000000-x", {"segments.csv": iter(parts), "a.json": b"{}\n"}, {"run": "x"})
    assert (folder / "segments.csv").read_bytes() == b"id,segment\n1,2\n3,4\n"
    manifest = (folder / "manifest.json").read_text()
    assert hashlib.sha256(b"id,segment\n1,2\n3,4\n").hexdigest() in manifest


def test_a_part_that_cannot_be_made_fails_as_itself_and_leaves_no_folder(tmp_path) -> None:
    from reportgen.archive.folder import write_run

    def parts():
        yield b"id\n"
        raise FileNotFoundError("the renderer's font is gone")

    with pytest.raises(FileNotFoundError, match="font is gone"):  # not "cannot write the run folder"
        write_run(tmp_path, "20261202-000000-x", {"a.csv": b"a\n", "report.pdf": parts()}, {"run": "x"})
    assert list(tmp_path.iterdir()) == []


def test_a_fixed_k_sweeps_in_a_chart_process_with_the_same_result(tmp_path) -> None:
    """With a fixed k on a sample of a large table, a chart process runs the k sweep while this one fits from the
    same sample's centres at k: the k table and the segments are those of a run that sweeps first, here."""
    import json
    from dataclasses import replace

    import pandas as pd

    from reportgen import pipeline
    from reportgen.report.charts import Drawing
    from reportgen.segmentation.algorithms import ALGORITHMS
    from reportgen.segmentation.cluster import sweep_k, sweep_rows, sweep_start

    source = sample_csv(3000, seed=4, dirty=False)
    settings = Settings(output=tmp_path, k=4, sweep_sample=1000, stability_resamples=0)
    with Drawing(2) as drawing:  # the sweep in a chart process
        elsewhere = pipeline.run(source, replace(settings, formats=("html",)), source_name="shop.csv",
                                 drawing=drawing, progress=(said := []).append)
    here = pipeline.run(source, replace(settings, formats=()), source_name="shop.csv")  # no chart processes
    assert "Waiting for the k sweep" in said
    assert elsewhere.folder is not None and here.folder is not None
    metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (elsewhere.folder, here.folder)]
    assert metrics[0]["k_selection"] == metrics[1]["k_selection"]
    assert metrics[0]["k_selection"]["sweep_sample_size"] == 1000 and metrics[0]["k"] == 4
    assert metrics[0]["inertia"] == metrics[1]["inertia"]
    assert pd.read_csv(elsewhere.folder / "segments.csv").equals(pd.read_csv(here.folder / "segments.csv"))
    # the final fit's start is the sweep's centres at k
    dataset = read_dataset(source, name="shop.csv")
    matrix = build_features(clean(dataset, features=choose_features(dataset)))
    rows = sweep_rows(matrix, 1000, 42)
    swept = sweep_k(rows, customers=len(matrix.X), k_range=(2, 10), fixed_k=4, seed=42, n_init=10,
                    silhouette_sample=5000, algorithm="kmeans", min_share=0.02)
    start = sweep_start(matrix, 4, seed=42, n_init=10, sweep_sample=1000, algorithm=ALGORITHMS["kmeans"])
    assert start is not None and np.array_equal(start, swept.starts[4])
