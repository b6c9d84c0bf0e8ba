from __future__ import annotations

from dataclasses import replace

import numpy as np

from reportgen.cleaning.pandas import clean
from reportgen.describe.profiles import level_of, profile, summary_statistics
from reportgen.inputs.roles import read_dataset
from reportgen.segmentation.cluster import fit_segments
from reportgen.segmentation.features import build_features

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


def test_a_feature_clustered_on_a_log_scale_is_profiled_on_it() -> None:
    """Ten big spenders make the mean of a heavy-tailed column: on the raw scale the regular customers look
    average; on the log scale (as the clustering saw them) they stand out, and the report quotes medians."""
    from reportgen.describe.wording import highlight

    rng = np.random.default_rng(2)
    spend = np.concatenate([rng.lognormal(np.log(100), 0.2, 150), rng.lognormal(np.log(900), 0.2, 140),
                            np.full(10, 200_000.0)])
    rows = "\n".join(f"{i},{v:.2f},{i % 7}" for i, v in enumerate(spend, start=1))
    cleaned = clean(read_dataset(f"id,annual_spend,other\n{rows}\n".encode()), features=("annual_spend",))
    seg = fit_segments(build_features(cleaned, scale="standard", transform="none", outliers="keep"), 2)
    labels = np.where(spend > 400, 2, 1)  # 1: the small spenders, 2: the regulars and the ten big ones
    seg = replace(seg, labels=labels, sizes=(150, 150))
    raw = profile(cleaned, seg)
    logged = profile(cleaned, seg, ("annual_spend",))
    assert raw.segments[0].levels["annual_spend"] == "average"  # the big ten inflate the overall mean and std
    assert logged.segments[0].levels["annual_spend"] == "low" and logged.segments[1].levels["annual_spend"] == "high"
    assert logged.logged == ("annual_spend",)
    assert logged.segments[1].typical["annual_spend"] == logged.segments[1].medians["annual_spend"]
    assert logged.overall_typical["annual_spend"] == logged.overall_medians["annual_spend"]
    assert raw.segments[1].typical["annual_spend"] == raw.segments[1].means["annual_spend"]
    assert highlight(logged.segments[1], logged, "annual_spend").startswith("median annual spend ")
