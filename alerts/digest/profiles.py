"""Digest profiles: who gets which daily digest, with which sections, filters and language.

Read from ``config/digests.yaml`` (see the comments there for every key). A profile is data,
checked once at load time so that a typo fails loudly when the scheduler starts, not at 7 am.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from index.article import FACET_FIELDS
from index.query import QuerySyntaxError, parse_query

LANGUAGES = ("vi", "en")
METRICS = ("articles", "outlets", "countries", "languages", "foreign_share", "negative_share", "queue")
CHARTS = ("volume_scope", "volume_sentiment", "topics", "countries", "languages")
SECTIONS = ("headline", "charts", "breakdown", "top_stories", "sensitive", "topics", "appendix")
BREAKDOWNS = ("country", "language", "topic")
PURPOSES = ("promote", "respond")

_DEFAULTS: dict[str, Any] = {
    "language": "vi",
    "send_time": "07:00",
    "filters": {},
    "query": "",
    "metrics": list(METRICS),
    "charts": ["volume_scope", "volume_sentiment", "topics", "languages"],
    "sections": ["headline", "charts", "top_stories", "sensitive", "topics", "appendix"],
    "breakdown": [],
    "topics": [],
    "top_stories": 10,
    "topic_items": 5,
    "min_risk": 0.30,
    "appendix_limit": 500,
    "catch_up_days": 7,
}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ID = re.compile(r"^[a-z0-9_]{1,40}$")


class ProfileError(ValueError):
    """``config/digests.yaml`` is unreadable or a profile in it is invalid (the message says where)."""


@dataclass(frozen=True)
class TopicSection:
    """One per-topic section: a taxonomy topic (``topic``) or a search (``query`` and/or facet
    ``filters``, e.g. ``coverage: [watch]`` for national watch coverage) with its own name."""

    id: str
    topic: str | None = None
    query: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    name: dict[str, str] = field(default_factory=dict)
    purpose: str = "promote"


@dataclass(frozen=True)
class DigestProfile:
    """What one daily digest contains and who receives it."""

    id: str
    name: dict[str, str]
    recipients: tuple[str, ...]
    language: str = "vi"
    send_time: time = time(7, 0)
    filters: dict[str, list[str]] = field(default_factory=dict)
    query: str = ""
    metrics: tuple[str, ...] = METRICS
    charts: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    breakdown: tuple[str, ...] = ()
    topics: tuple[TopicSection, ...] = ()
    top_stories: int = 10
    topic_items: int = 5
    min_risk: float = 0.30
    appendix_limit: int = 500
    catch_up_days: int = 7

    def display_name(self, lang: str) -> str:
        """The department's name in ``lang`` (else Vietnamese, else the profile id)."""
        return self.name.get(lang) or self.name.get("vi") or self.id


def _names(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"vi": value}
    if not isinstance(value, dict) or not value:
        raise ProfileError(f"{where}: expected {{vi: ..., en: ...}}")
    return {str(k): str(v) for k, v in value.items()}


def _choices(value: Any, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ProfileError(f"{where}: expected a list")
    unknown = [str(v) for v in value if v not in allowed]
    if unknown:
        raise ProfileError(f"{where}: unknown {', '.join(unknown)} (allowed: {', '.join(allowed)})")
    return tuple(str(v) for v in value)


def _query(value: Any, where: str) -> str:
    text = str(value or "")
    try:
        parse_query(text)
    except QuerySyntaxError as exc:
        raise ProfileError(f"{where}: {exc}") from exc
    return text


def _topic_section(raw: Any, where: str, known_topics: set[str] | None) -> TopicSection:
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a mapping with `topic` or `id` + `query`")
    purpose = str(raw.get("purpose", "promote"))
    if purpose not in PURPOSES:
        raise ProfileError(f"{where}: purpose must be one of {', '.join(PURPOSES)}")
    if raw.get("topic"):
        topic = str(raw["topic"])
        if known_topics is not None and topic not in known_topics:
            raise ProfileError(f"{where}: unknown topic {topic!r} (see config/topics.yaml)")
        name = _names(raw["name"], f"{where}.name") if raw.get("name") else {}
        return TopicSection(id=topic, topic=topic, name=name, purpose=purpose)
    section_id = str(raw.get("id", ""))
    filters = raw.get("filters") or {}
    if not _ID.match(section_id) or not (raw.get("query") or filters):
        raise ProfileError(f"{where}: a section without `topic` needs an `id` (a-z, 0-9, _) and a `query` "
                           "or `filters`")
    if not isinstance(filters, dict) or set(filters) - set(FACET_FIELDS) or not all(
            isinstance(v, list) and v and all(isinstance(x, str) for x in v) for v in filters.values()):
        raise ProfileError(f"{where}.filters: facet -> non-empty list of values; facets are {', '.join(FACET_FIELDS)}")
    return TopicSection(id=section_id, query=_query(raw.get("query"), f"{where}.query"),
                        filters={k: list(v) for k, v in filters.items()},
                        name=_names(raw.get("name"), f"{where}.name"), purpose=purpose)


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProfileError(f"{where}: expected a positive whole number")
    return value


def _profile(profile_id: str, raw: Any, defaults: dict[str, Any], known_topics: set[str] | None) -> DigestProfile:
    where = f"profiles.{profile_id}"
    if not _ID.match(profile_id):
        raise ProfileError(f"{where}: a profile id is 1-40 characters a-z, 0-9, _")
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a mapping")
    unknown = set(raw) - set(_DEFAULTS) - {"name", "recipients"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values = {**_DEFAULTS, **defaults, **raw}
    recipients = values.get("recipients")
    if not isinstance(recipients, list) or not recipients or not all(isinstance(r, str) for r in recipients):
        raise ProfileError(f"{where}.recipients: expected a non-empty list of recipient-list names")
    language = str(values["language"])
    if language not in LANGUAGES:
        raise ProfileError(f"{where}.language: expected one of {', '.join(LANGUAGES)}")
    match = _TIME.match(str(values["send_time"]))
    if not match:
        raise ProfileError(f"{where}.send_time: expected HH:MM (city time), got {values['send_time']!r}")
    filters = values["filters"] or {}
    if not isinstance(filters, dict) or set(filters) - set(FACET_FIELDS):
        raise ProfileError(f"{where}.filters: facets are {', '.join(FACET_FIELDS)}")
    for facet, accepted in filters.items():
        if not isinstance(accepted, list) or not accepted:
            raise ProfileError(f"{where}.filters.{facet}: expected a non-empty list of values")
    topics = values["topics"] or []
    if not isinstance(topics, list):
        raise ProfileError(f"{where}.topics: expected a list")
    sections = [_topic_section(t, f"{where}.topics[{n}]", known_topics) for n, t in enumerate(topics)]
    if len({s.id for s in sections}) != len(sections):
        raise ProfileError(f"{where}.topics: two sections have the same id")
    min_risk = values["min_risk"]
    if not isinstance(min_risk, int | float) or not 0 <= min_risk <= 1:
        raise ProfileError(f"{where}.min_risk: expected a number from 0 to 1")
    return DigestProfile(
        id=profile_id,
        name=_names(values.get("name"), f"{where}.name"),
        recipients=tuple(recipients),
        language=language,
        send_time=time(int(match.group(1)), int(match.group(2))),
        filters={str(k): [str(v) for v in vals] for k, vals in filters.items()},
        query=_query(values["query"], f"{where}.query"),
        metrics=_choices(values["metrics"], METRICS, f"{where}.metrics"),
        charts=_choices(values["charts"], CHARTS, f"{where}.charts"),
        sections=_choices(values["sections"], SECTIONS, f"{where}.sections"),
        breakdown=_choices(values["breakdown"] or [], BREAKDOWNS, f"{where}.breakdown"),
        topics=tuple(sections),
        top_stories=_positive_int(values["top_stories"], f"{where}.top_stories"),
        topic_items=_positive_int(values["topic_items"], f"{where}.topic_items"),
        min_risk=float(min_risk),
        appendix_limit=_positive_int(values["appendix_limit"], f"{where}.appendix_limit"),
        catch_up_days=_positive_int(values["catch_up_days"], f"{where}.catch_up_days"),
    )


def parse_profiles(raw: Any, known_topics: set[str] | None = None) -> dict[str, DigestProfile]:
    """Profiles by id from the parsed YAML document; raises ProfileError naming the faulty key.
    ``known_topics`` (the taxonomy's labels), when given, catches misspelt topic sections."""
    if not isinstance(raw, dict) or not isinstance(raw.get("profiles"), dict):
        raise ProfileError("digests: expected a `profiles:` mapping")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - set(_DEFAULTS):
        raise ProfileError(f"defaults: known keys are {', '.join(_DEFAULTS)}")
    return {str(pid): _profile(str(pid), body, defaults, known_topics) for pid, body in raw["profiles"].items()}


def load_profiles(path: Path, known_topics: set[str] | None = None) -> dict[str, DigestProfile]:
    """The digest profiles of ``path`` (``config/digests.yaml``); raises ProfileError when the
    file is missing, not YAML, or a profile is invalid."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path} is not valid YAML: {exc}") from exc
    return parse_profiles(raw, known_topics)
