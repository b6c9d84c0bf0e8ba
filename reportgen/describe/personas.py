"""Name every segment, write its persona and its marketing recommendations, from an editable rules file.

The rules live in TOML (``reportgen/rules/default.toml``, overridable with ``--rules FILE``):

* ``[concepts.<key>]`` recognise a kind of column by a regular expression on its name (income, spending, age...)
  and say how to name its levels ("high income");
* ``[[rules]]`` give a persona and at least three recommendations for segments whose concepts are at given
  levels (``when = { income = "high", spending = "low" }``). The most specific matching rule wins (most
  conditions; the first in the file on a tie); a rule with ``when = {}`` is the fallback and must exist.

Texts may use ``{name}``, ``{size}``, ``{share}``, ``{traits}``, ``{context}`` and ``{<concept>}`` for every
concept in the rule's ``when`` (the segment's mean in the column's unit).
"""

from __future__ import annotations

import re
import string
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..model import Persona, Profiles, Recommendation, SegmentProfile

LEVELS = ("low", "average", "high")
BASE_FIELDS = frozenset({"name", "size", "share", "traits", "context"})
RECOMMENDATION_KEYS = ("action", "channel", "offer", "message")
MIN_RECOMMENDATIONS = 3


@dataclass(frozen=True)
class Concept:
    key: str
    pattern: re.Pattern[str]
    label: str
    words: Mapping[str, str]  # level -> phrase, e.g. "high" -> "high income"


@dataclass(frozen=True)
class Rule:
    id: str
    when: Mapping[str, str]
    persona: str
    recommendations: tuple[Recommendation, ...]


@dataclass(frozen=True)
class Rules:
    source: str
    concepts: tuple[Concept, ...]
    rules: tuple[Rule, ...]
    typical: str
    # the named RFM segments of a transaction log's customers: (name, R scores, F scores, what to do); empty: the
    # packaged grid (rfm.RFM_SEGMENTS)
    rfm: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = ()


def default_rules_path() -> Path:
    return Path(str(resources.files("reportgen") / "rules" / "default.toml"))


def _fields(text: str) -> set[str]:
    try:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError as exc:
        raise ValueError(f"bad placeholder: {exc}") from exc


def load_rules(path: Path | None = None) -> Rules:
    """Read and validate a rules file (the packaged default without ``path``). Raises :class:`ConfigError`."""
    path = path or default_rules_path()
    where = f"rules file {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where} not found", hint="Check the --rules path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {where}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}", hint="Fix the syntax.") from exc
    return parse_rules(data, source=str(path))


def _require(condition: bool, message: str, where: str) -> None:
    if not condition:
        raise ConfigError(f"{where}: {message}",
                          hint="See the packaged rules (reportgen rules) for the expected layout.")


def parse_rules(data: Mapping[str, Any], *, source: str = "<rules>") -> Rules:
    where = f"rules file {source}"
    unknown = set(data) - {"schema", "typical", "concepts", "rules", "rfm"}
    _require(not unknown, f"unknown top-level key(s) {sorted(unknown)}", where)
    concepts = []
    for key, body in dict(data.get("concepts", {})).items():
        at = f"{where} [concepts.{key}]"
        _require(isinstance(body, dict), "must be a table", at)
        extra = set(body) - {"match", "label", *LEVELS}
        _require(not extra, f"unknown keys {sorted(extra)}", at)
        _require(isinstance(body.get("match"), str), "needs match = \"<regular expression>\"", at)
        try:
            pattern = re.compile(body["match"], re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"{at}: match is not a valid regular expression: {exc}") from exc
        words = {level: str(body.get(level, f"{level} {body.get('label', key)}")) for level in LEVELS}
        concepts.append(Concept(key=key, pattern=pattern, label=str(body.get("label", key)), words=words))
    known = {c.key for c in concepts}
    rules = []
    for index, body in enumerate(data.get("rules", []), start=1):
        at = f"{where} rule {index} ({body.get('id', 'no id')})"
        _require(isinstance(body, dict), "must be a table", at)
        extra = set(body) - {"id", "when", "persona", "recommendations"}
        _require(not extra, f"unknown keys {sorted(extra)}", at)
        _require(isinstance(body.get("id"), str) and body["id"], "needs id = \"...\"", at)
        when = dict(body.get("when", {}))
        for concept, level in when.items():
            _require(concept in known, f"when names unknown concept {concept!r} (known: {sorted(known)})", at)
            _require(level in LEVELS, f"when {concept} = {level!r} must be one of {list(LEVELS)}", at)
        _require(isinstance(body.get("persona"), str), "needs persona = \"...\"", at)
        recs = body.get("recommendations", [])
        _require(isinstance(recs, list) and len(recs) >= MIN_RECOMMENDATIONS,
                 f"needs at least {MIN_RECOMMENDATIONS} [[rules.recommendations]]", at)
        allowed = BASE_FIELDS | set(when)
        texts = [body["persona"]]
        parsed_recs = []
        for rec in recs:
            _require(isinstance(rec, dict) and set(rec) == set(RECOMMENDATION_KEYS),
                     f"each recommendation needs exactly {', '.join(RECOMMENDATION_KEYS)}", at)
            texts.extend(str(rec[k]) for k in RECOMMENDATION_KEYS)
            parsed_recs.append(Recommendation(**{k: str(rec[k]) for k in RECOMMENDATION_KEYS}))
        for text in texts:
            try:
                used = _fields(text)
            except ValueError as exc:
                raise ConfigError(f"{at}: {exc} in {text[:40]!r}") from exc
            _require(used <= allowed, f"uses {{{', '.join(sorted(used - allowed))}}}; allowed here: "
                     + ", ".join("{" + f + "}" for f in sorted(allowed)), at)
        rules.append(Rule(id=body["id"], when=when, persona=body["persona"], recommendations=tuple(parsed_recs)))
    ids = [r.id for r in rules]
    _require(len(ids) == len(set(ids)), "rule ids must be unique", where)
    _require(any(not r.when for r in rules), "needs a fallback rule with when = {}", where)
    return Rules(source=source, concepts=tuple(concepts), rules=tuple(rules),
                 typical=str(data.get("typical", "Typical customers")), rfm=_rfm_segments(data.get("rfm", []), where))


def _score_range(value: Any, key: str, at: str) -> tuple[int, int]:
    _require(isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and 1 <= v <= 5 for v in value)
             and value[0] <= value[1], f"{key} must be [low, high] scores from 1 to 5, e.g. [4, 5]", at)
    return int(value[0]), int(value[1])


def _rfm_segments(entries: Any, where: str) -> tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...]:
    """The [[rfm]] segments: each names the recency and frequency scores it covers; every (R, F) cell needs one."""
    if not entries:
        return ()
    segments = []
    for index, body in enumerate(entries, start=1):
        at = f"{where} [[rfm]] {index}"
        _require(isinstance(body, dict) and set(body) == {"name", "recency", "frequency", "action"},
                 "needs exactly name, recency, frequency and action", at)
        segments.append((str(body["name"]), _score_range(body["recency"], "recency", at),
                         _score_range(body["frequency"], "frequency", at), str(body["action"])))
    unnamed = [f"R{r}F{f}" for r in range(1, 6) for f in range(1, 6)
               if not any(rl <= r <= rh and fl <= f <= fh for _, (rl, rh), (fl, fh), _ in segments)]
    _require(not unnamed, f"the [[rfm]] segments leave {', '.join(unnamed)} without a name", where)
    return tuple(segments)


# ----------------------------------------------------------------------------- wording helpers
def unit_of(column: str) -> str:
    """``"Annual Income (k$)"`` -> ``"k$"``; a stated range such as ``(1-100)`` is not a unit."""
    match = re.search(r"\(([^)]*)\)\s*$", column)
    if not match or re.fullmatch(r"\s*-?\d+(\.\d+)?\s*[-–]\s*-?\d+(\.\d+)?\s*", match.group(1)):
        return ""
    return match.group(1).strip()


def label_of(column: str) -> str:
    """``"Annual Income (k$)"`` -> ``"annual income"``."""
    text = re.sub(r"\([^)]*\)", "", column)
    text = re.sub(r"[_\s]+", " ", text).strip()
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return text.lower() or column


def format_value(value: float, column: str) -> str:
    """A segment average as prose shows it: ``87 k$``, ``$1,200``, ``82/100``, ``4.5``; ``–`` for none."""
    if value is None or not np.isfinite(value):
        return "–"
    unit = unit_of(column)
    digits = 0 if abs(value) >= 10 or float(value).is_integer() else 1
    text = f"{value:,.{digits}f}"
    stated = re.search(r"\(\s*-?\d+(?:\.\d+)?\s*[-–]\s*(-?\d+(?:\.\d+)?)\s*\)", column)
    if stated:
        return f"{text}/{stated.group(1)}"
    if unit in ("$", "€", "£"):
        return f"{unit}{text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def concept_of(column: str, concepts: tuple[Concept, ...]) -> Concept | None:
    """The first concept whose pattern matches the column's name, as written or as words (``days_since_last_order``
    is "days since last order")."""
    words = label_of(column)
    return next((c for c in concepts if c.pattern.search(column) or c.pattern.search(words)), None)


def _phrase(column: str, level: str, concepts: tuple[Concept, ...]) -> str:
    concept = concept_of(column, concepts)
    if concept is not None:
        return concept.words[level]
    return f"{level} {label_of(column)}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


MOSTLY = 0.8  # a clustered category names a segment when this share of it has one level ...
MOSTLY_ABOVE = 0.2  # ... that many points above its share of all customers


def category_phrase(seg: SegmentProfile, column: str, overall: Mapping[str, float]) -> str | None:
    """"mostly Female", "mostly region code 3": a clustered categorical column whose most common level in the
    segment stands out (:data:`MOSTLY`, :data:`MOSTLY_ABOVE`); None otherwise."""
    shares = seg.categories.get(column, {})
    if not shares:
        return None
    level, share = next(iter(shares.items()))  # most common first
    if share < MOSTLY or share - overall.get(level, 0.0) < MOSTLY_ABOVE:
        return None
    plain = not re.fullmatch(r"[-+]?\d+(\.\d+)?", level) and level.casefold() not in ("yes", "no", "true", "false")
    return f"mostly {level}" if plain else f"mostly {label_of(column)} {level}"


def base_name(seg: SegmentProfile, features: tuple[str, ...], rules: Rules,
              categories: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """All features when there are at most three; otherwise the (up to) three that stand out most; then each
    clustered categorical column (``categories``: column -> its shares over all customers) whose level stands
    out."""
    if len(features) <= 3:
        shown = list(features)
    else:
        standing = [f for f in features if seg.levels[f] != "average"]
        shown = sorted(standing, key=lambda f: -abs(seg.z[f]))[:3]
        shown = [f for f in features if f in shown]  # keep column order
    extra = [p for p in (category_phrase(seg, c, overall) for c, overall in (categories or {}).items()) if p]
    if not shown and not extra:
        return rules.typical
    phrases = dict.fromkeys(_phrase(f, seg.levels[f], rules.concepts) for f in shown)  # two money columns: once
    return _capitalise(", ".join([*phrases, *extra]))


def unique_names(profiles: Profiles, rules: Rules) -> dict[int, str]:
    """A distinct name per segment: base names, then a qualifier where two segments would share one."""
    clustered = {c: profiles.overall_categories.get(c, {}) for c in profiles.clustered_categories}
    names = {seg.segment: base_name(seg, profiles.features, rules, clustered) for seg in profiles.segments}
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
            names[number] = f"{name} ({'higher' if gap(column) > 0 else 'lower'} {label_of(column)})"
    counts = Counter(names.values())
    return {number: f"{name} #{number}" if counts[name] > 1 else name for number, name in names.items()}


def typical(seg: SegmentProfile, profiles: Profiles, column: str) -> tuple[str, str]:
    """The segment's and all customers' quoted value of ``column``: medians for a feature clustered on a log scale
    (a few big values make its mean), means otherwise."""
    if column in profiles.logged:
        return format_value(seg.medians[column], column), format_value(profiles.overall_medians[column], column)
    return format_value(seg.means[column], column), format_value(profiles.overall_means[column], column)


def _traits(seg: SegmentProfile, profiles: Profiles, columns: tuple[str, ...]) -> list[str]:
    """``"a higher annual income (89 k$ vs 60 k$ overall)"`` for every column where the segment stands out
    (``"median 900 vs 600 overall"`` for a heavy-tailed feature)."""
    ordered = sorted(columns, key=lambda c: -abs(seg.z[c]))
    phrases = []
    for c in (c for c in ordered if seg.levels[c] != "average"):
        value, overall = typical(seg, profiles, c)
        median = "median " if c in profiles.logged else ""
        phrases.append(f"a {'higher' if seg.z[c] > 0 else 'lower'} {label_of(c)} ({median}{value} vs {overall} "
                       "overall)")
    return phrases


def highlights(seg: SegmentProfile, profiles: Profiles) -> tuple[str, ...]:
    """Short trait phrases for tables, features first: ``"annual income 87 k$ (avg 61 k$)"``, or
    ``"annual spend median 900 (all 600)"`` for a heavy-tailed feature."""
    ordered = sorted(profiles.features, key=lambda c: -abs(seg.z[c]))
    ordered += sorted((c for c in profiles.numeric if c not in profiles.features), key=lambda c: -abs(seg.z[c]))
    phrases = []
    for c in (c for c in ordered if seg.levels[c] != "average"):
        value, overall = typical(seg, profiles, c)
        phrases.append(f"{label_of(c)} median {value} (all {overall})" if c in profiles.logged
                       else f"{label_of(c)} {value} (avg {overall})")
    return tuple(phrases)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _context(seg: SegmentProfile, profiles: Profiles) -> str:
    """What else sets the segment apart: profiled numeric columns that are not features, and categories that
    are at least 10 points more common than overall."""
    parts = _traits(seg, profiles, tuple(c for c in profiles.numeric if c not in profiles.features))
    text = ("They also have " + _join(parts) + ".") if parts else ""
    more = []
    for column in profiles.categorical:
        mix, overall = seg.categories.get(column, {}), profiles.overall_categories.get(column, {})
        if not mix:
            continue
        top = max(mix, key=lambda v: (mix[v] - overall.get(v, 0.0), v))
        if mix[top] - overall.get(top, 0.0) >= 0.10:
            more.append(f"{label_of(column)} {top} ({mix[top]:.0%} vs {overall.get(top, 0.0):.0%} overall)")
    if more:
        text += (" " if text else "") + "More of them have " + _join(more) + "."
    return text


def match_rule(seg: SegmentProfile, features: tuple[str, ...], rules: Rules) -> tuple[Rule, dict[str, str]]:
    """The most specific rule whose conditions hold; also the concept -> column map it used."""
    columns: dict[str, str] = {}
    for column in features:
        concept = concept_of(column, rules.concepts)
        if concept is not None and concept.key not in columns:
            columns[concept.key] = column
    best: Rule | None = None
    for rule in rules.rules:
        if all(key in columns and seg.levels[columns[key]] == level for key, level in rule.when.items()) and (
                best is None or len(rule.when) > len(best.when)):
            best = rule
    assert best is not None  # parse_rules guarantees a fallback rule
    return best, columns


def write_persona(seg: SegmentProfile, name: str, profiles: Profiles, rules: Rules) -> Persona:
    rule, columns = match_rule(seg, profiles.features, rules)
    traits = _traits(seg, profiles, profiles.features)
    values = {
        "name": name, "size": f"{seg.size:,}", "share": f"{seg.share:.0%}",
        "traits": ("Compared with all customers they have " + _join(traits) + ".") if traits
        else "They sit close to the average customer on every feature.",
        "context": _context(seg, profiles),
        **{key: typical(seg, profiles, column)[0] for key, column in columns.items()},
    }
    text = " ".join(rule.persona.format_map(values).split())
    recommendations = tuple(
        Recommendation(**{k: " ".join(getattr(r, k).format_map(values).split()) for k in RECOMMENDATION_KEYS})
        for r in rule.recommendations)
    return Persona(segment=seg.segment, name=name, persona=text, recommendations=recommendations,
                   rule_id=rule.id, traits=tuple(traits), highlights=highlights(seg, profiles))


def recommend(profiles: Profiles, rules: Rules, *, names: Mapping[int, str] | None = None
              ) -> tuple[Persona, ...]:
    """Name, persona and recommendations for every segment. ``names`` fixes the names of some segments (those
    that keep a baseline run's identity); the others are named from their profile, distinct from those."""
    fixed = dict(names or {})
    generated = unique_names(profiles, rules)
    taken = set(fixed.values())
    names = {}
    for number, name in generated.items():
        if number in fixed:
            names[number] = fixed[number]
        else:
            names[number] = name if name not in taken else f"{name} (new)"
            taken.add(names[number])
    return tuple(write_persona(seg, names[seg.segment], profiles, rules) for seg in profiles.segments)
