"""Shared fixtures: the Mall data (required when CI=true), small synthetic tables, a fixed clock."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from reportgen.cli.group import cli

# A chart that cannot be drawn is left out of a user's report with a warning; in the tests it raises, so that a
# chart bug never hides behind a complete-looking report (the chart processes inherit this too).
os.environ.setdefault("REPORTGEN_STRICT", "1")

ROOT = Path(__file__).resolve().parents[1]
MALL = ROOT.parent / "shared" / "data" / "Mall_Customers.csv"
INCOME = "Annual Income (k$)"
SCORE = "Spending Score (1-100)"


@pytest.fixture(scope="session")
def mall_csv() -> Path:
    """../shared/data/Mall_Customers.csv; a missing file fails the run under CI=true instead of skipping."""
    if not MALL.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the Mall data is missing at {MALL}")
        pytest.skip(f"Mall data not found at {MALL}")
    return MALL


def shared_file(name: str) -> Path:
    """A file of ../shared/data; missing, it fails the run under CI=true instead of skipping."""
    path = ROOT.parent / "shared" / "data" / name
    if not path.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {name} is missing at {path}")
        pytest.skip(f"{name} not found at {path}")
    return path


@pytest.fixture(scope="session")
def skewed_csv() -> Path:
    """../shared/data/skewed_customers.csv: 3,000 customers with the traps of a CRM export."""
    return shared_file("skewed_customers.csv")


@pytest.fixture(scope="session")
def skewed_truth() -> pd.DataFrame:
    """The planted segments of skewed_customers.csv (CustomerNo, planted_segment, corporate_outlier)."""
    return pd.read_csv(shared_file("skewed_customers_truth.csv"))


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 14, 9, 30, 0, tzinfo=timezone(timedelta(hours=1)))


def make_blobs_frame(n: int = 240, k: int = 3, seed: int = 7) -> pd.DataFrame:
    """Well-separated blobs with an ID, a categorical column and two features."""
    rng = np.random.default_rng(seed)
    centers = np.array([[20, 20], [80, 25], [50, 85], [15, 75], [85, 80]])[:k]
    labels = rng.integers(0, k, size=n)
    points = centers[labels] + rng.normal(0, 4, size=(n, 2))
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "Region": rng.choice(["North", "South"], size=n),
        "Annual Income (k$)": points[:, 0].round(1),
        "Spending Score (1-100)": np.clip(points[:, 1], 1, 100).round(1),
    })


@pytest.fixture
def blobs_csv(tmp_path: Path) -> Path:
    path = tmp_path / "blobs.csv"
    make_blobs_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI in tmp_path (so output/ lands there)."""
    monkeypatch.chdir(tmp_path)

    def call(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None):
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return call


def run_folders(root: Path) -> list[Path]:
    """Every entry under an output root, hidden temporary folders included."""
    return sorted(root.iterdir()) if root.exists() else []
