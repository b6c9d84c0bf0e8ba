"""k-prototypes: numeric and categorical columns clustered together (issue 15, part 1), and segment rules on
categorical columns (part 3): the algorithm against the kmodes package, the encoding, whole runs on the Mall data
with Gender clustered, baselines, and the errors of settings that do not fit together."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from reportgen.algorithms import ALGORITHMS, Layout, snap_to_modes
from reportgen.explain import Categories, segment_rules, segments_sql
from reportgen.model import SegmentProfile
from reportgen.prepare import encode_categories
from reportgen.recommend import category_phrase

from .conftest import INCOME, SCORE

AGE = "Age"


def _mall_matrix(mall_csv: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, Layout]:
    frame = pd.read_csv(mall_csv)
    numeric = frame[[AGE, INCOME, SCORE]].to_numpy(float)
    numeric = (numeric - numeric.mean(axis=0)) / numeric.std(axis=0)
    onehot, encoding = encode_categories(frame, ("Gender",), numeric)
    codes = (frame["Gender"] == "Male").to_numpy().astype(int)  # levels sorted: Female, Male
    return np.hstack([numeric, onehot]), numeric, codes, Layout(3, encoding.widths, encoding.weight)


def test_the_one_hot_distance_is_the_k_prototypes_cost(mall_csv: Path) -> None:
    """Squared Euclidean distance in the encoded space = numeric squared distance + gamma per mismatch."""
    X, numeric, codes, layout = _mall_matrix(mall_csv)
    gamma = 2 * layout.weight ** 2
    assert gamma == pytest.approx(0.5)  # half the mean standard deviation of standardized features
    i, j = np.nonzero(codes[:, None] != codes[None, :])
    pairs = [*zip(i[:50], j[:50], strict=True), (0, 3), (1, 2)]
    for a, b in pairs:
        cost = ((numeric[a] - numeric[b]) ** 2).sum() + gamma * (codes[a] != codes[b])
        assert ((X[a] - X[b]) ** 2).sum() == pytest.approx(cost)


@pytest.mark.parametrize("k", [3, 5, 6])
def test_k_prototypes_finds_what_the_kmodes_package_finds(mall_csv: Path, k: int) -> None:
    """The batch k-prototypes (numpy) reaches the cost of kmodes' KPrototypes (Huang's, with its Python loop over
    the customers) on Mall Age, income, score and Gender, with the same segments."""
    from kmodes.kprototypes import KPrototypes

    X, numeric, codes, layout = _mall_matrix(mall_csv)
    theirs = KPrototypes(n_clusters=k, n_init=10, gamma=0.5, random_state=42, n_jobs=1).fit(
        np.column_stack([numeric, codes]), categorical=[3])
    ours = ALGORITHMS["kprototypes"].fit(X, k, 42, 10, layout=layout)
    assert ours.inertia <= theirs.cost_ * 1.001, (ours.inertia, theirs.cost_)
    assert adjusted_rand_score(theirs.labels_, ours.labels) > 0.95
    # prototypes: the mean of the numeric features, the mode of Gender (one-hot at the weight)
    for j in range(k):
        mine = ours.labels == j
        assert np.allclose(ours.centroids[j, :3], numeric[mine].mean(axis=0))
        mode = int(np.bincount(codes[mine], minlength=2).argmax())
        assert ours.centroids[j, 3 + mode] == pytest.approx(layout.weight) and ours.centroids[j, 4 - mode] == 0
    assert ours.inertia == pytest.approx(float(((X - ours.centroids[ours.labels]) ** 2).sum()))


def test_snap_to_modes_keeps_numbers_and_takes_the_first_level_on_a_tie() -> None:
    layout = Layout(1, (3, 2), 0.5)
    centres = np.array([[1.5, 0.1, 0.3, 0.1, 0.25, 0.25], [-2.0, 0.2, 0.2, 0.1, 0.1, 0.4]])
    snapped = snap_to_modes(centres, layout)
    assert snapped.tolist() == [[1.5, 0, 0.5, 0, 0.5, 0], [-2.0, 0.5, 0, 0, 0, 0.5]]


def test_k_prototypes_refuses_a_matrix_without_categories() -> None:
    with pytest.raises(ValueError, match="needs categorical columns"):
        ALGORITHMS["kprototypes"].fit(np.zeros((10, 2)), 2, 1, 1)


def test_an_unseen_or_missing_level_is_equally_far_from_every_level() -> None:
    frame = pd.DataFrame({"plan": ["Basic", "Plus", "Basic", None]})
    onehot, encoding = encode_categories(frame, ("plan",), np.zeros((4, 1)))
    assert encoding.levels == (("Basic", "Plus"),) and onehot[3].tolist() == [0, 0]
    later = pd.DataFrame({"plan": ["Premium", "Plus"]})
    again, same = encode_categories(later, ("plan",), np.zeros((2, 1)), encoding)
    assert same is encoding and again[0].tolist() == [0, 0] and again[1].tolist() == [0, encoding.weight]


def _plans(n: int = 900, seed: int = 3) -> pd.DataFrame:
    """Customers whose segment is their plan and, within Basic, whether they spend much."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["Basic", "Plus", "Premium's"], n, p=[0.5, 0.3, 0.2])
    spend = rng.uniform(10, 100, n).round(1)
    segment = np.where(plan == "Basic", np.where(spend > 55, 1, 2), np.where(plan == "Plus", 3, 4))
    return pd.DataFrame({"customer_id": np.arange(n), "plan": plan, "monthly_spend": spend, "segment": segment})


def test_rules_on_a_categorical_column_and_their_sql_in_sqlite(tmp_path: Path) -> None:
    frame = _plans()
    levels = ("Basic", "Plus", "Premium's")
    codes = np.array([levels.index(p) for p in frame["plan"]])[:, None]
    rules = segment_rules(frame[["monthly_spend"]].to_numpy(float), frame["segment"].to_numpy(), ["monthly_spend"],
                          seed=1, categories=Categories(("plan",), (levels,), codes))
    assert rules.agreement == 1.0
    texts = {r.segment: r.text for r in rules.rules}
    assert texts[3] == "plan is Plus" and texts[4] == "plan is Premium's"
    assert "plan is Basic" in texts[1] and "monthly_spend above 55" in texts[1]
    assert "CAST(\"plan\" AS TEXT) IN ('Premium''s')" in rules.for_segment(4).sql  # a quote in a level, doubled
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        frame.drop(columns="segment").to_sql("plans", connection, index=False)
        sql = segments_sql(rules, table="plans", run="test", names={1: "a", 2: "b", 3: "c", 4: "d"})
        labelled = pd.read_sql_query(sql, connection)
    assert (labelled["segment"].to_numpy() == frame["segment"].to_numpy()).all()


def test_a_rule_that_excludes_levels_says_is_not() -> None:
    rng = np.random.default_rng(5)
    levels = tuple("ABCDEFG")
    codes = rng.integers(0, 7, 1400)
    labels = np.where(codes == 0, 1, 2)  # "not A" is shorter than "B, C, D, E, F or G"
    rules = segment_rules(np.zeros((1400, 1)), labels, ["x"], seed=1,
                          categories=Categories(("group",), (levels,), codes[:, None]))
    assert rules.for_segment(1).text == "group is A"
    assert rules.for_segment(2).text == "group is not A"
    assert rules.for_segment(2).sql == "(CAST(\"group\" AS TEXT) NOT IN ('A'))"


def test_a_clustered_category_names_a_segment_only_when_it_stands_out() -> None:
    def segment(shares: dict[str, float]) -> SegmentProfile:
        return SegmentProfile(segment=1, size=10, share=0.1, means={}, medians={}, z={}, levels={},
                              categories={"gender": shares, "region_code": shares})

    overall = {"Female": 0.5, "Male": 0.5}
    assert category_phrase(segment({"Female": 0.9, "Male": 0.1}), "gender", overall) == "mostly Female"
    assert category_phrase(segment({"Female": 0.75, "Male": 0.25}), "gender", overall) is None
    assert category_phrase(segment({"Female": 0.9, "Male": 0.1}), "gender", {"Female": 0.85}) is None
    assert category_phrase(segment({"3": 0.95, "1": 0.05}), "region_code", {"3": 0.3}) == "mostly region code 3"


@pytest.mark.slow
def test_k_prototypes_on_the_mall_data_with_gender_gives_a_full_report(invoke, mall_csv: Path) -> None:
    result = invoke("run", str(mall_csv), "--algorithm", "kprototypes", "-q", "--name", "kproto")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip())
    for name in ("report.html", "report.pdf", "segments.csv", "profiles.csv", "rules.csv", "segments.sql",
                 "model.json", "metrics.json", "summary.json"):
        assert (folder / name).stat().st_size > 0, name
    model = json.loads((folder / "model.json").read_text())
    assert model["kind"] == "kprototypes" and model["features"] == [AGE, INCOME, SCORE]
    assert model["categories"]["columns"] == ["Gender"] and model["categories"]["levels"] == [["Female", "Male"]]
    assert model["categories"]["gamma"] == pytest.approx(0.5)
    assert all(s["prototype"]["Gender"] in ("Female", "Male") and len(s["centroid"]) == 5 for s in model["segments"])
    metrics = json.loads((folder / "metrics.json").read_text())
    assert "gap" not in metrics["k_selection"]["votes"]  # no gap statistic: its reference data have no categories
    assert set(metrics["agreement"]["ari"]) == {"kmeans", "ward"}  # the mixture cannot cluster categories
    html = " ".join((folder / "report.html").read_text().split())
    assert f"found with k-prototypes on {AGE}, {INCOME}, {SCORE}, Gender." in html
    assert "<td>Gender</td><td>feature</td>" in html and "Gender (categorical: profiled, not clustered)" not in html
    assert "Categorical features clustered too: Gender (2 levels)" in html and "γ = 0.50" in html
    assert "Huang&#39;s k-prototypes" in html and "no gap statistic" in html
    assert "--algorithm kprototypes" in html and f"{SCORE},Gender" in html  # the command that repeats the run
    segments = pd.read_csv(folder / "segments.csv")
    assert len(segments) == 200 and segments["segment"].nunique() == metrics["k"]
    again = invoke("run", str(mall_csv), "--algorithm", "kprototypes", "-q", "--format", "none",
                   "--baseline", str(folder), "--assign-only")
    assert again.exit_code == 0, again.stderr
    assigned = pd.read_csv(Path(again.stdout.strip()) / "segments.csv")
    assert (assigned["segment"] == segments["segment"]).mean() == 1.0  # k-prototypes' own assignment rule
    numbers_only = invoke("run", str(mall_csv), "-q", "--format", "none", "--baseline", str(folder))
    assert numbers_only.exit_code == 2
    assert "clusters on the categorical columns Gender too" in numbers_only.stderr


@pytest.mark.slow
def test_a_rerun_with_a_k_prototypes_baseline_keeps_its_segments(invoke, mall_csv: Path) -> None:
    common = ("--algorithm", "kprototypes", "-q", "--format", "none", "--stability-resamples", "0",
              "--features", f"{INCOME},{SCORE},Gender")
    first = invoke("run", str(mall_csv), *common, "--name", "march")
    second = invoke("run", str(mall_csv), *common, "--baseline", "latest", "--name", "april")
    assert first.exit_code == 0 and second.exit_code == 0, second.stderr
    before, after = (json.loads((Path(r.stdout.strip()) / "model.json").read_text()) for r in (first, second))
    assert before["categories"] == after["categories"]
    assert [s["name"] for s in before["segments"]] == [s["name"] for s in after["segments"]]
    metrics = json.loads((Path(second.stdout.strip()) / "metrics.json").read_text())
    assert metrics["k"] == json.loads((Path(first.stdout.strip()) / "metrics.json").read_text())["k"]


@pytest.mark.parametrize(("args", "message"), [
    (("--categorical", "cluster"), "--categorical cluster needs an algorithm for categories; --algorithm kmeans"),
    (("--categorical", "cluster", "--algorithm", "gmm"), "--algorithm gmm clusters numbers only"),
    (("--algorithm", "kprototypes", "--categorical", "profile"), "which --categorical profile leaves out"),
    (("--algorithm", "kprototypes", "--engine", "spark"), "--engine spark clusters with K-means only"),
    (("--algorithm", "kprototypes", "--features", "Gender"), "k-prototypes needs a numeric one too"),
    (("--algorithm", "kprototypes", "--features", f"{INCOME},{SCORE}"),
     "has no categorical column to cluster on among --features"),
])
def test_settings_that_do_not_fit_together_are_refused(invoke, mall_csv: Path, args: tuple[str, ...],
                                                         message: str) -> None:
    result = invoke("run", str(mall_csv), *args, "-q", "--format", "none")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert not Path("output").exists() or not any(Path("output").iterdir())


def test_a_table_without_categories_cannot_be_clustered_with_k_prototypes(invoke, tmp_path: Path) -> None:
    data = tmp_path / "numbers.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)}).to_csv(data, index=False)
    result = invoke("run", str(data), "--algorithm", "kprototypes", "-q", "--format", "none")
    assert result.exit_code != 0
    assert "numbers.csv has no categorical column to cluster on (one with 2 to 12 levels)" in result.stderr
    assert "Leave out --categorical cluster and --algorithm kprototypes" in result.stderr
