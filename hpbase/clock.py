"""Time helpers: the current UTC time and the ISO 8601 text hpmon stores it as.

Stores keep different ISO forms (seconds with an offset, naive UTC seconds, microseconds);
each is a parameter of ``iso`` here rather than a copy in each store, and
``tests/hpbase/test_clock.py`` pins every form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Timespec = Literal["seconds", "milliseconds", "microseconds"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(dt: datetime | None, *, timespec: Timespec = "seconds", offset: bool = True) -> str | None:
    """``dt`` in UTC as ISO 8601 text (``2026-01-02T03:04:05+00:00``), or None for None.

    ``offset=False`` leaves the ``+00:00`` off (a naive UTC stamp, four-digit year even before
    1000, so that the text sorts as dates)."""
    if not dt:
        return None
    utc = dt.astimezone(UTC)
    if not offset:
        utc = utc.replace(tzinfo=None)
    return utc.isoformat(timespec=timespec)

