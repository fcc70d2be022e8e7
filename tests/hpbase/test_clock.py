"""The ISO forms each store writes, pinned (a store that changes form breaks its own sorting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hpbase.clock import iso, utcnow

HANOI = timezone(timedelta(hours=7))
MOMENT = datetime(2026, 1, 2, 10, 4, 5, 123456, tzinfo=HANOI)


def test_iso_is_utc_seconds_with_an_offset_by_default() -> None:
    assert iso(MOMENT) == "2026-01-02T03:04:05+00:00"
    assert iso(None) is None


def test_iso_forms_by_parameter() -> None:
    assert iso(MOMENT, timespec="microseconds") == "2026-01-02T03:04:05.123456+00:00"
    assert iso(MOMENT, offset=False) == "2026-01-02T03:04:05"
    assert iso(datetime(1, 1, 2, tzinfo=UTC), offset=False) == "0001-01-02T00:00:00"


def test_utcnow_is_aware_and_in_utc() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs((datetime.now(UTC) - now).total_seconds()) < 60
