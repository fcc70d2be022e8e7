"""Sitemap dates without a zone are in the source's zone (as feeds are), not UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from crawlers.sitemaps import read_sitemap
from crawlers.sources import Source

_NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://news.example.cn/a/1.htm</loc>
    <news:news><news:publication_date>2026-11-20T08:15:00</news:publication_date>
    <news:title>t</news:title></news:news></url>
  <url><loc>https://news.example.cn/a/2.htm</loc><lastmod>2026-11-20 08:15:00</lastmod></url>
  <url><loc>https://news.example.cn/a/3.htm</loc><lastmod>2026-11-20</lastmod></url>
  <url><loc>https://news.example.cn/a/4.htm</loc><lastmod>2026-11-20T08:15:00+09:00</lastmod></url>
  <url><loc>https://news.example.cn/a/5.htm</loc><lastmod>Fri, 20 Nov 2026 08:15:00 +0700</lastmod></url>
</urlset>"""


def _published(**kw) -> list[datetime | None]:
    return [hints.published for _, hints in read_sitemap(_NEWS, **kw).pages]


def test_zoneless_dates_take_the_source_zone():
    source = Source(id="x", name="X", kind="sitemap", urls=("https://news.example.cn/sitemap.xml",),
                    country="CN")
    got = _published(timezone=source.tzinfo)
    assert got[0] == datetime(2026, 11, 20, 0, 15, tzinfo=UTC)  # 08:15 in Shanghai
    assert got[1] == datetime(2026, 11, 20, 0, 15, tzinfo=UTC)
    assert got[2] == datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    # a stated zone is kept whatever the source's
    assert got[3] == datetime(2026, 11, 19, 23, 15, tzinfo=UTC)
    assert got[4] == datetime(2026, 11, 20, 1, 15, tzinfo=UTC)


def test_zone_by_name_and_unknown_zone():
    assert _published(timezone="Asia/Ho_Chi_Minh")[0] == datetime(2026, 11, 20, 1, 15, tzinfo=UTC)
    # no zone known (aggregators) or a bad name: UTC, as before
    assert _published()[0] == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    assert _published(timezone=None)[0] == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    assert _published(timezone="Not/AZone")[0] == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)


def test_all_published_times_are_aware_utc():
    for when in _published(timezone="Asia/Tokyo"):
        assert when is not None and when.utcoffset().total_seconds() == 0


def test_the_spider_reads_a_sitemap_in_its_source_zone(tmp_path):
    """crawlers/spider.py passes ``Source.tzinfo`` to the sitemap reader."""
    from scrapy.http import Request, XmlResponse
    from scrapy.utils.test import get_crawler

    from crawlers.spider import SourcesSpider
    from crawlers.state import CrawlState

    source = Source(id="cn", name="CN", kind="sitemap", urls=("https://news.example.cn/sitemap.xml",),
                    country="CN", scope="foreign")
    crawler = get_crawler(SourcesSpider)
    spider = SourcesSpider.from_crawler(crawler, sources=[source], state=CrawlState(tmp_path / "crawl.sqlite"),
                                        archive=None, search_names={})
    crawler.stats.open_spider()
    crawler.spider = spider
    spider.max_age_days = 100000  # the dates here are not too old to queue
    url = "https://news.example.cn/sitemap.xml"
    response = XmlResponse(url, body=_NEWS, request=Request(url, meta={"source_id": "cn", "link": url}))
    published = {r.url: r.meta["hints"].published for r in spider.parse_sitemap(response) if "hints" in r.meta}
    assert published["https://news.example.cn/a/1.htm"] == datetime(2026, 11, 20, 0, 15, tzinfo=UTC)
