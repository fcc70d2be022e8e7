"""Time helpers: the current UTC time, the ISO 8601 text hpmon stores it as, and reading it back.

Stores keep different ISO forms (seconds with an offset, naive UTC seconds, microseconds, a
``Z`` suffix); each is a parameter of ``iso`` here rather than a copy in each store, and
``tests/hpbase/test_clock.py`` pins every form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Timespec = Literal["seconds", "milliseconds", "microseconds"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(dt: datetime | None, *, timespec: Timespec = "seconds", offset: bool | Literal["Z"] = True) -> str | None:
    """``dt`` in UTC as ISO 8601 text (``2026-01-02T03:04:05+00:00``), or None for None.

    ``offset=False`` leaves the ``+00:00`` off (a naive UTC stamp, four-digit year even before
    1000, so that the text sorts as dates); ``offset="Z"`` writes it as ``Z``
    (``2026-01-02T03:04:05Z``, the crawl state's and the web users' form)."""
    if not dt:
        return None
    utc = dt.astimezone(UTC)
    if not offset or offset == "Z":
        utc = utc.replace(tzinfo=None)
    text = utc.isoformat(timespec=timespec)
    return text + "Z" if offset == "Z" else text


def parse_iso(text: str | None) -> datetime | None:
    """An ISO 8601 stamp of any of those forms as an aware datetime (a naive one read as UTC);
    None for an empty or unreadable text."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
