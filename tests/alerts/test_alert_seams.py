"""No seams in the alert e-mails either: an alert about an article scored by the real risk scorer,
rendered in Vietnamese and English, names its risk, reasons, country, language, themes and tone from
the catalogues and CLDR (``72/100 (cao)``, ``Trung Quốc``), never as codes or the scorer's wording."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.delivery import AlertRecord
from alerts.engine import article_summary
from alerts.i18n import load_label_names
from alerts.render import Renderer
from tests.conftest import REPO
from tests.digest.test_seams import (
    COUNTRY_CODE,
    ENGLISH_CODES,
    IDENTIFIER,
    MESSAGE_KEY,
    RAW_EVIDENCE,
    SOURCE_ID,
    sample_articles,
    visible,
)


def alert_for(article) -> AlertRecord:
    now = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
    return AlertRecord(id=1, uid="a1", rule="sovereignty_foreign", kind="match", story_key="story:gt2",
                       severity="high", created_at=now, updated_at=now,
                       payload={"article": article_summary(article),
                                "rule_label": {"vi": "Chủ quyền biển đảo trên báo nước ngoài",
                                               "en": "Sovereignty in the foreign press"}},
                       members=[article_summary(article)])


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_alert_mail_has_no_raw_code(lang):
    articles = {a.id: a for a in sample_articles()}
    article = articles["gt2"]
    article.outlet = None  # shown by its site, never by its source id
    article.source_id = SOURCE_ID
    renderer = Renderer(base_url="https://hpmon.example.vn", labels=load_label_names(REPO / "config" / "topics.yaml"))
    subject, plain, html = renderer.email(alert_for(article), lang, "key-1")
    crawled = [article.title, article.url, "globaltimes.cn"]
    for name, text in (("plain", visible(plain, crawled, markdown=True)), ("html", visible(html, crawled))):
        where = f"{lang}/{name}"
        assert not IDENTIFIER.findall(text), (where, IDENTIFIER.findall(text))
        assert not MESSAGE_KEY.findall(text), (where, MESSAGE_KEY.findall(text))
        assert not COUNTRY_CODE.findall(text), (where, COUNTRY_CODE.findall(text))
        assert not RAW_EVIDENCE.findall(text), (where, RAW_EVIDENCE.findall(text))
        assert SOURCE_ID not in text, where
        if lang == "vi":
            assert not ENGLISH_CODES.findall(text), (where, ENGLISH_CODES.findall(text))
            for phrase in ("84/100 (cao)", "Trung Quốc", "Tiếng Anh", "xác suất 86", "nội dung, mức độ 3",
                           "truyền thông nhà nước của một bên tranh chấp", "(+50)"):
                assert phrase in text, (where, phrase)
        else:
            for phrase in ("84/100 (high)", "China", "English", "probability 86", "state media of a claimant"):
                assert phrase in text, (where, phrase)


@pytest.mark.parametrize("lang,label", [("vi", "Bản dịch máy"), ("en", "Machine translation")])
def test_an_alert_mail_shows_the_title_translated_into_the_readers_language(lang, label):
    article = {a.id: a for a in sample_articles()}["gt2"]
    article.translations = {"vi": {"title": "Tàu khảo sát gần Hoàng Sa", "lead": "", "engine": "argos",
                                   "model": "en-vi"}}
    renderer = Renderer(base_url="https://hpmon.example.vn", labels=load_label_names(REPO / "config" / "topics.yaml"))
    _, plain, html = renderer.email(alert_for(article), lang, "key-1")
    if lang == "vi":  # an English article, a reader of Vietnamese: the translation under the original
        assert f"{label}: Tàu khảo sát gần Hoàng Sa" in plain
        assert "Tàu khảo sát gần Hoàng Sa" in html and label in html
    else:  # the reader's language has no translation: nothing is shown
        assert label not in plain and label not in html
