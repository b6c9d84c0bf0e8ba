"""The command line: help, results on stdout, progress on stderr, one Error: line per bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reportgen import __version__
from reportgen.cli.group import cli

from .conftest import INCOME, ROOT, SCORE, make_blobs_frame, run_folders

RUN_FILES = {"report.html", "report.pdf", "segments.csv", "profiles.csv", "metrics.json", "manifest.json",
             "model.json", "summary.json", "cleaning.csv"}


def test_version(invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(invoke, command: str) -> None:
    for flag in ("--help", "-h"):
        result = invoke(command, flag)
        assert result.exit_code == 0, result.stderr
        assert "Example:" in result.stdout and f"reportgen {command}" in result.stdout


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in cli.commands:
        assert f"reportgen {command}" in readme, command


@pytest.mark.slow
def test_run_on_the_bundled_sample(invoke, tmp_path: Path) -> None:
    result = invoke("run")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.parent == Path("output")
    assert re.fullmatch(r"\d{8}-\d{6}-sample-customers", folder.name)
    assert {p.name for p in (tmp_path / folder).iterdir()} >= RUN_FILES
    assert (tmp_path / folder / "report.pdf").read_bytes().startswith(b"%PDF")
    charts = {p.name for p in (tmp_path / folder / "charts").iterdir()}
    assert {"elbow.png", "silhouette_k.png", "segments_scatter.png"} <= charts
    assert "Reading the data" in result.stderr  # progress goes to stderr
    manifest = json.loads((tmp_path / folder / "manifest.json").read_text())
    assert manifest["input"]["name"] == "sample_customers.csv"
    assert manifest["data_quality"]["rows_in"] == 302 and manifest["data_quality"]["rows_dropped"] == 5


@pytest.mark.slow
def test_run_with_options_and_quiet(invoke, mall_csv: Path, tmp_path: Path) -> None:
    result = invoke("run", str(mall_csv), "--features", f"{INCOME},{SCORE}", "--scale", "none", "--name", "mall",
                    "-q", "--format", "html", "-o", "runs")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    folder = tmp_path / result.stdout.strip()
    assert folder.parent == tmp_path / "runs" and folder.name.endswith("-mall")
    assert not (folder / "report.pdf").exists()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["k"] == 5 and metrics["sizes"] == [81, 39, 35, 23, 22]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["settings"]["scale"] == "none" and manifest["settings"]["name"] == "mall"
    assert manifest["input"]["rows"] == 200 and manifest["input"]["columns"] == 5
    assert manifest["input"]["sha256"] == __import__("hashlib").sha256(mall_csv.read_bytes()).hexdigest()
    assert set(manifest["files"]) == {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                                      if p.is_file() and p.name != "manifest.json"}
    for version in ("reportgen", "pandas", "scikit-learn", "numpy", "python"):
        assert manifest["versions"][version]
    assert manifest["started"] <= manifest["finished"]


@pytest.mark.slow
def test_two_identical_runs_give_identical_results(invoke, mall_csv: Path, tmp_path: Path) -> None:
    folders = []
    for _ in range(2):
        result = invoke("run", str(mall_csv), "-q", "--format", "html")
        assert result.exit_code == 0, result.stderr
        folders.append(tmp_path / result.stdout.strip())
    assert folders[0] != folders[1]  # never overwrites: the second run gets its own folder
    for name in ("segments.csv", "profiles.csv", "metrics.json", "model.json", "cleaning.csv"):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_stdin_and_json_output(invoke, tmp_path: Path) -> None:
    data = make_blobs_frame().to_csv(index=False)
    result = invoke("run", "-", "--json", "-q", "--format", "html", "--name", "piped", input=data)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["k"] == 3 and summary["folder"].endswith("-piped")
    assert sum(s["size"] for s in summary["segments"]) == 240
    segments = (tmp_path / summary["folder"] / "segments.csv").read_text().splitlines()
    assert segments[0] == "customer_id,segment,segment_name" and segments[1].startswith("C00000,")


@pytest.mark.slow
def test_config_file_is_read_and_flags_win(invoke, mall_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "reportgen.toml").write_text(
        f'[run]\nfeatures = ["{INCOME}", "{SCORE}"]\nscale = "none"\nk = 4\nformats = ["html"]\n'
        '[report]\ntitle = "From the config"\n', encoding="utf-8")
    result = invoke("run", str(mall_csv), "--k", "5", "-q")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    assert json.loads((folder / "metrics.json").read_text())["k"] == 5
    assert "From the config" in (folder / "report.html").read_text(encoding="utf-8")


def test_progress_lines(invoke, blobs_csv: Path) -> None:
    result = invoke("run", str(blobs_csv), "--format", "html")
    assert result.exit_code == 0
    lines = result.stderr.strip().splitlines()
    assert all(re.match(r"\[\s*\d+\.\d+s\] ", line) for line in lines)
    assert any("Trying k = 2..10" in line for line in lines)


# ------------------------------------------------------------------------------------------------ bad input
def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], int, str]]:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("CustomerID,Age,Income\n")
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "text.csv").write_text("name,city\nann,paris\nbob,rome\ncid,oslo\n")
    (tmp_path / "small.csv").write_text("id,a,b\n" + "".join(f"{i},{i * 3 % 7},{i * 5 % 11}\n" for i in range(10)))
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    return {
        "missing file": (["nope.csv"], 2, "does not exist"),
        "folder": (["folder"], 2, "is a directory"),
        "empty file": (["empty.csv"], 1, "empty.csv is empty"),
        "header only": (["header.csv"], 1, "has a header row but no data rows"),
        "binary junk": (["junk.csv"], 1, "is not a text table"),
        "no numeric column": (["text.csv"], 1, "has no numeric column"),
        "k larger than the rows": (["small.csv", "--k", "8"], 2, "--k 8 needs at least 16 usable rows"),
        "unknown feature": (["small.csv", "--features", "a,zz"], 2, "'zz'. Available columns: id, a, b"),
        "unwritable output": (["small.csv", "-o", "a-file/out"], 1, "cannot write to the output folder"),
        "bad k range": (["small.csv", "--k-range", "9-3"], 2, "--k-range '9-3' is not valid"),
        "bad scale": (["small.csv", "--scale", "log"], 2, "Invalid value for '--scale'"),
    }


@pytest.mark.parametrize("case", [
    "missing file", "folder", "empty file", "header only", "binary junk", "no numeric column",
    "k larger than the rows", "unknown feature", "unwritable output", "bad k range", "bad scale",
])
def test_bad_input_gives_one_error_line(invoke, tmp_path: Path, case: str) -> None:
    args, code, message = _bad_inputs(tmp_path)[case]
    result = invoke("run", *args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not re.match(r"\[\s*\d+\.\d+s\] ", line)]
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert message in errors[0]
    assert "Traceback" not in result.stderr
    assert run_folders(tmp_path / "output") == []


def test_unwritable_output_folder_without_root(invoke, tmp_path: Path, blobs_csv: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; the file-as-parent case above covers this")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = invoke("run", str(blobs_csv), "-o", str(locked / "out"))
    assert result.exit_code == 1 and "cannot write" in result.stderr


@pytest.mark.slow
def test_failure_late_in_the_run_leaves_no_folder(invoke, tmp_path: Path, blobs_csv: Path, monkeypatch) -> None:
    from reportgen import errors, pipeline

    def broken_pdf(html: str, **options) -> bytes:
        raise errors.OutputError("cannot make the PDF: simulated failure")

    monkeypatch.setattr(pipeline, "write_pdf", broken_pdf)
    result = invoke("run", str(blobs_csv))
    assert result.exit_code == 1 and "simulated failure" in result.stderr
    assert run_folders(tmp_path / "output") == []


def test_failure_while_writing_leaves_no_temporary_folder(invoke, tmp_path: Path, blobs_csv: Path,
                                                          monkeypatch) -> None:
    from reportgen.archive import folder as snapshot

    real = snapshot.json_bytes
    calls = {"n": 0}

    def flaky(value):
        calls["n"] += 1
        if isinstance(value, dict) and "files" in value:  # the manifest, written last
            raise OSError(28, "No space left on device")
        return real(value)

    monkeypatch.setattr(snapshot, "json_bytes", flaky)
    result = invoke("run", str(blobs_csv), "--format", "html")
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    assert run_folders(tmp_path / "output") == []


def test_internal_errors_are_one_line_unless_debug(invoke, blobs_csv: Path, monkeypatch) -> None:
    from reportgen.describe import profiles

    def boom(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(profiles, "profile", boom)
    result = invoke("run", str(blobs_csv), "-q")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        ("Error: internal error: ZeroDivisionError: simulated bug. This is a bug in reportgen: run again with "
         "--debug for the traceback and report it.")]
    debug = invoke("--debug", "run", str(blobs_csv), "-q")
    assert "Traceback" in debug.stderr and debug.exit_code == 1


def test_sample_command(invoke, tmp_path: Path) -> None:
    result = invoke("sample", "c.csv", "--rows", "50", "--clean")
    assert result.exit_code == 0 and result.stdout.strip() == "c.csv"
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 51
    again = invoke("sample", "c.csv")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert invoke("sample", "-", "--rows", "20").stdout.startswith("CustomerID,Gender,Age")


def test_rules_command_prints_valid_rules(invoke, tmp_path: Path) -> None:
    from reportgen.describe.rulebook import load_rules

    result = invoke("rules")
    (tmp_path / "r.toml").write_text(result.stdout, encoding="utf-8")
    assert load_rules(tmp_path / "r.toml").rules


@pytest.mark.slow
def test_templates_option_overrides_one_block(invoke, blobs_csv: Path, tmp_path: Path) -> None:
    custom = tmp_path / "my-templates"
    custom.mkdir()
    (custom / "report.html").write_text(
        '{% extends "default:report.html" %}{% block appendix %}{{ super() }}'
        '<p id="custom">Prepared by the CRM team for {{ r.organisation }}.</p>{% endblock %}', encoding="utf-8")
    result = invoke("run", str(blobs_csv), "--templates", str(custom), "--organisation", "ACME", "--format", "html",
                    "-q")
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / result.stdout.strip() / "report.html").read_text(encoding="utf-8")
    assert '<p id="custom">Prepared by the CRM team for ACME.</p>' in html
    assert "Executive summary" in html


def test_broken_template_is_a_clear_error(invoke, blobs_csv: Path, tmp_path: Path) -> None:
    custom = tmp_path / "broken"
    custom.mkdir()
    (custom / "_segment.html").write_text("{% if %}", encoding="utf-8")
    result = invoke("run", str(blobs_csv), "--templates", str(custom), "--format", "html", "-q")
    assert result.exit_code == 2
    assert re.match(r"Error: template \S+broken/_segment.html line 1: ", result.stderr)
    assert run_folders(tmp_path / "output") == []


def test_text_value_in_a_small_number_column_is_reported(invoke, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,Income,Score\n1,10,5\n2,abc,7\n3,30,9\n4,40,2\n5,50,8\n6,11,3\n")
    result = invoke("run", "t.csv", "-q", "--format", "none")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    assert json.loads((folder / "metrics.json").read_text())["features"] == ["Income", "Score"]
    log = (folder / "cleaning.csv").read_text().splitlines()
    assert "2,Income,set to missing,not a number,abc" in log
    # dropping that row would drop 1 of 6 customers (17%, over --max-drop 5%): its income is imputed instead
    assert any(line.startswith("2,Income,imputed median,") and "would drop 16.7% of the customers" in line
               for line in log)


def test_issue_12_options_from_flags_and_config(invoke, blobs_csv: Path, tmp_path: Path) -> None:
    bad = invoke("run", str(blobs_csv), "--min-share", "0.9", "-q")
    assert bad.exit_code == 2
    assert bad.stderr.strip().splitlines() == [
        ("Error: --min-share '0.9' is not valid: expected a share between 0 and 0.5, e.g. 0.05 or 5%. Fix the value "
         "or leave it out to use the default.")]
    assert invoke("run", str(blobs_csv), "--max-drop", "abc", "-q").exit_code == 2
    (tmp_path / "reportgen.toml").write_text('[run]\nmax_drop = "10%"\ntransform = "none"\noutliers = "keep"\n'
                                            'min_share = 0.05\nstability_resamples = 0\n')
    result = invoke("run", str(blobs_csv), "-q", "--format", "none", "--transform", "auto")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / result.stdout.strip() / "manifest.json").read_text())
    assert {k: manifest["settings"][k] for k in ("max_drop", "transform", "outliers", "min_share",
                                                 "stability_resamples")} == {
        "max_drop": 0.1, "transform": "auto", "outliers": "keep", "min_share": 0.05, "stability_resamples": 0}
    assert manifest["stability"] is None
    assert "--max-drop 0.1 --outliers keep --min-share 0.05 --stability-resamples 0" in manifest["reproduce"]
