"""Name every segment, and give each its own persona and marketing recommendations from the rules
(:mod:`reportgen.describe.rulebook`).

Names come from the levels of the features that set a segment apart ("High spending, frequent, recently active").
Rules are chosen for all segments at once, as an assignment (scipy's ``linear_sum_assignment``): each rule tells
the story of at most one segment, and each segment gets the rule that fits what distinguishes it best, so two
segments never share a persona or a headline recommendation. A rule fits a segment when its ``when`` conditions
hold and none of its ``unless`` conditions do; the fit is the sum of how far the segment stands out on the
rule's columns (a schema 1 rules file keeps its old way: each segment its most specific rule, the fallback for
every segment no other fits). A segment no rule fits at the usual threshold (0.5 standard deviations) is tried
again at lower ones (it still differs from the others in that direction); the fallback rule (``when = {}``) goes
to the segment closest to the average customer; a segment left over after that gets a story written from the
column that sets it apart most.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

import numpy as np

from ..model import Persona, Profiles, Recommendation, SegmentProfile, Wording
from .profiles import level_of
from .rulebook import RECOMMENDATION_KEYS, Concept, Rule, Rules, concept_of
from .wording import capitalise, highlight, join, label_of, quoted, trait

THRESHOLDS = (0.5, 0.25, 0.1)  # a rule's levels are tried at these distances (standard deviations) in turn
INFEASIBLE = -1e9


# ----------------------------------------------------------------------------- names
def _phrase(column: str, level: str, concepts: tuple[Concept, ...], wording: Wording | None) -> str:
    concept = concept_of(column, concepts)
    if concept is not None:
        return concept.words[level]
    return f"{level} {label_of(column, wording)}"


MOSTLY = 0.8  # a clustered category names a segment when this share of it has one level ...
MOSTLY_ABOVE = 0.2  # ... that many points above its share of all customers


def category_phrase(seg: SegmentProfile, column: str, overall: Mapping[str, float],
                    wording: Wording | None = None) -> str | None:
    """"mostly Female", "mostly region code 3": a clustered categorical column whose most common level in the
    segment stands out (:data:`MOSTLY`, :data:`MOSTLY_ABOVE`); None otherwise."""
    shares = seg.categories.get(column, {})
    if not shares:
        return None
    level, share = next(iter(shares.items()))  # most common first
    if share < MOSTLY or share - overall.get(level, 0.0) < MOSTLY_ABOVE:
        return None
    plain = not re.fullmatch(r"[-+]?\d+(\.\d+)?", level) and level.casefold() not in ("yes", "no", "true", "false")
    return f"mostly {level}" if plain else f"mostly {label_of(column, wording)} {level}"


def base_name(seg: SegmentProfile, features: tuple[str, ...], rules: Rules,
              categories: Mapping[str, Mapping[str, float]] | None = None, wording: Wording | None = None) -> str:
    """All features when there are at most three; otherwise the (up to) three that stand out most; then each
    clustered categorical column (``categories``: column -> its shares over all customers) whose level stands
    out."""
    if len(features) <= 3:
        shown = list(features)
    else:
        standing = [f for f in features if seg.levels[f] != "average"]
        shown = sorted(standing, key=lambda f: -abs(seg.z[f]))[:3]
        shown = [f for f in features if f in shown]  # keep column order
    extra = [p for p in (category_phrase(seg, c, overall, wording) for c, overall in (categories or {}).items())
             if p]
    if not shown and not extra:
        return rules.typical
    phrases = dict.fromkeys(_phrase(f, seg.levels[f], rules.concepts, wording) for f in shown)  # two money columns
    return capitalise(", ".join([*phrases, *extra]))


def unique_names(profiles: Profiles, rules: Rules, wording: Wording | None = None) -> dict[int, str]:
    """A distinct name per segment: base names, then a qualifier where two segments would share one."""
    clustered = {c: profiles.overall_categories.get(c, {}) for c in profiles.clustered_categories}
    names = {seg.segment: base_name(seg, profiles.features, rules, clustered, wording) for seg in profiles.segments}
    by_number = {seg.segment: seg for seg in profiles.segments}
    for name in sorted(set(names.values())):
        group = [n for n, v in names.items() if v == name]
        if len(group) < 2:
            continue
        for number in group:
            seg = by_number[number]
            others = [by_number[o] for o in group if o != number]

            def gap(column: str, seg: SegmentProfile = seg, others: list[SegmentProfile] = others) -> float:
                return seg.z[column] - sum(o.z[column] for o in others) / len(others)

            column = max(profiles.numeric, key=lambda c: abs(gap(c)))
            names[number] = f"{name} ({'higher' if gap(column) > 0 else 'lower'} {label_of(column, wording)})"
    counts = Counter(names.values())
    return {number: f"{name} #{number}" if counts[name] > 1 else name for number, name in names.items()}


# ----------------------------------------------------------------------------- choosing the rules
def concept_columns(profiles: Profiles, concepts: tuple[Concept, ...]) -> dict[str, str]:
    """Concept key -> the column that stands for it: the first feature that matches, else the first other profiled
    numeric column."""
    columns: dict[str, str] = {}
    for column in (*profiles.features, *(c for c in profiles.numeric if c not in profiles.features)):
        concept = concept_of(column, concepts)
        if concept is not None and concept.key not in columns and column in profiles.numeric:
            columns[concept.key] = column
    return columns


def fit(seg: SegmentProfile, rule: Rule, columns: Mapping[str, str], threshold: float) -> float | None:
    """How well ``rule`` tells ``seg``'s story (None: it does not apply): the segment's distance from the average on
    each of the rule's "high" or "low" columns, and its closeness to it on each "average" one, plus a little for
    each condition (a specific rule beats a general one)."""
    score = 0.0
    for key, level in rule.when.items():
        column = columns.get(key)
        if column is None or level_of(seg.z[column], threshold) != level:
            return None
        z = abs(float(seg.z[column]))
        score += (max(0.0, threshold - z) if level == "average" else z) + 0.25
    if any(key in columns and seg.levels[columns[key]] == level for key, level in rule.unless.items()):
        return None
    return score


def _or_infeasible(score: float | None) -> float:
    return INFEASIBLE if score is None else score


def assign_rules(profiles: Profiles, rules: Rules) -> dict[int, Rule | None]:
    """Each segment's rule, chosen across all segments (see the module's docstring); None: no rule is left."""
    from scipy.optimize import linear_sum_assignment

    columns = concept_columns(profiles, rules.concepts)
    if rules.schema == 1:  # a schema 1 file: each segment its most specific rule that holds (the first on a tie)
        return {s.segment: max((r for r in rules.rules if fit(s, r, columns, THRESHOLDS[0]) is not None),
                               key=lambda r: len(r.when)) for s in profiles.segments}
    specific = [r for r in rules.rules if r.when]
    chosen: dict[int, Rule | None] = {}
    for threshold in THRESHOLDS:
        open_segments = [s for s in profiles.segments if s.segment not in chosen]
        free = [r for r in specific if r not in chosen.values()]
        if not open_segments or not free:
            break
        scores = np.array([[_or_infeasible(fit(s, r, columns, threshold)) for r in free] for s in open_segments])
        for i, j in zip(*linear_sum_assignment(scores, maximize=True), strict=True):
            if scores[i, j] > INFEASIBLE / 2:
                chosen[open_segments[i].segment] = free[j]
    fallback = next(r for r in rules.rules if not r.when)
    left = [s for s in profiles.segments if s.segment not in chosen]
    if left:
        closest = min(left, key=lambda s: float(sum(float(z) ** 2 for z in s.z.values() if np.isfinite(z))))
        chosen[closest.segment] = fallback
    return {s.segment: chosen.get(s.segment) for s in profiles.segments}


def own_rule(seg: SegmentProfile, profiles: Profiles, taken: set[str], wording: Wording | None) -> Rule:
    """A story for a segment no rule is left for, from the column that sets it apart most (whose headline no other
    segment has)."""
    ordered = sorted((c for c in profiles.numeric if np.isfinite(seg.z[c])), key=lambda c: -abs(seg.z[c]))
    for column in ordered or list(profiles.numeric):
        more = "higher" if seg.z[column] > 0 else "lower"
        label = label_of(column, wording)
        action = f"Find out why their {label} is {more} than other customers'"
        if action not in taken:
            break
    recommendations = (
        Recommendation(action=action, channel="A two-minute survey of this segment, by email",
                       offer="A thank-you voucher for every answer",
                       message="Two minutes to tell us what matters to you, and a thank-you from us."),
        Recommendation(action=f"Test an offer built on their {more} {label} on half of them",
                       channel="Email, the other half of the segment as a control group",
                       offer="The offer the survey's answers point to, for four weeks",
                       message="Picked for you, from what customers like you told us."),
        Recommendation(action="Keep the offer that beat the control group",
                       channel="Next month's report: the two halves side by side",
                       offer="Roll out the winning offer to the whole segment",
                       message="More of what you told us you wanted."),
    )
    return Rule(id=f"own-{seg.segment}", when={}, persona="{name}: {size} customers ({share}). {traits} {context}",
                recommendations=recommendations)


# ----------------------------------------------------------------------------- writing
def _context(seg: SegmentProfile, profiles: Profiles, wording: Wording | None) -> str:
    """What else sets the segment apart: profiled numeric columns that are not features, and categories that
    are at least 10 points more common than overall."""
    others = sorted((c for c in profiles.numeric if c not in profiles.features and seg.levels[c] != "average"),
                    key=lambda c: -abs(seg.z[c]))
    text = ("Also: " + join([trait(seg, profiles, c, wording) for c in others]) + ".") if others else ""
    more = []
    for column in profiles.categorical:
        mix, overall = seg.categories.get(column, {}), profiles.overall_categories.get(column, {})
        if not mix:
            continue
        top = max(mix, key=lambda v: (mix[v] - overall.get(v, 0.0), v))
        if mix[top] - overall.get(top, 0.0) >= 0.10:
            more.append(f"{label_of(column, wording)} {top} ({mix[top]:.0%} vs {overall.get(top, 0.0):.0%} of all "
                        "customers)")
    if more:
        text += (" " if text else "") + "More of them have " + join(more) + "."
    return text


def kpi_of(rule: Rule, profiles: Profiles, rules: Rules) -> tuple[str, str]:
    """The column (and its good direction) whose KPI the rule's headline action aims to move: the rule's ``kpi``
    concept, else the first of its conditions with a good direction, else a money column, else the first profiled
    column with a good direction; ("", "") without any."""
    columns = concept_columns(profiles, rules.concepts)
    by_key = {c.key: c for c in rules.concepts}
    keys = [rule.kpi] if rule.kpi else []
    keys += [k for k in rule.when if by_key[k].good]
    keys += [c.key for c in rules.concepts if c.money] + [c.key for c in rules.concepts if c.good]
    for key in keys:
        if key in columns and by_key[key].good:
            return columns[key], str(by_key[key].good)
    return "", ""


def write_persona(seg: SegmentProfile, name: str, profiles: Profiles, rules: Rules, rule: Rule,
                  wording: Wording | None = None) -> Persona:
    columns = concept_columns(profiles, rules.concepts)
    standing = sorted((c for c in profiles.features if seg.levels[c] != "average"), key=lambda c: -abs(seg.z[c]))
    traits = [trait(seg, profiles, c, wording) for c in standing]
    values = {
        "name": name, "size": f"{seg.size:,}", "share": f"{seg.share:.0%}",
        "traits": ("What sets them apart: " + join(traits) + ".") if traits
        else "They sit close to the average customer on every feature.",
        "context": _context(seg, profiles, wording),
        **{key: quoted(seg, profiles, column, wording) for key, column in columns.items()},
    }
    text = " ".join(rule.persona.format_map(values).split())
    recommendations = tuple(
        Recommendation(**{k: " ".join(getattr(r, k).format_map(values).split()) for k in RECOMMENDATION_KEYS})
        for r in rule.recommendations)
    ordered = sorted(profiles.features, key=lambda c: -abs(seg.z[c]))
    ordered += sorted((c for c in profiles.numeric if c not in profiles.features), key=lambda c: -abs(seg.z[c]))
    column, good = kpi_of(rule, profiles, rules)
    return Persona(segment=seg.segment, name=name, persona=text, recommendations=recommendations,
                   rule_id=rule.id, traits=tuple(traits),
                   highlights=tuple(highlight(seg, profiles, c, wording) for c in ordered
                                    if seg.levels[c] != "average"),
                   kpi_column=column, kpi_good=good)


def recommend(profiles: Profiles, rules: Rules, *, names: Mapping[int, str] | None = None,
              wording: Wording | None = None) -> tuple[Persona, ...]:
    """Name, persona and recommendations for every segment. ``names`` fixes the names of some segments (those
    that keep a baseline run's identity); the others are named from their profile, distinct from those."""
    fixed = dict(names or {})
    generated = unique_names(profiles, rules, wording)
    taken = set(fixed.values())
    named = {}
    for number, name in generated.items():
        if number in fixed:
            named[number] = fixed[number]
        else:
            named[number] = name if name not in taken else f"{name} (new)"
            taken.add(named[number])
    assigned = assign_rules(profiles, rules)
    headlines = {r.recommendations[0].action for r in assigned.values() if r is not None}
    out = []
    for seg in profiles.segments:
        rule = assigned[seg.segment]
        if rule is None:
            rule = own_rule(seg, profiles, headlines, wording)
            headlines.add(rule.recommendations[0].action)
        out.append(write_persona(seg, named[seg.segment], profiles, rules, rule, wording))
    return tuple(out)
