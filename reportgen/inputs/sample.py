"""The project's seeded generator of sample customer tables (the bundled ``data/sample_customers.csv``).

Same columns as the Kaggle Mall Customers table, with five planted segments (income x spending, each with its
own age and gender mix) and, optionally, a few dirty values so that the cleaning account has work to show.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)")
DEFAULT_ROWS = 300
DEFAULT_SEED = 20261125
SAMPLE_NAME = "sample_customers.csv"

# share, income mean/sd, spending mean/sd, age mean/sd, share female
PLANTED = (
    ("mainstream", 0.40, 55, 8, 50, 7, 44, 8, 0.58),
    ("affluent enthusiasts", 0.19, 87, 11, 82, 8, 32, 5, 0.54),
    ("reserved affluent", 0.18, 88, 11, 17, 9, 43, 9, 0.46),
    ("aspirational", 0.115, 26, 7, 79, 9, 24, 4, 0.62),
    ("budget", 0.115, 26, 7, 21, 10, 50, 9, 0.61),
)


def generate_customers(rows: int = DEFAULT_ROWS, *, seed: int = DEFAULT_SEED, dirty: bool = True,
                       truth: bool = False) -> pd.DataFrame:
    """A customer table with planted segments. ``truth=True`` adds the ``planted`` segment column."""
    rng = np.random.default_rng(seed)
    shares = np.array([p[1] for p in PLANTED])
    planted = rng.choice(len(PLANTED), size=rows, p=shares / shares.sum())
    params = np.array([p[2:] for p in PLANTED], dtype=float)[planted]
    income = np.clip(rng.normal(params[:, 0], params[:, 1]), 15, 140).round()
    spending = np.clip(rng.normal(params[:, 2], params[:, 3]), 1, 100).round()
    age = np.clip(rng.normal(params[:, 4], params[:, 5]), 18, 70).round()
    gender = np.where(rng.random(rows) < params[:, 6], "Female", "Male")
    frame = pd.DataFrame({
        "CustomerID": np.arange(1, rows + 1),
        "Gender": gender,
        "Age": age.astype(int),
        "Annual Income (k$)": income.astype(int),
        "Spending Score (1-100)": spending.astype(int),
    })
    if truth:
        frame["planted"] = [PLANTED[i][0] for i in planted]
    if dirty and rows >= 50:
        frame = _make_dirty(frame, rng)
    return frame


def _make_dirty(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A few realistic problems: unreadable and impossible ages, a missing score, odd spellings, copies."""
    frame = frame.astype({"Age": object, "Spending Score (1-100)": object, "Gender": object})
    picks = rng.choice(len(frame), size=6, replace=False)
    frame.loc[picks[0], "Age"] = "?"
    frame.loc[picks[1], "Age"] = -frame.loc[picks[1], "Age"]
    frame.loc[picks[2], "Spending Score (1-100)"] = np.nan
    frame.loc[picks[3], "Gender"] = "female "
    frame.loc[picks[4], "Gender"] = "MALE"
    copies = frame.iloc[rng.choice(len(frame), size=2, replace=False)]
    return pd.concat([frame, copies], ignore_index=True)


def sample_path() -> Path:
    """The bundled sample: inside the installed package, or ``data/`` of a source checkout."""
    packaged = Path(str(resources.files("reportgen"))) / "sample_data" / SAMPLE_NAME
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / SAMPLE_NAME


def sample_csv(rows: int = DEFAULT_ROWS, *, seed: int = DEFAULT_SEED, dirty: bool = True) -> bytes:
    """The CSV bytes of a generated table (``\\n`` line ends: byte-identical for the same arguments)."""
    frame = generate_customers(rows, seed=seed, dirty=dirty)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
