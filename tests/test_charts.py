"""The chart table: every chart drawn from its phase's data, seaborn for the statistical charts, the chart process
gives the same charts as this process, and its death never fails a run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from reportgen import Settings
from reportgen.cleaning.pandas import clean
from reportgen.cli.group import cli
from reportgen.inputs.roles import read_dataset
from reportgen.model import Chart, ExplorationData
from reportgen.pipeline import run
from reportgen.report.charts import CHARTS, Drawing, draw_phase
from reportgen.report.charts.exploration import exploration_data as make_exploration_data
from reportgen.report.charts.style import chart_columns
from reportgen.segmentation.features import choose_features

ROOT = Path(__file__).resolve().parents[1]


def exploration_data(mall_csv: Path) -> ExplorationData:
    ds = read_dataset(mall_csv)
    cleaned = clean(ds, features=choose_features(ds))
    return make_exploration_data(cleaned.frame, numeric=cleaned.numeric, categorical=cleaned.categorical,
                                 features=cleaned.features, customers=len(cleaned.frame), seed=42)


def test_every_chart_has_a_unique_name_a_section_and_alt_text() -> None:
    names = [spec.name for spec in CHARTS]
    assert len(names) == len(set(names))
    from typing import get_args

    from reportgen.model import Section

    assert {spec.section for spec in CHARTS} <= set(get_args(Section))
    assert {spec.section for spec in CHARTS} >= {"exploration", "choosing-k", "segments", "rfm",
                                                 "comparison"}
    assert all(callable(spec.draw) and callable(spec.alt) for spec in CHARTS)


def test_statistical_charts_are_drawn_by_seaborn(mall_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seaborn as sns

    calls: list[str] = []

    def counting(name: str):
        real = getattr(sns, name)

        def counted(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return counted

    for name in ("histplot", "violinplot", "heatmap", "scatterplot"):
        monkeypatch.setattr(sns, name, counting(name))
    charts = draw_phase("exploration", exploration_data(mall_csv))
    assert [c.name for c in charts] == ["distributions", "categories", "by_category", "pairs", "correlation"]
    assert {"histplot", "violinplot", "heatmap", "scatterplot"} <= set(calls)
    assert calls.count("histplot") >= 3 + 3  # one per numeric column, and the pair plot's diagonal
    assert all(c.png.startswith(b"\x89PNG\r\n\x1a\n") for c in charts)


def test_no_hand_written_density_or_projection_in_the_package() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "reportgen").rglob("*.py"))
    assert "def gaussian_kde" not in source and "np.linalg.eigh" not in source
    assert "from sklearn.decomposition import PCA" in source


@pytest.mark.slow
def test_the_chart_process_gives_the_same_charts(mall_csv: Path) -> None:
    data = exploration_data(mall_csv)
    drawing, inline = Drawing(2), Drawing(1)
    try:
        assert drawing.handover is not None and inline.handover is None
        for drawer in (drawing, inline):
            drawer.submit("exploration", data)
        remote, local = drawing.collect(), inline.collect()
        assert drawing.pool is not None and len(drawing.pool._processes) == 2  # drawn by the chart processes
        assert [(c.name, c.title, c.alt, c.section) for c in remote] == [(c.name, c.title, c.alt, c.section)
                                                                         for c in local]
    finally:
        drawing.close()


@pytest.mark.slow
def test_a_dead_chart_process_is_replaced_by_this_one(mall_csv: Path) -> None:
    import os
    import signal

    data = exploration_data(mall_csv)
    drawing = Drawing(2)
    try:
        drawing.submit("exploration", data)
        drawing.collect()  # the chart processes are up
        assert drawing.pool is not None
        for pid in list(drawing.pool._processes):  # kill them as the OOM killer would
            os.kill(pid, signal.SIGKILL)
        drawing.submit("exploration", data)
        charts = drawing.collect()  # drawn here instead
        assert [c.name for c in charts] == ["distributions", "categories", "by_category", "pairs", "correlation"]
    finally:
        drawing.close()


@pytest.mark.slow
def test_one_and_two_workers_give_the_same_run(mall_csv: Path, tmp_path: Path, now) -> None:
    results = [run(mall_csv, Settings(output=tmp_path / str(w), workers=w, formats=("html",)), now=now)
               for w in (1, 2)]
    for name in ("segments.csv", "profiles.csv", "metrics.json", "summary.json", "model.json"):
        assert (results[0].folder / name).read_bytes() == (results[1].folder / name).read_bytes()
    assert list(results[0].model.charts) == list(results[1].model.charts)


def test_the_segment_mix_shows_each_segment_and_all_customers(mall_csv: Path) -> None:
    from reportgen.describe.profiles import profile
    from reportgen.report.charts.segments import _mix_rows, segment_data, segment_mix_alt
    from reportgen.segmentation.cluster import fit_segments
    from reportgen.segmentation.features import build_features

    ds = read_dataset(mall_csv)
    cleaned = clean(ds, features=("Annual Income (k$)", "Spending Score (1-100)"))
    matrix = build_features(cleaned)
    seg = fit_segments(matrix, 5)
    profiles = profile(cleaned, seg)
    data = segment_data(matrix.X, cleaned.frame[list(matrix.names)].to_numpy(float), seg, profiles,
                        names=matrix.names, scaling="standard", segment_names={n: f"Segment {n}" for n in seg.numbers})
    labels, values, shares = _mix_rows(data, "Gender")
    assert labels[-1] == "All customers" and len(labels) == 6 and values == ["Female", "Male"]
    assert abs(shares.sum(axis=1) - 1).max() < 1e-9
    assert abs(shares[-1, 0] - 112 / 200) < 1e-9  # 112 of the 200 Mall customers are women
    assert "Segment 1" in segment_mix_alt(data) and "All customers: Female 56%, Male 44%" in segment_mix_alt(data)


def test_closing_never_waits_for_the_chart_processes_to_start() -> None:
    import time

    start = time.perf_counter()
    drawing = Drawing(2)  # the forkserver is starting: it needs seconds to load seaborn
    drawing.close()
    assert time.perf_counter() - start < 1.0


def test_charts_are_drawn_here_when_the_chart_processes_cannot_start(mall_csv: Path) -> None:
    drawing = Drawing(2)
    try:
        def cannot_start(names, data):
            raise EOFError("the forkserver went away")

        drawing._hand_over = cannot_start  # type: ignore[method-assign]
        drawing.submit("exploration", exploration_data(mall_csv))
        assert [c.name for c in drawing.collect()] == ["distributions", "categories", "by_category", "pairs",
                                                       "correlation"]
    finally:
        drawing.close()


def test_the_command_line_loads_no_heavy_library_before_it_starts_the_chart_processes() -> None:
    import subprocess
    import sys

    code = ("import sys; import reportgen.cli; from reportgen.report.charts import Drawing; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'seaborn', 'sklearn', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _session_processes(session: int, marker: bytes = b"") -> set[int]:
    """The live processes of the session ``session`` (from /proc/PID/stat) whose command line holds ``marker``: not
    the zombies, which have ended and hold nothing open, and wait only for init to reap them. Linux gives no new
    process the number of a session that still has a process, so an orphan is still found."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()  # after "pid (name)": state ppid pgrp session
            if int(fields[3]) == session and fields[0] not in (b"Z", b"X") \
                    and marker in (stat.parent / "cmdline").read_bytes():
                found.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_no_chart_process_outlives_the_command(mall_csv: Path, tmp_path: Path) -> None:
    """The command's output pipes close when it ends (a chart process left waiting would hold them open and hang
    `reportgen run ... | tee log`), and a killed run's chart processes end by themselves.

    The command leads a session of its own, and only that session's processes are counted: another reportgen (or any
    multiprocessing program) running meanwhile is not the command's. Its forkserver and chart processes stay in its
    session (they never call setsid), also once the command is killed and they are orphans."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, "-m", "reportgen", "run", str(mall_csv), "-q", "-o", str(tmp_path / "out")]
    sessions = []
    try:
        done = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        sessions.append(done.pid)
        _, stderr = done.communicate(timeout=120)  # waits for the pipes to close
        assert done.returncode == 0, stderr
        time.sleep(0.5)
        assert _session_processes(done.pid) == set()  # nothing the command started is left

        killed = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        sessions.append(killed.pid)
        deadline = time.monotonic() + 60
        while len(_session_processes(killed.pid, b"multiprocessing.forkserver")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_session_processes(killed.pid, b"multiprocessing.forkserver")) >= 3  # the server, two processes
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        deadline = time.monotonic() + 10
        while _session_processes(killed.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _session_processes(killed.pid) == set()
    finally:  # a failure leaves no process of the commands behind
        for session in sessions:
            for pid in _session_processes(session):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def test_a_table_wider_than_the_charts_draws_its_violins(tmp_path: Path) -> None:
    """Issue 26: 18 features and a 3-level category crashed the violin chart (it drew every feature; the
    exploration frame holds the charted columns only). The violins show the charted features."""
    rng = np.random.default_rng(1)
    n = 600
    frame = pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(n)], "plan": rng.choice(["a", "b", "c"], n),
                          **{f"feature {i}": rng.normal(i, 1 + i % 3, n).round(2) for i in range(18)}})
    data = make_exploration_data(frame, numeric=chart_columns(tuple(frame.columns[2:]), tuple(frame.columns[2:])),
                            categorical=("plan",), features=tuple(frame.columns[2:]), customers=n, seed=1)
    charts = {c.name: c for c in draw_phase("exploration", data)}
    violins = charts["by_category"]
    assert isinstance(violins, Chart) and violins.png.startswith(b"\x89PNG")
    assert "feature 11" in violins.alt and "feature 12" not in violins.alt  # the twelve charted ones


def test_a_chart_that_fails_is_left_out_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  blobs_csv: Path) -> None:
    """A chart that raises in a user's run costs the chart, not the report: the methodology names it and why, the
    manifest lists it, stderr warns once. (The tests set REPORTGEN_STRICT=1, under which it raises: unset here.)"""
    import reportgen.report.charts as charts

    def broken(data: object) -> Figure:
        raise ValueError("a planted fault\nover two lines")

    monkeypatch.setenv("REPORTGEN_STRICT", "0")
    monkeypatch.setitem(charts.BY_NAME, "pairs", replace(charts.BY_NAME["pairs"], draw=broken))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(blobs_csv), "-q", "-o", str(out), "--format", "html",
                                      "--stability-resamples", "0", "--workers", "1"])
    assert result.exit_code == 0, result.output
    warning = ("Warning: The chart “Pairwise relationships” could not be drawn (ValueError: a planted fault over two "
               "lines) and is left out of the report; this is a bug in reportgen, please report it")
    assert result.stderr.strip() == warning
    folder = Path(result.stdout.strip())
    html = (folder / "report.html").read_text()
    said = "A chart is missing:</b> the chart “Pairwise relationships” could not be drawn (ValueError: a planted fault"
    assert said + " over two lines)" in " ".join(html.split())
    assert not (folder / "charts" / "pairs.png").exists() and (folder / "charts" / "correlation.png").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["missing_charts"] == [{"chart": "pairs", "title": "Pairwise relationships",
                                           "why": "ValueError: a planted fault over two lines"}]


def test_a_chart_that_fails_raises_under_strict(monkeypatch: pytest.MonkeyPatch, mall_csv: Path) -> None:
    import reportgen.report.charts as charts

    def broken(data: object) -> Figure:
        raise ValueError("a planted fault")

    monkeypatch.setitem(charts.BY_NAME, "pairs", replace(charts.BY_NAME["pairs"], draw=broken))
    with pytest.raises(ValueError, match="a planted fault"):
        charts.draw_charts(("pairs",), exploration_data(mall_csv))
