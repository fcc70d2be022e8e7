"""One SMTP answer must not block the queue: a message the server accepted (250 after DATA) is
sent whatever QUIT says; a message that fails while it is sent defers only itself; a server
back from a long outage is found by a probe, not after the backoff cap. Real aiosmtpd servers on
127.0.0.1 that misbehave the way real ones do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from alerts.mail import MailError, probe_smtp, send_mail
from tests.alerts.conftest import Recorder, SmtpServer, build_engine, fixture_batch


class QuitWith421(Recorder):
    """Accepts every message, then answers QUIT with 421 (a server shutting down, or a broken one)."""

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        return "421 4.3.2 Service shutting down"


class DropsOneMessage(Recorder):
    """Drops the connection in the middle of the message to one recipient; accepts the others."""

    def __init__(self, poisoned: str) -> None:
        super().__init__()
        self.poisoned = poisoned

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.poisoned in envelope.rcpt_tos:
            server.transport.close()
            return "421 4.4.2 connection dropped"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def make_server():
    servers: list[SmtpServer] = []

    def make(recorder: Recorder) -> SmtpServer:
        server = SmtpServer(recorder=recorder)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def _email_keys(engine) -> set[tuple[str, str]]:
    return {(d.target, d.idempotency_key) for a in engine.log.alerts(limit=100)
            for d in engine.log.deliveries(a.id) if d.channel == "email"}


def _received(server: SmtpServer) -> set[tuple[str, str]]:
    return {(rcpt, re.sub(r"^<(.*)@.*>$", r"\1", mid)) for rcpt, mid in server.per_recipient_and_id()}


def test_send_mail_returns_when_the_message_was_accepted_whatever_quit_says(make_server):
    from email.message import EmailMessage

    server = make_server(QuitWith421())
    message = EmailMessage()
    message["To"], message["Subject"], message["Message-ID"] = "a@example.test", "test", "<m1@hpmon.test>"
    message.set_content("body")
    send_mail(server.config(), message)  # no MailError: the 250 after DATA is what counts
    assert [m["Message-ID"] for _, m in server.messages] == ["<m1@hpmon.test>"]


def test_a_421_after_quit_counts_as_delivered_and_nothing_is_sent_twice(tmp_path, backend, webhook_server, clock,
                                                                        make_server):
    server = make_server(QuitWith421())
    engine = build_engine(tmp_path, backend, server, webhook_server, clock)
    backend.upsert(fixture_batch())
    engine.process_batch(fixture_batch())
    first = engine.deliver_pending()
    again = [engine.deliver_pending(ignore_backoff=True) for _ in range(3)]  # `alerts deliver --now` × 3
    expected = _email_keys(engine)
    assert expected and _received(server) == expected
    assert set(server.per_recipient_and_id().values()) == {1}  # each Message-ID once
    assert first.retried == 0 and first.deferred == 0
    assert all(r.attempted == 0 for r in again)
    engine.close()


def test_a_message_that_fails_while_being_sent_defers_only_itself(tmp_path, backend, webhook_server, clock,
                                                                  make_server):
    server = make_server(DropsOneMessage("ngoaivu@songoaivu.test"))
    engine = build_engine(tmp_path, backend, server, webhook_server, clock)
    backend.upsert(fixture_batch())
    engine.process_batch(fixture_batch())
    report = engine.deliver_pending()
    expected = _email_keys(engine)
    poisoned = {k for k in expected if k[0] == "ngoaivu@songoaivu.test"}
    assert poisoned and _received(server) == expected - poisoned  # every other message went out
    assert report.deferred == 0 and report.retried == len(poisoned)
    engine.close()


def test_a_server_back_after_a_long_outage_is_found_by_a_probe_not_after_the_backoff(
        tmp_path, backend, webhook_server, clock, smtp_server):
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock)
    smtp_server.stop()
    backend.upsert(fixture_batch())
    engine.process_batch(fixture_batch())
    for _ in range(18):  # a 3-hour outage, a delivery round every 10 minutes
        engine.deliver_pending()
        clock.advance(timedelta(minutes=10))
    waiting = [d for a in engine.log.alerts(limit=100) for d in engine.log.deliveries(a.id)
               if d.channel == "email" and d.state == "pending"]
    backed_off = [d for d in waiting if d.next_attempt_at > clock() + timedelta(minutes=5)]
    assert backed_off and all(d.attempts >= 3 for d in backed_off)  # a long backoff, up to the cap
    assert probe_smtp(smtp_server.config())  # down: the probe says why

    smtp_server.start()
    clock.advance(timedelta(seconds=60))  # the next delivery round, a minute after the server is back
    back = engine.deliver_pending()

    assert probe_smtp(smtp_server.config()) is None
    assert back.sent >= len(waiting) and _received(smtp_server) == _email_keys(engine)
    engine.close()


def test_a_server_that_cannot_be_reached_is_a_connect_failure(smtp_server):
    from email.message import EmailMessage

    smtp_server.stop()
    message = EmailMessage()
    message["To"] = "a@example.test"
    message.set_content("body")
    with pytest.raises(MailError) as caught:
        send_mail(smtp_server.config(), message)
    assert caught.value.transient and caught.value.stage == "connect"
