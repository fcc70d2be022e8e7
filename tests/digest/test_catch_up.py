"""The scheduler's view of mailing: missed days caught up through a real SMTP server, each sent
once, and a server that does not answer leaving the digest due for the next tick."""

from __future__ import annotations

from datetime import timedelta

from tests.digest.conftest import DAY, EMPTY_DAY, MORNING_AFTER, free_port, make_service, parse


def test_the_scheduler_catches_up_missed_days_then_sends_nothing_more(mailer):
    service, inbox = mailer
    last = DAY + timedelta(days=1)  # the scheduler sent this one, then was down for three days
    service.log.record("sotttt", last, "<before@x>", ["x@x.vn"])
    service.log.record("songoaivu", last + timedelta(days=3), "<other@x>", ["x@x.vn"])
    now = MORNING_AFTER + timedelta(days=4)
    results = service.send_due(now)
    missed = [last + timedelta(days=n) for n in (1, 2, 3)]
    assert [(r.profile, r.day, r.status) for r in results] == [("sotttt", d, "sent") for d in missed]
    subjects = [parse(raw)["Subject"] for _, _, raw in inbox.messages]
    assert [s.split(" ngày ")[1][:10] for s in subjects] == [d.strftime("%d/%m/%Y") for d in missed]
    assert service.send_due(now) == [] and len(inbox.messages) == 3
    assert {e.day for e in service.log.entries("sotttt")} == {last, *missed}


def test_an_unreachable_server_fails_transiently_and_the_digest_stays_due(backend, profiles, taxonomy, tmp_path):
    service = make_service(backend, profiles, taxonomy, tmp_path / "hpmon.sqlite", free_port())  # nobody listens
    service.log.record("sotttt", EMPTY_DAY - timedelta(days=1), "<earlier@x>", ["x@x.vn"])
    morning_after = MORNING_AFTER + (EMPTY_DAY - DAY)
    result = service.send_digest("sotttt", EMPTY_DAY, now=morning_after)  # a light day: the failure is the point
    assert result.status == "failed" and result.transient
    assert service.log.get("sotttt", EMPTY_DAY) is None
    assert ("sotttt", EMPTY_DAY) in service.due_digests(morning_after)
    service.log.close()
