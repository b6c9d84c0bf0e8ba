"""The persona and recommendation rules: an editable TOML file (``reportgen/rules/default.toml``, overridable with
``--rules FILE``) read into :class:`Rules`.

* ``[concepts.<key>]`` recognise a kind of column by a regular expression on its name (income, spending, age...),
  say how to name its levels ("high income"), which direction is good for the business (``good``) and whether it
  holds money (``money``, the value at stake);
* ``[[rules]]`` give a persona and at least three recommendations for segments whose concepts are at given
  levels (``when``), unless others are (``unless``), and the concept whose KPI the actions aim to move (``kpi``).
  Rules are assigned across all segments at once (:mod:`reportgen.describe.personas`); the rule with
  ``when = {}`` is the fallback and must exist.

Schema 1 files (no ``good``, ``money``, ``unless`` or ``kpi``) keep working.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..model import Recommendation

LEVELS = ("low", "average", "high")
SCHEMAS = (1, 2)
BASE_FIELDS = frozenset({"name", "size", "share", "traits", "context"})
RECOMMENDATION_KEYS = ("action", "channel", "offer", "message")
MIN_RECOMMENDATIONS = 3


@dataclass(frozen=True)
class Concept:
    key: str
    pattern: re.Pattern[str]
    label: str
    words: Mapping[str, str]  # level -> phrase, e.g. "high" -> "high income"
    good: str | None = None  # "high" or "low": the direction that is good for the business; None: neither
    money: bool = False  # the column holds money a customer brings (spend, revenue, balance): the value at stake


@dataclass(frozen=True)
class Rule:
    id: str
    when: Mapping[str, str]
    persona: str
    recommendations: tuple[Recommendation, ...]
    unless: Mapping[str, str] = dataclass_field(default_factory=dict)  # the rule does not apply when one holds
    kpi: str | None = None  # the concept whose KPI the actions aim to move


@dataclass(frozen=True)
class Rules:
    source: str
    concepts: tuple[Concept, ...]
    rules: tuple[Rule, ...]
    typical: str
    # the named RFM segments of a transaction log's customers: (name, R scores, F scores, what to do); empty: the
    # packaged grid (rfm.RFM_SEGMENTS)
    rfm: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = ()
    schema: int = 2  # 1: each segment its most specific matching rule, as before; 2: rules assigned across segments


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
    _require(data.get("schema", 1) in SCHEMAS, f"schema must be one of {list(SCHEMAS)}", where)
    concepts = [_concept(key, body, f"{where} [concepts.{key}]")
                for key, body in dict(data.get("concepts", {})).items()]
    rules = [_rule(body, concepts, f"{where} rule {index} ({body.get('id', 'no id')})")
             for index, body in enumerate(data.get("rules", []), start=1)]
    ids = [r.id for r in rules]
    _require(len(ids) == len(set(ids)), "rule ids must be unique", where)
    _require(any(not r.when for r in rules), "needs a fallback rule with when = {}", where)
    return Rules(source=source, concepts=tuple(concepts), rules=tuple(rules),
                 typical=str(data.get("typical", "Typical customers")), rfm=_rfm_segments(data.get("rfm", []), where),
                 schema=int(data.get("schema", 1)))


def _concept(key: str, body: Any, at: str) -> Concept:
    _require(isinstance(body, dict), "must be a table", at)
    extra = set(body) - {"match", "label", "good", "money", *LEVELS}
    _require(not extra, f"unknown keys {sorted(extra)}", at)
    _require(body.get("good") in (None, "high", "low"), "good must be \"high\" or \"low\"", at)
    _require(isinstance(body.get("money", False), bool), "money must be true or false", at)
    _require(isinstance(body.get("match"), str), "needs match = \"<regular expression>\"", at)
    try:
        pattern = re.compile(body["match"], re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{at}: match is not a valid regular expression: {exc}") from exc
    words = {level: str(body.get(level, f"{level} {body.get('label', key)}")) for level in LEVELS}
    return Concept(key=key, pattern=pattern, label=str(body.get("label", key)), words=words,
                   good=body.get("good"), money=bool(body.get("money", False)))


def _rule(body: Any, concepts: list[Concept], at: str) -> Rule:
    known = {c.key for c in concepts}
    directed = {c.key for c in concepts if c.good}
    _require(isinstance(body, dict), "must be a table", at)
    extra = set(body) - {"id", "when", "unless", "kpi", "persona", "recommendations"}
    _require(not extra, f"unknown keys {sorted(extra)}", at)
    _require(isinstance(body.get("id"), str) and body["id"], "needs id = \"...\"", at)
    when, unless = dict(body.get("when", {})), dict(body.get("unless", {}))
    for key, conditions in (("when", when), ("unless", unless)):
        for concept, level in conditions.items():
            _require(concept in known, f"{key} names unknown concept {concept!r} (known: {sorted(known)})", at)
            _require(level in LEVELS, f"{key} {concept} = {level!r} must be one of {list(LEVELS)}", at)
    kpi = body.get("kpi")
    _require(kpi is None or kpi in directed,
             f"kpi must name a concept with good = \"high\" or \"low\" (such concepts: {sorted(directed)})", at)
    _require(isinstance(body.get("persona"), str), "needs persona = \"...\"", at)
    recs = body.get("recommendations", [])
    _require(isinstance(recs, list) and len(recs) >= MIN_RECOMMENDATIONS,
             f"needs at least {MIN_RECOMMENDATIONS} [[rules.recommendations]]", at)
    texts = [body["persona"]]
    parsed_recs = []
    for rec in recs:
        _require(isinstance(rec, dict) and set(rec) == set(RECOMMENDATION_KEYS),
                 f"each recommendation needs exactly {', '.join(RECOMMENDATION_KEYS)}", at)
        texts.extend(str(rec[k]) for k in RECOMMENDATION_KEYS)
        parsed_recs.append(Recommendation(**{k: str(rec[k]) for k in RECOMMENDATION_KEYS}))
    allowed = BASE_FIELDS | set(when)
    for text in texts:
        try:
            used = _fields(text)
        except ValueError as exc:
            raise ConfigError(f"{at}: {exc} in {text[:40]!r}") from exc
        _require(used <= allowed, f"uses {{{', '.join(sorted(used - allowed))}}}; allowed here: "
                 + ", ".join("{" + f + "}" for f in sorted(allowed)), at)
    return Rule(id=body["id"], when=when, persona=body["persona"], recommendations=tuple(parsed_recs),
                unless=unless, kpi=kpi)


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


def concept_of(column: str, concepts: tuple[Concept, ...]) -> Concept | None:
    """The first concept whose pattern matches the column's name, as written or as words (``days_since_last_order``
    is "days since last order")."""
    words = words_of(column)
    return next((c for c in concepts if c.pattern.search(column) or c.pattern.search(words)), None)


def words_of(column: str) -> str:
    """``"Annual Income (k$)"`` -> ``"annual income"``, ``"daysSinceLastOrder"`` -> ``"days since last order"``."""
    text = re.sub(r"\([^)]*\)", "", column)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"[_\s]+", " ", text).strip()
    return text.lower() or column
