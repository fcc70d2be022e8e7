"""Request values with their bounds, in one place: what the index and the databases can hold.

An id beyond SQLite's 64-bit integers or a date whose city-time midnight falls outside the
calendar (``0001-01-01`` in UTC+7, ``9999-12-31``) is a bad request (400) with a message, not a
server error."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path

MAX_ID = 2**63 - 1  # SQLite INTEGER
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)

#: A record id in a URL path (cases, evidence, users, saved searches).
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]


def parse_day(value: str) -> date:
    """An ISO date within ``FIRST_DAY``..``LAST_DAY``; ValueError otherwise."""
    day = date.fromisoformat(value.strip())
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{value!r} is outside {FIRST_DAY}..{LAST_DAY}")
    return day
