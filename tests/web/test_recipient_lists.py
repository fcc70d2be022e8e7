"""Admins keep the alert recipient lists in the web app (records.recipients, in the office's
file); the alert engine sends to them, a list kept here winning over a settings list of the same
name; the Alerts page counts them."""

from __future__ import annotations

from pathlib import Path

from lxml import html as lxml_html

from alerts.engine import AlertEngine
from records.recipients import RecipientLists

from .conftest import csrf_of


def _post(client, path: str, **data):
    token = csrf_of(client.get("/alerts/recipients").text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _office(settings) -> dict[str, list[str]]:
    store = RecipientLists(settings.app_db_path)
    try:
        return store.as_settings()
    finally:
        store.close()


def test_an_admin_sets_up_a_list_and_the_alerts_page_counts_it(client_for, settings):
    admin = client_for("admin")
    page = admin.get("/alerts/recipients").text
    assert "sotttt_oncall" in page and "Lập danh sách này" in page  # named by rules, not set up
    response = _post(admin, "/alerts/recipients", name="sotttt_oncall",
                     addresses="truc.ban@sotttt.example.vn\nLanh.Dao@sotttt.example.vn, truc.ban@SOTTTT.example.vn")
    assert response.status_code == 303
    assert _office(settings) == {"sotttt_oncall": ["truc.ban@sotttt.example.vn", "Lanh.Dao@sotttt.example.vn"]}
    listed = admin.get("/alerts/recipients").text
    row = lxml_html.fromstring(listed).xpath("//table[contains(@class,'recipient-lists')]//tr[td/code='sotttt_oncall']")
    assert row and "Lanh.Dao@sotttt.example.vn" in row[0].text_content() and "admin" in row[0].text_content()
    alerts = lxml_html.fromstring(admin.get("/alerts").text).text_content()
    assert "sotttt_oncall — chưa khai báo" not in alerts
    assert "sotttt_oncall — chưa cấu hình máy chủ thư (SMTP)" in alerts  # known now; no mail server yet


def test_a_bad_address_or_name_is_refused_and_nothing_is_saved(client_for, settings):
    admin = client_for("admin")
    bad = _post(admin, "/alerts/recipients", name="oncall", addresses="a@b.vn\nkhông phải địa chỉ")
    assert bad.status_code == 400 and "Địa chỉ thư điện tử không hợp lệ: không" in bad.text
    assert "a@b.vn" in bad.text  # the form keeps what was typed
    name = _post(admin, "/alerts/recipients", name="Trực Ban", addresses="a@b.vn")
    assert name.status_code == 400 and "Tên danh sách không hợp lệ" in name.text
    assert _office(settings) == {}


def test_edit_and_delete(client_for, settings):
    admin = client_for("admin")
    _post(admin, "/alerts/recipients", name="songoaivu_oncall", addresses="a@songoaivu.example.vn")
    form = admin.get("/alerts/recipients", params={"edit": "songoaivu_oncall"}).text
    assert "a@songoaivu.example.vn</textarea>" in form and "readonly" in form
    _post(admin, "/alerts/recipients", name="songoaivu_oncall", addresses="b@songoaivu.example.vn")
    assert _office(settings) == {"songoaivu_oncall": ["b@songoaivu.example.vn"]}
    assert _post(admin, "/alerts/recipients/songoaivu_oncall/delete").status_code == 303
    assert _office(settings) == {}
    assert admin.get("/alerts/recipients", params={"edit": "songoaivu_oncall"}).status_code == 404


def test_the_engine_sends_to_the_office_lists_before_the_settings_ones(settings):
    store = RecipientLists(settings.app_db_path)
    store.save("sotttt_oncall", ["office@sotttt.example.vn"], by="admin")
    store.close()
    engine = AlertEngine.from_values(
        rules_path=Path(settings.config_dir) / "alerts.yaml", backend=None, db_path=settings.app_db_path,
        smtp=None, recipients={"sotttt_oncall": ["old@env.example.vn"], "admins": ["root@env.example.vn"]},
        webhooks={}, webhook_secret=None, base_url="http://127.0.0.1",
        risk_path=Path(settings.config_dir) / "risk.yaml")
    try:
        assert engine.recipients == {"sotttt_oncall": ["office@sotttt.example.vn"], "admins": ["root@env.example.vn"]}
        specs = engine.deliveries_for(engine.rule("high_risk"))
        assert [(s.channel, s.target) for s in specs if not s.problem] == [("email", "office@sotttt.example.vn")]
    finally:
        engine.close()


def test_the_page_in_english(client_for):
    admin = client_for("admin")
    admin.post("/lang", data={"lang": "en", "csrf_token": csrf_of(admin.get("/search").text), "next": "/"})
    page = admin.get("/alerts/recipients").text
    assert "Alert recipient lists" in page and "Set up this list" in page
