"""Risk in every form is points out of 100 (``risk=72``), as every page shows it; links and saved
searches of before (``min_risk=0.72``) still work (web/params.py, docs/web.md)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from lxml import html as lxml_html

from web.params import risk_from_legacy, risk_from_points, risk_to_points

from .conftest import csrf_of


def hit_ids(page: str) -> list[str]:
    return re.findall(r'<h3><a href="/articles/([^"]+)"', page)


def test_points_are_whole_numbers_0_to_100_and_the_old_scale_is_0_to_1():
    assert risk_from_points("72") == 0.72 and risk_from_points(" 0 ") == 0 and risk_from_points("100") == 1
    for bad in ("0.6", "101", "-1", "cao", "", "7e1"):
        with pytest.raises(ValueError):
            risk_from_points(bad)
    assert risk_from_legacy("0.6") == 0.6
    for bad in ("7", "nan", "-0.1"):
        with pytest.raises(ValueError):
            risk_from_legacy(bad)
    assert risk_to_points(0.72) == 72


def test_search_takes_risk_in_points_and_shows_it_in_the_form(client_for):
    viewer = client_for("viewer")
    page = viewer.get("/search?risk=76").text
    assert len(hit_ids(page)) == 2
    field = lxml_html.fromstring(page).xpath('//input[@name="risk"]')[0]
    assert field.get("value") == "76" and field.get("max") == "100" and field.get("step") == "1"
    assert not lxml_html.fromstring(page).xpath('//input[@name="min_risk"]')
    assert len(hit_ids(viewer.get("/search?risk=75").text)) == 3  # 0.75 is 75 points


def test_an_old_link_with_min_risk_on_the_0_to_1_scale_still_works(client_for):
    viewer = client_for("viewer")
    old = viewer.get("/search?q=&min_risk=0.76").text
    new = viewer.get("/search?risk=76").text
    assert hit_ids(old) == hit_ids(new) and len(hit_ids(old)) == 2
    assert lxml_html.fromstring(old).xpath('//input[@name="risk"]')[0].get("value") == "76"
    # the links it writes (export, paging, filters) carry the new parameter only
    export = lxml_html.fromstring(old).xpath('//a[starts-with(@href, "/search/export.csv")]')[0].get("href")
    assert ("risk", "76") in parse_qsl(urlsplit(export).query)
    assert "min_risk" not in export


def test_a_decimal_in_risk_is_refused_not_read_as_the_old_scale(client_for):
    page = client_for("viewer").get("/search?risk=0.76").text
    assert "số nguyên từ 0 đến 100" in page
    assert len(hit_ids(page)) > 3  # the bad value was ignored, not read as 0.76


def test_risk_wins_over_the_old_parameter_in_either_order(client_for):
    viewer = client_for("viewer")
    for qs in ("risk=76&min_risk=0.1", "min_risk=0.1&risk=76"):
        assert len(hit_ids(viewer.get(f"/search?{qs}").text)) == 2, qs


def test_a_search_saved_before_on_the_old_scale_opens_in_points(client_for):
    analyst = client_for("analyst")
    ctx = analyst.app.state.ctx
    user_id = ctx.users.get_by_name("analyst").id
    # as an older hpmon stored it
    with ctx.saved._conn:
        ctx.saved._conn.execute("INSERT INTO web_saved_searches(user_id, name, params, created_at) "
                                "VALUES (?, 'Cũ', '[[\"q\", \"\"], [\"min_risk\", \"0.76\"]]', '2026-01-01')",
                                (user_id,))
    saved = ctx.saved.for_user(user_id)[0]
    assert saved.params == [("q", ""), ("risk", "76")]
    page = analyst.get("/search").text
    link = lxml_html.fromstring(page).xpath('//section[contains(@class, "saved")]//a[text()="Cũ"]')[0].get("href")
    assert "risk=76" in link and len(hit_ids(analyst.get(link).text)) == 2


def test_saving_a_search_stores_points_and_refuses_a_bad_value(client_for):
    analyst = client_for("analyst")
    token = csrf_of(analyst.get("/search?risk=60").text)
    ok = analyst.post("/saved", data={"name": "Rủi ro", "query_string": "risk=60", "csrf_token": token},
                      follow_redirects=False)
    assert ok.status_code == 303 and "risk=60" in ok.headers["location"]
    old = analyst.post("/saved", data={"name": "Cũ", "query_string": "min_risk=0.6", "csrf_token": token},
                       follow_redirects=False)
    assert old.status_code == 303 and "risk=60" in old.headers["location"]
    for bad in ("risk=150", "risk=0.6"):
        response = analyst.post("/saved", data={"name": "Hỏng", "query_string": bad, "csrf_token": token},
                                follow_redirects=False)
        assert response.status_code == 400, bad


def _rules(settings) -> dict:
    data = yaml.safe_load((Path(settings.config_dir) / "alerts.yaml").read_text(encoding="utf-8"))
    return {r["name"]: r for r in data["rules"]}


def _post_rule(admin, **fields):
    token = csrf_of(admin.get("/alerts/new").text)
    data = {"name": "risky", "label_vi": "Rủi ro", "recipients": "sotttt_oncall", "enabled": "on",
            "csrf_token": token, **fields}
    return admin.post("/alerts/rules", data=data, follow_redirects=False)


def test_the_rule_form_takes_points_and_writes_the_score(client_for, settings):
    admin = client_for("admin")
    assert _post_rule(admin, risk="60").status_code == 303
    assert _rules(settings)["risky"]["filters"]["min_risk"] == 0.6
    form = lxml_html.fromstring(admin.get("/alerts/rules/risky/edit").text)
    assert form.xpath('//input[@name="risk"]')[0].get("value") == "60"
    assert "60/100" in admin.get("/alerts").text


def test_the_rule_form_keeps_a_named_threshold(client_for, settings):
    admin = client_for("admin")
    form = lxml_html.fromstring(admin.get("/alerts/rules/high_risk/edit").text)
    selected = form.xpath('//select[@name="risk_threshold"]/option[@selected]')
    assert [o.get("value") for o in selected] == ["queue_threshold"]
    assert "hàng chờ phản bác" in selected[0].text_content()
    assert form.xpath('//input[@name="risk"]')[0].get("value") in (None, "")
    assert _post_rule(admin, name="named", risk_threshold="high").status_code == 303
    assert _rules(settings)["named"]["filters"]["min_risk"] == "high"


def test_the_rule_form_reads_the_old_field_and_refuses_bad_values(client_for, settings):
    admin = client_for("admin")
    assert _post_rule(admin, name="legacy", min_risk="0.45").status_code == 303
    assert _rules(settings)["legacy"]["filters"]["min_risk"] == 0.45
    for fields in ({"risk": "0.6"}, {"risk": "101"}, {"risk_threshold": "nowhere"}):
        response = _post_rule(admin, name="bad", **fields)
        assert response.status_code == 400, fields
        assert "bad" not in _rules(settings)
    assert "số nguyên từ 0 đến 100" in _post_rule(admin, name="bad", risk="0.6").text
