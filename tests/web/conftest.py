"""Fixtures of the web tests: a data directory with a small index (multilingual articles, one
hostile article, one with every kind of reason and a WARC record), users of every role, and
logged-in test clients."""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.warc import WarcArchive
from hpmon.settings import DEFAULT_CONFIG_DIR, Settings
from index.article import Article
from index.sqlite import SqliteBackend
from tests.index.conformance_data import ARTICLES

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)

PASSWORD = "correct horse battery"
ROLES = ("viewer", "analyst", "admin")
XSS_TITLE = '<script>window.__pwned=1</script>Hải Phòng <img src=x onerror="window.__pwned=2">'
XSS_TEXT = ("Cảng Hải Phòng <script>window.__pwned=3</script> hôm nay.\n"
            '<img src=x onerror="window.__pwned=4"> "><svg onload="window.__pwned=5"> Hai Phong.')


def hostile_article() -> Article:
    return Article(
        id="xss-article", url="javascript:alert(1)", source_id="src-evil", title=XSS_TITLE, text=XSS_TEXT,
        lead='<b onmouseover="window.__pwned=6">lead</b>', language="vi", outlet='<i>Evil</i> "outlet"',
        country="VN", scope="domestic", published_at=datetime(2026, 10, 21, 1, 0, tzinfo=UTC),
        topics=["port_logistics"], sentiment="neutral", risk_score=0.1, story_id="story-xss",
        relevance_terms=["Hải Phòng"],
        reasons={"relevance": {"score": 1.0, "terms": ["Hải Phòng"],
                               "hits": [{"term": "Hải Phòng", "kind": "city", "field": "text",
                                         "surface": "<script>x</script>", "start": 5, "end": 14}]},
                 "risk": {"score": 0.1, "reasons": [{"kind": "theme:<b>x</b>", "evidence": "<script>e()</script>",
                                                     "weight": 0.1}]}},
    )


def reasoned_article(warc_file: str, warc_offset: int) -> Article:
    text = ("Tàu hải cảnh Trung Quốc xuất hiện gần quần đảo Hoàng Sa, báo nước ngoài viết về Hải Phòng.\n"
            "Các chuyên gia bác bỏ luận điệu sai trái.")
    start = text.index("Hoàng Sa")
    return Article(
        id="reasoned", url="https://news.example/reasoned", source_id="src-vi", title="Hoàng Sa và Hải Phòng",
        text=text, language="vi", outlet="Báo Mẫu", country="VN", scope="domestic",
        published_at=datetime(2026, 10, 22, 2, 0, tzinfo=UTC), fetched_at=datetime(2026, 10, 22, 3, 0, tzinfo=UTC),
        topics=["sovereignty"], sentiment="negative", sentiment_score=0.8, sensitive_themes=["sovereignty"],
        risk_score=0.75, story_id="story-port", relevance_score=0.9, relevance_terms=["Hải Phòng"],
        warc_file=warc_file, warc_offset=warc_offset,
        reasons={
            "relevance": {"score": 0.9, "terms": ["Hải Phòng"], "hits": [
                {"term": "Hải Phòng", "kind": "city", "field": "text", "surface": "Hải Phòng",
                 "start": text.index("Hải Phòng"), "end": text.index("Hải Phòng") + 9}], "rejected": []},
            "classification": {"topics": [["sovereignty", 0.91]], "sentiment": ["negative", 0.8],
                               "reasons": [{"kind": "topic", "label": "sovereignty", "terms": ["Hoàng Sa"],
                                            "features": [["hoàng sa", 1.2]]}]},
            "sensitive": {"themes": ["sovereignty"], "findings": [
                {"theme": "sovereignty", "term": "Hoàng Sa", "severity": 3, "field": "text", "start": start,
                 "end": start + 8, "surface": "Hoàng Sa", "term_language": "vi", "rebuttal": None}]},
            "risk": {"score": 0.75, "level": "high", "queued": True, "reasons": [
                {"kind": "theme:sovereignty", "evidence": "Hoàng Sa", "weight": 0.4, "data": {}}]},
            "decoding": {"converted_from": "tcvn3"},
        },
    )


def cheap_hasher():
    """argon2id with tiny costs: the tests log in hundreds of times."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def login(client, username: str, password: str = PASSWORD):
    """Log the test client in through the login form; returns the response."""
    page = client.get("/login")
    token = csrf_of(page.text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/search"}, follow_redirects=False)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def make_home(root: Path) -> Settings:
    """A data directory with the fixture index, a copy of the config and one user per role."""
    config = root / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    settings = Settings(home=root / "home", config_dir=config)
    settings.home.mkdir(parents=True)
    archive = WarcArchive(settings.warc_dir)
    warc_file, offset = archive.write_response("https://news.example/reasoned", 200, "OK",
                                               [("Content-Type", "text/html; charset=utf-8")],
                                               "<html><body>Hoàng Sa</body></html>".encode(),
                                               datetime(2026, 10, 22, 3, 0, tzinfo=UTC))
    archive.close()
    backend = SqliteBackend(settings.index_path)
    stories = [replace(a, story_id="story-port") if a.id in ("vi-port", "en-port", "zh-port") else a
               for a in ARTICLES]
    backend.upsert([*stories, hostile_article(), reasoned_article(warc_file, offset)])
    backend.close()
    from web.auth import UserStore

    users = UserStore(settings.app_db_path, hasher=cheap_hasher())
    for role in ROLES:
        users.add_user(role, PASSWORD, role)
    users.close()
    return settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_home(tmp_path)


@pytest.fixture
def app(settings):
    from web.app import create_app

    backend = SqliteBackend(settings.index_path)
    application = create_app(settings, backend, password_hasher=cheap_hasher())
    yield application
    application.state.ctx.close()
    backend.close()


@pytest.fixture
def client_for(app):
    """A factory of test clients logged in as a role (None: anonymous)."""
    from fastapi.testclient import TestClient

    clients = []

    def make(role: str | None):
        client = TestClient(app)
        clients.append(client)
        if role:
            response = login(client, role)
            assert response.status_code == 303, response.text
        return client

    yield make
    for c in clients:
        c.close()
