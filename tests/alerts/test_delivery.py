"""Alerts reaching people through a real SMTP server and a real webhook receiver: what the
message says (Vietnamese, escaped, highlighted, linked), signatures, retries, and every
alert delivered exactly once across an outage, a crash and parallel deliverers."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest

from tests.alerts.conftest import (
    BASE_URL,
    SECRET,
    SmtpServer,
    build_engine,
    fixture_batch,
    make_article,
    syndicated_copy,
)


def mail_to(setup, rcpt: str, subject_part: str):
    found = [m for r, m in setup.smtp.messages if r == rcpt and subject_part in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for _, m in setup.smtp.messages]
    return found[0]


# -- what an e-mail says ----------------------------------------------------------------------


def test_an_alert_mail_is_vietnamese_with_plain_and_html_parts_and_every_fact(setup):
    setup.index_and_process(fixture_batch())
    report = setup.engine.deliver_pending()
    assert report.failed == 0 and report.retried == 0

    mail = mail_to(setup, "ngoaivu@songoaivu.test", "三沙市")
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert mail["Subject"] == "[hpmon · CAO] Chủ quyền biển đảo trên báo nước ngoài: 三沙市与越南海防市渔船纠纷"
    for text in (plain, html):
        assert "三沙市与越南海防市渔船纠纷" in text  # the title in its original language
        assert "Tiếng Trung" in text and "南海观察" in text and "Trung Quốc" in text
        assert "Tên gọi gây tranh chấp" in text  # the risk reason, by its Vietnamese name
        assert f"{BASE_URL}/articles/zh-sansha" in text
    assert "Tiêu đề (nguyên văn)" in plain and "Lý do đánh giá rủi ro" in plain
    # a theme rule has no query words: the sensitive terms behind the theme are what it matched
    assert "<mark><strong>西沙群岛</strong></mark>" in html and "*三沙市*" in plain


def test_matched_terms_are_highlighted_in_the_mail(tmp_path, backend, smtp_server, webhook_server, clock):
    rules = tmp_path / "alerts.yaml"
    rules.write_text('rules:\n  - name: gulf\n    query: \'"Gulf of Tonkin"\'\n    recipients: [sotttt_oncall]\n',
                     encoding="utf-8")
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock, rules_path=rules)
    batch = fixture_batch()
    backend.upsert(batch)
    engine.process_batch(batch)
    engine.deliver_pending()

    [mail] = [m for r, m in smtp_server.messages if r == "trucban@sotttt.test"]
    assert "<mark><strong>Gulf of Tonkin</strong></mark>" in mail.get_body(("html",)).get_content()
    assert "*Gulf of Tonkin*" in mail.get_body(("plain",)).get_content()
    engine.close()


def test_a_crawled_script_in_a_title_is_escaped_in_the_html_mail(setup):
    hostile = make_article(
        "xss", title='<script>alert("pwned")</script> Survey ship near Haiphong <img src=x onerror=alert(1)>',
        text='Ships near Bach Long Vi. <script>steal()</script> "quotes" & ampersands',
        language="en", outlet="<b>Evil</b> Times", country="US", scope="foreign", themes=["sovereignty"],
        risk=0.5, url="javascript:alert(document.cookie)")
    setup.index_and_process([hostile])
    setup.engine.deliver_pending()

    mail = mail_to(setup, "trucban@sotttt.test", "Chủ quyền biển đảo trên báo nước ngoài: <script>")
    html = mail.get_body(("html",)).get_content()
    assert "<script" not in html and "<img" not in html and "<b>Evil" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Evil&lt;/b&gt; Times" in html
    assert 'href="javascript:' not in html
    assert "\n" not in mail["Subject"] and "<script>" in mail["Subject"]  # a subject is text, not markup


def test_a_recipient_who_reads_english_gets_the_alert_in_english(tmp_path, backend, smtp_server, webhook_server,
                                                                   clock):
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        "rules:\n  - name: sov\n    label: {vi: Chủ quyền, en: Sovereignty}\n    filters: {themes: [sovereignty]}\n"
        "    severity: high\n"
        "    recipients: [sotttt_oncall, {name: songoaivu_oncall, language: en}]\n", encoding="utf-8")
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock, rules_path=rules)
    engine.process_batch(fixture_batch()[1:2])
    engine.deliver_pending()

    subjects = {r: m["Subject"] for r, m in smtp_server.messages}
    assert subjects["ngoaivu@songoaivu.test"].startswith("[hpmon · HIGH] Sovereignty: Chinese survey ship")
    assert subjects["trucban@sotttt.test"].startswith("[hpmon · CAO] Chủ quyền: Chinese survey ship")
    english = next(m for r, m in smtp_server.messages if r == "ngoaivu@songoaivu.test")
    assert "Language" in english.get_body(("plain",)).get_content()
    engine.close()


# -- webhooks --------------------------------------------------------------------------------


def test_webhook_posts_are_signed_with_the_secret_and_carry_the_alert(setup):
    setup.index_and_process(fixture_batch())
    setup.engine.deliver_pending()

    posts = setup.hooks.requests
    assert len(posts) == 5
    assert all(p.signature_ok() for p in posts)
    assert not posts[0].signature_ok("another-secret")
    doc = next(p.json for p in posts if p.json["rule"] == "rights_religion_ethnicity_foreign")
    assert doc["article"]["id"] == "en-rights" and doc["article"]["link"] == f"{BASE_URL}/articles/en-rights"
    assert doc["severity"] == "medium" and doc["text"].startswith("[hpmon · TRUNG BÌNH]")
    assert {p.headers["idempotency-key"] for p in posts} == {p.json["idempotency_key"] for p in posts}


def test_a_webhook_refusing_with_400_fails_for_good_and_a_503_is_retried_once_up(setup):
    setup.hooks.statuses = [400, 503, 503, 503, 503]
    setup.index_and_process(fixture_batch())
    first = setup.engine.deliver_pending()
    assert (first.failed, first.retried) == (1, 4)

    setup.clock.advance(timedelta(minutes=5))
    second = setup.engine.deliver_pending()

    assert second.sent >= 4 and second.failed == 0
    keys = [p.headers["idempotency-key"] for p in setup.hooks.requests]
    assert len(keys) == 9 and len(set(keys)) == 5  # retries repeat the same key
    states = [d.state for a in setup.engine.log.alerts() for d in setup.engine.log.deliveries(a.id)
              if d.channel == "webhook"]
    assert sorted(states) == ["failed", "sent", "sent", "sent", "sent"]


def test_a_429_is_retried_no_earlier_than_retry_after(setup):
    setup.hooks.statuses = [(429, {"Retry-After": "600"})]
    setup.index_and_process(fixture_batch()[3:4])  # one alert: rights
    setup.engine.deliver_pending()

    setup.clock.advance(timedelta(minutes=5))
    assert setup.engine.deliver_pending().attempted == 0
    setup.clock.advance(timedelta(minutes=6))
    assert setup.engine.deliver_pending().sent == 1


def test_webhooks_wait_without_a_secret_instead_of_going_out_unsigned(tmp_path, backend, smtp_server,
                                                                      webhook_server, clock):
    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock, secret=None)
    engine.process_batch(fixture_batch()[3:4])
    report = engine.deliver_pending()

    assert webhook_server.requests == []
    assert report.retried == 1 and "webhook_secret" in report.errors[0]
    engine.close()


# -- exactly once -----------------------------------------------------------------------------


def test_with_the_smtp_server_down_every_alert_goes_out_exactly_once_when_it_is_back(setup):
    setup.smtp.stop()
    setup.index_and_process(fixture_batch())
    down = setup.engine.deliver_pending()
    setup.clock.advance(timedelta(minutes=10))
    original = fixture_batch()[2]
    more = [make_article("en-rel", title="Religious group in Haiphong says church land seized",
                         text="A Protestant congregation in Hai Phong said officials seized land.", language="en",
                         outlet="Faith Report", country="US", scope="foreign", themes=["religion"], risk=0.2,
                         now=setup.clock()),
            syndicated_copy(original, "zh-copy", "环球时报", "CN", now=setup.clock())]
    setup.index_and_process(more)  # a second crawl while the server is still down
    still_down = setup.engine.deliver_pending()
    assert setup.smtp.messages == [] and (down.sent, still_down.sent) == (5, 1)  # only the webhooks

    setup.smtp.start()
    setup.clock.advance(timedelta(hours=1))
    back = setup.engine.deliver_pending()
    again = setup.engine.deliver_pending(ignore_backoff=True)

    expected = {(d.target, d.idempotency_key) for a in setup.engine.log.alerts(limit=100)
                for d in setup.engine.log.deliveries(a.id) if d.channel == "email"}
    received = setup.smtp.per_recipient_and_id()
    assert len(expected) == 16
    assert {(rcpt, re.sub(r"^<(.*)@.*>$", r"\1", mid)) for rcpt, mid in received} == expected
    assert set(received.values()) == {1}
    assert back.sent == 16 and again.attempted == 0
    assert setup.engine.log.counts()["sent"] == 16 + 6  # and the 6 webhooks went out while SMTP was down


def test_a_delivery_claimed_by_a_crashed_deliverer_goes_out_once_after_its_lease(setup):
    setup.index_and_process(fixture_batch()[3:4])  # one alert: rights (2 + 1 e-mails, 1 webhook)
    log = setup.engine.log
    [alert] = log.alerts()
    crashed = next(d for d in log.deliveries(alert.id) if d.target == "ngoaivu@songoaivu.test")
    assert log.claim(crashed, setup.clock(), timedelta(minutes=10))  # ... and the process died here

    first = setup.engine.deliver_pending()
    setup.clock.advance(timedelta(minutes=11))
    after_lease = setup.engine.deliver_pending()

    assert (first.sent, after_lease.sent) == (3, 1)
    received = setup.smtp.per_recipient_and_id()
    assert received[("ngoaivu@songoaivu.test", f"<{crashed.idempotency_key}@localhost>")] == 1
    assert set(received.values()) == {1}


def test_a_delivery_recorded_as_sent_is_never_sent_again(setup):
    setup.index_and_process(fixture_batch())
    setup.engine.deliver_pending()
    count = len(setup.smtp.messages)

    for _ in range(3):
        setup.clock.advance(timedelta(days=1))
        assert setup.engine.deliver_pending(ignore_backoff=True).attempted == 0
    assert len(setup.smtp.messages) == count


def test_two_deliverers_running_at_once_send_each_message_once(tmp_path, backend, smtp_server, webhook_server,
                                                               clock):
    engines = [build_engine(tmp_path, backend, smtp_server, webhook_server, clock) for _ in range(2)]
    engines[0].process_batch(fixture_batch())
    threads = [threading.Thread(target=e.deliver_pending) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    received = smtp_server.per_recipient_and_id()
    assert len(received) == 13 and set(received.values()) == {1}
    assert len(webhook_server.requests) == 5
    for e in engines:
        e.close()


# -- transports --------------------------------------------------------------------------------


@pytest.fixture
def starttls_server(certificate):
    """A real SMTP server on 127.0.0.1 offering STARTTLS (self-signed certificate) and login
    hpmon / s3cret; ``login(password)`` is the client configuration for it."""
    import ssl

    cert_file, key_file = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server = SmtpServer(tls_context=context, credentials=("hpmon", "s3cret"))
    server.login = lambda password: server.config(security="starttls", username="hpmon", password=password,
                                                  ca_file=str(cert_file))
    server.start()
    yield server
    server.stop()


def test_alerts_go_out_over_starttls_with_login(tmp_path, backend, webhook_server, clock, starttls_server):
    engine = build_engine(tmp_path, backend, None, webhook_server, clock, smtp_config=starttls_server.login("s3cret"))
    engine.process_batch(fixture_batch()[3:4])
    report = engine.deliver_pending()
    engine.close()
    assert report.sent == 4 and len(starttls_server.messages) == 3


def test_a_wrong_smtp_password_keeps_the_alert_waiting_until_the_settings_are_fixed(tmp_path, backend,
                                                                                   webhook_server, clock,
                                                                                   starttls_server):
    engine = build_engine(tmp_path, backend, None, webhook_server, clock, smtp_config=starttls_server.login("wrong"))
    engine.process_batch(fixture_batch()[3:4])
    report = engine.deliver_pending()
    waiting = [d for a in engine.log.alerts() for d in engine.log.deliveries(a.id) if d.channel == "email"]
    engine.close()
    clock.advance(timedelta(hours=1))
    fixed = build_engine(tmp_path, backend, None, webhook_server, clock, smtp_config=starttls_server.login("s3cret"))
    after = fixed.deliver_pending()
    fixed.close()
    assert report.sent == 1 and {d.state for d in waiting} == {"pending"}  # only the webhook went
    assert "535" in waiting[0].last_error
    assert after.sent == 3 and set(starttls_server.per_recipient_and_id().values()) == {1}


def test_the_webhook_secret_never_appears_in_what_is_sent(setup):
    setup.index_and_process(fixture_batch())
    setup.engine.deliver_pending()

    assert all(SECRET.encode() not in p.body for p in setup.hooks.requests)
    assert all(SECRET not in m.as_string() for _, m in setup.smtp.messages)


def test_a_delivery_claimed_by_a_process_that_died_goes_out_at_once(setup):
    import subprocess
    import sys

    from alerts.delivery import process_identity

    setup.index_and_process(fixture_batch()[3:4])
    log = setup.engine.log
    [alert] = log.alerts()
    crashed = next(d for d in log.deliveries(alert.id) if d.target == "ngoaivu@songoaivu.test")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    dead = process_identity(child.pid)  # recorded while it runs (a zombie until reaped) ...
    child.wait()  # ... then it is gone, as a killed `hpmon alerts deliver`
    assert log.claim(crashed, setup.clock(), timedelta(minutes=10), claimer=dead)

    first = setup.engine.deliver_pending()  # no lease to wait for
    assert first.sent == 4
    received = setup.smtp.per_recipient_and_id()
    assert received[("ngoaivu@songoaivu.test", f"<{crashed.idempotency_key}@localhost>")] == 1
    assert set(received.values()) == {1}


def test_only_a_claimer_known_to_be_dead_is_judged():
    import os
    import socket

    from alerts.delivery import claimer_gone, process_identity

    me = process_identity()
    assert not claimer_gone(me) and not claimer_gone(None) and not claimer_gone("garbage")
    assert not claimer_gone(f"another-host:{os.getpid()}:1")  # another machine: its lease decides
    host, pid, start = me.rsplit(":", 2)
    assert claimer_gone(f"{host}:{pid}:{int(start) + 1}")  # the pid now belongs to a later process
    assert claimer_gone(f"{socket.gethostname()}:{2 ** 22 + 7}:")  # no such pid
