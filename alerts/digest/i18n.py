"""What the digest says, in Vietnamese or English: message catalogues, label names, numbers and dates.

Prose lives in ``alerts/digest/messages/<lang>.yaml`` (never in templates); names of topics,
tones and sensitive themes come from the taxonomy (``config/topics.yaml``), names of countries
and languages from Babel's CLDR data, numbers and dates are formatted the way each language
writes them (``12,5 %`` in Vietnamese, ``12.5%`` in English).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.dates import get_timezone_location
from babel.numbers import format_decimal, format_percent

from alerts.i18n import (
    Taxonomy,
    country_name,
    format_risk,
    language_name,
    official_date,
    reason_evidence,
    risk_points,
)

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
MESSAGES_DIR = Path(__file__).resolve().parent / "messages"


@cache
def load_messages(lang: str) -> dict[str, str]:
    """The message catalogue of ``lang`` (flat keys → strings with ``{name}`` placeholders)."""
    raw = yaml.safe_load((MESSAGES_DIR / f"{lang}.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in raw.items()}


class Translator:
    """Everything language-dependent for one digest: ``t("story.outlets", n=3)``, label, country and language
    names, numbers, percentages and dates."""

    def __init__(self, lang: str, taxonomy: Taxonomy | None = None) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.taxonomy = taxonomy or Taxonomy()
        self._messages = load_messages(self.lang)
        self._fallback = load_messages(DEFAULT_LANGUAGE)
        self._locale = Locale.parse(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        """The message ``key`` with its placeholders filled; the key itself if no catalogue has it
        (a test checks that none is missing)."""
        if values.get("n") == 1 and f"{key}.one" in self._messages:
            key = f"{key}.one"
        message = self._messages.get(key) or self._fallback.get(key)
        if message is None:
            log.warning("missing digest message %s", key)
            return key
        return message.format(**values) if values else message

    def has(self, key: str) -> bool:
        return key in self._messages

    def _label(self, table: dict[str, dict[str, str]], label: str | None) -> str:
        if not label:
            return self("unknown")
        names = table.get(label) or {}
        return names.get(self.lang) or names.get(DEFAULT_LANGUAGE) or label

    def topic(self, label: str | None) -> str:
        return self._label(self.taxonomy.topics, label)

    def sentiment(self, label: str | None) -> str:
        return self._label(self.taxonomy.sentiments, label)

    def theme(self, label: str | None) -> str:
        return self._label(self.taxonomy.themes, label)

    def country(self, code: str | None) -> str:
        """The country's name (CLDR, through ``alerts.i18n``); "unknown" for a code CLDR lacks."""
        if not code:
            return self("unknown")
        name = country_name(code, self.lang)
        return self("unknown") if name.upper() == code.upper() else name

    def language(self, code: str | None) -> str:
        if not code:
            return self("unknown")
        name = language_name(code, self.lang)
        return self("unknown") if name.lower() == code.lower() else name

    def flag(self, flag: str) -> str:
        """The name of an article flag (``watch``...); "other" for one without a message."""
        key = f"flag.{flag}"
        return self(key) if self.has(key) else self("flag.other")

    def risk(self, score: float | None, level: str | None = None) -> str:
        """The risk as everywhere in hpmon (web, alerts): ``72/100 (cao)``."""
        return format_risk(score, self.lang, level)

    def weight(self, weight: float) -> str:
        """A reason's share of the risk, in the same points: ``+35``."""
        return f"+{risk_points(weight)}"

    def evidence(self, kind: str, evidence: str, data: dict | None = None) -> str:
        """A risk reason's evidence in the reader's words (``alerts.i18n.reason_evidence``)."""
        return reason_evidence(kind, evidence, self.lang, data)

    def scope(self, scope: str | None) -> str:
        return self(f"scope.{scope}") if scope in ("domestic", "foreign") else self("unknown")

    def risk_kind(self, kind: str) -> str:
        """The name of a risk reason kind (``theme:<name>``, ``negative_sentiment``, ...)."""
        if kind.startswith("theme:"):
            return self("risk.theme", theme=self.theme(kind.split(":", 1)[1]))
        key = f"risk.{kind}"
        return self(key) if self.has(key) else self("risk.other")

    def case_state(self, state: str | None) -> str:
        """The state of an article's rebuttal case in the words of the case pages
        (``records.cases.STATE_LABELS``); "no case" when there is none."""
        from records.cases import STATE_LABELS

        if state is None:
            return self("case.none")
        names = STATE_LABELS.get(state)
        return names.get(self.lang) or names["vi"] if names else self("case.unknown")

    def integer(self, value: int | None) -> str:
        return "—" if value is None else format_decimal(value, locale=self._locale)

    def decimal(self, value: float | None) -> str:
        return "—" if value is None else format_decimal(round(value, 1), format="#,##0.0", locale=self._locale)

    def percent(self, value: float | None) -> str:
        return "—" if value is None else format_percent(value, format="#,##0.0%", locale=self._locale)

    def long_date(self, day: date) -> str:
        """The official style: ``ngày 24 tháng 11 năm 2025`` / ``24 November 2025``."""
        return official_date(day, self.lang)

    def short_date(self, day: date) -> str:
        """``24/11/2025`` / ``2025-11-24``."""
        return day.strftime("%d/%m/%Y") if self.lang == "vi" else day.isoformat()

    def timezone(self, zone: str) -> str:
        """The city's time zone as people name it (CLDR): ``giờ Việt Nam`` / ``Vietnam Time``."""
        try:
            name = get_timezone_location(zone, locale=self._locale)
        except LookupError:
            return zone
        return name[:1].lower() + name[1:] if self.lang == "vi" else name

    def time(self, moment: datetime | None) -> str:
        return "—" if moment is None else moment.strftime("%H:%M")
