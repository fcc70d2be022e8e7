from pathlib import Path

import pytest

from crawlers.feeds import read_feed
from crawlers.gdelt import build_query_url, country_code, read_artlist
from crawlers.links import looks_like_article
from crawlers.sitemaps import read_sitemap
from crawlers.sources import SourceError, export_opml, import_opml, load_sources
from crawlers.urls import canonical_url, resolve_canonical

REPO = Path(__file__).resolve().parents[2]


def test_canonical_url_strips_tracking_and_fragment():
    assert canonical_url("HTTPS://Báo.vn/a.html?utm_source=rss&id=7&fbclid=x#top") == canonical_url(
        "https://báo.vn/a.html?id=7")
    assert "utm_" not in canonical_url("https://x.vn/a?utm_medium=feed")


def test_rel_canonical_is_trusted_only_on_the_same_site_and_not_the_home_page():
    page = "https://www.x.vn/a.html?utm_source=1"
    assert resolve_canonical(page, "https://x.vn/b.html") == "https://x.vn/b.html"
    assert resolve_canonical(page, "https://other.com/a.html") == canonical_url(page)
    assert resolve_canonical(page, "https://www.x.vn/") == canonical_url(page)


def test_shipped_source_registry_is_valid():
    sources = load_sources(REPO / "config" / "sources.yaml")
    assert len(sources) >= 40
    kinds = {s.kind for s in sources}
    assert {"rss", "news_search", "gdelt"} <= kinds
    assert {s.language for s in sources} >= {"vi", "en", "zh", "ja", "ko", "ru", "fr"}
    assert {s.scope for s in sources} >= {"domestic", "foreign"}


def test_invalid_source_is_reported_with_its_id(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - {id: bad-one, name: B, kind: rss, urls: []}\n", encoding="utf-8")
    with pytest.raises(SourceError, match="bad-one"):
        load_sources(path)
    path.write_text("sources:\n  - {id: a, name: A, kind: rss, urls: ['http://a/x']}\n"
                    "  - {id: a, name: A2, kind: rss, urls: ['http://a/y']}\n", encoding="utf-8")
    with pytest.raises(SourceError, match="duplicate"):
        load_sources(path)


def test_opml_round_trip(tmp_path):
    sources = [s for s in load_sources(REPO / "config" / "sources.yaml") if s.kind == "rss"][:5]
    opml = tmp_path / "feeds.opml"
    opml.write_text(export_opml(sources), encoding="utf-8")
    new, notes = import_opml(opml, [])
    assert sorted(u for s in new for u in s.urls) == sorted(u for s in sources for u in s.urls)
    again, notes = import_opml(opml, new)
    assert again == [] and all("already registered" in n for n in notes)


def test_malformed_opml_is_an_error(tmp_path):
    path = tmp_path / "x.opml"
    path.write_text("<opml><body><outline", encoding="utf-8")
    with pytest.raises(SourceError):
        import_opml(path, [])


RSS = b"""<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>T</title>
<item><title>\xcf\xee\xf0\xf2</title><link>https://x.ru/a/2026/11/20/port.html</link>
<pubDate>Fri, 20 Nov 2026 08:00:00 +0300</pubDate></item>
<item><title>No date</title><link>https://x.ru/b.html</link></item></channel></rss>"""


def test_feed_entries_with_legacy_encoding_and_missing_dates():
    reading = read_feed(RSS, url="https://x.ru/rss")
    assert reading.error is None and len(reading.entries) == 2
    assert reading.entries[0].hints.title == "Порт"
    assert reading.entries[0].hints.published.isoformat() == "2026-11-20T05:00:00+00:00"
    assert reading.entries[1].hints.published is None


@pytest.mark.parametrize("body,error", [
    (b"", "empty_feed"),
    (b"<!DOCTYPE html><html><body><p>Not a feed</p></body></html>", "not_a_feed"),
])
def test_feed_failures_have_reasons(body, error):
    assert read_feed(body, url="https://x/feed").error == error


def test_truncated_feed_keeps_complete_items_with_a_warning():
    truncated = RSS[: RSS.index(b"<item><title>No date")] + b"<item><title>cut"
    reading = read_feed(truncated, url="https://x.ru/rss")
    assert [e.link for e in reading.entries] == ["https://x.ru/a/2026/11/20/port.html"]
    assert reading.warning and reading.error is None


def test_news_sitemap_and_index():
    urlset = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://x.kr/a/1</loc>
      <news:news><news:publication_date>2026-11-20T09:00:00+09:00</news:publication_date>
      <news:title>하이퐁</news:title></news:news></url></urlset>""".encode()
    reading = read_sitemap(urlset)
    assert reading.pages[0][0] == "https://x.kr/a/1" and reading.pages[0][1].title == "하이퐁"
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://x.kr/s1.xml</loc></sitemap></sitemapindex>"""
    assert read_sitemap(index).children == ["https://x.kr/s1.xml"]
    assert read_sitemap(b"<html></html>").error == "not_a_sitemap"


def test_gdelt_query_and_answer():
    url = build_query_url("https://api.gdeltproject.org/api/v2/doc/doc", ["Hai Phong", "Haiphong"], "en")
    assert "mode=artlist" in url and "sourcelang%3Aenglish" in url and "%22Hai+Phong%22" in url
    reading = read_artlist(b'{"articles": [{"url": "https://x.co.uk/a", "title": "T", "seendate": '
                           b'"20261120T081500Z", "domain": "x.co.uk", "language": "English", '
                           b'"sourcecountry": "United Kingdom"}]}')
    url, hints = reading.articles[0]
    assert hints.country == "GB" and hints.language == "en" and hints.published.hour == 8
    assert read_artlist(b"{}").articles == []
    assert read_artlist(b"Your search contained a phrase that was too short.").error == "gdelt_error"
    assert country_code("Vietnam") == "VN" and country_code("Atlantis") is None


@pytest.mark.parametrize("url,expected", [
    ("https://x.ru/ru/novosti/2026/11/20/khayfon-port.html", True),
    ("https://x.ru/ru/tag/port/", False),
    ("https://x.ru/ru/about", False),
    ("https://other.ru/ru/novosti/2026/11/20/x.html", False),
    ("https://x.ru/tin-tuc/cang-hai-phong-don-tau-lon-nhat.html", True),
])
def test_listing_links_that_look_like_articles(url, expected):
    assert looks_like_article(url, "https://x.ru/ru/") is expected


def test_news_search_redirect_links_are_resolved_when_the_link_says_where():
    import base64

    from crawlers.newslinks import direct_link

    token = base64.urlsafe_b64encode(b"\x08\x13\x22\x2ahttps://vnexpress.net/a-123.html\xd2\x01\x00").decode()
    assert direct_link(f"https://news.google.com/rss/articles/{token.rstrip('=')}?oc=5") == \
        "https://vnexpress.net/a-123.html"
    assert direct_link("https://www.bing.com/news/apiclick.aspx?url=https%3a%2f%2fe.vnexpress.net%2fx.html") == \
        "https://e.vnexpress.net/x.html"
    opaque = "https://news.google.com/rss/articles/AU_yqLopaque?oc=5"
    assert direct_link(opaque) == opaque  # followed as is
    assert direct_link("https://x.vn/a?url=https://y.vn/") == "https://x.vn/a?url=https://y.vn/"


def test_hostile_sitemaps_give_a_reason_and_never_raise():
    import gzip as _gzip

    from crawlers.sitemaps import MAX_SITEMAP_BYTES, read_sitemap

    urlset = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'
    bomb = _gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 10), compresslevel=9)
    assert len(bomb) < MAX_SITEMAP_BYTES // 100
    reading = read_sitemap(bomb)
    assert reading.error == "malformed_sitemap" and "MiB" in reading.detail
    whole = _gzip.compress(urlset.replace(b"{}", b"<url><loc>https://a.vn/1</loc></url>"))
    assert read_sitemap(whole[: len(whole) // 2]).error == "malformed_sitemap"  # truncated
    assert read_sitemap(b"\x1f\x8b" + b"\x00" * 40).error == "malformed_sitemap"  # corrupt
    odd = urlset.replace(b"{}", (
        b"<url><loc>https://a.vn/1</loc><lastmod>0001-01-01T00:00:00+05:00</lastmod></url>"
        b"<url><loc>https://a.vn/2</loc><lastmod>Fri, 18 Jan 2013 02:52:48 +0700</lastmod></url>"
        b"<url><loc>https://a.vn/3-\n  broken</loc></url>"))
    pages = dict(read_sitemap(odd).pages)
    assert pages["https://a.vn/1"].published is None
    assert pages["https://a.vn/2"].published.isoformat() == "2013-01-17T19:52:48+00:00"
    assert "https://a.vn/3-broken" in pages


def test_a_bad_byte_in_the_xml_declaration_does_not_lose_the_feed():
    # feedparser raised on it; the bytes are decoded before feedparser now
    body = (b'<?xml version="1.0" encoding="utf-8\xff"?><rss version="2.0"><channel><item><title>x</title>'
            b"<link>https://a.vn/1</link></item></channel></rss>")
    reading = read_feed(body, url="https://a.vn/feed", content_type="text/xml")
    assert reading.error is None and [e.link for e in reading.entries] == ["https://a.vn/1"]


@pytest.mark.parametrize("body", [
    b'<rss version="2.0"><channel><image><height>1</height></height></image>'
    b"<item><link>https://a.vn/1</link></item></channel></rss>",
])
def test_input_that_makes_feedparser_raise_is_a_malformed_feed(body):
    reading = read_feed(body, url="https://a.vn/feed", content_type="text/xml")
    assert reading.error == "malformed_feed" and "feed parser failed" in reading.detail
