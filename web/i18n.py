"""Message catalogues (Vietnamese first, English available), dates in the city's time zone, and
the people-facing names of labels from ``config/topics.yaml``."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


class Catalogues:
    """The message catalogues of every interface language, loaded once at app start."""

    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self.messages: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            path = directory / f"{lang}.json"
            self.messages[lang] = json.loads(path.read_text(encoding="utf-8"))
            # further catalogues of the language (``vi.codes.json``: the names of machine codes, such as
            # crawl failure reasons); a key may live in one file only
            for extra in sorted(directory.glob(f"{lang}.*.json")):
                more = json.loads(extra.read_text(encoding="utf-8"))
                if clash := sorted(set(more) & set(self.messages[lang])):
                    raise ValueError(f"{extra.name} repeats message keys: {clash[:5]}")
                self.messages[lang].update(more)

    def gettext(self, lang: str, key: str, **values: object) -> str:
        """The message for ``key`` in ``lang`` (falling back to Vietnamese, then the key itself, which a
        test forbids), with ``{name}`` placeholders filled."""
        message = self.messages.get(lang, {}).get(key) or self.messages[DEFAULT_LANGUAGE].get(key)
        if message is None:
            log.warning("missing message %s", key)
            message = key
        return message.format(**values) if values else message


def pick_language(value: str | None) -> str:
    """A supported interface language from a cookie value (Vietnamese unless English is asked)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


@dataclass
class Taxonomy:
    """Names (vi/en) and descriptions of topics, sentiments and sensitive themes."""

    topics: dict[str, dict[str, str]] = field(default_factory=dict)
    sentiments: dict[str, dict[str, str]] = field(default_factory=dict)
    themes: dict[str, dict[str, str]] = field(default_factory=dict)

    def name(self, kind: str, label: str, lang: str) -> str:
        """The label's name in ``lang`` (else Vietnamese, else the machine key)."""
        names = getattr(self, kind).get(label) or {}
        return names.get(lang) or names.get(DEFAULT_LANGUAGE) or label


def load_taxonomy(path: Path) -> Taxonomy:
    """The label names of ``config/topics.yaml``; an empty taxonomy when the file is missing."""
    if not path.is_file():
        log.warning("no taxonomy at %s", path)
        return Taxonomy()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def names(section: str) -> dict[str, dict[str, str]]:
        return {str(item["label"]): {k: str(v) for k, v in (item.get("name") or {}).items()}
                for item in raw.get(section) or [] if isinstance(item, dict) and "label" in item}

    return Taxonomy(topics=names("topics"), sentiments=names("sentiments"), themes=names("sensitive_themes"))


class DateFormatter:
    """Dates as people in the city read them: in its time zone, day first in Vietnamese."""

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)

    def local(self, value: datetime | str | None) -> datetime | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        return value.astimezone(self.tz)

    def datetime(self, value: datetime | str | None, lang: str) -> str:
        """``20/10/2026 10:00`` (vi) or ``2026-10-20 10:00`` (en); empty for no date."""
        local = self.local(value)
        if local is None:
            return ""
        return local.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M")

    def date(self, value: datetime | str | None, lang: str) -> str:
        local = self.local(value)
        if local is None:
            return ""
        return local.strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d")
