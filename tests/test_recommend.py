from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cleaning.pandas import clean
from reportgen.describe.personas import recommend
from reportgen.describe.profiles import profile
from reportgen.describe.rulebook import load_rules, parse_rules
from reportgen.describe.wording import format_value, label_of, unit_of
from reportgen.errors import ConfigError
from reportgen.inputs.roles import read_dataset
from reportgen.segmentation.cluster import fit_segments
from reportgen.segmentation.features import build_features

from .conftest import INCOME, SCORE


def mall_personas(mall_csv: Path, features=(INCOME, SCORE), k=5, rules=None):
    cleaned = clean(read_dataset(mall_csv), features=features)
    profiles = profile(cleaned, fit_segments(build_features(cleaned, scale="none"), k))
    return recommend(profiles, rules or load_rules())


def test_mall_segment_names(mall_csv) -> None:
    personas = mall_personas(mall_csv)
    assert [p.name for p in personas] == [
        "Average income, average spending", "High income, high spending", "High income, low spending",
        "Low income, low spending", "Low income, high spending"]
    assert [p.rule_id for p in personas] == [
        "mainstream-core", "affluent-enthusiasts", "reserved-affluent", "budget-careful", "young-trend-spenders"]
    # (the low-income high spenders are young too: Age is profiled, and the three-condition rule fits them best)
    for persona in personas:
        assert len(persona.recommendations) >= 3
        assert all(r.action and r.channel and r.offer and r.message for r in persona.recommendations)
        assert "{" not in persona.persona
    assert "86 k$" in personas[1].persona or "87 k$" in personas[1].persona
    assert "82/100" in personas[1].persona


def test_names_are_unique_with_many_segments(mall_csv) -> None:
    for k in range(2, 11):
        names = [p.name for p in mall_personas(mall_csv, features=("Age", INCOME, SCORE), k=k)]
        assert len(set(names)) == len(names), names


def test_units_and_labels() -> None:
    assert unit_of(INCOME) == "k$" and unit_of(SCORE) == "" and unit_of("Age") == ""
    assert label_of(INCOME) == "annual income" and label_of("TotalSpend") == "total spend"
    assert format_value(86.54, INCOME) == "87 k$" and format_value(82.1, SCORE) == "82/100"
    assert format_value(1234.0, "Spend ($)") == "$1,234" and format_value(4.25, "Visits") == "4.2"


def test_packaged_rules_are_valid() -> None:
    rules = load_rules()
    assert {c.key for c in rules.concepts} >= {"income", "spending", "age"}
    assert any(not r.when for r in rules.rules)


GOOD = {
    "concepts": {"income": {"match": "income"}},
    "rules": [{"id": "fallback", "when": {}, "persona": "{name}: {size}",
               "recommendations": [{"action": "a", "channel": "c", "offer": "o", "message": "m"}] * 3}],
}


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(extra=1), "unknown top-level key"),
    (lambda d: d["rules"][0].update(persona="{income}"), r"uses \{income\}"),
    (lambda d: d["rules"][0].update(recommendations=d["rules"][0]["recommendations"][:2]), "at least 3"),
    (lambda d: d["rules"][0].update(when={"income": "huge"}), "must be one of"),
    (lambda d: d["rules"][0].update(when={"height": "high"}), "unknown concept 'height'"),
    (lambda d: d["concepts"]["income"].update(match="("), "not a valid regular expression"),
    (lambda d: d["rules"][0].update(when={"income": "high"}), r"fallback rule with when = \{\}"),
])
def test_bad_rules_are_refused(change, message) -> None:
    import copy

    data = copy.deepcopy(GOOD)
    parse_rules(data)  # the unchanged data is valid
    change(data)
    with pytest.raises(ConfigError, match=message):
        parse_rules(data)


def test_rules_file_override(tmp_path: Path, mall_csv) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[concepts.spending]\nmatch = "spend"\nlow = "thrifty"\naverage = "steady"\nhigh = "lavish"\n'
        '[[rules]]\nid = "only"\nwhen = {}\npersona = "Custom persona for {name} ({share})."\n'
        + '[[rules.recommendations]]\naction = "A"\nchannel = "C"\noffer = "O"\nmessage = "M"\n' * 3,
        encoding="utf-8")
    personas = mall_personas(mall_csv, rules=load_rules(path))
    assert personas[1].name == "High annual income, lavish"
    assert personas[1].persona.startswith("Custom persona for High annual income, lavish (20%)")
    assert load_rules(path).source == str(path)


def test_missing_or_broken_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[[rules]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules(tmp_path / "bad.toml")


def test_concepts_match_column_names_written_with_underscores() -> None:
    from reportgen.describe.rulebook import concept_of, load_rules

    concepts = load_rules().concepts
    assert concept_of("days_since_last_order", concepts).key == "recency"
    assert concept_of("DaysSinceLastPurchase", concepts).key == "recency"
    assert concept_of("orders_per_year", concepts).key == "frequency"
    assert concept_of("Annual Income (k$)", concepts).key == "income"
    assert concept_of("Temperature", concepts) is None
