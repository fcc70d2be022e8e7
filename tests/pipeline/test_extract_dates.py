"""Publication times: the order of trust, zones, and where each time came from (small pages
written for these tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.items import FetchedPage, LinkHints
from crawlers.sources import Source
from index.sqlite import SqliteBackend
from pipeline.city import load_profile
from pipeline.extract import Extracted, extract_article
from pipeline.process import Indexed, Pipeline

BODY = ("<p>Cảng Lạch Huyện của thành phố Hải Phòng hôm nay đón tàu mẹ đầu tiên, mở tuyến vận tải thẳng sang "
        "bờ Tây nước Mỹ. Lãnh đạo thành phố cho biết tuyến mới giúp doanh nghiệp giảm chi phí logistics.</p>") * 3


def page(head: str = "", body_extra: str = "") -> str:
    return (f'<html lang="vi"><head><meta charset="utf-8"><title>Cảng đón tàu mẹ</title>{head}</head>'
            f"<body><article><h1>Cảng đón tàu mẹ</h1>{body_extra}{BODY}</article></body></html>")


def ld(obj: str) -> str:
    return f'<script type="application/ld+json">{obj}</script>'


def extract(html: str, url: str = "https://bao.example.vn/cang-don-tau.html", zone: str = "Asia/Ho_Chi_Minh"):
    result = extract_article(html, url, timezone=zone)
    assert isinstance(result, Extracted), result
    return result


def test_zoned_json_ld_beats_a_zone_less_open_graph_time():
    html = page('<meta property="article:published_time" content="2026-11-20T08:15:00">'
                + ld('{"@type": "NewsArticle", "headline": "x", "datePublished": "2026-11-20T06:15:00Z"}'))
    result = extract(html)
    assert result.published_at == datetime(2026, 11, 20, 6, 15, tzinfo=UTC)
    assert result.date_source == "json-ld" and result.published_has_time


def test_zoned_open_graph_beats_zoned_other_meta_and_keeps_its_zone():
    html = page('<meta name="pubdate" content="2026-11-20T10:00:00+02:00">'
                '<meta property="article:published_time" content="2026-11-20T18:30:00+05:30">')
    result = extract(html)
    assert result.published_at == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    assert result.date_source == "meta:article:published_time"
    assert result.published_local.utcoffset().total_seconds() == 5.5 * 3600


@pytest.mark.parametrize("zone,hour_utc", [("Europe/Berlin", 18), ("Asia/Tokyo", 10), ("America/New_York", 0)])
def test_a_zone_less_time_takes_the_source_zone(zone, hour_utc):
    result = extract(page('<meta property="article:published_time" content="2026-11-20 19:00">'), zone=zone)
    day = 21 if hour_utc == 0 else 20
    assert result.published_at == datetime(2026, 11, day, hour_utc, 0, tzinfo=UTC)
    assert result.published_local.hour == 19


def test_a_zoned_metadata_time_is_kept_when_its_day_differs_from_the_url_date():
    # late evening in Europe: already the next day in UTC+7, and the URL carries the local day
    html = page(ld('{"@type": "NewsArticle", "headline": "x", "datePublished": "2026-11-19T23:30:00+01:00"}'))
    result = extract(html, url="https://bao.example.de/2026/11/19/cang-don-tau.html")
    assert result.published_at == datetime(2026, 11, 19, 22, 30, tzinfo=UTC)
    assert result.date_source == "json-ld"


def test_the_article_of_the_page_not_a_related_one():
    html = page(ld('[{"@type": "NewsArticle", "url": "https://bao.example.vn/khac.html", "headline": "other",'
                   ' "datePublished": "2026-10-01T08:00:00+07:00"},'
                   ' {"@type": "NewsArticle", "url": "https://bao.example.vn/cang-don-tau.html", "headline": "x",'
                   ' "datePublished": "2026-11-20T08:00:00+07:00"}]'))
    assert extract(html).published_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def test_json_ld_graph_and_modified_time():
    html = page('<meta property="article:modified_time" content="2026-11-22T09:00:00Z">'
                + ld('{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Báo"},'
                     ' {"@type": "NewsArticle", "headline": "x", "datePublished": "2026-11-20T08:00:00+07:00",'
                     ' "dateModified": "2026-11-22T09:00:00+07:00"}]}'))
    result = extract(html)
    assert result.published_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("value,expected", [
    ("Fri, 20 Nov 2026 08:15:00 +0700", datetime(2026, 11, 20, 1, 15, tzinfo=UTC)),
    ("2026-11-20T08:15:00+0700", datetime(2026, 11, 20, 1, 15, tzinfo=UTC)),
    ("2026-11-20T08:15:00.123456789+07:00", datetime(2026, 11, 20, 1, 15, 0, 123456, tzinfo=UTC)),
    ("20261120T081500Z", datetime(2026, 11, 20, 8, 15, tzinfo=UTC)),
    ("1795148100", datetime(2026, 11, 20, 4, 15, tzinfo=UTC)),
])
def test_date_forms(value, expected):
    result = extract(page(f'<meta property="article:published_time" content="{value}">'))
    assert result.published_at == expected and result.published_has_time


def test_a_date_without_time_is_midnight_in_the_source_zone_and_says_so():
    result = extract(page('<meta property="article:published_time" content="2026-11-20">'), zone="Asia/Tokyo")
    assert result.published_at == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)
    assert not result.published_has_time and result.date_source == "meta:article:published_time"


def test_htmldate_when_the_page_has_no_structured_date():
    result = extract(page(), url="https://bao.example.vn/2026/11/20/cang-don-tau.html", zone="Europe/Paris")
    assert result.date_source == "htmldate"
    assert result.published_local.date().isoformat() == "2026-11-20"


def test_no_date_anywhere_is_none():
    result = extract(page())
    assert result.published_at is None and result.date_source is None and not result.published_has_time


@pytest.mark.parametrize("head", [
    '<meta property="article:published_time" content="yesterday">',
    '<meta property="article:published_time" content="2026-13-45T99:99:00Z">',
    '<meta property="article:published_time" content="2026-11-20T08:15:00+99:00">',
    '<meta property="article:published_time" content="2999-01-01T00:00:00Z">',  # the future: not a publication
    ld('{"@type": "NewsArticle", "datePublished": '),  # broken JSON
    ld('{"@type": "NewsArticle", "datePublished": 17}'),
    ld('[1, "x", null]'),
])
def test_bad_values_never_crash_and_are_not_taken(head):
    result = extract(page(head))
    assert result.published_at is None or result.date_source == "htmldate"


def test_an_unknown_zone_name_falls_back_to_utc():
    result = extract(page('<meta property="article:published_time" content="2026-11-20 08:00">'), zone="Mars/Base")
    assert result.published_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


# --- in the pipeline: the source's zone, and the origin kept on the article --------------------

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pipeline(tmp_path):
    backend = SqliteBackend(tmp_path / "index.sqlite")
    sources = {
        "berlin": Source(id="berlin", name="Zeitung", kind="rss", urls=["https://zeitung.example.de/feed.xml"],
                         country="DE"),
        "sitemap": Source(id="sitemap", name="Báo", kind="sitemap", urls=["https://bao.example.vn/sitemap.xml"],
                          country="VN"),
    }
    yield Pipeline(city=load_profile(REPO / "config" / "cities" / "haiphong.yaml"), backend=backend, sources=sources)
    backend.close()


def _fetched(source_id: str, url: str, html: str, hints: LinkHints | None = None) -> FetchedPage:
    return FetchedPage(source_id=source_id, url=url, link_url=url, status=200,
                       headers={"content-type": "text/html; charset=utf-8"}, body=html.encode(),
                       fetched_at=datetime(2026, 11, 21, tzinfo=UTC), hints=hints)


def test_the_pipeline_reads_a_zone_less_page_time_in_the_source_zone_and_keeps_its_origin(pipeline):
    html = page('<meta property="article:published_time" content="2026-11-20 19:00">')
    outcome = pipeline.process_page(_fetched("berlin", "https://zeitung.example.de/a.html", html))
    assert isinstance(outcome, Indexed)
    article = pipeline.backend.get(outcome.article.id)
    assert article.published_at == datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 19:00 in Berlin, not in Hải Phòng
    assert article.reasons["published"] == {"source": "meta:article:published_time"}


def test_a_listing_time_that_wins_is_named_as_such(pipeline):
    html = page('<meta property="article:published_time" content="2026-11-20">')
    hints = LinkHints(published=datetime(2026, 11, 20, 2, 30, tzinfo=UTC))
    outcome = pipeline.process_page(_fetched("sitemap", "https://bao.example.vn/b.html", html, hints))
    assert outcome.article.published_at == hints.published
    assert outcome.article.reasons["published"] == {"source": "sitemap"}


def test_hpmon_show_says_where_the_time_came_from(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from hpmon.cli import main

    backend = SqliteBackend(tmp_path / "index.sqlite")
    pipe = Pipeline(city=load_profile(REPO / "config" / "cities" / "haiphong.yaml"), backend=backend)
    html = page(ld('{"@type": "NewsArticle", "headline": "x", "datePublished": "2026-11-20T06:15:00Z"}'))
    outcome = pipe.process_page(_fetched("x", "https://bao.example.vn/a.html", html))
    backend.close()
    monkeypatch.setenv("HPMON_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["show", outcome.article.id])
    assert result.exit_code == 0, result.output
    assert "2026-11-20T13:15:00+07:00 (from json-ld)" in result.output


def test_a_feed_time_refines_an_htmldate_guess_of_the_same_day_but_not_a_structured_time(pipeline):
    hints = LinkHints(published=datetime(2026, 11, 20, 2, 30, tzinfo=UTC))
    guessed = page()  # only the URL carries the date: htmldate
    outcome = pipeline.process_page(_fetched("berlin", "https://zeitung.example.de/2026/11/20/c.html", guessed, hints))
    assert outcome.article.published_at == hints.published and outcome.article.reasons["published"]["source"] == "feed"
    stated = page('<meta property="article:published_time" content="2026-11-20T09:00:00+01:00">')
    outcome = pipeline.process_page(_fetched("berlin", "https://zeitung.example.de/d.html", stated, hints))
    assert outcome.article.published_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert outcome.article.reasons["published"]["source"] == "meta:article:published_time"


@pytest.mark.parametrize("value,expected,has_time", [
    # year first with slashes or dots: never ambiguous, read like ISO
    ("2026/11/20 08:15", datetime(2026, 11, 20, 1, 15, tzinfo=UTC), True),
    ("2026.11.20", datetime(2026, 11, 19, 17, 0, tzinfo=UTC), False),
    # an English month name; "PM" is afternoon, an offset or GMT/UTC is the zone
    ("November 20, 2026 3:15 PM", datetime(2026, 11, 20, 8, 15, tzinfo=UTC), True),
    ("20 November 2026 14:05 GMT+7", datetime(2026, 11, 20, 7, 5, tzinfo=UTC), True),
    # a zone abbreviation that names several zones (IST: India, Ireland, Israel) is the source's zone
    ("03:15:00 PM IST Nov 20, 2026", datetime(2026, 11, 20, 8, 15, tzinfo=UTC), True),
    # RFC 822 as before
    ("Fri, 20 Nov 2026 08:15:00 +0700", datetime(2026, 11, 20, 1, 15, tzinfo=UTC), True),
])
def test_other_date_shapes_in_metadata(value, expected, has_time):
    result = extract(page(f'<meta property="article:published_time" content="{value}">'))
    assert result.published_at == expected
    assert result.published_has_time is has_time
    assert result.date_source == "meta:article:published_time"
