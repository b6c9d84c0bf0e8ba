from __future__ import annotations

import numpy as np

from reportgen.clean import clean
from reportgen.cluster import fit_segments
from reportgen.prepare import build_features
from reportgen.profiles import level_of, profile, summary_statistics
from reportgen.roles import read_dataset

from .conftest import INCOME, SCORE


def test_levels() -> None:
    assert [level_of(z) for z in (-1.2, -0.5, 0.0, 0.49, 0.5, float("nan"))] == [
        "low", "low", "average", "average", "high", "average"]


def test_mall_profiles(mall_csv) -> None:
    cleaned = clean(read_dataset(mall_csv), features=(INCOME, SCORE))
    seg = fit_segments(build_features(cleaned, scale="none"), 5)
    profiles = profile(cleaned, seg)
    assert [p.size for p in profiles.segments] == [81, 39, 35, 23, 22]
    assert abs(sum(p.share for p in profiles.segments) - 1) < 1e-12
    assert profiles.numeric == (INCOME, SCORE, "Age")  # Age is profiled though not clustered
    top = profiles.segments[1]  # 39 customers: high income, high spending
    assert top.levels[INCOME] == "high" and top.levels[SCORE] == "high"
    assert round(top.means[INCOME], 1) == 86.5 and round(top.means[SCORE], 1) == 82.1
    mix = top.categories["Gender"]
    assert abs(sum(mix.values()) - 1) < 1e-12 and set(mix) == {"Female", "Male"}
    np.testing.assert_allclose(profiles.overall_means[INCOME], 60.56)


def test_summary_statistics(mall_csv) -> None:
    cleaned = clean(read_dataset(mall_csv), features=("Age", INCOME, SCORE))
    stats = {row.name: row for row in summary_statistics(cleaned)}
    assert stats["Age"].min == 18 and stats["Age"].max == 70 and stats["Age"].count == 200
    assert stats[INCOME].median == 61.5
