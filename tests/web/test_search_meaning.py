"""The search page searches by meaning (other spellings, label names, Vietnamese words), says what it
also looked for, lets a histogram bar narrow the search to its day, and says when the time limit
cut a count short."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from index.article import Article
from index.sqlite import SqliteBackend

from .conftest import cheap_hasher, login


def hit_ids(page: str) -> list[str]:
    return re.findall(r'<li class="hit">\s*<h3><a href="/articles/([\w-]+)"', page)


def total(page: str) -> int:
    return int(re.search(r'<p class="total"><strong>(\d+)</strong>', page).group(1))


def test_a_label_name_finds_the_labelled_articles_and_says_so(client_for):
    page = client_for("viewer").get("/search", params={"q": "chủ quyền"}).text
    found = hit_ids(page)
    assert {"en-sea", "zh-sea", "reasoned"} <= set(found)  # labelled sovereignty, the words are not there
    assert "Cũng tìm" in page and "bài thuộc chủ đề «Chủ quyền biển đảo, biên giới»" in page
    assert "bài có chủ đề nhạy cảm «Chủ quyền lãnh thổ»" in page
    # each article listed through a label says which one, as the snippet cannot show a matched word
    hit = re.search(r'href="/articles/en-sea".*?</li>', page, re.S).group(0)
    assert "Có trong kết quả vì là bài thuộc chủ đề «Chủ quyền biển đảo, biên giới»." in hit
    assert page.count('class="via small muted"') == len([i for i in found if i in ("en-sea", "zh-sea", "reasoned")])


def test_a_city_name_finds_every_spelling_and_quotes_switch_it_off(client_for):
    client = client_for("viewer")
    page = client.get("/search", params={"q": "hai phong"}).text
    assert "<bdi>Haiphong</bdi>" in page and "<bdi>海防</bdi>" in page and "<bdi>ハイフォン</bdi>" in page
    exact = htmllib.unescape(re.search(r'<a href="([^"]+)">Chỉ tìm đúng cụm từ này</a>', page).group(1))
    assert parse_qs(urlsplit(exact).query)["q"] == ['"hai phong"']
    quoted = client.get(exact).text
    assert "Cũng tìm" not in quoted
    assert total(quoted) < total(page)
    every = client.get("/search", params={"q": "hai phong", "lang": "ja"}).text
    assert set(hit_ids(every)) == {"ja-port", "ja-factory"}  # ハイフォン, found from "hai phong"


def test_vietnamese_syllables_are_one_word(client_for):
    page = client_for("viewer").get("/search", params={"q": "da nang"}).text
    assert hit_ids(page) == ["en-danang"] and total(page) == 1


def test_english_readers_see_the_expansion_in_english(client_for):
    client = client_for("viewer")
    from .conftest import csrf_of

    client.post("/lang", data={"lang": "en", "next": "/search", "csrf_token": csrf_of(client.get("/search").text)})
    page = client.get("/search", params={"q": "sovereignty"}).text
    assert "Also searched" in page and "articles on the topic “Sovereignty, sea and borders”" in page


def test_a_histogram_bar_narrows_the_search_to_its_day(client_for):
    client = client_for("viewer")
    page = client.get("/search", params={"q": "port", "sort": "date"}).text
    svg = re.search(r'<svg class="chart".*?</svg>', page, re.S).group(0)
    links = [htmllib.unescape(h) for h in re.findall(r'<a href="([^"]+)" class="bar-link"', svg)]
    assert links, "the bars are links"
    day = next(link for link in links if "since=2026-10-20" in link)
    params = parse_qs(urlsplit(day).query)
    assert params == {"q": ["port"], "sort": ["date"], "since": ["2026-10-20"], "until": ["2026-10-20"]}
    narrowed = client.get(day).text
    assert 0 < total(narrowed) < total(page)
    for article_id in hit_ids(narrowed):
        article = client.app.state.ctx.backend.get(article_id)
        assert (article.date + timedelta(hours=7)).date().isoformat() == "2026-10-20"
    assert 'aria-label="Chỉ xem các bài của 2026-10-20' in svg


@pytest.fixture
def slow_client(settings):
    """The app over 1,500 more articles with a time limit of 0 ms: the count and the first page take
    fewer steps than one clock check of the embedded engine, the facets and the histogram more (so
    this does not depend on the machine's speed)."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    backend = SqliteBackend(settings.index_path)
    backend.upsert(Article(id=f"bulk-{i:05d}", url=f"https://news.example/bulk/{i}", source_id="src-bulk",
                           title=f"Bản tin cảng {i}", text="Tàu cập cảng.", language="vi", topics=["port_logistics"],
                           published_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i % 200))
                   for i in range(1500))
    backend.time_limit_ms = 0
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    client = TestClient(app)
    assert login(client, "viewer").status_code == 303
    yield client
    client.close()
    app.state.ctx.close()
    backend.close()


def test_the_page_says_when_the_time_limit_cut_the_counts_short(slow_client):
    response = slow_client.get("/search")
    assert response.status_code == 200
    page = response.text
    assert "Kết quả chưa đầy đủ" in page and "Biểu đồ chưa đầy đủ" in page
    assert len(hit_ids(page)) == 20  # the results themselves are there


def test_the_time_limit_is_a_setting_both_entry_points_pass_on(settings):
    from hpmon.app import open_backend
    from web.app import create_app

    limited = settings.model_copy(update={"search_time_limit_ms": 123})
    backend = open_backend(limited)
    assert backend.time_limit_ms == 123
    backend.close()
    app = create_app(limited, password_hasher=cheap_hasher())
    assert app.state.ctx.backend.time_limit_ms == 123
    app.state.ctx.close()
    app.state.ctx.backend.close()


def test_articles_dated_at_the_ends_of_the_calendar_draw_a_yearly_chart(settings):
    """A crawled page may claim any date: 0001 or 9999 must neither crash the page nor draw a bar per
    month of eight thousand years."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    backend = SqliteBackend(settings.index_path)
    backend.upsert([Article(id=f"odd-{year}", url=f"https://news.example/odd/{year}", source_id="src-odd",
                            title="Bản tin lạ", text="Ngày đăng bất thường.", language="vi",
                            published_at=datetime(year, 12 if year > 1 else 1, 31 if year > 1 else 2, tzinfo=UTC))
                    for year in (1, 2026, 9999)])
    app = create_app(settings, backend, password_hasher=cheap_hasher())
    client = TestClient(app)
    assert login(client, "viewer").status_code == 303
    page = client.get("/search", params={"source": "src-odd"})
    assert page.status_code == 200
    svg = re.search(r'<svg class="chart".*?</svg>', page.text, re.S).group(0)
    assert svg.count('class="bar"') <= 9_999  # one bar per year, not one per month of 8,000 years
    links = [htmllib.unescape(h) for h in re.findall(r'<a href="([^"]+)" class="bar-link"', svg)]
    assert len(links) == 3
    last = parse_qs(urlsplit(links[-1]).query)
    assert last["since"] == ["9999-01-01"] and last["until"] == ["9999-12-31"]
    assert client.get(links[-1]).status_code == 200
    client.close()
    app.state.ctx.close()
    backend.close()
