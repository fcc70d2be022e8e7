"""Alert rules: what they say, and loading them from ``config/alerts.yaml`` with clear errors.

A rule is either a *match* rule (an article of a new batch matches its query and filters, with
exactly the semantics of ``hpmon search``) or a *spike* rule (the number of articles matching
its query and filters in the last hours is far above its recent baseline). Rules name their
recipients (lists in ``settings.recipients``, webhooks in ``settings.webhooks``): addresses and
URLs never live in the rules file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hpbase.configfiles import RiskFile
from hpbase.text import fold
from index.article import Article
from index.highlight import find_spans
from index.query import Clause, ParsedQuery, QuerySyntaxError, SearchQuery, Thesaurus, parse_query
from index.text import WORD
from index.thesaurus import Thesaurus as InstallationThesaurus

SEVERITIES = ("low", "medium", "high", "critical")
CHANNELS = ("email", "webhook")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)?\s*$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800, None: 60}


class RuleError(ValueError):
    """The rules file cannot be used; the message names the file, the rule and the field."""


def parse_duration(value: str | int | float) -> timedelta:
    """A duration from ``90m``, ``6h``, ``2d``, ``1w`` or a number of minutes. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return timedelta(minutes=float(value))
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90m, 6h, 2d)")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def format_duration(delta: timedelta) -> str:
    """A duration as the rules file writes it: ``90m``, ``6h``, ``14d``."""
    minutes = int(delta.total_seconds() // 60)
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


# -- the typed rule the engine uses ---------------------------------------------------------


@dataclass(frozen=True)
class RuleFilters:
    """Which articles a rule considers, as the facets of a search (any listed value matches)."""

    topics: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    scope: str | None = None
    coverage: str | None = None  # "city" | "watch": about the city, or national watch coverage
    sentiment: tuple[str, ...] = ()
    min_risk: float | None = None

    def facets(self) -> dict[str, list[str]]:
        """The filters as ``SearchQuery.filters`` (facet name -> accepted values)."""
        facets = {
            "topic": list(self.topics), "theme": list(self.themes), "language": list(self.languages),
            "country": list(self.countries), "source": list(self.sources), "outlet": list(self.outlets),
            "scope": [self.scope] if self.scope else [], "coverage": [self.coverage] if self.coverage else [],
            "sentiment": list(self.sentiment),
        }
        return {k: v for k, v in facets.items() if v}


@dataclass(frozen=True)
class RecipientRef:
    """A name of a recipient list or webhook, and the language its messages are written in."""

    name: str
    language: str | None = None  # None: the rule's language


@dataclass(frozen=True)
class SpikeParams:
    """A volume spike: at least ``min_count`` hits in the last ``window`` and at least ``factor``
    times the baseline (hits per window over the ``baseline`` before it, at least ``min_baseline``)."""

    window: timedelta = timedelta(hours=6)
    baseline: timedelta = timedelta(days=14)
    factor: float = 3.0
    min_count: int = 5
    min_baseline: float = 1.0


@dataclass(frozen=True)
class Rule:
    name: str
    label: dict[str, str]
    kind: Literal["match", "spike"] = "match"
    query: str = ""
    filters: RuleFilters = field(default_factory=RuleFilters)
    recipients: tuple[RecipientRef, ...] = ()
    channels: tuple[str, ...] = CHANNELS
    severity: str = "medium"
    throttle: timedelta = timedelta(hours=24)
    language: str = "vi"
    max_article_age: timedelta | None = timedelta(days=7)
    spike: SpikeParams | None = None
    enabled: bool = True
    # what the query's words also mean (index.thesaurus, the search page's); None: the words only
    thesaurus: Thesaurus | None = field(default=None, repr=False, compare=False)

    def display_name(self, language: str) -> str:
        """The rule's name for people in ``language`` (Vietnamese, else its key)."""
        return self.label.get(language) or self.label.get("vi") or self.name

    def search_query(self, *, since: datetime | None = None, until: datetime | None = None, limit: int = 20,
                     sort: Literal["relevance", "date"] = "date") -> SearchQuery:
        """The search this rule stands for: what ``hpmon search`` would be asked with the same
        query and filters (used by ``alerts test`` and the spike counts)."""
        return SearchQuery(text=self.query, filters=self.filters.facets(), since=since, until=until,
                           min_risk=self.filters.min_risk, sort=sort, limit=limit, thesaurus=self.thesaurus)

    def parsed_query(self) -> ParsedQuery:
        """The rule's query parsed and expanded exactly as the search page expands it (the same
        ``parse_query`` with the same thesaurus): ``chủ quyền`` also names the sovereignty labels."""
        return self.search_query().parsed

    def text_matches(self, article: Article) -> bool:
        """Whether the article satisfies the rule's expanded query as a backend would: every clause
        by one of its phrases or other names in the title, lead or text, or by one of the labels
        it names; no excluded phrase anywhere. (Filters, dates and risk are checked apart.)"""
        parsed = self.parsed_query()
        fields = [unicodedata.normalize("NFC", t) for t in (article.title, article.lead, article.text) if t]
        if any(not _clause_matches(c, article, fields) for c in parsed.must):
            return False
        return not any(_clause_matches(c, article, fields) for c in parsed.must_not)


def _clause_matches(clause: Clause, article: Article, fields: list[str]) -> bool:
    phrases = [*clause.phrases, *clause.names]
    if any(find_spans(text, [phrase]) for phrase in phrases for text in fields):
        return True
    if clause.prefixes and any(_prefix_matches(name, text) for name in clause.prefixes for text in fields):
        return True
    return any(value in article.facet_values(facet) for facet, value in clause.labels)


def _prefix_matches(name: str, text: str) -> bool:
    """Whether ``name`` occurs in ``text`` with its last word allowed to continue (Хайфон finds
    Хайфоне), folded as the index folds (case and diacritics ignored)."""
    pattern = WORD.findall(fold(unicodedata.normalize("NFC", name)))
    if not pattern:
        return False
    words = WORD.findall(fold(text))
    n = len(pattern)
    return any(words[i:i + n - 1] == pattern[:-1] and words[i + n - 1].startswith(pattern[-1])
               for i in range(len(words) - n + 1))


# -- the file format (validated at the edge) ------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    return [value] if isinstance(value, str | int | float) else value


class _FiltersIn(_Strict):
    topics: list[str] = []
    themes: list[str] = []
    languages: list[str] = []
    countries: list[str] = []
    sources: list[str] = []
    outlets: list[str] = []
    scope: Literal["domestic", "foreign"] | None = None
    coverage: Literal["city", "watch"] | None = None
    sentiment: list[Literal["negative", "neutral", "positive"]] = []
    min_risk: float | str | None = None

    _lists = field_validator("topics", "themes", "languages", "countries", "sources", "outlets", "sentiment",
                             mode="before")(_as_list)


class _RecipientIn(_Strict):
    name: str
    language: Literal["vi", "en"] | None = None


class _SpikeIn(_Strict):
    window: str | int = "6h"
    baseline: str | int = "14d"
    factor: float = Field(3.0, gt=1.0)
    min_count: int = Field(5, ge=1)
    min_baseline: float = Field(1.0, gt=0)


class _RuleIn(_Strict):
    name: str
    label: dict[str, str] | str | None = None
    kind: Literal["match", "spike"] = "match"
    query: str = ""
    filters: _FiltersIn = _FiltersIn()
    recipients: list[str | _RecipientIn] = Field(min_length=1)
    channels: list[Literal["email", "webhook"]] | None = None
    severity: Literal["low", "medium", "high", "critical"] | None = None
    throttle: str | int | None = None
    language: Literal["vi", "en"] | None = None
    max_article_age: str | int | None = None
    spike: _SpikeIn | None = None
    enabled: bool = True


class _DefaultsIn(_Strict):
    channels: list[Literal["email", "webhook"]] = list(CHANNELS)
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    throttle: str | int = "24h"
    language: Literal["vi", "en"] = "vi"
    max_article_age: str | int | None = "7d"


class _FileIn(_Strict):
    version: Literal[1] = 1
    defaults: _DefaultsIn = _DefaultsIn()
    rules: list[dict[str, Any]] = []


def _format_validation(error: ValidationError, where: str) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        lines.append(f"{where}{'.' + loc if loc else ''}: {item['msg']}")
    return "; ".join(lines)


def _min_risk(value: float | str | None, thresholds: dict[str, float], where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in thresholds:
            known = ", ".join(sorted(thresholds)) or "none loaded"
            raise RuleError(f"{where}.filters.min_risk: unknown threshold {value!r} (known: {known})")
        value = thresholds[value]
    if not 0.0 <= float(value) <= 1.0:
        raise RuleError(f"{where}.filters.min_risk: {value} is not between 0 and 1")
    return float(value)


def _duration(value: str | int | None, where: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise RuleError(f"{where}: {exc}") from None


def _build_rule(raw: dict[str, Any], defaults: _DefaultsIn, thresholds: dict[str, float], where: str) -> Rule:
    if isinstance(raw.get("name"), str):
        where = f"{where} ({raw['name']!r})"
    try:
        spec = _RuleIn.model_validate(raw)
    except ValidationError as exc:
        raise RuleError(_format_validation(exc, where)) from None
    if not _NAME.match(spec.name):
        raise RuleError(f"{where}.name: use lowercase letters, digits, '_' or '-' (at most 64)")
    try:
        parse_query(spec.query)
    except QuerySyntaxError as exc:
        raise RuleError(f"{where}.query: {exc}") from None
    if spec.kind == "spike" and spec.spike is None:
        spike_in = _SpikeIn()
    elif spec.kind == "match" and spec.spike is not None:
        raise RuleError(f"{where}.spike: only a rule of kind 'spike' takes spike parameters")
    else:
        spike_in = spec.spike
    spike = None
    if spike_in is not None:
        window = _duration(spike_in.window, f"{where}.spike.window")
        baseline = _duration(spike_in.baseline, f"{where}.spike.baseline")
        assert window is not None and baseline is not None
        if window <= timedelta(0) or baseline < window:
            raise RuleError(f"{where}.spike: the window must be positive and the baseline at least as long")
        spike = SpikeParams(window, baseline, spike_in.factor, spike_in.min_count, spike_in.min_baseline)
    f = spec.filters
    filters = RuleFilters(
        topics=tuple(f.topics), themes=tuple(f.themes), languages=tuple(x.lower() for x in f.languages),
        countries=tuple(x.upper() for x in f.countries), sources=tuple(f.sources), outlets=tuple(f.outlets),
        scope=f.scope, coverage=f.coverage, sentiment=tuple(f.sentiment),
        min_risk=_min_risk(f.min_risk, thresholds, where),
    )
    recipients = tuple(RecipientRef(r) if isinstance(r, str) else RecipientRef(r.name, r.language)
                       for r in spec.recipients)
    label = spec.label if isinstance(spec.label, dict) else {"vi": spec.label or spec.name}
    throttle = _duration(spec.throttle if spec.throttle is not None else defaults.throttle, f"{where}.throttle")
    assert throttle is not None
    age_in = spec.max_article_age if "max_article_age" in spec.model_fields_set else defaults.max_article_age
    return Rule(
        name=spec.name, label=label, kind=spec.kind, query=spec.query, filters=filters, recipients=recipients,
        channels=tuple(spec.channels if spec.channels is not None else defaults.channels),
        severity=spec.severity or defaults.severity, throttle=throttle, language=spec.language or defaults.language,
        max_article_age=_duration(age_in, f"{where}.max_article_age"), spike=spike, enabled=spec.enabled,
    )


def parse_rules(data: Any, *, source: str = "alerts.yaml", thresholds: dict[str, float] | None = None,
                thesaurus: Thesaurus | None = None) -> list[Rule]:
    """The rules of an already-parsed YAML document. Raises RuleError naming the rule and
    field at fault, so that a typo never silently disables an alert. With a ``thesaurus`` (the
    installation's, ``index.thesaurus.Thesaurus.of_installation``) the queries are expanded as
    the search page expands them."""
    if data is None:
        return []
    if not isinstance(data, dict):
        raise RuleError(f"{source}: expected a mapping with 'rules:', got {type(data).__name__}")
    try:
        doc = _FileIn.model_validate(data)
    except ValidationError as exc:
        raise RuleError(_format_validation(exc, source)) from None
    rules: list[Rule] = []
    seen: set[str] = set()
    for n, raw in enumerate(doc.rules):
        where = f"{source}: rules[{n}]"
        if not isinstance(raw, dict):
            raise RuleError(f"{where}: expected a mapping")
        rule = _build_rule(raw, doc.defaults, thresholds or {}, where)
        if rule.name in seen:
            raise RuleError(f"{where}: duplicate rule name {rule.name!r}")
        seen.add(rule.name)
        rules.append(replace(rule, thesaurus=thesaurus) if thesaurus is not None else rule)
    return rules


def load_rules(path: Path, *, thresholds: dict[str, float] | None = None, city: Path | None = None) -> list[Rule]:
    """The rules of ``path`` (``config/alerts.yaml``). ``thresholds`` resolves symbolic
    ``min_risk`` values such as ``queue_threshold``; by default they are read from the
    ``risk.yaml`` next to the rules file (see ``read_risk_thresholds``).
    With ``city`` (the city profile, ``settings.city_path``) the queries expand through the
    installation's thesaurus (this folder's topics and lexicons), exactly as search does.
    Raises RuleError with the file, rule and field when something is wrong."""
    thesaurus = None
    if city is not None:
        thesaurus = InstallationThesaurus.of_installation(path.parent, city)
    if thresholds is None:
        thresholds = read_risk_thresholds(path.parent / "risk.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read the rules file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML ({exc})") from None
    return parse_rules(data, source=str(path), thresholds=thresholds, thesaurus=thesaurus)


def read_risk_thresholds(risk_path: Path | None) -> dict[str, float]:
    """Named risk thresholds a rule may use as ``min_risk`` (``queue_threshold``, ``medium``,
    ``high``) from ``config/risk.yaml``, so the alert threshold cannot drift from the queue's: they
    are ``RiskConfig.thresholds()``, the object (and defaults, when the file is absent) the queue uses."""
    if risk_path is None:
        return {}
    try:
        return RiskFile.read(risk_path).risk_config().thresholds()
    except (ValueError, TypeError):  # ConfigFileError included: rules naming a threshold then say so
        return {}


def recipient_problems(rules: list[Rule], recipients: dict[str, list[str]], webhooks: dict[str, str]) -> list[str]:
    """What is wrong between the rules and the settings: a recipient name that is neither a
    recipient list nor a webhook, or that no channel of the rule can reach. Empty when fine."""
    problems = []
    for rule in rules:
        for ref in rule.recipients:
            is_list, is_hook = ref.name in recipients, ref.name in webhooks
            if not is_list and not is_hook:
                problems.append(f"rule {rule.name}: no recipient list or webhook named {ref.name!r} in the settings")
            elif is_list and not is_hook and "email" not in rule.channels:
                problems.append(f"rule {rule.name}: {ref.name!r} is a mail list but the rule has no email channel")
            elif is_hook and not is_list and "webhook" not in rule.channels:
                problems.append(f"rule {rule.name}: {ref.name!r} is a webhook but the rule has no webhook channel")
            elif is_list and not recipients[ref.name]:
                problems.append(f"rule {rule.name}: recipient list {ref.name!r} is empty")
    return problems
