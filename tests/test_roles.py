"""Column roles on small frames: what is an ID, a code, a flag, and which numeric columns are clustered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.inputs.roles import infer_roles, read_dataset
from reportgen.segmentation.features import choose_features


def roles(frame: pd.DataFrame) -> dict[str, tuple[str, bool, str]]:
    return {c.name: (c.role, c.feature, c.why) for c in infer_roles(frame)}


def _frame(n: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "spend": rng.gamma(2.0, 300.0, n).round(2),
        "visits": rng.integers(0, 40, n),
    })


def test_a_long_unique_number_is_an_id_even_without_an_id_name() -> None:
    frame = _frame().assign(account=np.random.default_rng(3).choice(np.arange(400_000_000, 500_000_000), 300,
                                                                    replace=False))
    role, feature, why = roles(frame)["account"]
    assert role == "id" and not feature and "9-digit" in why
    assert "account" not in choose_features(read_dataset(frame.to_csv(index=False).encode()))


def test_unique_short_numbers_of_several_lengths_are_not_an_id() -> None:
    frame = _frame().assign(income=np.random.default_rng(4).choice(np.arange(500, 200_000), 300, replace=False))
    assert roles(frame)["income"][:2] == ("numeric", True)


def test_a_few_small_integer_codes_are_categories() -> None:
    rng = np.random.default_rng(5)
    frame = _frame().assign(region_code=rng.integers(1, 5, 300), Channel=rng.integers(1, 3, 300),
                            segment=rng.integers(1, 4, 300), children=rng.integers(0, 4, 300))
    found = roles(frame)
    assert found["region_code"][0] == "categorical" and "named like a code" in found["region_code"][2]
    assert found["Channel"][0] == "categorical"
    assert found["segment"][0] == "categorical"
    assert found["children"][:2] == ("numeric", True)  # a count, named like one
    assert found["visits"][:2] == ("numeric", True)


def test_unnamed_consecutive_codes_are_categories_but_a_score_is_not() -> None:
    rng = np.random.default_rng(6)
    frame = _frame().assign(kind=rng.integers(1, 4, 300), **{"Rating (1-5)": rng.integers(1, 6, 300)})
    found = roles(frame)
    assert found["kind"][0] == "categorical" and "consecutive" in found["kind"][2]
    assert found["Rating (1-5)"][:2] == ("numeric", True)


def test_a_0_1_flag_is_profiled_not_clustered() -> None:
    frame = _frame().assign(newsletter=np.random.default_rng(7).integers(0, 2, 300))
    role, feature, why = roles(frame)["newsletter"]
    assert (role, feature, why) == ("categorical", False, "a 0/1 flag")


def test_an_almost_constant_column_is_not_clustered() -> None:
    frame = _frame().assign(plan=np.where(np.arange(300) < 290, 10, np.arange(300)))
    role, feature, why = roles(frame)["plan"]
    assert role == "numeric" and not feature and "almost constant (97% of the rows are 10)" in why


def test_a_column_mostly_not_applicable_is_profiled_only() -> None:
    rng = np.random.default_rng(8)
    days = np.where(rng.random(300) < 0.8, -1, rng.integers(1, 700, 300))
    frame = _frame().assign(days_since_complaint=days)
    role, feature, why = roles(frame)["days_since_complaint"]
    assert role == "numeric" and not feature and "-1 (a 'not applicable' code)" in why
    mostly_blank = _frame().assign(score=np.where(rng.random(300) < 0.6, np.nan, rng.normal(50, 10, 300)))
    assert roles(mostly_blank)["score"][1] is False


def test_negative_values_are_values_not_sentinels() -> None:
    rng = np.random.default_rng(9)
    balance = rng.normal(500, 800, 300).round(2)  # about a quarter overdrawn
    balance[:60] = -1.0  # -1 among other negative values is a balance, not a code
    assert roles(_frame().assign(balance=balance))["balance"][:2] == ("numeric", True)
