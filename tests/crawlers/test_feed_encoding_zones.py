"""Feeds: the source's zone for zone-less dates; charsets decoded before feedparser, so a
text/xml answer without charset is no failure; GB2312 read right."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.feeds import decode_feed, has_zone, read_feed
from crawlers.sources import Source

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"

GB_FEED = ('<?xml version="1.0" encoding="gb2312"?>\n<rss version="2.0"><channel><title>新闻国内</title>'
           '<item><title>海防港集装箱吞吐量创新高</title><link>https://news.qq.com/a/1.htm</link>'
           '<pubDate>2018-09-18 14:38:10</pubDate></item>'
           '<item><title>镕基</title><link>https://news.qq.com/a/2.htm</link>'
           '<pubDate>Tue, 18 Sep 2018 14:38:10 +0800</pubDate></item></channel></rss>').encode("gb18030")

VI_FEED = ('<rss version="2.0"><channel><title>Thời sự</title><item><title>Cảng Hải Phòng đón tàu</title>'
           '<link>https://vnexpress.net/a-1.html</link><pubDate>Wed, 26 Jul 2017 19:41:14 +0700</pubDate>'
           '</item></channel></rss>').encode()


def test_zone_less_pubdate_takes_the_source_zone():
    source = Source(id="qq", name="Tencent", kind="rss", urls=("https://news.qq.com/rss",), country="CN")
    reading = read_feed(GB_FEED, url="https://news.qq.com/rss", content_type="text/xml", timezone=source.tzinfo)
    bare, zoned = (e.hints.published for e in reading.entries)
    assert bare == datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)  # 14:38 in Beijing, not 14:38 UTC
    assert zoned == datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)  # a stated zone is kept as stated
    # a zone name as string works too; without a zone (aggregators) the old UTC reading stays
    assert read_feed(GB_FEED, url="u", timezone="Asia/Ho_Chi_Minh").entries[0].hints.published.hour == 7
    assert read_feed(GB_FEED, url="u").entries[0].hints.published.hour == 14


def test_gb2312_feed_is_read_right_with_any_content_type():
    for content_type in (None, "text/xml", "application/rss+xml", "text/xml; charset=gb2312"):
        reading = read_feed(GB_FEED, url="https://news.qq.com/rss", content_type=content_type)
        assert reading.error is None and reading.warning is None, content_type
        assert reading.title == "新闻国内"
        assert [e.hints.title for e in reading.entries] == ["海防港集装箱吞吐量创新高", "镕基"]  # 镕 is GBK, not GB2312
        assert reading.encoding == "gb18030"


def test_text_xml_without_charset_is_not_a_failure():
    reading = read_feed(VI_FEED, url="https://vnexpress.net/rss", content_type="text/xml")
    assert reading.error is None and reading.warning is None
    assert reading.entries[0].hints.title == "Cảng Hải Phòng đón tàu"
    assert reading.entries[0].hints.published == datetime(2017, 7, 26, 12, 41, 14, tzinfo=UTC)


def test_mislabelled_charsets():
    latin = '<rss version="2.0"><channel><title>Notícias</title><item><title>Últimas</title>' \
            '<link>https://x.br/1</link></item></channel></rss>'
    # declared UTF-8, bytes are Latin-1
    body = b'<?xml version="1.0" encoding="utf-8"?>' + latin.encode("cp1252")
    reading = read_feed(body, url="u", content_type="text/xml; charset=utf-8")
    assert reading.entries[0].hints.title == "Últimas" and reading.warning is None
    assert any("not valid UTF-8" in n for n in reading.notes)
    # declared Latin-1 by the server, bytes are UTF-8
    reading = read_feed(latin.encode("utf-8"), url="u", content_type="application/rss+xml; charset=iso-8859-1")
    assert reading.entries[0].hints.title == "Últimas"


def test_decode_feed_rules():
    assert decode_feed("x".encode("utf-16"), None)[1] == "utf-16"
    text, codec, _ = decode_feed('<?xml version="1.0" encoding="windows-1251"?><a>Порт</a>'.encode("cp1251"))
    assert codec == "cp1251" and "Порт" in text
    text, codec, notes = decode_feed(b'<?xml version="1.0" encoding="bogus-9"?><a>x</a>')
    assert codec == "utf-8" and any("bogus-9" in n for n in notes)


def test_control_characters_are_removed_with_a_note():
    body = VI_FEED.replace("đón".encode(), "đ\x0bón".encode())
    reading = read_feed(body, url="u", content_type="text/xml")
    assert reading.warning is None and reading.entries[0].hints.title == "Cảng Hải Phòng đón tàu"
    assert any("control character" in n for n in reading.notes)


@pytest.mark.parametrize("raw,zoned", [
    ("Wed, 26 Jul 2017 19:41:14 +0700", True), ("2018-09-18T14:38:10Z", True), ("Mon, 01 Jan 2018 10:00:00 GMT", True),
    ("Mon, 01 Jan 2018 10:00:00 EST", True), ("2018-09-18T14:38:10+08:00", True), ("2018-09-18 14:38:10", False),
    ("Tue, 18 Sep 2018 14:38:10", False), ("2018-09-18", False),
])
def test_has_zone(raw, zoned):
    assert has_zone(raw) is zoned


@pytest.mark.skipif(not (SHARED / "formats" / "feeds").is_dir(), reason="../shared/benchmarks absent")
def test_shared_feeds_read_clean_as_text_xml():
    files = [p for folder in (SHARED / "formats" / "feeds", SHARED / "feeds") if folder.is_dir()
             for p in folder.iterdir() if p.is_file() and p.suffix != ".md"]
    assert files
    for path in files:
        reading = read_feed(path.read_bytes(), url=f"https://x/{path.name}", content_type="text/xml")
        assert reading.error is None and reading.entries, path.name
        assert "CharacterEncodingOverride" not in (reading.warning or ""), path.name
        assert not any("\ufffd" in (e.hints.title or "") for e in reading.entries), path.name
    qq = SHARED / "formats" / "feeds" / "rss-parser__qq-news-gb2312.xml"
    if qq.exists():
        reading = read_feed(qq.read_bytes(), url="https://news.qq.com/", timezone="Asia/Shanghai")
        first = reading.entries[0].hints.published
        assert first == datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)


def test_utf16_labels():
    doc = '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>Hải Phòng</title>' \
          "<link>https://x.vn/1</link></item></channel></rss>"
    for body in (doc.encode("utf-16"), doc.encode("utf-16-le"), doc.encode("utf-16-be")):
        reading = read_feed(body, url="u", content_type="text/xml")
        assert reading.entries[0].hints.title == "Hải Phòng" and reading.error is None
    # a false UTF-16 label on UTF-8 bytes
    reading = read_feed(doc.encode(), url="u", content_type="text/xml")
    assert reading.entries[0].hints.title == "Hải Phòng"


def test_foreign_dates_reuse_the_locale_found_first():
    items = "".join(f"<item><title>t{i}</title><link>https://x.br/{i}</link>"
                    f"<pubDate>Seg, 24 Set 2018 19:42:{i:02d} -0300</pubDate></item>" for i in range(5))
    body = f'<rss version="2.0"><channel><title>UOL</title>{items}</channel></rss>'.encode()
    dates = [e.hints.published for e in read_feed(body, url="u").entries]
    assert dates == [datetime(2018, 9, 24, 22, 42, i, tzinfo=UTC) for i in range(5)]
    # a zone-less foreign date takes the source's zone
    bare = body.replace(b" -0300", b"")
    first = read_feed(bare, url="u", timezone="America/Sao_Paulo").entries[0].hints.published
    assert first == datetime(2018, 9, 24, 22, 42, 0, tzinfo=UTC)


def test_a_feed_of_unreadable_dates_gives_up_on_them_after_a_few(monkeypatch):
    import dateparser.date

    calls = []
    real = dateparser.date.DateDataParser

    def counting(*args, **kwargs):
        calls.append(kwargs.get("languages"))
        return real(*args, **kwargs)

    monkeypatch.setattr(dateparser.date, "DateDataParser", counting)
    items = "".join(f"<item><title>t{i}</title><link>https://x.test/{i}</link>"
                    f"<pubDate>qwx {i} zzv</pubDate></item>" for i in range(20))
    body = f'<rss version="2.0"><channel><title>junk</title>{items}</channel></rss>'.encode()
    reading = read_feed(body, url="u")
    assert len(reading.entries) == 20 and all(e.hints.published is None for e in reading.entries)
    assert len(calls) == 3  # every locale tried for three dates, then the feed's dates are taken as unreadable
    # a readable date among the first ones keeps the reader going
    calls.clear()
    mixed = body.replace(b"qwx 1 zzv", b"Seg, 24 Set 2018 19:42:01 -0300")
    dates = [e.hints.published for e in read_feed(mixed, url="u").entries]
    assert dates[1] == datetime(2018, 9, 24, 22, 42, 1, tzinfo=UTC)
