"""The trends and stories pages over a corpus written for them: known topics, tones, countries,
outlets and languages in the last 7 days, the 7 before and earlier; stories grouped by the real story
store. Every number on the trends page is a link, and following it finds that many articles."""

from __future__ import annotations

import html
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from index.article import Article
from index.sqlite import SqliteBackend
from pipeline.stories import StoryStore

from .conftest import make_home

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SOURCE = "src-trend"
STORY_A = ("Cảng Hải Phòng khánh thành bến container số 7 tại Lạch Huyện với tổng vốn đầu tư 6.400 tỷ đồng, "
           "nâng công suất khai thác của cụm cảng nước sâu lên hàng triệu TEU mỗi năm; lãnh đạo thành phố "
           "cho biết bến mới sẽ đón tàu mẹ trọng tải lớn đi thẳng châu Âu và châu Mỹ từ đầu năm tới.")
STORY_B = ("Lễ hội du lịch biển Đồ Sơn năm nay khai mạc với chuỗi hoạt động văn hóa, thể thao và ẩm thực kéo dài "
           "ba tuần, thu hút hàng chục nghìn du khách trong và ngoài nước đến thành phố cảng Hải Phòng; ban tổ "
           "chức dự kiến lượng khách tăng mạnh so với mùa trước nhờ nhiều đường bay mới.")


def today() -> date:
    return datetime.now(TZ).date()


def at(days_ago: int) -> datetime:
    """Noon in Hải Phòng, ``days_ago`` days before today."""
    return datetime.combine(today() - timedelta(days=days_ago), time(12), TZ).astimezone(UTC)


def _noise(i: int) -> str:
    rng = random.Random(i)
    letters = "bcdghklmnpqrstvx"
    return " ".join("".join(rng.choice(letters) + rng.choice("aeiouy") for _ in range(3)) for _ in range(40))


def trend_articles() -> list[tuple[Article, str]]:
    """(article, story text) — 20 in the last 7 days, 10 in the 7 before, 6 three weeks ago."""
    out = []
    countries = ["VN", "US", "CN", "JP"]
    for i in range(36):
        if i < 20:
            ago, topic = i % 7, "port_logistics" if i < 12 else "tourism_culture"
            tone = ("negative", "neutral", "positive", "positive")[i % 4]
        elif i < 30:
            ago, topic = 7 + i % 7, "port_logistics" if i < 24 else "tourism_culture"
            tone = ("negative", "negative", "neutral")[i % 3]
        else:
            ago, topic, tone = 20, "sovereignty", "negative"
        text = STORY_A + f" Bản tin {_noise(i)[:12]}." if i in (0, 1, 2, 3, 4, 5, 20) else (
            STORY_B + f" Bản tin {_noise(i)[:12]}." if i in (21, 22, 23, 12) else _noise(i))
        lang = ("vi", "en", "zh", "ja")[i % 4]
        out.append((Article(
            id=f"trend-{i:02d}", url=f"https://news.example/trend/{i}", source_id=SOURCE,
            title=("Bến container Lạch Huyện" if text.startswith(STORY_A) else
                   "Lễ hội biển Đồ Sơn" if text.startswith(STORY_B) else _noise(i + 1000)[:30]),
            text=text, language=lang, country=countries[i % 4], outlet=f"Báo {i % 5}",
            scope="domestic" if i % 4 == 0 else "foreign", coverage="watch" if i in (14, 15) else "city",
            sensitive_themes=["sovereignty"] if i in (14, 15, 25) else [], topics=[topic], sentiment=tone,
            risk_score=0.1, published_at=at(ago)), text))
    return out


def make_trend_home(root):
    """The web fixtures' home with the trend corpus indexed and grouped into stories by the real store."""
    settings = make_home(root)
    store = StoryStore(settings.home / "stories.sqlite")
    articles = []
    for article, text in sorted(trend_articles(), key=lambda p: p[0].published_at):
        match = store.assign(article_id=article.id, title=article.title, text=text, date=article.date,
                             language=article.language, outlet=article.outlet, country=article.country)
        article.story_id = match.story_id
        articles.append(article)
    store.close()
    backend = SqliteBackend(settings.index_path)
    backend.upsert(articles)
    backend.close()
    return settings


@pytest.fixture
def settings(tmp_path):
    return make_trend_home(tmp_path)


def corpus_story_ids(settings) -> dict[str, str]:
    backend = SqliteBackend(settings.index_path)
    try:
        return {a.id: a.story_id for a in backend.iter_articles() if a.id.startswith("trend-")}
    finally:
        backend.close()


def _links(page: str) -> list[tuple[str, int]]:
    """(search URL, number shown) of every number that is a link into the search."""
    return [(html.unescape(href), int(n)) for href, n in re.findall(r'<a href="(/search\?[^"]+)">(\d+)</a>', page)]


def _total(page: str) -> int:
    return int(re.search(r'<p class="total"><strong>(\d+)</strong>', page).group(1))


def test_the_numbers_of_the_last_7_days_against_the_7_before(client_for):
    page = client_for("viewer").get(f"/trends?source={SOURCE}")
    assert page.status_code == 200
    text = page.text
    section = text[text.index('id="wow"'):text.index('id="topics-time"')]
    cells = r'<td role="rowheader"><strong>{}</strong></td>\s*<td class="num">{}</td>\s*<td class="num">{}</td>'
    change = r'<a[^>]*>{}</a> <span class="small change change-{}"[^>]*>{}</span>'
    names = re.findall(r'<td role="rowheader"><strong>([^<]+)</strong>', section)
    assert len(names) == len(set(names)), names  # each tone and topic once
    assert re.search(cells.format("Tất cả các bài", change.format(20, "up", "▲ 100 %"), "<a[^>]*>10</a>"), section)
    assert re.search(cells.format("Cảng biển, logistics", change.format(12, "up", "▲ 200 %"), "<a[^>]*>4</a>"),
                     section), "port logistics: 12 in the last 7 days, 4 before, ▲ 200 %"
    assert re.search(cells.format("[^<]+", change.format(8, "up", "▲ 33,3 %"), "<a[^>]*>6</a>"), section)
    # tone: negative 5 now against 6 before (i 20..29 with i % 3 in (0, 1))
    now_neg = sum(1 for a, _ in trend_articles()[:20] if a.sentiment == "negative")
    before_neg = sum(1 for a, _ in trend_articles()[20:30] if a.sentiment == "negative")
    assert (now_neg, before_neg) == (5, 6)
    assert re.search(cells.format("Tiêu cực", change.format(5, "down", "▼ 16,7 %"), "<a[^>]*>6</a>"), section)
    # the sensitive and national watch rows: 2 watch articles now (none before), sovereignty 2 against 1
    assert re.search(cells.format("Theo dõi quốc gia[^<]*", "<a[^>]*>2</a> <span[^>]*>mới xuất hiện</span>", "0"),
                     section)
    assert re.search(cells.format("Chủ quyền[^<]*", change.format(2, "up", "▲ 100 %"), "<a[^>]*>1</a>"), section)
    assert re.search(cells.format("Tích cực", "<a[^>]*>10</a> <span[^>]*>mới xuất hiện</span>", "0"), section)


def test_every_number_links_to_a_search_finding_that_many_articles(client_for):
    client = client_for("analyst")
    page = client.get(f"/trends?source={SOURCE}").text
    links = _links(page)
    assert len(links) > 60
    for href, count in links:
        params = parse_qsl(urlsplit(href).query)
        assert ("source", SOURCE) in params and any(k == "since" for k, _ in params)
        assert _total(client.get(href).text) == count, href


def test_topic_and_tone_over_time_are_svg_with_tables_and_share_of_voice_is_named(client_for):
    page = client_for("viewer").get(f"/trends?source={SOURCE}").text
    assert "Chủ đề theo thời gian" in page and "Sắc thái theo thời gian" in page
    assert page.count('<svg class="spark"') == 3  # port, tourism, sovereignty (30 days by default)
    assert '<svg class="chart"' in page and "<table" in page and "<script" not in page.split("</head>")[1]
    for name in ("Việt Nam", "Hoa Kỳ", "Trung Quốc", "Nhật Bản", "Tiếng Việt", "Tiếng Anh", "Tiếng Trung",
                 "Tiếng Nhật", "Báo 0"):
        assert f'<td role="rowheader"><strong>{name}</strong>' in page, name
    for code in ("US", "CN", "JP", "zh", "ja", "port_logistics", "negative"):
        assert f"<strong>{code}</strong>" not in page and f">{code}</" not in page, code
    # 9 of 36 articles are Vietnamese: 25 %
    country = page[page.index('id="share-country"'):page.index('id="share-outlet"')]
    assert re.search(r"Việt Nam</strong><div><svg[^§]*?</td><td class=\"num\"><a[^>]*>9</a></td>"
                     r"<td class=\"num\">25 %</td>", country)


def test_english_labels(client_for):
    client = client_for("viewer")
    client.post("/lang", data={"lang": "en", "next": "/trends", "csrf_token": _csrf(client)})
    page = client.get(f"/trends?source={SOURCE}").text
    assert "Topics over time" in page and "Share of voice by country" in page and "United States" in page
    assert "The last 7 days against the 7 before" in page and "▲ 33.3 %" in page


def _csrf(client) -> str:
    from .conftest import csrf_of

    return csrf_of(client.get("/account").text)


def test_the_period_and_filters_carry_into_the_links(client_for):
    since, until = today() - timedelta(days=13), today() - timedelta(days=7)
    page = client_for("viewer").get(f"/trends?source={SOURCE}&since={since}&until={until}&topic=port_logistics"
                                    "&q=cảng").text
    links = _links(page)
    assert links
    for href, _ in links:
        params = dict(parse_qsl(urlsplit(href).query))
        assert params["q"] == "cảng" and params["source"] == SOURCE
        assert since.isoformat() <= params["since"] <= params["until"] <= until.isoformat()
    assert 'value="cảng"' in page and f'value="{since}"' in page


def test_rising_stories_link_to_their_page(client_for, settings):
    stories = corpus_story_ids(settings)
    a, b = stories["trend-00"], stories["trend-21"]
    assert {stories[f"trend-{i:02d}"] for i in (0, 1, 2, 3, 4, 5, 20)} == {a} and stories["trend-12"] == b
    page = client_for("viewer").get(f"/trends?source={SOURCE}").text
    rising = page[page.index("Sự kiện tăng nhanh"):]
    assert f'href="/stories/{a}"' in rising  # 6 in the last 7 days, 1 before
    assert f'href="/stories/{b}"' not in rising  # 1 in the last 7 days, 3 before: falling


def test_the_stories_page_lists_groups_by_recent_growth(client_for, settings):
    stories = corpus_story_ids(settings)
    a, b = stories["trend-00"], stories["trend-21"]
    page = client_for("viewer").get("/stories").text
    assert page.index(f'href="/stories/{a}"') < page.index(f'href="/stories/{b}"')
    assert "7 bài" in page and "Bến container Lạch Huyện" in page and "Lễ hội biển Đồ Sơn" in page
    assert "6 bài trong 7 ngày qua, 1 bài 7 ngày trước đó" in page
    assert 'href="/stories/trend-13"' not in page and "không được liệt kê" in page  # one-article stories
    singles = client_for("viewer").get("/stories?single=1").text
    assert 'href="/stories/trend-13"' in singles and singles.index(f'href="/stories/{a}"') < singles.index(
        f'href="/stories/{b}"')
    one = client_for("viewer").get(f"/stories/{a}")
    assert one.status_code == 200
    for i in (0, 1, 2, 3, 4, 5, 20):
        assert f'href="/articles/trend-{i:02d}"' in one.text
    assert "Tiếng Việt" in one.text and "Tiếng Trung" in one.text and "Bài đầu tiên" in one.text
    assert "Hoa Kỳ" in one.text


def test_an_unknown_story_is_404_and_bad_input_is_400(client_for):
    client = client_for("viewer")
    assert client.get("/stories/nosuchstory").status_code == 404
    for url in ("/stories/<script>", "/stories/" + "a" * 200, "/stories/a b"):
        assert client.get(url).status_code == 400, url
    for url in ("/stories?since=2026-13-01", "/stories?since=0001-01-01",
                "/trends?since=notadate", "/trends?until=9999-12-31", "/trends?since=2026-11-10&until=2026-11-01",
                "/trends?min_risk=2", '/trends?q="unclosed', "/trends?lang=vi&since=2026-02-30"):
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
    # a very long period is drawn per year, not per day
    long = client.get(f"/trends?since=1900-01-01&until=2199-12-31&source={SOURCE}")
    assert long.status_code == 200 and "Theo năm" in long.text


def test_anonymous_users_are_sent_to_log_in(client_for):
    client = client_for(None)
    for url in ("/trends", "/stories", "/stories/trend-00"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_no_story_store_yet_says_what_to_do(client_for, settings):
    (settings.home / "stories.sqlite").unlink()
    page = client_for("viewer").get("/stories")
    assert page.status_code == 200 and "Chưa có sự kiện nào" in page.text
    assert client_for("viewer").get("/stories/trend-00").status_code == 404
    assert not (settings.home / "stories.sqlite").exists()  # looking did not create an empty store


def test_a_partial_answer_is_flagged(client_for, app, monkeypatch):
    from index.backend import FacetHistogram

    backend = app.state.ctx.backend
    whole = client_for("viewer").get(f"/trends?source={SOURCE}").text
    assert "Số liệu chưa đầy đủ" not in whole
    original = backend.facet_histogram

    def cut_short(*args, **kwargs):  # as the engine answers past its time limit: the counts so far
        return FacetHistogram(list(original(*args, **kwargs))[:3], timed_out=True)

    monkeypatch.setattr(backend, "facet_histogram", cut_short)
    page = client_for("viewer").get(f"/trends?source={SOURCE}")
    assert page.status_code == 200 and "Số liệu chưa đầy đủ" in page.text


def test_an_engine_that_is_down_is_said_not_raised(client_for, app, monkeypatch):
    from index.sqlite import QueryTimeout

    def down(*args, **kwargs):
        raise QueryTimeout("too slow")

    monkeypatch.setattr(app.state.ctx.backend, "search", down)
    page = client_for("viewer").get("/trends")
    assert page.status_code == 200 and 'class="notice error"' in page.text
