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

from reportgen.describe.personas import category_phrase
from reportgen.describe.rules import Categories, segment_rules, segments_sql
from reportgen.model import SegmentProfile
from reportgen.segmentation.algorithms import ALGORITHMS, Layout, snap_to_modes
from reportgen.segmentation.features import encode_categories

from .conftest import INCOME, SCORE

AGE = "Age"


def _mall_matrix(mall_csv: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, Layout]:
    frame = pd.read_csv(mall_csv)
    numeric = frame[[AGE, INCOME, SCORE]].to_numpy(float)
    numeric = (numeric - numeric.mean(axis=0)) / numeric.std(axis=0)
    onehot, encoding, _ = encode_categories(frame, ("Gender",), numeric)
    codes = (frame["Gender"] == "Male").to_numpy().astype(int)  # levels sorted: Female, Male
    return np.hstack([numeric, onehot]), numeric, codes, Layout(3, encoding.widths, encoding.weight)


def test_the_one_hot_distance_is_the_k_prototypes_cost(mall_csv: Path) -> None:
    """Squared Euclidean distance in the encoded space = numeric squared distance + gamma per mismatch."""
    X, numeric, codes, layout = _mall_matrix(mall_csv)
    gamma = 2 * layout.weight ** 2
    assert gamma == pytest.approx(0.5)  # half the mean variance of standardized features
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
    frame = pd.DataFrame({"plan": ["Basic", "Plus", "Basic", None, "(missing)"]})  # as cleaning labels a gap
    onehot, encoding, unseen = encode_categories(frame, ("plan",), np.zeros((5, 1)))
    assert encoding.levels == (("Basic", "Plus"),) and onehot[3].tolist() == onehot[4].tolist() == [0, 0]
    assert unseen == ()
    later = pd.DataFrame({"plan": ["Premium", "Plus", "Premium", None]})
    again, same, unseen = encode_categories(later, ("plan",), np.zeros((4, 1)), encoding)
    assert same is encoding and again[0].tolist() == [0, 0] and again[1].tolist() == [0, encoding.weight]
    assert unseen == (("plan", 2),)


def test_codes_read_as_floats_are_the_levels_a_csv_gives() -> None:
    """A Parquet or database column of codes with gaps holds 1.0, 2.0: the levels are "1", "2", as from a CSV, so
    a baseline made from one labels the other (and segments.sql compares with the codes as written)."""
    from_parquet = pd.DataFrame({"region": [1.0, 2.0, np.nan, 3.0]})
    from_csv = pd.DataFrame({"region": ["1", "2", "(missing)", "3"]})
    _, a, _ = encode_categories(from_parquet, ("region",), np.zeros((4, 1)))
    _, b, _ = encode_categories(from_csv, ("region",), np.zeros((4, 1)))
    assert a.levels == b.levels == (("1", "2", "3"),)
    _, c, _ = encode_categories(pd.DataFrame({"x": [0.5, 1.0]}), ("x",), np.zeros((2, 1)))
    assert c.levels == (("0.5", "1.0"),)


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
    # compared as cleaning compares spellings, trimmed and in lower case; a quote in a level doubled
    assert "LOWER(TRIM(CAST(\"plan\" AS TEXT))) IN ('premium''s')" in rules.for_segment(4).sql
    stored = frame.drop(columns="segment")
    stored.loc[::7, "plan"] = stored.loc[::7, "plan"].str.upper() + " "  # as the warehouse spells them
    database = tmp_path / "crm.db"
    with sqlite3.connect(database) as connection:
        stored.to_sql("plans", connection, index=False)
        sql = segments_sql(rules, table="plans", run="test", names={1: "a", 2: "b", 3: "c", 4: "d"})
        labelled = pd.read_sql_query(sql, connection)
    assert (labelled["segment"].to_numpy() == frame["segment"].to_numpy()).all()


def test_a_rule_that_excludes_levels_says_is_not_and_lets_missing_values_through() -> None:
    rng = np.random.default_rng(5)
    levels = tuple("ABCDEFG")
    codes = rng.integers(-1, 7, 1600)  # -1: missing
    labels = np.where(codes == 0, 1, 2)  # "not A" is shorter than "B, C, D, E, F or G" (and takes the missing)
    rules = segment_rules(np.zeros((1600, 1)), labels, ["x"], seed=1,
                          categories=Categories(("group",), (levels,), codes[:, None]))
    assert rules.agreement == 1.0
    assert rules.for_segment(1).text == "group is A"
    assert rules.for_segment(2).text == "group is not A"
    column = 'LOWER(TRIM(CAST("group" AS TEXT)))'
    assert rules.for_segment(2).sql == f"((\"group\" IS NULL OR {column} = '' OR {column} NOT IN ('a')))"
    with sqlite3.connect(":memory:") as connection:
        pd.DataFrame({"x": 0.0, "group": [levels[c] if c >= 0 else None for c in codes]}).to_sql(
            "t", connection, index=False)
        found = pd.read_sql_query(segments_sql(rules, table="t", run="r", names={1: "a", 2: "b"}), connection)
    assert (found["segment"].to_numpy() == labels).all()


def test_two_excluded_levels_read_neither_nor() -> None:
    from reportgen.describe.rules import condition_text
    from reportgen.model import Condition

    assert condition_text(Condition("region", None, None, ("2", "4"), negated=True), False) == \
        "region is neither 2 nor 4"
    assert condition_text(Condition("region", None, None, ("1", "2", "4"), negated=True), False) == \
        "region is none of 1, 2 or 4"
    assert condition_text(Condition("region", None, None, ("1", "3")), False) == "region is 1 or 3"


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


@pytest.mark.slow
def test_a_k_prototypes_baseline_on_changed_data(invoke, mall_csv: Path, tmp_path: Path) -> None:
    """Later data with a new level, with a renamed or missing categorical column, and another month's runs
    compared: what the analyst is told."""
    frame = pd.read_csv(mall_csv)
    common = ("--algorithm", "kprototypes", "-q", "--format", "none", "--stability-resamples", "0")
    first = invoke("run", str(mall_csv), *common, "--name", "march")
    assert first.exit_code == 0, first.stderr
    later = frame.copy()
    later.loc[:29, "Gender"] = "Diverse"  # a level the baseline has not seen
    later_csv = tmp_path / "april.csv"
    later.to_csv(later_csv, index=False)
    assigned = invoke("run", str(later_csv), *common, "--baseline", "latest", "--assign-only", "--format", "html")
    assert assigned.exit_code == 0, assigned.stderr
    folder = Path(assigned.stdout.strip())
    assert json.loads((folder / "metrics.json").read_text())["unseen_levels"] == {"Gender": 30}
    html = " ".join((folder / "report.html").read_text().split())
    assert "Customers with a level the baseline had not seen, placed by their other features alone: 30 (Gender)" \
        in html
    renamed = tmp_path / "renamed.csv"
    frame.rename(columns={"Gender": "gender"}).to_csv(renamed, index=False)  # matched case-insensitively
    assert invoke("run", str(renamed), *common, "--baseline", str(first.stdout.strip()),
                  "--assign-only").exit_code == 0
    dropped = tmp_path / "no_gender.csv"
    frame.drop(columns="Gender").to_csv(dropped, index=False)
    missing = invoke("run", str(dropped), *common, "--baseline", str(first.stdout.strip()))
    assert missing.exit_code == 1
    assert "clusters on the categorical columns Gender, but no_gender.csv has no column Gender" in missing.stderr
    part = tmp_path / "part.csv"
    frame.iloc[:150].to_csv(part, index=False)  # an independent run: another gamma, the same levels
    other = invoke("run", str(part), *common, "--name", "part")
    assert other.exit_code == 0, other.stderr
    compared = invoke("compare", str(first.stdout.strip()), str(other.stdout.strip()))
    assert compared.exit_code == 0, compared.stderr


def test_k_prototypes_unscaled_draws_the_customers_by_segment(tmp_path: Path) -> None:
    """Issue 26 (generated tables): with --scale none the scatter's PCA ran over the one-hot category columns too
    and named its axes from the numeric features only (IndexError). It projects the numeric features."""
    from reportgen import Settings, run

    rng = np.random.default_rng(0)
    n = 200
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": rng.normal(1000, 300, n), "b": rng.normal(50, 10, n), "c": rng.normal(50, 10, n),
                  "region": rng.choice(["North", "South", "East"], n)}).round(1).to_csv(path, index=False)
    result = run(path, Settings(output=tmp_path / "out", formats=("html",), algorithm="kprototypes", scale="none",
                                workers=1, stability_resamples=0))
    scatter = result.model.charts["segments_scatter"]
    assert scatter.png.startswith(b"\x89PNG") and "PCA projection of the 3 features" in scatter.alt
    assert not result.model.missing_charts
