"""Mailing the digest through a real SMTP server on 127.0.0.1 (aiosmtpd), parsing what it received,
and the log that makes each profile's digest go out once per day."""

from __future__ import annotations

import re

from tests.digest.conftest import DAY, MORNING_AFTER, RECIPIENTS, make_service, parse


def test_the_digest_arrives_with_html_inline_charts_and_the_pdf_attached(mailer):
    service, inbox = mailer
    result = service.send_digest("sotttt", DAY, now=MORNING_AFTER)
    assert result.status == "sent", result.reason
    assert len(inbox.messages) == 1
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "hpmon@example.vn" and sorted(rcpts) == sorted(RECIPIENTS["sotttt"])
    message = parse(raw)
    assert message["Subject"] == "Bản tin báo chí về Hải Phòng ngày 24/11/2025 — Sở Thông tin và Truyền thông"
    assert message.get_content_type() == "multipart/mixed"
    assert message["Message-ID"] == result.message_id

    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert "| Số bài báo | **12** | 6 | 4,9 |" in plain
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content()
    assert "Các câu chuyện nổi bật" in html and "&lt;script&gt;" in html and "<script>" not in html
    referenced = re.findall(r'src="cid:([^"]+)"', html)
    assert len(referenced) == 4
    related = [p for p in message.walk() if p.get_content_maintype() == "image"]
    assert {p["Content-ID"].strip("<>") for p in related} == set(referenced)
    assert all(p.get_content().startswith(b"\x89PNG") for p in related)
    assert all(p.get_content_disposition() == "inline" for p in related)

    attachments = list(message.iter_attachments())
    pdfs = [a for a in attachments if a.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_filename() == "digest-sotttt-2025-11-24.pdf"
    assert pdfs[0].get_content().startswith(b"%PDF")

    entry = service.log.get("sotttt", DAY)
    assert entry.message_id == result.message_id and sorted(entry.recipients) == sorted(RECIPIENTS["sotttt"])


def test_a_digest_is_sent_once_per_day_unless_forced(mailer):
    service, inbox = mailer
    assert service.send_digest("songoaivu", DAY, now=MORNING_AFTER).status == "sent"
    again = service.send_digest("songoaivu", DAY, now=MORNING_AFTER)
    assert again.status == "skipped" and len(inbox.messages) == 1
    assert service.send_digest("songoaivu", DAY, force=True, now=MORNING_AFTER).status == "sent"
    assert len(inbox.messages) == 2
    assert parse(inbox.messages[1][2])["Subject"].endswith("— Sở Ngoại vụ")


def test_missing_recipient_lists_or_smtp_are_reported_not_raised(backend, profiles, taxonomy, tmp_path, smtp_server):
    port, inbox = smtp_server
    service = make_service(backend, profiles, taxonomy, tmp_path / "a.sqlite", port, recipients={})
    result = service.send_digest("sotttt", DAY)
    assert result.status == "failed" and "sotttt" in result.reason and "recipients" in result.reason
    service.log.close()
    service = make_service(backend, profiles, taxonomy, tmp_path / "b.sqlite", None)
    assert "smtp_host" in service.send_digest("sotttt", DAY).reason
    service.log.close()
    assert inbox.messages == []
