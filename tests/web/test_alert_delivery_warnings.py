"""The Alerts page says when a rule's alerts can reach no one: a recipient name the settings do not
know, an empty list, no mail server, or a channel the rule does not use."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from index.sqlite import SqliteBackend

from .conftest import cheap_hasher, csrf_of, login


def _client(settings, **update):
    from fastapi.testclient import TestClient

    from web.app import create_app

    backend = SqliteBackend(settings.index_path)
    app = create_app(settings.model_copy(update=update), backend, password_hasher=cheap_hasher())
    client = TestClient(app)
    assert login(client, "viewer").status_code == 303
    return client, app, backend


@pytest.fixture
def open_client(settings):
    made = []

    def make(**update):
        client, app, backend = _client(settings, **update)
        made.append((client, app, backend))
        return client

    yield make
    for client, app, backend in made:
        client.close()
        app.state.ctx.close()
        backend.close()


def _row(page: str, rule: str):
    tree = lxml_html.fromstring(page)
    return tree.xpath(f"//tr[td/code[normalize-space()='{rule}']]")[0]


def test_with_no_recipient_set_every_rule_is_flagged(client_for):
    page = client_for("viewer").get("/alerts").text
    tree = lxml_html.fromstring(page)
    banner = tree.xpath("//div[contains(@class, 'delivery-warning')]")
    assert banner and "5 quy tắc đang bật không gửi được cảnh báo tới ai" in banner[0].text_content()
    row = _row(page, "high_risk").text_content()
    assert "sotttt_oncall — chưa khai báo" in row and "Cảnh báo của quy tắc này không đến được ai." in row


def test_a_list_without_a_mail_server_is_flagged_and_a_webhook_reaches(open_client):
    client = open_client(recipients={"sotttt_oncall": ["oncall@office.test"], "songoaivu_oncall": []},
                         webhooks={"oncall_webhook": "https://chat.office.test/hook"})
    page = client.get("/alerts").text
    assert 'class="notice warning delivery-warning"' not in page  # each rule reaches the webhook
    row = _row(page, "sovereignty_foreign").text_content()
    assert "sotttt_oncall — chưa cấu hình máy chủ thư (SMTP)" in row
    assert "songoaivu_oncall — danh sách người nhận chưa có địa chỉ thư nào" in row
    assert "không đến được ai" not in row


def test_a_rule_reachable_by_mail_has_no_warning(open_client):
    client = open_client(recipients={"sotttt_oncall": ["oncall@office.test"]}, smtp_host="127.0.0.1")
    page = client.get("/alerts").text
    assert 'class="notice warning delivery-warning"' not in page
    row = _row(page, "high_risk").text_content()
    assert "sotttt_oncall —" not in row and "oncall_webhook — chưa khai báo" in row


def test_the_warning_in_english(client_for):
    client = client_for("viewer")
    client.post("/lang", data={"lang": "en", "csrf_token": csrf_of(client.get("/search").text), "next": "/"})
    page = client.get("/alerts").text
    assert "5 enabled rules send their alerts to no one:" in page and "This rule&#39;s alerts reach no one." in page
