"""Vietnamese (and English) without seams: every page of the app, rendered in vi and in en over
realistic data (articles with reasons, a case, sources with failures, alert rules and an alert
whose delivery failed, a saved search, users, error pages), shows no message key, no machine
code and no source id in its visible text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from index.sqlite import SqliteBackend

from .conftest import csrf_of, make_home

# a message key: "field.body", "search.via_label" (dotted lowercase words); URLs and host names
# are left out below
KEY = re.compile(r"\b[a-z]+(?:\.[a-z_]+)+\b")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # rebuttal_queue, dns_error, contested_naming
CODE2 = re.compile(r"(?<![\w.-])[A-Z]{2}(?![\w.-])")  # VN, CN: country codes shown as such
URLISH = re.compile(r"\S+://\S+|\b[\w.-]+\.(?:vn|com|org|net|example|cn|jp|kr|ru|fr|uk|io)\b(?:/\S*)?|\S+@\S+")
SOURCE_IDS = ("src-vi", "src-en", "src-zh", "src-ja", "src-ko", "src-ru", "src-fr", "src-evil", "broken-feed",
              "vnexpress-thoisu")
# machine words the tests' data puts in the pages on purpose (titles and names people typed)
ALLOWED = {"hpmon", "CSV", "JSON", "SHA",
           "OR",  # the query operator the syntax help names
           "e.g", "robots.txt",
           "AP",  # AP News, an outlet's name in config/sources.yaml
           "window.__pwned"}  # the hostile article's title, crawled text shown escaped


def visible_text(page: str) -> str:
    """The text a reader sees (the window's title too): no <script>/<style>, no attribute values, no
    <code> the page shows as code on purpose (a query people typed, an ID to copy), no crawled text
    marked with its own language (a title, snippet or article text: "the 1982 UN Convention")."""
    doc = lxml_html.fromstring(page)
    for bad in doc.xpath("//script|//style|//template|//body//*[@lang]"):
        bad.drop_tree()
    texts = doc.xpath("//title//text()|//body//text()[not(ancestor::code)]")
    return " ".join(t.strip() for t in texts if t.strip())


# English words that never belong to a Vietnamese sentence
ENGLISH = re.compile(r"\b(?:the|and|of|with|not|from|is|are|this|that|for|by|in|on|no|or|none|unknown)\b")


def english_in_vietnamese(page: str) -> list[str]:
    """English words in a Vietnamese page, outside crawled text marked with its own language
    (``lang="en"`` on a title or snippet) and outside <code>. The window's title is left out: on an
    article page it is the article's own title, which cannot carry a language of its own."""
    doc = lxml_html.fromstring(page)
    for bad in doc.xpath("//script|//style|//template|//code|//body//*[@lang and @lang!='vi']"):
        bad.drop_tree()
    text = " ".join(t.strip() for t in doc.xpath("//body//text()") if t.strip())
    return sorted({m.group(0) for m in ENGLISH.finditer(URLISH.sub(" ", text))})


def seams(text: str) -> list[str]:
    """Message keys, snake_case codes, lone two-letter codes and source ids in ``text``."""
    text = URLISH.sub(" ", text)
    found = [m.group(0) for m in KEY.finditer(text)]
    found += [m.group(0) for m in SNAKE.finditer(text)]
    found += [m.group(0) for m in CODE2.finditer(text)]
    found += [sid for sid in SOURCE_IDS if re.search(rf"(?<![\w-]){re.escape(sid)}(?![\w-])", text)]
    return sorted({f for f in found if f not in ALLOWED})


def test_reasons_read_in_words(rich_app, client_for):
    """The scorer's and the classifier's explanations, rewritten for people (the same words as the digest)."""
    page = client_for("viewer").get("/articles/en-sea").text
    assert "từ điển Đối ngoại, hợp tác quốc tế" in page and "lexicon:" not in page and "word:" not in page
    assert "«East Sea» (tiêu đề, mức độ 2)" in page and "title 45-53" not in page
    assert "Tên gọi gây tranh chấp" in page and "xác suất 91%" in page and "truyền thông nhà nước" in page


def test_the_checker_finds_each_kind_of_seam():
    page = ("<html><body><p>Nội dung: field.body</p><p>Lý do: dns_error, host name not found</p>"
            "<p>Quốc gia: CN</p><p>Nguồn: src-zh</p><p lang='en' title='field.x'>"
            "<a href='https://a.example/x_y'>https://a.example/x_y</a></p>"
            "<script>var rebuttal_queue = 1;</script></body></html>")
    assert seams(visible_text(page)) == ["CN", "dns_error", "field.body", "src-zh"]
    assert english_in_vietnamese(page) == ["not"]  # "host name not found"; the lang="en" <p> is crawled text


def test_the_checker_catches_a_missing_message_key_in_a_rendered_template(app):
    """A template that asks for a key no catalogue has renders the key itself: the check sees it."""
    from starlette.requests import Request

    from web.render import render

    env = app.state.ctx.env
    env.loader.mapping = {}  # type: ignore[attr-defined]
    from jinja2 import ChoiceLoader, DictLoader

    env.loader = ChoiceLoader([DictLoader({"seam.html": '{% extends "base.html" %}{% block content %}'
                                                        '<p>{{ t("field.nowhere_in_catalogue") }}</p>'
                                                        '{% endblock %}'}), env.loader])
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b"", "app": app}
    request = Request(scope)
    request.state.lang = "vi"
    request.state.user = None
    request.state.csrf_token = "t"
    page = render(request, "seam.html").body.decode()
    assert "field.nowhere_in_catalogue" in seams(visible_text(page))


@pytest.fixture
def rich_app(app, settings):
    return app, add_rich_data(app, settings)


def add_rich_data(app, settings) -> int:
    """Add to the fixture app a case, sources with failures, a failed alert delivery and a saved search;
    returns the case's id."""
    from dataclasses import replace

    from alerts.delivery import AlertLog, DeliverySpec
    from crawlers.state import CrawlState

    ctx = app.state.ctx
    sea = ctx.backend.get("en-sea")  # as the classifier and the scorer explain an English article
    ctx.backend.upsert([replace(sea, sensitive_themes=["sovereignty"], risk_score=0.62, reasons={
        "classification": {"topics": [["sovereignty", 0.9], ["defense_security", 0.4]], "reasons": [
            {"kind": "topic", "label": "sovereignty", "terms": ["East Sea", "code of conduct"],
             "features": [["lexicon:sovereignty", 9.9], ["lexicon:foreign_affairs", 1.8], ["word:not", 0.07],
                          ["char: the", 0.05], ["lexicon:tone_negative", 0.04]]}]},
        "sensitive": {"themes": ["sovereignty"], "findings": [
            {"theme": "sovereignty", "term": "East Sea", "severity": 2, "field": "title", "start": 0, "end": 8,
             "surface": "East Sea", "term_language": "en", "rebuttal": None}]},
        "risk": {"score": 0.62, "level": "high", "reasons": [
            {"kind": "contested_naming", "evidence": '"East Sea" (title 45-53, severity 2)', "weight": 0.3},
            {"kind": "negative_sentiment", "evidence": "sentiment negative (p=0.91)", "weight": 0.2},
            {"kind": "outlet_profile", "evidence": "Outlet en: state_media", "weight": 0.1}]}})])
    case = ctx.services["cases"].open_case_for(ctx.backend.get("reasoned"), 0.75).case
    state = CrawlState(settings.state_path)
    run = state.start_run()
    state.source_succeeded("vnexpress-thoisu", new_articles=3)
    for reason in ("timeout", "dns_error: host name not found", "http_503", "robots_denied"):
        state.source_failed("vnexpress-thoisu", reason, "https://vnexpress.net/rss/thoi-su.rss", run)
    for reason in ("blocked_address", "too_large", "malformed_feed", "http_404"):
        state.source_failed("broken-feed", reason, "https://broken.example/rss", run)
    state.finish_run(run, {"sources": [
        {"source": "vnexpress-thoisu", "fetched": 10, "new": 3, "relevant": 2, "failed": 4},
        {"source": "broken-feed", "fetched": 0, "new": 0, "relevant": 0, "failed": 4}]})
    state.close()
    log = AlertLog(settings.app_db_path)
    log.create_alert(rule="high_risk", kind="match", story_key="story-port", severity="high",
                     payload={"article": {"id": "reasoned", "title": "Hoàng Sa và Hải Phòng", "language": "vi"}},
                     members=[("reasoned", {})],
                     deliveries=[DeliverySpec("email", "sotttt", "sotttt", "vi",
                                              problem="no recipient list or webhook named 'sotttt' in the settings")])
    log.close()
    admin = ctx.users.get_by_name("admin")
    ctx.saved.add(admin.id, "Biển Đông", [("q", "hoang sa"), ("scope", "foreign"), ("topic", "sovereignty")])
    return case.id


PAGES = [
    "/search",
    "/search?q=hai+phong",
    "/search?q=hai+phong&copies=all",  # every copy of a story listed
    "/stories/story-port",  # a story known to the index only (the search page's "and N more")
    "/search?q=&topic=sovereignty&sentiment=negative&scope=foreign&lang=zh&country=CN&theme=sovereignty",
    "/search?source=src-zh&country=VN",
    "/articles/reasoned",
    "/articles/zh-port",
    "/articles/en-sea",
    "/cases",
    "/cases/{case}",
    "/sources",
    "/sources?show=all",
    "/sources?show=problems",
    "/alerts",
    "/alerts/new",
    "/alerts/rules/high_risk/test",
    "/alerts/rules/high_risk/edit",
    "/alerts/recipients",
    "/alerts/recipients?new=songoaivu_oncall",
    "/digests",
    "/digests?profile=songoaivu&day=2026-10-22",
    "/digests/preview/songoaivu?day=2026-10-22",  # a day with the fixture's articles
    "/digests/preview/sotttt?day=2026-10-22",
    "/users",
    "/facts",
    "/account",
    "/articles/no-such-article",  # 404
    "/search?q=port&page=400",  # beyond the last page
    '/search/export.csv?q="unclosed',  # 400
]


STATUS = {"/articles/no-such-article": 404, '/search/export.csv?q="unclosed': 400}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_reads_without_seams(rich_app, client_for, lang):
    app, case_id = rich_app
    client = client_for("admin")
    if lang == "en":
        client.post("/lang", data={"lang": "en", "csrf_token": csrf_of(client.get("/search").text), "next": "/"})
    paths = [p.format(case=case_id) for p in PAGES]
    digests = client.get("/digests").text
    paths += sorted(set(re.findall(r'(?:href|src)="(/digests/preview/[^"]+)"', digests)))[:3]
    problems = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == STATUS.get(path, 200), (path, response.status_code)
        assert f'lang="{lang}"' in response.text[:500], path
        found = seams(visible_text(response.text))
        if lang == "vi":
            found += english_in_vietnamese(response.text)
        if found:
            problems[path] = found
    for role in ("viewer", "analyst"):  # what the other roles see (fewer controls, 403 pages)
        other = client_for(role)
        if lang == "en":
            other.post("/lang", data={"lang": "en", "csrf_token": csrf_of(other.get("/search").text), "next": "/"})
        forbidden = 0
        for path in paths:
            response = other.get(path)
            assert response.status_code in (STATUS.get(path, 200), 403), (role, path, response.status_code)
            forbidden += response.status_code == 403
            found = seams(visible_text(response.text))
            if lang == "vi":
                found += english_in_vietnamese(response.text)
            if found:
                problems[f"{path} ({role}, {response.status_code})"] = found
        assert forbidden, role  # the 403 page was seen too
    assert not problems, "\n".join(f"{p}: {f}" for p, f in problems.items())


def crawl_failure_codes() -> set[str]:
    """The failure codes the crawler can store (read from its source, so a new code is seen)."""
    root = Path(__file__).resolve().parents[2]
    codes: set[str] = set()
    for path in (root / "crawlers").glob("*.py"):
        src = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'return "([a-z_]+)", ', src))  # spider.failure_reason
        codes |= set(re.findall(r'_fail\([^()]*?, "([a-z_]+)", ', src))
        codes |= set(re.findall(r'f"([a-z]+_[a-z_]+): \{', src))
        codes |= set(re.findall(r'reason = "([a-z_]+)"', src))
        codes |= set(re.findall(r'"([a-z_]+)" if exc', src))
        codes |= set(re.findall(r'error(?:, reading\.detail)? ?= ?"([a-z_]+)"', src))  # feed, sitemap, GDELT readings
        codes |= set(re.findall(r'"(gdelt_[a-z_]+)"', src))
    codes |= set(re.findall(r'^BLOCKED\w* = "([a-z_]+)"', (root / "guard" / "net.py").read_text(encoding="utf-8"),
                            re.M))
    return codes - {"not_checked"}  # `hpmon sources check` only, never stored as a crawl failure


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_crawl_failure_code_has_a_sentence(lang):
    from web.i18n import Catalogues
    from web.render import failure_message

    messages = Catalogues().messages
    codes = crawl_failure_codes()
    assert {"dns_error", "timeout", "robots", "blocked_address", "too_large", "malformed_feed",
            "malformed_sitemap"} <= codes  # the extraction still finds them
    other = messages[lang]["failure.other"]
    missing = sorted(c for c in codes if failure_message(f"{c}: detail", messages[lang], messages["vi"]) == other)
    assert not missing, missing
    assert failure_message("http_503: HTTP 503", messages[lang], messages["vi"]).endswith("503)")
    assert "404" in failure_message("http_404: HTTP 404", messages[lang], messages["vi"])
    assert failure_message("http_418", messages[lang], messages["vi"]) != other
    assert failure_message("something_new: x", messages[lang], messages["vi"]) == other


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_empty_index_says_what_to_do(tmp_path, lang):
    from fastapi.testclient import TestClient

    from web.app import create_app

    from .conftest import ROLES, cheap_hasher, login

    settings = make_home(tmp_path)
    settings.index_path.unlink()  # no article at all
    backend = SqliteBackend(settings.index_path)
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    try:
        client = TestClient(app)
        assert login(client, ROLES[0]).status_code == 303
        if lang == "en":
            client.post("/lang", data={"lang": "en", "csrf_token": csrf_of(client.get("/search").text), "next": "/"})
        page = client.get("/search").text
        assert "hpmon crawl" in page and app.state.ctx.catalogues.messages[lang]["search.nothing"] not in page
        assert not seams(visible_text(page))
        assert app.state.ctx.catalogues.messages[lang]["search.nothing"] in client.get("/search?q=zzz").text
    finally:
        app.state.ctx.close()
        backend.close()
