"""Webhooks go through the address policy: a receiver on loopback is refused unless its host
is allowed by name; the alert waits (a setting to fix), nothing is posted, and the reason says why."""

from __future__ import annotations

from datetime import timedelta

from tests.alerts.conftest import build_engine, fixture_batch


def test_a_webhook_on_an_internal_address_is_refused_unless_allowed(tmp_path, backend, smtp_server, webhook_server,
                                                                    clock):
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock, allow_hosts=())
    engine.process_batch(fixture_batch()[3:4])  # one alert: rights (e-mails and one webhook)
    report = engine.deliver_pending()
    engine.close()

    assert webhook_server.requests == []
    assert report.retried == 1 and report.sent >= 1  # the e-mails went, the webhook waits
    [error] = [e for e in report.errors if "webhook" in e]
    assert "blocked_address: 127.0.0.1 is loopback" in error


def test_an_allowed_host_must_match_its_port_too(tmp_path, backend, smtp_server, webhook_server, clock):
    port = webhook_server.httpd.server_address[1]
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock, allow_hosts=(f"127.0.0.1:{port + 1}",))
    engine.process_batch(fixture_batch()[3:4])
    assert engine.deliver_pending().retried == 1 and webhook_server.requests == []
    engine.close()
    allowed = build_engine(tmp_path, backend, smtp_server, webhook_server, clock, allow_hosts=(f"127.0.0.1:{port}",))
    clock.advance(timedelta(minutes=5))
    assert allowed.deliver_pending().sent == 1 and len(webhook_server.requests) == 1
    allowed.close()
