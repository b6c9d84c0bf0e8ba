"""Stable identities across runs (issue 5): matching, renumbering, migration, assign-only, verify, archive."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.archive.compare import compare_folders, match_segments, migration_matrix
from reportgen.model import BaselineModel, Scaler

from .conftest import INCOME, SCORE, run_folders


def second_period(mall_csv: Path, path: Path) -> Path:
    """The Mall data a month later: shuffled, 20 customers gone, 10 new ones, small noise on the numbers."""
    rng = np.random.default_rng(7)
    frame = pd.read_csv(mall_csv).sample(frac=1.0, random_state=3).iloc[20:].copy()
    newcomers = frame.sample(10, random_state=4).assign(CustomerID=range(1001, 1011))
    frame = pd.concat([frame, newcomers], ignore_index=True)
    for column in ("Age", INCOME, SCORE):
        frame[column] = (frame[column] + rng.normal(0, 1.5, len(frame))).round().clip(lower=1).astype(int)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def october(invoke, mall_csv: Path, tmp_path: Path) -> Path:
    result = invoke("run", str(mall_csv), "--features", f"{INCOME},{SCORE}", "--name", "october", "-q",
                    "--format", "html")
    assert result.exit_code == 0, result.stderr
    return tmp_path / result.stdout.strip()


@pytest.mark.slow
def test_second_period_keeps_segment_numbers(invoke, october: Path, mall_csv: Path, tmp_path: Path) -> None:
    november_csv = second_period(mall_csv, tmp_path / "november.csv")
    result = invoke("run", str(november_csv), "--baseline", "latest", "--name", "november", "-q", "--format", "html")
    assert result.exit_code == 0, result.stderr
    november = tmp_path / result.stdout.strip()
    before = pd.read_csv(october / "segments.csv").set_index("CustomerID")["segment"]
    after = pd.read_csv(november / "segments.csv").set_index("CustomerID")["segment"]
    shared = before.index.intersection(after.index)
    assert len(shared) == 180
    assert (before[shared] == after[shared]).mean() >= 0.95
    comparison = json.loads((november / "comparison.json").read_text())
    assert comparison["baseline"]["run"] == october.name
    assert comparison["customers"]["shared"] == 180 and comparison["customers"]["entered"] == 10
    assert comparison["customers"]["left"] == 20 and comparison["customers"]["same_segment_share"] >= 0.95
    assert {s["status"] for s in comparison["segments"]} == {"kept"}
    migration = pd.read_csv(november / "migration.csv")
    assert migration.columns[0] == "baseline segment" and migration.iloc[:, 1:].to_numpy().sum() == 180
    names_then = pd.read_csv(october / "segments.csv").groupby("segment")["segment_name"].first()
    names_now = pd.read_csv(november / "segments.csv").groupby("segment")["segment_name"].first()
    assert names_now.to_dict() == names_then.to_dict()  # the names travel with the numbers
    html = (november / "report.html").read_text(encoding="utf-8")
    assert "Changes since the baseline" in html and october.name in html
    history = invoke("history", "--json")
    assert [r["run"] for r in json.loads(history.stdout)] == [october.name, november.name]
    assert json.loads(history.stdout)[1]["baseline"] == october.name
    table = invoke("history").stdout
    assert october.name in table and november.name in table and "november.csv" in table


@pytest.mark.slow
def test_new_and_gone_segments(invoke, october: Path, mall_csv: Path, tmp_path: Path) -> None:
    result = invoke("run", str(mall_csv), "--baseline", str(october), "--k", "6", "-q", "--format", "html")
    assert result.exit_code == 0, result.stderr
    comparison = json.loads((tmp_path / result.stdout.strip() / "comparison.json").read_text())
    statuses = [s["status"] for s in comparison["segments"]]
    assert statuses.count("new") >= 1
    new_numbers = [s["segment"] for s in comparison["segments"] if s["status"] == "new"]
    assert min(new_numbers) >= 6  # new segments are numbered after the baseline's
    fewer = invoke("run", str(mall_csv), "--baseline", str(october), "--k", "4", "-q", "--format", "html")
    gone = json.loads((tmp_path / fewer.stdout.strip() / "comparison.json").read_text())
    assert [s["status"] for s in gone["segments"]].count("gone") >= 1


@pytest.mark.slow
def test_assign_only_reproduces_the_baseline(invoke, october: Path, mall_csv: Path, tmp_path: Path) -> None:
    result = invoke("run", str(mall_csv), "--baseline", str(october), "--assign-only", "-q", "--format", "html")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    assert (folder / "segments.csv").read_bytes() == (october / "segments.csv").read_bytes()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["k_selection"]["method"] == "baseline"
    assert json.loads((folder / "comparison.json").read_text())["customers"]["same_segment_share"] == 1.0


@pytest.mark.slow
def test_assign_only_labels_new_customers(invoke, october: Path, mall_csv: Path, tmp_path: Path) -> None:
    newcomers = tmp_path / "new.csv"
    pd.DataFrame({"CustomerID": [5001, 5002], "Gender": ["Female", "Male"], "Age": [30, 50],
                  INCOME: [120, 20], SCORE: [90, 10]}).to_csv(newcomers, index=False)
    result = invoke("run", str(newcomers), "--baseline", str(october), "--assign-only", "-q", "--format", "html")
    assert result.exit_code == 0, result.stderr
    labels = pd.read_csv(tmp_path / result.stdout.strip() / "segments.csv")
    assert labels["segment_name"].tolist() == ["High income, high spending", "Low income, low spending"]


@pytest.mark.slow
@pytest.mark.parametrize("args, code, message", [
    (["--baseline", "no-such-run"], 1, "no run 'no-such-run'"),
    (["--assign-only"], 2, "--assign-only needs a baseline"),
    (["--baseline", "latest", "--features", "Age"], 2, "clusters on Annual Income (k$), Spending Score (1-100)"),
    (["--baseline", "latest", "--scale", "minmax"], 2, "scales its features with 'standard'"),
])
def test_bad_baseline(invoke, october: Path, mall_csv: Path, tmp_path: Path, args, code, message) -> None:
    before = run_folders(tmp_path / "output")
    result = invoke("run", str(mall_csv), *args)
    assert result.exit_code == code and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not line.startswith("[")]  # not progress lines
    assert len(errors) == 1 and errors[0].startswith("Error: ") and message in errors[0]
    assert run_folders(tmp_path / "output") == before


@pytest.mark.slow
def test_baseline_with_missing_columns(invoke, october: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    pd.DataFrame({"id": range(30), "Age": range(30), "Visits": range(30)}).to_csv(other, index=False)
    result = invoke("run", str(other), "--baseline", "latest")
    assert result.exit_code == 1 and "has no column Annual Income (k$), Spending Score (1-100)" in result.stderr


@pytest.mark.slow
def test_verify_archive_and_tampering(invoke, october: Path) -> None:
    ok = invoke("verify", str(october))
    assert ok.exit_code == 0 and "match the manifest" in ok.stdout
    zipped = invoke("archive", str(october))
    assert zipped.exit_code == 0 and zipped.stdout.strip() == str(october) + ".zip"
    assert invoke("verify", zipped.stdout.strip()).exit_code == 0
    again = invoke("archive", str(october))
    assert again.exit_code == 1 and "already exists" in again.stderr
    data = bytearray((october / "segments.csv").read_bytes())
    data[40] = ord("9") if data[40] != ord("9") else ord("8")
    (october / "segments.csv").write_bytes(bytes(data))
    bad = invoke("verify", str(october))
    assert bad.exit_code == 1 and bad.stdout == ""
    assert "segments.csv (changed)" in bad.stderr and len(bad.stderr.splitlines()) == 1
    refused = invoke("archive", str(october), "--zip", "copy.zip")
    assert refused.exit_code == 1 and "does not match its manifest" in refused.stderr
    (october / "charts" / "elbow.png").unlink()
    (october / "extra.txt").write_text("x")
    worse = invoke("verify", str(october))
    assert "charts/elbow.png (missing)" in worse.stderr and "extra.txt (not in the manifest)" in worse.stderr


@pytest.mark.slow
def test_show_and_compare_commands(invoke, october: Path, mall_csv: Path, tmp_path: Path) -> None:
    shown = invoke("show")
    assert shown.exit_code == 0 and "High income, high spending" in shown.stdout and "k = 5" in shown.stdout
    assert json.loads(invoke("show", str(october), "--json").stdout)["k"] == 5
    november = invoke("run", str(second_period(mall_csv, tmp_path / "n.csv")), "--baseline", "latest", "-q",
                      "--format", "none").stdout.strip()
    compared = invoke("compare", str(october), november, "--json")
    assert compared.exit_code == 0
    assert json.loads(compared.stdout)["customers"]["shared"] == 180
    text = invoke("compare", october.name, "latest").stdout
    assert "kept" in text and "shared customers kept their segment" in text


def test_history_of_an_empty_folder(invoke) -> None:
    result = invoke("history")
    assert result.exit_code == 0 and result.stdout == "" and "No runs" in result.stderr


def _baseline(centroids) -> BaselineModel:
    centroids = np.asarray(centroids, dtype=float)
    k, p = centroids.shape
    return BaselineModel(folder=None, run="b", created="", input_name="", features=tuple(f"f{i}" for i in range(p)),
                         scaler=Scaler("none", (0.0,) * p, (1.0,) * p), numbers=tuple(range(1, k + 1)),
                         names={i: f"s{i}" for i in range(1, k + 1)}, centroids=centroids,
                         centroids_original=centroids, sizes=(10,) * k, feature_stats={}, id_column="id")


def test_matching_is_an_optimal_assignment_with_a_distance_limit() -> None:
    base = _baseline([[0, 0], [10, 0], [0, 10]])
    moved = np.array([[0.5, 9.5], [9.0, 1.0], [0.2, -0.3]])
    assert match_segments(base, moved, (1, 2, 3)) == {1: 3, 2: 2, 3: 1}
    far = np.array([[0.5, 9.5], [30.0, 30.0]])
    assert match_segments(base, far, (1, 2)) == {1: 3}  # (30, 30) is too far from any baseline segment


def test_migration_matrix() -> None:
    before = pd.DataFrame({"id": ["a", "b", "c", "d"], "segment": [1, 1, 2, 2]})
    after = pd.DataFrame({"id": ["a", "b", "c", "e"], "segment": [1, 2, 2, 1]})
    matrix, shared, stayed, entered, left = migration_matrix(before, after, partners={1: 1, 2: 2})
    assert (shared, stayed, entered, left) == (3, 2, 1, 1)
    assert matrix.loc[1, 2] == 1 and matrix.loc[2, 2] == 1 and matrix.loc[1, 1] == 1
    # numbered the other way round: b (1 -> 2, and 2 is matched to 1) kept its segment; a and c did not
    assert migration_matrix(before, after, partners={1: 2, 2: 1})[2] == 1
    assert migration_matrix(before, after, partners={2: 2})[2] == 1  # segment 1 now is matched to none: a moved


def test_latest_without_any_run_means_no_baseline(invoke, mall_csv: Path, tmp_path: Path) -> None:
    result = invoke("run", str(mall_csv), "--baseline", "latest", "--format", "none")
    assert result.exit_code == 0, result.stderr
    assert "No earlier run" in result.stderr
    folder = tmp_path / result.stdout.strip().splitlines()[-1]
    assert not (folder / "comparison.json").exists()
    assert "baseline" not in json.loads((folder / "manifest.json").read_text())


@pytest.mark.slow
def test_a_baseline_feature_that_drifted_is_cleaned_not_refused(invoke, october: Path, mall_csv: Path,
                                                                tmp_path: Path) -> None:
    """With a baseline, its features are used whatever their role this month: cleaning accounts for the values."""
    frame = pd.read_csv(mall_csv)
    frame[INCOME] = frame[INCOME].astype(object)
    frame.loc[frame.index[:80], INCOME] = "unknown"  # 40% of the incomes
    frame.to_csv(tmp_path / "drifted.csv", index=False)
    result = invoke("run", str(tmp_path / "drifted.csv"), "--baseline", str(october), "-q", "--format", "none")
    assert result.exit_code == 0, result.stderr
    log = (tmp_path / result.stdout.strip() / "cleaning.csv").read_text()
    assert log.count(f",{INCOME},set to missing,not a number,unknown") == 80


# ----------------------------------------------------------------------------- issue 26: kept customers, run names
def sample_run(output: Path, k: int, **settings) -> Path:
    """A run of the bundled sample at ``k`` segments, without the report or the stability check (fast)."""
    from reportgen import Settings, run

    result = run(None, Settings(output=output, k=k, name=f"k{k}", formats="none", stability_resamples=0, **settings))
    assert result.folder is not None and result.model.segmentation.k == k
    return result.folder


def table(lines: list[str]) -> list[dict[str, str]]:
    """The rows of a table the CLI prints (header, a line of dashes per column, rows up to a blank line)."""
    spans = [m.span() for m in re.finditer(r"-+", lines[1])]
    rows = [[line[a:b if i < len(spans) - 1 else None].strip() for i, (a, b) in enumerate(spans)]
            for line in [lines[0], *itertools.takewhile(str.strip, lines[2:])]]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def kept_by_matches(first: Path, second: Path, partners: dict[int, int]) -> tuple[int, int, int]:
    """From the two segments.csv files: the customers in both, those now in the segment matched to their earlier
    one (``partners``: later number -> earlier number), and those whose segment number stayed the same."""
    before = pd.read_csv(first / "segments.csv")[["CustomerID", "segment"]]
    after = pd.read_csv(second / "segments.csv")[["CustomerID", "segment"]]
    both = before.merge(after, on="CustomerID", suffixes=("_before", "_after"))
    kept = int((both["segment_after"].map(partners) == both["segment_before"]).sum())
    return len(both), kept, int((both["segment_after"] == both["segment_before"]).sum())


def test_compare_counts_kept_customers_by_matched_segments(invoke, tmp_path: Path) -> None:
    """Two runs made without --baseline number their segments each by size: 'kept their segment' counted those whose
    segment *number* stayed the same, and the sample's k = 6 and k = 5 runs said 19% where about three customers in
    four stayed in their matched segment."""
    from reportgen.archive.contents import comparison_dict
    from reportgen.archive.trend import build_trend

    first, second = sample_run(tmp_path / "output", 6), sample_run(tmp_path / "output", 5)
    shown = invoke("compare", "k6", "k5")  # the names the runs were given
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[:2] == [f"earlier run: {first.name}", f"later run:   {second.name}"]
    rows = table(lines[3:])
    assert list(rows[0])[:4] == ["# earlier", "# later", "segment", "status"]
    kept = {int(r["# later"]): int(r["# earlier"]) for r in rows if r["status"] == "kept"}
    gone = [r for r in rows if r["status"] == "gone"]
    assert len(rows) == 6 and len(kept) == 5 and len(gone) == 1
    assert gone[0]["# later"] == "–" and int(gone[0]["# earlier"]) not in kept.values()  # the earlier run's
    assert sorted(int(r["# earlier"]) for r in rows) == [1, 2, 3, 4, 5, 6]  # no number shown twice in a column
    assert kept != {n: n for n in kept}  # the sample's runs number the matched segments differently

    shared, expected, same_number = kept_by_matches(first, second, kept)
    data = json.loads(invoke("compare", "k6", "k5", "--json").stdout)
    assert data["customers"]["shared"] == shared == 297
    assert data["customers"]["same_segment"] == expected
    assert {s["segment_now"]: s["segment_before"] for s in data["segments"] if s["status"] == "kept"} == kept
    assert expected / shared > 0.6 and same_number / shared < 0.25  # 76%, where counting numbers said 19%
    assert f"{expected / shared:.0%} of {shared} shared customers kept their segment" in shown.stdout
    assert comparison_dict(compare_folders(first, second))["customers"]["same_segment_share"] == \
        pytest.approx(expected / shared, abs=1e-6)
    assert build_trend([first, second]).steps[0].stayed == expected  # the trend counts by matched segments too
    # the customers of the gone segment could not keep theirs: the others nearly all did
    in_gone = data["customers"]["in_gone_segments"]
    assert in_gone == int(gone[0]["customers"].split(" -> ")[0])
    others = f"of the others, {expected / (shared - in_gone):.0%} kept theirs"
    assert f"{in_gone} of them were in a segment that is gone; {others}" in shown.stdout


def test_a_run_with_a_baseline_counts_kept_customers_as_before(tmp_path: Path) -> None:
    """With --baseline the segments keep the baseline's numbers, so kept customers are those whose number stayed."""
    first = sample_run(tmp_path / "output", 6)
    second = sample_run(tmp_path / "output", 5, baseline=str(first))
    data = json.loads((second / "comparison.json").read_text())
    kept = {s["segment_now"]: s["segment_before"] for s in data["segments"] if s["status"] == "kept"}
    assert kept == {n: n for n in kept} and len(kept) == 5
    shared, expected, same_number = kept_by_matches(first, second, kept)
    assert data["customers"]["same_segment"] == expected == same_number and shared == 297
    gone = [s for s in data["segments"] if s["status"] == "gone"]
    assert len(gone) == 1 and gone[0]["segment_now"] is None and gone[0]["segment_before"] == gone[0]["segment"]


def fake_run(root: Path, folder: str) -> Path:
    """A folder that the run list takes for a run (a manifest with its start time), for finding runs by name."""
    path = root / folder
    path.mkdir(parents=True)
    started = f"{folder[:4]}-{folder[4:6]}-{folder[6:8]}T{folder[9:11]}:{folder[11:13]}:{folder[13:15]}"
    (path / "manifest.json").write_text(json.dumps({"run": folder, "started": started, "files": {}}))
    return path


def test_a_run_is_found_by_the_name_after_its_date_and_time(tmp_path: Path) -> None:
    from reportgen.archive.runs import resolve_run
    from reportgen.errors import SnapshotError

    root = tmp_path / "output"
    k5 = fake_run(root, "20261207-202549-k5")
    many = [fake_run(root, f"2026120{day}-080000-monthly") for day in range(1, 8)]
    fake_run(root, "20261207-202550-k5-extra")
    assert resolve_run("k5", root) == k5  # not k5-extra: the whole name after the date and time
    assert resolve_run("20261207-202549-k5", root) == k5
    assert resolve_run("k5-extra", root).name == "20261207-202550-k5-extra"
    with pytest.raises(SnapshotError) as ambiguous:
        resolve_run("monthly", root)
    message = ambiguous.value.message
    assert message.startswith(f"7 runs in {root} are named 'monthly': ")
    assert [f.name in message for f in many] == [False, False, True, True, True, True, True]  # the latest five
    assert "and 2 older" in message and "Give the whole folder name" in (ambiguous.value.hint or "")
    with pytest.raises(SnapshotError, match="no run 'k6'"):
        resolve_run("k6", root)
    with pytest.raises(SnapshotError, match="no run '2026'"):
        resolve_run("2026", root)  # the date is no name


@pytest.mark.parametrize("ref, message", [
    ("monthly", ("Error: 2 runs in output are named 'monthly': 20261101-080000-monthly, 20261201-080000-monthly. "
                 "Give the whole folder name, such as 20261201-080000-monthly (the latest).")),
    ("weekly", ("Error: no run 'weekly' (not a folder, not a run in output, and no run there is named so). "
                "'reportgen history' lists the runs; 'latest' is the newest.")),
])
def test_a_run_name_that_is_ambiguous_or_unknown_is_one_error_line(invoke, tmp_path: Path, ref: str,
                                                                  message: str) -> None:
    for folder in ("20261101-080000-monthly", "20261201-080000-monthly"):
        fake_run(tmp_path / "output", folder)
    for command in (["show", ref], ["compare", ref, "latest"], ["verify", ref]):
        result = invoke(*command)
        assert result.exit_code == 1 and result.stdout == "" and result.stderr.splitlines() == [message]
