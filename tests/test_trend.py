"""Issue 17: 'reportgen trend' over the runs of a series: three monthly periods made from the Mall data (as in the
snapshot tests), linked by --baseline or named with --series."""

from __future__ import annotations

import io
import json
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen import Settings, run
from reportgen.archive.runs import run_folders
from reportgen.report.charts.trend import spread

from .conftest import INCOME, SCORE
from .test_compare import second_period
from .test_report import axe_violations


def third_period(november_csv: Path, path: Path) -> Path:
    """December: 12 customers of the average segment now earn and spend like the high-high segment, 8 low-low
    customers left, 20 new ones like the high-high segment came."""
    frame = pd.read_csv(november_csv)
    middle = frame[frame[INCOME].between(40, 70) & frame[SCORE].between(40, 60)].sample(12, random_state=5).index
    frame.loc[middle, SCORE] = 82 + np.arange(12) % 10
    frame.loc[middle, INCOME] = 75 + np.arange(12) % 12
    frame = frame.drop(frame[(frame[INCOME] < 40) & (frame[SCORE] < 40)].sample(8, random_state=6).index)
    rich = frame[(frame[INCOME] > 70) & (frame[SCORE] > 70) & ~frame.index.isin(middle)]
    newcomers = rich.sample(20, random_state=8, replace=True).assign(CustomerID=range(2001, 2021))
    pd.concat([frame, newcomers], ignore_index=True).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def periods(mall_csv: Path, tmp_path_factory) -> dict[str, Path]:
    """The three inputs: October (the Mall table), November, December."""
    folder = tmp_path_factory.mktemp("periods")
    november = second_period(mall_csv, folder / "november.csv")
    return {"october": mall_csv, "november": november, "december": third_period(november, folder / "december.csv")}


def _month(source: Path, out: Path, name: str, **options) -> Path:
    settings = Settings(output=out, name=name, stability_resamples=0, formats=(), **options)
    result = run(source, settings)
    assert result.folder is not None
    return result.folder


@pytest.fixture(scope="module")
def linked(periods: dict[str, Path], tmp_path_factory) -> Path:
    """An output folder with the three months, each run with --baseline latest (the first one finds none)."""
    out = tmp_path_factory.mktemp("linked")
    _month(periods["october"], out, "october", features=(INCOME, SCORE))
    for month in ("november", "december"):
        _month(periods[month], out, month, baseline="latest")
    return out


@pytest.fixture(scope="module")
def trend_folder(linked: Path, tmp_path_factory) -> Path:
    from click.testing import CliRunner

    from reportgen.cli.group import cli

    done = CliRunner().invoke(cli, ["trend", "-o", str(linked), "-q"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return Path(done.stdout.strip())


def test_trend_over_three_linked_months_counts_shares_and_movers(linked: Path, trend_folder: Path) -> None:
    data = json.loads((trend_folder / "trend.json").read_text())
    assert data["linked_by"] == "baseline" and data["features"] == [INCOME, SCORE]
    assert [p["run"].split("-", 2)[2] for p in data["periods"]] == ["october", "november", "december"]
    assert [p["customers"] for p in data["periods"]] == [200, 190, 202] and {p["k"] for p in data["periods"]} == {5}
    for period in data["periods"]:
        assert sum(s["share"] for s in period["segments"]) == pytest.approx(1.0, abs=1e-5)
        # runs made with --baseline are numbered by it already: the trend's numbers are theirs
        assert all(s["segment"] == s["run_segment"] for s in period["segments"])
    first, second = data["steps"]
    assert (first["shared"], first["entered"], first["left"]) == (180, 10, 20)
    assert first["stayed"] / first["shared"] >= 0.95
    assert (second["shared"], second["entered"], second["left"]) == (182, 20, 8)
    assert second["moved"] >= 12 and second["appeared"] == [] and second["vanished"] == []
    top = next(f for f in second["flows"] if f["from_segment"] != f["to_segment"])
    names = {s["segment"]: s["name"] for s in data["segments"]}
    assert top["customers"] >= 12 and names[top["to_segment"]] == "High income, high spending"
    assert names[top["from_segment"]] == "Average income, average spending"
    grew = next(s for s in data["segments"] if s["name"] == "High income, high spending")
    assert grew["shares"][0] < 0.21 and grew["shares"][-1] > 0.30  # 39 of 200, then 68 of 202
    assert all(len(s["names"]) == 1 for s in data["segments"])  # the names travel with the numbers
    assert any("grew from 20% to 34%" in line for line in data["highlights"])
    movers = pd.read_csv(trend_folder / "steps.csv")
    assert movers[["shared", "stayed", "moved", "entered", "left"]].iloc[1].tolist() == [
        182, second["stayed"], second["moved"], 20, 8]
    shares = pd.read_csv(trend_folder / "shares.csv")
    assert shares.shape == (3, 4 + 5) and shares.filter(like="segment").sum(axis=1).round(3).tolist() == [1.0] * 3
    flows = pd.read_csv(trend_folder / "flows.csv")
    assert flows.groupby("to_run", sort=False)["customers"].sum().tolist() == [180, 182]


def test_the_trend_report_is_written_and_verifies(linked: Path, trend_folder: Path, invoke) -> None:
    import pikepdf
    from pypdf import PdfReader

    names = {p.relative_to(trend_folder).as_posix() for p in trend_folder.rglob("*") if p.is_file()}
    assert names == {"report.html", "report.pdf", "manifest.json", "seal.json", "trend.json", "shares.csv",
                     "steps.csv", "flows.csv", "charts/trend_shares.png", "charts/trend_movement.png",
                     "charts/trend_flows.png"}
    manifest = json.loads((trend_folder / "manifest.json").read_text())
    assert manifest["kind"] == "trend" and len(manifest["runs"]) == 3
    assert manifest["pdf"]["embedded"] == ["manifest.json", "trend.json", "shares.csv", "steps.csv", "flows.csv"]
    assert invoke("verify", str(trend_folder)).exit_code == 0
    alone = invoke("verify", str(trend_folder / "report.pdf"))
    assert alone.exit_code == 0 and "all 4 embedded files match" in alone.stdout
    with pikepdf.open(trend_folder / "report.pdf") as pdf:
        with pdf.open_metadata() as meta:
            assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        assert bytes(pdf.attachments["trend.json"].get_file().read_bytes()) == \
            (trend_folder / "trend.json").read_bytes()
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO((trend_folder / "report.pdf").read_bytes())).pages)
    for heading in ("Customer segments over 3 periods", "Segment shares over time",
                    "Customers moving between segments", "The segments, appeared and vanished", "The runs"):
        assert heading in text
    assert "Segment 2 (High income, high spending) grew from 20% to 34% of the customers." in text
    html = unescape((trend_folder / "report.html").read_text(encoding="utf-8"))
    assert html.count("<img ") == 3 and 'alt=""' not in html
    assert "Line chart of each segment's share of the customers in 3 periods" in html
    # a trend's folder is not a run: history does not list it, --baseline latest does not pick it, and a command
    # that needs a run says so
    assert trend_folder not in run_folders(linked) and len(run_folders(linked)) == 3
    history = invoke("history", "-o", str(linked), "--json")
    assert [r["folder"] for r in json.loads(history.stdout)] == [str(f) for f in run_folders(linked)]
    for args in (("show", str(trend_folder)), ("compare", str(trend_folder), "latest", "-o", str(linked)),
                 ("trend", str(trend_folder), "-q")):
        refused = invoke(*args)
        assert refused.exit_code == 1
        assert refused.stderr == (f"Error: {trend_folder} is a trend report ('reportgen trend'), not a run. "
                                  "Pass a run folder; 'reportgen history' lists them.\n")


def test_the_trend_html_passes_axe_core(trend_folder: Path, tmp_path: Path) -> None:
    violations = axe_violations((trend_folder / "report.html").read_text(encoding="utf-8"), tmp_path)
    assert not violations, violations


def test_trend_json_on_stdout_and_last(linked: Path, invoke) -> None:
    done = invoke("trend", "-o", str(linked), "--json", "--last", "2", "--format", "none", "-q")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert len(data["periods"]) == 2 and len(data["steps"]) == 1 and Path(data["folder"]).is_dir()
    assert not (Path(data["folder"]) / "report.pdf").exists()


def test_a_series_without_baselines_matches_the_segments_itself(periods: dict[str, Path], tmp_path, invoke) -> None:
    """Runs made with --series and no --baseline number their segments by size alone; the trend matches them
    from one period to the next and keeps one number per segment, and a segment that goes is 'vanished'."""
    out = tmp_path / "series"
    october = pd.read_csv(periods["october"])
    without = october[~((october[INCOME] < 40) & (october[SCORE] > 60))]  # the low-income, high-spending ones go
    without.to_csv(tmp_path / "november.csv", index=False)
    for source, name, k in ((periods["october"], "october", 5), (tmp_path / "november.csv", "november", 4)):
        _month(source, out, name, features=(INCOME, SCORE), series="monthly", k=k)
    _month(periods["december"], out, "other", features=(INCOME, SCORE), k=5)  # not in the series
    done = invoke("trend", "--series", "monthly", "-o", str(out), "--json", "-q")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["linked_by"] == "series" and [p["customers"] for p in data["periods"]] == [200, len(without)]
    names = {s["segment"]: s["name"] for s in data["segments"]}
    (gone,) = data["steps"][0]["vanished"]
    assert names[gone] == "Low income, high spending" and data["steps"][0]["appeared"] == []
    kept = {s["segment"]: s["name"] for s in data["periods"][1]["segments"]}
    before = {s["segment"]: s["name"] for s in data["periods"][0]["segments"]}
    assert all(before[number] == name for number, name in kept.items())  # each segment kept its number
    assert data["steps"][0]["shared"] == len(without) and data["steps"][0]["stayed"] >= 0.95 * len(without)


def test_a_new_segment_never_takes_the_number_of_one_that_vanished(mall_csv: Path, tmp_path, invoke) -> None:
    """A review found run c of a chain k = 6, 5, 6 (--baseline) numbering its new segment 6, the number of a's
    segment that vanished in b, while the trend called it 7: a number meant two segments. model.json now carries
    the highest number of the chain, so a new segment is numbered above it, in the run and in the trend alike."""
    out = tmp_path / "chain"
    a = _month(mall_csv, out, "a", features=(INCOME, SCORE), k=6)
    b = _month(mall_csv, out, "b", baseline="latest", k=5)
    c = _month(mall_csv, out, "c", baseline="latest", k=6)
    numbers = [sorted(pd.read_csv(f / "segments.csv")["segment"].unique().tolist()) for f in (a, b, c)]
    assert numbers[0] == [1, 2, 3, 4, 5, 6] and len(numbers[1]) == 5
    (gone,) = set(numbers[0]) - set(numbers[1])
    assert max(numbers[2]) == 7 and gone not in numbers[2]  # the new segment is 7
    assert json.loads((c / "model.json").read_text())["highest_segment"] == 7
    data = json.loads(invoke("trend", "-o", str(out), "--json", "-q", "--format", "none").stdout)
    assert all(s["segment"] == s["run_segment"] for p in data["periods"] for s in p["segments"])
    assert data["steps"][0]["vanished"] == [gone] and data["steps"][1]["appeared"] == [7]


def test_trend_errors_are_one_line(periods: dict[str, Path], linked: Path, tmp_path, invoke) -> None:
    one = tmp_path / "one"
    _month(periods["october"], one, "october", features=(INCOME, SCORE))
    cases = [
        (("trend", "-o", str(one), "-q"), "Error: a trend needs at least two runs, and run "),
        (("trend", "-o", str(one), "-q", "--series", "x"), "Error: no run in "),
        (("trend", "-o", str(tmp_path / "none"), "-q"), "Error: there is no run in "),
        (("trend", "--series", "nope", "-o", str(linked), "-q"), "Error: no run in "),
    ]
    for args, start in cases:
        got = invoke(*args)
        assert got.exit_code == 1 and got.stderr.startswith(start), got.stderr
        assert len(got.stderr.strip().splitlines()) == 1
    both = invoke("trend", "20261201-000000-x", "--series", "x", "-q")
    assert both.exit_code == 2 and "or --series NAME, not both" in both.stderr
    copied = tmp_path / "copied"
    shutil.copytree(linked, copied)
    middle = run_folders(copied)[1]
    (middle / "segments.csv").write_text("CustomerID,segment,segment_name\n1,1,x\n")
    altered = invoke("trend", "-o", str(copied), "-q")
    assert altered.exit_code == 1 and "was altered after it was made (segments.csv changed)" in altered.stderr
    mixed = tmp_path / "mixed"
    _month(periods["october"], mixed, "october", features=(INCOME, SCORE), series="m")
    _month(periods["november"], mixed, "november", features=("Age", SCORE), series="m")
    different = invoke("trend", "--series", "m", "-o", str(mixed), "-q")
    assert different.exit_code == 2 and "cannot be in one trend: the runs cluster on different features" in \
        different.stderr
    assert [p.name for p in mixed.iterdir() if "trend" in p.name] == []


def test_labels_at_the_ends_of_lines_are_spread() -> None:
    assert spread([0.32, 0.34, 0.17], gap=0.03, top=0.5) == pytest.approx([0.32, 0.35, 0.17])
    assert spread([0.49, 0.5], gap=0.05, top=0.5) == pytest.approx([0.45, 0.5])
    placed = spread([0.1, 0.1, 0.1, 0.1], gap=0.02, top=1.0)
    assert sorted(placed) == pytest.approx([0.1, 0.12, 0.14, 0.16])


def _synthetic(periods: int, tmp_path: Path):
    """A trend of ``periods`` made-up monthly periods of two segments, without runs behind it."""
    from reportgen.model import Trend, TrendFlow, TrendIdentity, TrendPeriod, TrendSegment, TrendStep

    runs = [f"20260{1 + i // 9}{1 + i % 9:02d}-060000-m{i + 1}" for i in range(periods)]
    shares = [(0.6 - 0.01 * i, 0.4 + 0.01 * i) for i in range(periods)]
    made = tuple(TrendPeriod(run=run, folder=tmp_path, created=f"2026-{1 + i % 12:02d}-01T06:00:00", input_name="c.csv",
                             customers=100, k=2, silhouette=0.5,
                             segments=(TrendSegment(1, 1, "Big", round(100 * a), a),
                                       TrendSegment(2, 2, "Small", round(100 * b), b)))
                 for i, (run, (a, b)) in enumerate(zip(runs, shares, strict=True)))
    steps = tuple(TrendStep(before=runs[i], after=runs[i + 1], shared=90, stayed=90 - (i % 4), entered=10, left=10,
                            flows=(TrendFlow(1, 1, 50), TrendFlow(2, 2, 40 - i % 4), TrendFlow(2, 1, i % 4)),
                            appeared=(), vanished=()) for i in range(periods - 1))
    identities = (TrendIdentity(1, "Big", ("Big",), 0, periods - 1, tuple(a for a, _ in shares)),
                  TrendIdentity(2, "Small", ("Small",), 0, periods - 1, tuple(b for _, b in shares)))
    return Trend(series="m", linked_by="series", features=("x",), periods=made, steps=steps, segments=identities)


def test_a_long_series_keeps_its_summary_and_tables_readable(tmp_path: Path) -> None:
    """13 monthly periods, looked at: the summary tells of the latest step and the one that kept fewest customers
    (not of all twelve), its table has the first and the latest five periods, and the chart labels drop the dates."""
    from datetime import datetime

    from reportgen.archive.trend import highlights
    from reportgen.report.charts import draw_phase
    from reportgen.report.charts.trend import period_labels
    from reportgen.report.render import render
    from reportgen.report.trend import TrendReport

    trend = _synthetic(13, tmp_path)
    said = highlights(trend)
    steps = [line for line in said if line.startswith("From ")]
    assert len(steps) == 2 and steps[0].startswith("From m4 to m5: 97%") and steps[1].startswith("From m12 to m13")
    charts = draw_phase("trend", trend)
    assert [c.name for c in charts] == ["trend_shares", "trend_movement", "trend_flows"]
    assert period_labels(trend)[0] == "m1" and "(between 48% and 60%)" in charts[0].alt
    report = TrendReport(trend=trend, title="t", generated_at=datetime(2026, 12, 1), run_name="x", version="0",
                         highlights=said, charts={c.name: c for c in charts})
    assert report.shown == (0, 8, 9, 10, 11, 12)
    html = " ".join(unescape(render("trend.html", r=report)).split())
    assert "The first period and the latest 5 of 13 are shown" in html and 'aria-label="periods left out"' in html
    assert _synthetic(3, tmp_path).periods and TrendReport(trend=_synthetic(3, tmp_path), title="t",
                                                           generated_at=datetime(2026, 12, 1), run_name="x",
                                                           version="0", highlights=(), charts={}).shown == (0, 1, 2)
