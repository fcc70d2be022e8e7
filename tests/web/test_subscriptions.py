"""Analysts subscribe to a saved search: an alert rule of their own (records.subscriptions), matched
and delivered by the alert engine like every rule, e-mailed at once to the address they gave."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from alerts.engine import AlertEngine
from hpbase.clock import utcnow
from index.article import Article
from tests.alerts.conftest import SmtpServer

from .conftest import csrf_of


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _engine(settings, smtp: SmtpServer | None = None) -> AlertEngine:
    config = Path(settings.config_dir)
    return AlertEngine.from_values(rules_path=config / "alerts.yaml", backend=None, db_path=settings.app_db_path,
                                   smtp=smtp.config() if smtp else None, recipients={}, webhooks={},
                                   webhook_secret=None, base_url="http://127.0.0.1:8000",
                                   taxonomy_path=config / "topics.yaml", risk_path=config / "risk.yaml")


def _subscribe(client, saved_id: int, email: str):
    token = csrf_of(client.get("/search").text)
    return client.post(f"/saved/{saved_id}/subscribe", data={"email": email, "mode": "instant",
                                                             "csrf_token": token}, follow_redirects=False)


def _new_port_article() -> Article:
    return Article(id="new-port", url="https://news.example/new-port", source_id="src-vi", language="vi",
                   title="Cảng Hải Phòng đón thêm tuyến container mới", text="Cảng Hải Phòng đón tuyến mới.",
                   topics=["port_logistics"], scope="domestic", country="VN", published_at=utcnow())


def _saved(client, name: str, params: list[tuple[str, str]]) -> int:
    ctx = client.app.state.ctx
    return ctx.saved.add(ctx.users.get_by_name("analyst").id, name, params).id


def test_a_subscription_e_mails_a_new_match_through_the_alert_engine(client_for, settings, smtp):
    analyst = client_for("analyst")
    saved = _saved(analyst, "Cảng biển", [("q", "hai phong"), ("topic", "port_logistics")])
    assert _subscribe(analyst, saved, "chuyenvien@sotttt.example.vn").status_code == 303
    page = analyst.get("/search").text
    assert "Đang gửi thư ngay khi có bài mới tới chuyenvien@sotttt.example.vn." in page

    engine = _engine(settings, smtp)
    try:
        rule = engine.rule("sub-1")
        assert rule is not None and rule.query == "hai phong" and rule.filters.topics == ("port_logistics",)
        other = Article(id="new-storm", url="https://news.example/new-storm", source_id="src-vi", language="vi",
                        title="Bão vào Hải Phòng", text="Bão vào Hải Phòng.", topics=["society_environment"],
                        published_at=utcnow())
        new = engine.process_batch([_new_port_article(), other])
        mine = [a for a in (engine.log.get_alert(i) for i in new) if a.rule == "sub-1"]
        assert [a.members[0]["id"] for a in mine] == ["new-port"]  # the storm is not about the port
        engine.deliver_pending()
    finally:
        engine.close()
    received = [(rcpt, msg) for rcpt, msg in smtp.messages if rcpt == "chuyenvien@sotttt.example.vn"]
    assert len(received) == 1
    assert "Cảng biển" in str(received[0][1]["Subject"])


def test_unsubscribing_removes_the_rule(client_for, settings):
    analyst = client_for("analyst")
    saved = _saved(analyst, "Cảng biển", [("q", "hai phong")])
    _subscribe(analyst, saved, "chuyenvien@sotttt.example.vn")
    tree = lxml_html.fromstring(analyst.get("/search").text)
    action = tree.xpath("//div[contains(@class,'subscription')]/form/@action")[0]
    token = csrf_of(analyst.get("/search").text)
    assert analyst.post(action, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    engine = _engine(settings)
    try:
        assert engine.rule("sub-1") is None
    finally:
        engine.close()
    assert "Nhận thư khi có bài mới" in analyst.get("/search").text


def test_a_bad_address_or_another_users_search_is_refused(client_for, settings):
    analyst = client_for("analyst")
    saved = _saved(analyst, "Cảng biển", [("q", "hai phong")])
    bad = _subscribe(analyst, saved, "không phải địa chỉ")
    assert bad.status_code == 400 and "Địa chỉ thư điện tử không hợp lệ." in bad.text
    admin = client_for("admin")
    assert _subscribe(admin, saved, "a@b.vn").status_code == 404  # the analyst's, not the admin's
    engine = _engine(settings)
    try:
        assert not [r for r in engine.rules if r.name.startswith("sub-")]
    finally:
        engine.close()


def test_the_subscription_form_in_english(client_for):
    analyst = client_for("analyst")
    _saved(analyst, "Port", [("q", "hai phong")])
    analyst.post("/lang", data={"lang": "en", "csrf_token": csrf_of(analyst.get("/search").text), "next": "/"})
    assert "E-mail me new articles" in analyst.get("/search").text


def test_admins_see_and_end_every_subscription(client_for, settings):
    analyst = client_for("analyst")
    saved = _saved(analyst, "Cảng biển", [("q", "hai phong")])
    _subscribe(analyst, saved, "chuyenvien@sotttt.example.vn")
    admin = client_for("admin")
    page = admin.get("/alerts/recipients").text
    row = lxml_html.fromstring(page).xpath("//table[contains(@class,'subscriptions')]//tr[td[2]='analyst']")
    assert row and "chuyenvien@sotttt.example.vn" in row[0].text_content() and "Cảng biển" in row[0].text_content()
    token = csrf_of(page)
    assert admin.post("/alerts/subscriptions/1/delete", data={"csrf_token": token},
                      follow_redirects=False).status_code == 303
    assert "Chưa có đăng ký nào." in admin.get("/alerts/recipients").text
    assert "Nhận thư khi có bài mới" in analyst.get("/search").text
