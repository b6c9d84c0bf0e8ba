from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.archive.files import csv_bytes, json_bytes, sha256_bytes
from reportgen.archive.folder import write_run
from reportgen.errors import OutputError
from reportgen.report.names import folder_name


def test_json_is_strict_and_plain() -> None:
    data = {"nan": float("nan"), "inf": float("inf"), "np": np.float64(0.5), "int": np.int64(3),
            "arr": np.array([1.0, np.nan]), "path": Path("a/b"), "when": datetime(2026, 1, 2, 3, 4, 5)}
    text = json_bytes(data).decode()
    assert json.loads(text) == {"nan": None, "inf": None, "np": 0.5, "int": 3, "arr": [1.0, None],
                                "path": "a/b", "when": "2026-01-02T03:04:05.000"}
    assert text.endswith("}\n") and "NaN" not in text


def test_csv_float_format_and_line_ends() -> None:
    data = csv_bytes(pd.DataFrame({"a": [1.0 / 3, 2.0], "b": ["x", "y"]}))
    assert data == b"a,b\n0.3333,x\n2.0000,y\n"


def test_write_run_is_atomic_and_never_overwrites(tmp_path: Path) -> None:
    files = {"a.txt": b"A", "charts/b.png": b"B"}
    first = write_run(tmp_path, "20260101-000000-x", files, {"run": "x"})
    second = write_run(tmp_path, "20260101-000000-x", files, {"run": "x"})
    assert first.name == "20260101-000000-x" and second.name == "20260101-000000-x-2"
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["files"] == {"a.txt": sha256_bytes(b"A"), "charts/b.png": sha256_bytes(b"B")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20260101-000000-x", "20260101-000000-x-2"]


def test_runs_started_in_the_same_second_keep_their_order(tmp_path: Path) -> None:
    """'latest' (and a trend's chain) is the run that started last, though two runs in one second have folder names
    that sort the other way ("...-october" after "...-november"): the manifest's start has milliseconds."""
    from datetime import timedelta

    from reportgen.archive.runs import resolve_run, run_folders

    start = datetime(2026, 12, 2, 9, 0, 0, 100_000)
    for offset, name in ((0, "october"), (300, "november")):
        write_run(tmp_path, f"20261202-090000-{name}", {"a.txt": b"A"},
                  {"run": name, "started": start + timedelta(milliseconds=offset)})
    assert [f.name for f in run_folders(tmp_path)] == ["20261202-090000-october", "20261202-090000-november"]
    assert resolve_run("latest", tmp_path).name == "20261202-090000-november"


def test_write_run_cleans_up_after_a_failure(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        write_run(tmp_path, "run", {"a": b"file", "a/b": b"cannot live inside a file"}, {})
    assert list(tmp_path.iterdir()) == []


def test_folder_name() -> None:
    assert folder_name(datetime(2026, 3, 14, 9, 5, 7), "mall") == "20260314-090507-mall"

