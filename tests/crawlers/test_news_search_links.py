"""News-search feeds whose links are opaque Google News ids: the crawler resolves each through
the page's signature and the batchexecute answer (as a browser does), indexes the article under
its own URL, remembers the resolution, and reports a link it cannot resolve with its reason."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from crawlers.newslinks import (
    GoogleNewsParams,
    google_news_article_page,
    google_news_params,
    google_news_request_body,
    google_news_url,
)
from index.sqlite import SqliteBackend
from tests.conftest import make_hpmon

PAGE = ('<html><body><c-wiz jsrenderer="ar0rdf" data-n-a-id="CBMiX_1" data-n-a-ts="1763629200" '
        'data-n-a-sg="AVsig-9"></c-wiz></body></html>')
ANSWER = (")]}'\n\n123\n"
          '[["wrb.fr","Fbv4je","[\\"garturlres\\",\\"https://e.vnexpress.net/news/haiphong-port.html\\",1]",'
          'null,null,null,"generic"],["di",42]]\n25\n[["e",4,null,null,1]]\n')


def test_the_page_gives_id_timestamp_and_signature():
    assert google_news_params(PAGE) == GoogleNewsParams("CBMiX_1", 1763629200, "AVsig-9")
    assert google_news_params(PAGE.replace('data-n-a-ts="1763629200"', "")) is None  # incomplete
    assert google_news_params(PAGE.replace("1763629200", "soon")) is None
    assert google_news_params("<html><body>An article about Hải Phòng</body></html>") is None


def test_a_feed_link_without_signature_is_tried_on_the_article_web_page():
    assert google_news_article_page("https://news.google.com/rss/articles/CBMiX_1?oc=5&hl=en") == \
        "https://news.google.com/articles/CBMiX_1?oc=5&hl=en"
    assert google_news_article_page("https://news.google.com/articles/CBMiX_1") is None  # already the web page
    assert google_news_article_page("https://example.com/rss/articles/CBMiX_1") is None


def test_the_request_names_the_article_and_carries_the_signature():
    outer = json.loads(google_news_request_body(GoogleNewsParams("CBMiX_1", 1763629200, "AVsig-9")))
    rpc, inner, _, kind = outer[0][0]
    request = json.loads(inner)
    assert (rpc, kind, request[0]) == ("Fbv4je", "generic", "garturlreq")
    assert request[2:] == ["CBMiX_1", 1763629200, "AVsig-9"]


def test_the_answer_gives_the_article_url_or_nothing():
    assert google_news_url(ANSWER) == "https://e.vnexpress.net/news/haiphong-port.html"
    refused = ')]}\'\n\n[["wrb.fr","Fbv4je",null,null,null,[3],"generic"]]\n'
    assert google_news_url(refused) is None
    assert google_news_url(ANSWER.replace("https://e.vnexpress", "javascript:alert(1)//")) is None
    assert google_news_url("<html>Sorry, unusual traffic</html>") is None
    assert google_news_url(")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",\"not json") is None


@pytest.fixture(scope="module")
def search_crawl(news_site, manifest, tmp_path_factory):
    home = tmp_path_factory.mktemp("news-search-home")
    search = next(s for s in manifest["sources"] if s["kind"] == "news_search")
    relevant = next(a for a in manifest["articles"] if "news_search" in a["reached_by"] and a["relevant"])
    stale = f"{news_site.base_url}/rss/articles/{news_site.google_token(relevant['path'])}/stale"
    sources = [{**search, "url_template": search["url_template"].replace("{{BASE}}", news_site.base_url)},
               {"id": "fx-stale-link", "name": "A link Google refuses", "kind": "pages", "urls": [stale],
                "country": "VN", "language": "vi", "scope": "domestic"}]
    (home / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    hpmon = make_hpmon(home, home / "sources.yaml")
    news_site.reset_requests()
    first = {row["source"]: row for row in hpmon.json("crawl")}
    requests = news_site.requests
    return hpmon, first, requests


def _hits(news_site, requests) -> list[str]:
    query = next(parse_qs(urlsplit(p).query)["q"][0] for m, p, _ in requests if p.startswith("/search/rss"))
    return [a["path"] for a in news_site.search(query)]


def test_every_search_result_is_resolved_and_fetched_at_its_own_address(search_crawl, news_site, manifest):
    hpmon, first, requests = search_crawl
    hits = _hits(news_site, requests)
    assert hits, "the search feed lists articles"
    row = first["fx-search-en"]
    assert row["resolved_links"] == len(hits) and row["failed"] == 0
    fetched = {urlsplit(p).path for m, p, _ in requests if m == "GET"}
    assert set(hits) <= fetched  # each article fetched directly, not through the search engine
    relevant = {a["path"] for a in manifest["articles"] if a["path"] in hits and a["relevant"]}
    index = SqliteBackend(hpmon.home / "index.sqlite")
    try:
        links = {a.url for a in index.iter_articles()}
    finally:
        index.close()
    indexed = {urlsplit(link).path for link in links}
    assert relevant and relevant <= indexed
    assert not any("/rss/articles/" in link for link in links)


def test_a_link_google_refuses_is_reported_with_its_reason(search_crawl):
    _, first, _ = search_crawl
    assert first["fx-stale-link"]["failures"] == {"news_link_unresolved": 1}
    assert first["fx-stale-link"]["new"] == 0


def test_a_second_run_does_not_ask_google_again(search_crawl, news_site):
    hpmon, first, _ = search_crawl
    news_site.reset_requests()
    second = {row["source"]: row for row in hpmon.json("crawl")}
    requests = news_site.requests
    asked = [p for m, p, _ in requests if m == "GET" and p.startswith("/rss/articles/") and not p.endswith("/stale")]
    assert asked == [] and second["fx-search-en"]["resolved_links"] == 0
    assert second["fx-search-en"]["new"] == 0 and second["fx-search-en"]["fetched"] == 0
    # the refused link is tried again (Google's refusal may be temporary), and reported again
    assert second["fx-stale-link"]["failures"] == {"news_link_unresolved": 1}


def _spider(tmp_path):
    from scrapy.utils.test import get_crawler

    from crawlers.sources import Source
    from crawlers.spider import SourcesSpider
    from crawlers.state import CrawlState
    from crawlers.warc import WarcArchive

    source = Source(id="gnews-en", name="Google News (en)", kind="news_search",
                    url_template="https://news.google.com/rss/search?q={query}")
    crawler = get_crawler(SourcesSpider)
    spider = SourcesSpider.from_crawler(crawler, sources=[source], state=CrawlState(tmp_path / "crawl.sqlite"),
                                        archive=WarcArchive(tmp_path / "warc"), search_names={})
    crawler.stats.open_spider()
    return spider


def _google_page(url: str, body: str, **meta):
    from scrapy.http import HtmlResponse, Request

    request = Request(url, meta={"source_id": "gnews-en", "link": url, **meta})
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=request)


def test_the_spider_asks_google_with_the_page_signature_then_tries_the_web_page_then_gives_a_reason(tmp_path):
    from scrapy.http import FormRequest

    spider = _spider(tmp_path)
    feed_link = "https://news.google.com/rss/articles/CBMiX_1?oc=5"
    [ask] = list(spider.parse_article(_google_page(feed_link, PAGE)))
    assert isinstance(ask, FormRequest) and ask.url == "https://news.google.com/_/DotsSplashUi/data/batchexecute"
    assert b"f.req=" in ask.body and b"AVsig-9" in ask.body and ask.meta["link"] == feed_link

    blank = "<html><body><c-wiz></c-wiz></body></html>"  # the feed's page without the signature
    [web_page] = list(spider.parse_article(_google_page(feed_link, blank)))
    assert web_page.url == "https://news.google.com/articles/CBMiX_1?oc=5" and web_page.meta["news_page_tried"]
    assert list(spider.parse_article(_google_page(web_page.url, blank, news_page_tried=True))) == []
    stats = spider.crawler.stats.get_stats()
    assert stats["source/gnews-en/failed/news_link_unresolved"] == 1
    assert "source/gnews-en/fetched" not in stats  # Google's pages are not articles
