"""When each digest is due: once per day at the profile's time (city time), catching up after downtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alerts.digest.log import DigestLog
from alerts.digest.service import DigestService
from tests.digest.conftest import BASE_URL, CITY, TZ


@pytest.fixture()
def service(backend, profiles, taxonomy, tmp_path):
    log = DigestLog(tmp_path / "hpmon.sqlite")
    yield DigestService(backend=backend, profiles=profiles, log=log, timezone="Asia/Ho_Chi_Minh", city=CITY,
                        base_url=BASE_URL, taxonomy=taxonomy, recipients={}, smtp=None)
    log.close()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in city time (the scheduler passes aware datetimes in any zone)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


TODAY = date(2025, 11, 25)
YESTERDAY = TODAY - timedelta(days=1)


def sent(service: DigestService, profile: str, *days: date) -> None:
    for day in days:
        service.log.record(profile, day, f"<{profile}.{day}@test>", ["x@example.vn"])


def test_a_new_profile_sends_yesterdays_digest_at_its_send_time(service):
    assert service.due_digests(at(TODAY, 6, 59)) == []
    assert service.due_digests(at(TODAY, 7, 0)) == [("sotttt", YESTERDAY)]
    assert service.due_digests(at(TODAY, 7, 30)) == [("songoaivu", YESTERDAY), ("sotttt", YESTERDAY)]


def test_send_time_is_city_time_whatever_zone_now_is_in(service):
    assert service.due_digests(datetime(2025, 11, 24, 23, 59, tzinfo=UTC)) == []  # 06:59 in Hải Phòng
    assert service.due_digests(datetime(2025, 11, 25, 0, 0, tzinfo=UTC)) == [("sotttt", YESTERDAY)]
    assert service.due_digests(datetime(2025, 11, 25, 0, 30, tzinfo=UTC)) == [
        ("songoaivu", YESTERDAY), ("sotttt", YESTERDAY)]


def test_a_digest_in_the_log_is_not_due_again(service):
    sent(service, "sotttt", YESTERDAY)
    sent(service, "songoaivu", YESTERDAY)
    assert service.due_digests(at(TODAY, 12)) == []
    assert service.due_digests(at(TODAY + timedelta(days=1), 6)) == []
    assert service.due_digests(at(TODAY + timedelta(days=1), 7, 10)) == [("sotttt", TODAY)]


def test_after_downtime_every_missed_day_is_due_oldest_first(service):
    sent(service, "sotttt", date(2025, 11, 20))
    sent(service, "songoaivu", YESTERDAY)
    assert service.due_digests(at(TODAY, 8)) == [("sotttt", date(2025, 11, d)) for d in (21, 22, 23, 24)]


def test_a_gap_left_by_a_failed_send_is_filled(service):
    sent(service, "sotttt", date(2025, 11, 20), date(2025, 11, 22), YESTERDAY)
    sent(service, "songoaivu", YESTERDAY)
    assert service.due_digests(at(TODAY, 8)) == [("sotttt", date(2025, 11, 21)), ("sotttt", date(2025, 11, 23))]


def test_catch_up_goes_back_at_most_catch_up_days(service, profiles):
    sent(service, "sotttt", date(2025, 10, 1))
    sent(service, "songoaivu", YESTERDAY)
    days = [day for _, day in service.due_digests(at(TODAY, 8))]
    assert profiles["sotttt"].catch_up_days == 7
    assert days == [YESTERDAY - timedelta(days=n) for n in range(6, -1, -1)]


def test_the_log_keeps_message_id_and_recipients(service):
    service.log.record("sotttt", YESTERDAY, "<m1@hpmon>", ["a@x.vn", "b@x.vn"],
                       sent_at=datetime(2025, 11, 25, 0, 1, tzinfo=UTC))
    entry = service.log.get("sotttt", YESTERDAY)
    assert entry.message_id == "<m1@hpmon>" and entry.recipients == ["a@x.vn", "b@x.vn"]
    assert entry.sent_at == datetime(2025, 11, 25, 0, 1, tzinfo=UTC)
    assert service.log.get("songoaivu", YESTERDAY) is None
