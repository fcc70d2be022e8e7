"""The three ways a digest is built — ``hpmon digest`` (files), the scheduled send
(``send_due_digests``) and the web preview — read the same case store through
``alerts.digest.inputs.case_inputs`` and show the same content: an article whose rebuttal case
is published shows as published in all three, and the queue counter is the number of cases open at
the end of the day (from the audit trail), not "—"."""

from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner

from alerts.digest.inputs import case_inputs
from hpmon.commands.digest import digest, send_due_digests
from hpmon.settings import Settings
from index.sqlite import SqliteBackend
from records.cases import CaseStore
from tests.digest.conftest import BASE_URL, DAY, MORNING_AFTER, RECIPIENTS, day_articles, local, other_articles, parse

PUBLISHED = "Đã đăng phản bác"  # records.cases.STATE_LABELS["published"]["vi"]
NEW = "Mới"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def make_cases(path) -> None:
    """s3 (Global Times): opened at 14:30 on DAY and published at 20:00; s5 (RFA): opened at 15:30 and
    still new; p5 (the day before's strike story): opened and dismissed on DAY-1; n1: opened the
    morning after DAY (not in DAY's queue)."""
    articles = {a.id: a for a in day_articles() + other_articles()}
    clock = Clock(local(DAY - timedelta(days=1), 13))
    store = CaseStore(path, now=clock)
    try:
        p5 = store.open_case_for(articles["p5"]).case
        clock.moment = local(DAY - timedelta(days=1), 18)
        store.move(p5.id, "dismissed", actor="analyst", reason="không sai sự thật")
        clock.moment = local(DAY, 14, 30)
        s3 = store.open_case_for(articles["s3"]).case
        clock.moment = local(DAY, 15, 30)
        store.open_case_for(articles["s5"])
        clock.moment = local(DAY, 16)
        store.move(s3.id, "triaged", actor="analyst")
        store.move(s3.id, "drafting", actor="analyst")
        store.set_rebuttal(s3.id, claim="Tàu khảo sát ở vùng biển Việt Nam", verdict="distorted",
                           rebuttal="Quần đảo Hoàng Sa thuộc chủ quyền Việt Nam.", actor="analyst")
        store.move(s3.id, "awaiting_approval", actor="analyst")
        clock.moment = local(DAY, 20)
        store.move(s3.id, "published", actor="approver", roles=["approver"],
                   published_url="https://songoaivu.example.vn/phan-bac")
        clock.moment = local(DAY + timedelta(days=1), 8)
        store.open_case_for(articles["n1"])
    finally:
        store.close()


@pytest.fixture()
def home(tmp_path, smtp_server):
    port, inbox = smtp_server
    settings = Settings(home=tmp_path / "home", base_url=BASE_URL, recipients=RECIPIENTS, smtp_host="127.0.0.1",
                        smtp_port=port, smtp_security="none", smtp_from="hpmon <hpmon@example.vn>")
    settings.home.mkdir(parents=True)
    store = SqliteBackend(settings.index_path)
    store.upsert(day_articles() + other_articles())
    store.close()
    make_cases(settings.app_db_path)
    return settings, inbox


def visible_text(document: str) -> str:
    """The words a reader sees: no tags, no images, entities decoded, the footer's build time out."""
    document = re.sub(r"<(style|head)\b.*?</\1>", " ", document, flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", document))
    text = re.sub(r"\d\d/\d\d/\d{4} \d\d:\d\d", "<time>", text)
    return " ".join(text.split())


def flagged_case(document: str, article_id: str) -> str:
    block = re.search(rf'data-article="{article_id}".*?class="case">(.*?)</div>', document, re.S)
    assert block, f"{article_id} is not in the sensitive section"
    return visible_text(block.group(1))


def flagged_case_risk(document: str, article_id: str) -> str:
    block = re.search(rf'data-article="{article_id}"(.*?)</table>', document, re.S)
    assert block
    return visible_text(block.group(1))


def queue_today(document: str) -> str:
    row = re.search(r'data-metric="queue".*?class="today">(.*?)</td>.*?class="previous">(.*?)</td>', document, re.S)
    assert row, "no queue row in the headline"
    return visible_text(row.group(1)) + " / " + visible_text(row.group(2))


def test_case_inputs_read_states_and_the_queue_of_each_day_from_the_audit_trail(tmp_path):
    make_cases(tmp_path / "hpmon.sqlite")
    store = CaseStore(tmp_path / "hpmon.sqlite")
    try:
        inputs = case_inputs(store, "Asia/Ho_Chi_Minh")
        assert inputs.case_state("s3") == "published" and inputs.case_state("s5") == "new"
        assert inputs.case_state("s1a") is None
        # end of DAY-1: p5 dismissed → 0; end of DAY: s5 open, s3 published → 1; DAY+1: s5 and n1 → 2
        assert [inputs.queue_counter(DAY + timedelta(days=n)) for n in (-1, 0, 1)] == [0, 1, 2]
        assert inputs.queue_counter(date(2025, 1, 1)) == 0
    finally:
        store.close()
    assert case_inputs(None, "Asia/Ho_Chi_Minh").case_state is None


def test_cli_scheduled_send_and_web_preview_show_the_same_digest(home, tmp_path):
    settings, inbox = home
    out = tmp_path / "out"
    result = CliRunner().invoke(digest, ["--date", DAY.isoformat(), "--profile", "sotttt", "--format", "html,pdf",
                                         "--out", str(out)], obj={"settings": settings}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cli_html = (out / f"digest-sotttt-{DAY.isoformat()}.html").read_text(encoding="utf-8")

    results = send_due_digests(settings, MORNING_AFTER.astimezone(UTC))
    assert {r.profile: r.status for r in results} == {"sotttt": "sent", "songoaivu": "sent"}
    mails = [parse(raw) for _, rcpt, raw in inbox.messages if "lanh.dao@sotttt.example.vn" in rcpt]
    assert len(mails) == 1
    mail_html = mails[0].get_body(("html",)).get_content()
    assert "LƯU HÀNH NỘI BỘ" in mails[0].get_body(("plain",)).get_content()  # the internal mark, in both parts
    assert "Lưu hành nội bộ" in mail_html

    from fastapi.testclient import TestClient

    from tests.web.conftest import cheap_hasher, login
    from web.app import create_app
    from web.auth import UserStore

    users = UserStore(settings.app_db_path, hasher=cheap_hasher())
    users.add_user("viewer", "correct horse battery", "viewer")
    users.close()
    backend = SqliteBackend(settings.index_path)
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    try:
        with TestClient(app) as client:
            assert login(client, "viewer").status_code == 303
            response = client.get(f"/digests/preview/sotttt?day={DAY.isoformat()}")
            assert response.status_code == 200
            web_html = response.text
            article_page = client.get("/articles/s3").text
    finally:
        app.state.ctx.close()
        backend.close()

    for name, document in (("cli", cli_html), ("mail", mail_html), ("web", web_html)):
        assert PUBLISHED in flagged_case(document, "s3"), name
        assert NEW in flagged_case(document, "s5"), name
        assert queue_today(document) == "1 ▲ / 0", name
    assert visible_text(cli_html) == visible_text(mail_html) == visible_text(web_html)
    # one risk presentation: the article page of the web app says what the digest says
    assert "72/100 (cao)" in flagged_case_risk(cli_html, "s3") and "72/100 (cao)" in visible_text(article_page)
    assert "0.72" not in visible_text(article_page) and "0,72" not in visible_text(article_page)

    if shutil.which("pdftotext"):
        pdf_text = subprocess.run(["pdftotext", str(out / f"digest-sotttt-{DAY.isoformat()}.pdf"), "-"],
                                  check=True, capture_output=True, text=True).stdout
        assert PUBLISHED in " ".join(pdf_text.split())
