"""Message catalogues (Vietnamese first, English available) and dates in the city's time zone.
The names of labels come from the one taxonomy reader (``alerts.i18n.load_taxonomy``), shared
with the digest."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from alerts.i18n import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)

__all__ = ["Catalogues", "DateFormatter", "Taxonomy", "load_taxonomy", "pick_language"]

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


class DateFormatter:
    """Dates as people in the city read them: in its time zone, day first in Vietnamese (Babel's
    CLDR patterns, the same stack as the digest and the alert e-mails)."""

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
        pattern = "dd/MM/yyyy HH:mm" if lang == "vi" else "yyyy-MM-dd HH:mm"
        return format_datetime(local, pattern, locale=pick_language(lang))

    def date(self, value: datetime | date | str | None, lang: str) -> str:
        """A day as the reader writes it; a calendar date (no time) is shown as it is."""
        local = value if isinstance(value, date) and not isinstance(value, datetime) else self.local(value)
        if local is None:
            return ""
        return format_date(local, "dd/MM/yyyy" if lang == "vi" else "yyyy-MM-dd", locale=pick_language(lang))
