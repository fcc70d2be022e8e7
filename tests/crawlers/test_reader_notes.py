"""What the feed and GDELT readers repaired is logged by the spider (no failure, but visible)."""

from __future__ import annotations

import json
import logging

from scrapy.http import Request, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawlers.sources import Source
from crawlers.spider import SourcesSpider
from crawlers.state import CrawlState

# declared windows-1258, but the bytes are UTF-8: read as UTF-8, with a note
_FEED = ('<?xml version="1.0" encoding="windows-1258"?><rss version="2.0"><channel><title>Tin</title>'
         '<item><title>Cảng Lạch Huyện đón tàu</title><link>https://tin.example.vn/a/1.htm</link>'
         '<pubDate>Fri, 20 Nov 2026 08:15:00 +0700</pubDate></item></channel></rss>').encode()


def _spider(tmp_path, source: Source) -> SourcesSpider:
    crawler = get_crawler(SourcesSpider)
    spider = SourcesSpider.from_crawler(crawler, sources=[source], state=CrawlState(tmp_path / "crawl.sqlite"),
                                        archive=None, search_names={})
    crawler.stats.open_spider()
    crawler.spider = spider
    spider.max_age_days = 100000
    return spider


def test_a_feed_reader_note_is_logged_and_is_not_a_failure(tmp_path, caplog):
    url = "https://tin.example.vn/rss.xml"
    source = Source(id="tin", name="Tin", kind="rss", urls=(url,), country="VN", scope="domestic")
    spider = _spider(tmp_path, source)
    response = XmlResponse(url, body=_FEED, headers={"Content-Type": "text/xml; charset=windows-1258"},
                           request=Request(url, meta={"source_id": "tin", "link": url}))
    with caplog.at_level(logging.INFO):
        requests = list(spider.parse_feed(response))
    assert [r.url for r in requests if "hints" in r.meta] == ["https://tin.example.vn/a/1.htm"]
    assert any("source tin" in m and "UTF-8" in m for m in caplog.messages)
    assert not any(k.startswith("source/tin/failed") or "warnings" in k for k in spider.crawler.stats.get_stats())


def test_a_gdelt_repair_is_logged(tmp_path, caplog):
    url = "https://api.gdeltproject.org/api/v2/doc/doc?query=x&mode=artlist&format=json"
    source = Source(id="gd", name="GDELT", kind="gdelt", urls=("https://api.gdeltproject.org/api/v2/doc/doc",),
                    language="en", scope="mixed")
    spider = _spider(tmp_path, source)
    good = {"url": "https://news.example.com/a", "title": "Port", "seendate": "20261120T081500Z",
            "language": "English", "sourcecountry": "United States"}
    body = json.dumps({"articles": [good]}).replace('"Port"', '"Port \\q"').encode()  # an invalid escape
    response = TextResponse(url, body=body, request=Request(url, meta={"source_id": "gd", "link": url}))
    with caplog.at_level(logging.INFO):
        requests = [r for r in spider.parse_gdelt(response) if "hints" in r.meta]
    assert [r.url for r in requests] == ["https://news.example.com/a"]
    assert any("source gd" in m and "repaired" in m for m in caplog.messages)
