"""The web app shows the machine translation beside the original, labelled as such from the
catalogues, in the article page and the search results; without an engine it says so on a
foreign article's page (once, not per article)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from index.article import Article
from index.sqlite import SqliteBackend
from tests.web.conftest import cheap_hasher, login, make_home

VI_TITLE = "Sản lượng hàng qua cảng Hải Phòng tăng nhanh"
EN_TITLE = "Cargo through Hai Phong port grows fast"


def _zh(id_: str, translations: dict) -> Article:
    return Article(id=id_, url=f"https://news.example.cn/{id_}", source_id="src-zh", title="海防港货运量增长很快",
                   text="海防港今年货运量增长很快。" * 5, lead="海防港今年货运量增长很快。", language="zh",
                   country="CN", scope="foreign", coverage="city", published_at=datetime(2026, 10, 23, tzinfo=UTC),
                   story_id=id_, relevance_terms=["海防"], translations=translations)


@pytest.fixture
def web(tmp_path):
    settings = make_home(tmp_path)
    backend = SqliteBackend(settings.index_path)
    backend.upsert([
        _zh("zh-translated", {"vi": {"title": VI_TITLE, "lead": "Lượng hàng tăng.", "engine": "argos",
                                     "model": "opus-mt-zh-vi 1.0"},
                              "en": {"title": EN_TITLE, "lead": "", "engine": "argos", "model": "opus-mt-zh-en 1.0"}}),
        _zh("zh-plain", {}),
        _zh("zh-failed", {}),
    ])
    failed = backend.get("zh-failed")
    failed.reasons["translation"] = {"engine": "libretranslate", "failed": {"vi": "LibreTranslate answered 503"}}
    backend.upsert([failed])
    apps, clients = [], []

    def client(role: str = "viewer", lang: str = "vi", **overrides):
        from web.app import create_app

        app = create_app(settings.model_copy(update=overrides), backend, password_hasher=cheap_hasher())
        apps.append(app)
        c = TestClient(app)
        clients.append(c)
        c.cookies.set("hpmon_lang", lang)
        assert login(c, role).status_code == 303
        return c

    yield client
    for c in clients:
        c.close()
    for app in apps:
        app.state.ctx.close()
    backend.close()


def test_the_article_page_shows_the_translation_marked_as_machine_translation(web):
    page = web().get("/articles/zh-translated").text
    assert "Bản dịch máy" in page and f'lang="vi"><strong>{VI_TITLE}</strong>' in page
    assert "Lượng hàng tăng." in page and "opus-mt-zh-vi 1.0" in page
    english = web(lang="en").get("/articles/zh-translated").text
    assert "Machine translation" in english and EN_TITLE in english and VI_TITLE not in english


def test_search_results_show_the_translated_title_under_the_original(web):
    page = web().get("/search", params={"q": "海防"}).text
    assert page.count("Bản dịch máy") == 1  # the untranslated article has none
    assert page.index("海防港货运量增长很快") < page.index(VI_TITLE)


def test_without_an_engine_a_foreign_article_page_says_so_once(web):
    client = web(translation_engine="off")
    page = client.get("/articles/zh-plain").text
    assert page.count("Chưa cấu hình máy dịch") == 1 and "hpmon translate install" in page
    assert "Chưa cấu hình máy dịch" not in client.get("/search", params={"q": "海防"}).text
    assert "Chưa cấu hình máy dịch" not in client.get("/articles/zh-translated").text


def test_with_an_engine_an_untranslated_article_says_it_could_not_be_translated(web):
    client = web(translation_engine="libretranslate", libretranslate_url="http://127.0.0.1:9")
    assert "Chưa cấu hình máy dịch" not in client.get("/articles/zh-plain").text
    page = client.get("/articles/zh-failed").text
    assert "Chưa dịch được bài này" in page and "503" not in page
