"""``hpmon digest`` (invoked directly until it is registered in hpmon.cli): files, --send and --due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from alerts.digest.log import DigestLog
from hpmon.commands.digest import digest, due_digests, send_digest, send_due_digests
from hpmon.settings import Settings
from index.sqlite import SqliteBackend
from tests.digest.conftest import (
    BASE_URL,
    DAY,
    EMPTY_DAY,
    MORNING_AFTER,
    RECIPIENTS,
    day_articles,
    other_articles,
    parse,
)


@pytest.fixture()
def home(tmp_path):
    store = SqliteBackend(tmp_path / "index.sqlite")
    store.upsert(day_articles() + other_articles())
    store.close()
    return tmp_path


def invoke(home, *args: str, port: int | None = None):
    settings = Settings(home=home, base_url=BASE_URL, recipients=RECIPIENTS, smtp_host="127.0.0.1" if port else None,
                        smtp_port=port or 25, smtp_security="none", smtp_from="hpmon <hpmon@example.vn>")
    return CliRunner().invoke(digest, list(args), obj={"settings": settings}, catch_exceptions=False)


def test_digest_writes_html_pdf_and_markdown_with_its_charts(home, tmp_path):
    out = tmp_path / "out"
    result = invoke(home, "--date", DAY.isoformat(), "--profile", "songoaivu", "--format", "html,pdf,md",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    stem = out / "digest-songoaivu-2025-11-24"
    html = stem.with_suffix(".html").read_text(encoding="utf-8")
    assert "Sở Ngoại vụ" in html and 'src="data:image/png;base64,' in html
    assert stem.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    md = stem.with_suffix(".md").read_text(encoding="utf-8")
    for chart in ("volume_sentiment", "countries", "languages", "topics"):
        assert f"](digest-songoaivu-2025-11-24-{chart}.png)" in md
        assert (out / f"digest-songoaivu-2025-11-24-{chart}.png").read_bytes().startswith(b"\x89PNG")
    assert f"wrote {stem.with_suffix('.md')}" in result.output


def test_digest_in_english_for_every_profile_by_default(home, tmp_path):
    result = invoke(home, "--date", EMPTY_DAY.isoformat(), "--format", "md", "--lang", "en", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for profile in ("sotttt", "songoaivu"):
        md = (tmp_path / f"digest-{profile}-{EMPTY_DAY.isoformat()}.md").read_text(encoding="utf-8")
        assert md.startswith("# Press digest on Hai Phong") and "No article about Hai Phong" in md


@pytest.mark.parametrize(("args", "message"), [
    (("--profile", "sonoivu"), "unknown profile(s) sonoivu"),
    (("--format", "docx"), "unknown format(s) docx"),
    (("--date", "24/11/2025"), "not a date"),
])
def test_digest_refuses_bad_options_with_a_reason(home, args, message):
    result = CliRunner().invoke(digest, list(args), obj={"settings": Settings(home=home)})
    assert result.exit_code != 0 and message in result.output


def test_send_mails_the_digest_and_logs_it(home, tmp_path, smtp_server):
    port, inbox = smtp_server
    day = DAY + timedelta(days=1)  # a light day: one article
    result = invoke(home, "--date", day.isoformat(), "--profile", "sotttt", "--format", "md", "--out",
                    str(tmp_path), "--send", port=port)
    assert result.exit_code == 0, result.output
    assert "sent sotttt 2025-11-25 to 2 recipients" in result.output
    message = parse(inbox.messages[0][2])
    assert message["Subject"] == "Bản tin báo chí về Hải Phòng ngày 25/11/2025 — Sở Thông tin và Truyền thông"
    assert "Tin sáng: Hải Phòng đón năm mới" in message.get_body(preferencelist=("html",)).get_content()
    log = DigestLog(home / "hpmon.sqlite")  # settings.app_db_path
    assert log.get("sotttt", day).message_id == message["Message-ID"]
    log.close()


def test_send_without_smtp_fails_with_the_reason(home, tmp_path):
    result = invoke(home, "--date", EMPTY_DAY.isoformat(), "--profile", "sotttt", "--format", "md", "--out",
                    str(tmp_path), "--send")
    assert result.exit_code != 0 and "smtp_host" in result.output


def test_the_scheduler_entry_point_sends_what_is_due_once(home, smtp_server):
    port, inbox = smtp_server
    settings = Settings(home=home, base_url=BASE_URL, recipients=RECIPIENTS, smtp_host="127.0.0.1", smtp_port=port,
                        smtp_security="none")
    light_day = DAY + timedelta(days=1)  # new profiles start with yesterday's digest: a light day here
    now = MORNING_AFTER + timedelta(days=1)
    assert due_digests(settings, now) == [("songoaivu", light_day), ("sotttt", light_day)]
    results = send_due_digests(settings, now)
    assert [(r.profile, r.status) for r in results] == [("songoaivu", "sent"), ("sotttt", "sent")]
    assert len(inbox.messages) == 2
    assert due_digests(settings, now) == [] and send_due_digests(settings, now) == []
    assert send_digest(settings, "sotttt", light_day).status == "skipped"
