"""Request values with their bounds, in one place: what the index and the databases can hold.

An id beyond SQLite's 64-bit integers or a date whose city-time midnight falls outside the
calendar (``0001-01-01`` in UTC+7, ``9999-12-31``) is a bad request (400) with a message, not a
server error."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path

from alerts.i18n import risk_points

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


# -- risk in forms: points out of 100 ------------------------------------------------------------
#
# Every page shows risk as points out of 100 (``alerts.i18n.format_risk``: "72/100 (cao)"), so every
# form takes it that way too: a whole number 0..100 in the parameter ``risk``. The index, the rules
# file and the queue keep the score in [0, 1]; the conversion happens here, at the edge, for every
# form (search filters, saved searches, the alert rule form).
#
# Compatibility: links and saved searches made before this change carry ``min_risk`` on the old
# 0..1 scale. That parameter is still read (never written): ``min_risk=0.6`` is ``risk=60``. When a
# request carries both, ``risk`` wins.

#: The risk parameter of the forms: a whole number of points, 0..100.
RISK_PARAM = "risk"
#: The parameter of before (score in [0, 1]): read for old links and saved searches, never written.
LEGACY_RISK_PARAM = "min_risk"


def risk_from_points(value: str) -> float:
    """A score in [0, 1] from a form's whole number of points (``"72"`` -> 0.72); ValueError when
    the value is not a whole number within 0..100 (``"0.6"``, ``"101"``, ``"cao"``)."""
    text = value.strip()
    if not text.isdigit():  # no sign, no decimal point: "0.6" is not read as 0.6 points
        raise ValueError(f"{value!r} is not a whole number of points 0..100")
    points = int(text)
    if points > 100:
        raise ValueError(f"{value!r} is above 100")
    return points / 100


def risk_from_legacy(value: str) -> float:
    """A score in [0, 1] from the old ``min_risk`` parameter (``"0.6"``); ValueError outside [0, 1]."""
    score = float(value.strip())
    if not 0 <= score <= 1:  # NaN fails too
        raise ValueError(f"{value!r} is not between 0 and 1")
    return score


def risk_to_points(score: float) -> int:
    """A score in [0, 1] as the whole number of points a form shows (0.72 -> 72, rounded)."""
    return risk_points(score)
