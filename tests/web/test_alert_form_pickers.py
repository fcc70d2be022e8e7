"""The alert rule form offers topics, sensitive themes, tones, languages and countries as choices
named in the reader's language (the names the search filters show), never as codes to type; a code
that is not offered is a 400 with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lxml import html as lxml_html

from .conftest import csrf_of


def _boxes(page: str, name: str) -> dict[str, str]:
    """code -> the visible label of each checkbox ``name``."""
    doc = lxml_html.fromstring(page)
    return {box.get("value"): box.getparent().text_content().strip()
            for box in doc.xpath(f'//input[@type="checkbox"][@name="{name}"]')}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_form_names_every_choice_and_shows_no_code(client_for, lang):
    admin = client_for("admin")
    ctx = admin.app.state.ctx
    if lang == "en":
        token = csrf_of(admin.get("/alerts/new").text)
        admin.post("/lang", data={"lang": "en", "next": "/alerts/new", "csrf_token": token})
    page = admin.get("/alerts/new").text
    topics = _boxes(page, "topics")
    assert set(topics) == set(ctx.taxonomy.topics)
    assert topics["sovereignty"] == ctx.taxonomy.name("topics", "sovereignty", lang) != "sovereignty"
    themes = _boxes(page, "themes")
    assert set(themes) == set(ctx.taxonomy.themes)
    assert themes["contested_naming"] == ctx.taxonomy.name("themes", "contested_naming", lang)
    tones = _boxes(page, "sentiment")
    assert tones["negative"] == ctx.taxonomy.name("sentiments", "negative", lang) != "negative"
    languages = _boxes(page, "languages")
    assert languages["zh"] == ("Tiếng Trung" if lang == "vi" else "Chinese")
    countries = _boxes(page, "countries")
    assert countries["CN"] == ("Trung Quốc" if lang == "vi" else "China")
    for labels in (topics, themes, tones, languages, countries):
        for code, text in labels.items():
            assert text and text != code, (code, text)
    # the free-text code fields of before are gone
    doc = lxml_html.fromstring(page)
    for name in ("topics", "themes", "languages", "countries", "sentiment"):
        assert not doc.xpath(f'//input[@name="{name}"][not(@type="checkbox")]'), name


def test_editing_a_rule_ticks_its_codes_and_saving_keeps_them(client_for, settings):
    admin = client_for("admin")
    page = admin.get("/alerts/rules/sovereignty_foreign/edit").text
    doc = lxml_html.fromstring(page)
    ticked = [b.get("value") for b in doc.xpath('//input[@name="themes"][@checked]')]
    assert sorted(ticked) == ["contested_naming", "sovereignty"]
    token = csrf_of(page)
    response = admin.post("/alerts/rules", data={
        "editing": "sovereignty_foreign", "name": "sovereignty_foreign", "label_vi": "Chủ quyền",
        "themes": ["sovereignty", "contested_naming"], "countries": ["CN", "US"], "languages": ["zh"],
        "sentiment": ["negative"], "topics": ["sovereignty"], "scope": "foreign",
        "recipients": "sotttt_oncall", "enabled": "on", "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    data = yaml.safe_load((Path(settings.config_dir) / "alerts.yaml").read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["name"] == "sovereignty_foreign")
    assert rule["filters"]["themes"] == ["sovereignty", "contested_naming"]
    assert rule["filters"]["countries"] == ["CN", "US"] and rule["filters"]["languages"] == ["zh"]
    assert rule["filters"]["sentiment"] == ["negative"] and rule["filters"]["topics"] == ["sovereignty"]


@pytest.mark.parametrize(("field", "value", "name"), [
    ("themes", "not_a_theme", "Chủ đề nhạy cảm"), ("topics", "sovereignity", "Chủ đề"),
    ("countries", "XX", "Quốc gia"), ("languages", "klingon", "Ngôn ngữ"), ("sentiment", "angry", "Sắc thái")])
def test_a_code_not_in_the_list_is_a_bad_request_with_a_message(client_for, settings, field, value, name):
    admin = client_for("admin")
    before = (Path(settings.config_dir) / "alerts.yaml").read_bytes()
    token = csrf_of(admin.get("/alerts/new").text)
    response = admin.post("/alerts/rules", data={"name": "picked", "label_vi": "x", "recipients": "sotttt_oncall",
                                                 field: value, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 400
    message = lxml_html.fromstring(response.text).xpath('//p[@role="alert"]')[0].text_content()
    assert name in message and value in message and "không có trong danh sách" in message
    assert (Path(settings.config_dir) / "alerts.yaml").read_bytes() == before
