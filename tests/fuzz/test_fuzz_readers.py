"""A seeded fuzz run over every reader of crawled bytes: thousands of hostile feeds, sitemaps,
OPML files, HTML pages and WARC files (tests/fuzz/hostile.py). Each reader answers with a value
or a reason (an error key and its detail, a ``Dropped``, a skipped record with why), and never
raises: an exception here would stop a source, a crawl or an ingest. A failure lists every
crashing case seed with the exception, where it was raised and the input's start.

The number of inputs per reader is ``HPMON_FUZZ_CASES`` (600 by default; 20000 for a long run),
the base seed ``HPMON_FUZZ_SEED`` (14)."""

from __future__ import annotations

import itertools
import zlib
from datetime import datetime
from pathlib import Path

from warcio.recordloader import ArchiveLoadFailed

from crawlers.feeds import FeedEntry, FeedReading, read_feed
from crawlers.items import FetchedPage
from crawlers.sitemaps import SitemapReading, read_sitemap
from crawlers.sources import Source, SourceError, import_opml
from hpmon.cli import _pages_from_warc
from pipeline.evidence import WarcCopy, read_warc_record
from pipeline.extract import Decoded, Extracted, decode_html, extract_article
from pipeline.outcome import Dropped
from tests.fuzz import hostile
from tests.fuzz.conftest import CASES, fuzz

ZONES = [None, "Asia/Ho_Chi_Minh", "UTC", "Pacific/Kiritimati", "America/Adak", "Not/AZone"]


def _aware(when: datetime | None) -> bool:
    return when is None or (isinstance(when, datetime) and when.utcoffset() is not None)


def _dropped(value: Dropped) -> None:
    assert isinstance(value.reason, str) and value.reason, value


def test_the_feed_reader_answers_every_hostile_feed_with_entries_or_a_reason():
    zones = itertools.cycle(ZONES)
    content_types = itertools.cycle([None, "application/rss+xml", "text/xml", "text/html; charset=bogus",
                                     "application/atom+xml; charset=utf-16"])

    def check(body):
        reading = read_feed(body, url="https://news.example/feed", content_type=next(content_types),
                            timezone=next(zones))
        assert isinstance(reading, FeedReading)
        if reading.error:
            assert reading.error in ("empty_feed", "not_a_feed", "malformed_feed") and reading.detail, reading
        for entry in reading.entries:
            assert isinstance(entry, FeedEntry) and isinstance(entry.link, str) and entry.link
            assert _aware(entry.hints.published), entry.hints.published

    run = fuzz("feed", hostile.feed, check)
    run.assert_no_crash()


def test_the_sitemap_reader_answers_every_hostile_sitemap_with_pages_or_a_reason():
    zones = itertools.cycle(ZONES)

    def check(body):
        reading = read_sitemap(body, timezone=next(zones))
        assert isinstance(reading, SitemapReading)
        if reading.error:
            assert reading.error in ("empty_sitemap", "not_a_sitemap", "malformed_sitemap") and reading.detail
        for url, hints in reading.pages:
            assert isinstance(url, str) and url and _aware(hints.published)
        assert all(isinstance(child, str) and child for child in reading.children)

    run = fuzz("sitemap", hostile.sitemap, check)
    run.assert_no_crash()


def test_the_opml_reader_imports_sources_or_says_why_not(tmp_path):
    path = tmp_path / "feeds.opml"
    existing = [Source(id="vnx", name="VnExpress", kind="rss", urls=("http://news.example/a/1",))]

    def check(data):
        path.write_bytes(data)
        try:
            new, notes = import_opml(path, existing)
        except SourceError as exc:  # the whole file refused: the command prints this and exits 1
            assert str(path) in str(exc) and "OPML" in str(exc)
            return
        assert all(isinstance(s, Source) and s.urls for s in new)
        assert all(isinstance(n, str) and n for n in notes)
        assert len({s.id for s in new}) == len(new)

    run = fuzz("opml", hostile.opml, check)
    run.assert_no_crash()


def test_html_decoding_and_extraction_answer_every_hostile_page_with_an_article_or_a_reason():
    zones = itertools.cycle(["UTC", "Asia/Ho_Chi_Minh", "Asia/Tokyo"])
    floors = itertools.cycle([1, 80, 400])

    def check(case):
        body, content_type = case
        decoded = decode_html(body, content_type)
        if isinstance(decoded, Dropped):
            _dropped(decoded)
            return
        assert isinstance(decoded, Decoded) and isinstance(decoded.html, str)
        extracted = extract_article(decoded.html, "https://news.example/a/1", timezone=next(zones),
                                    min_chars=next(floors))
        if isinstance(extracted, Dropped):
            _dropped(extracted)
            return
        assert isinstance(extracted, Extracted) and isinstance(extracted.text, str) and extracted.text

    # extraction is the slowest reader by far (trafilatura): a third of the cases
    run = fuzz("page", hostile.page, check, cases=max(1, CASES // 3))
    run.assert_no_crash()


# what the ingest reader may raise for a file it cannot read on (cut, corrupt, a Content-Length
# that lies): hpmon ingest reports it as the file's reason, after the records read before it
UNREADABLE = (ArchiveLoadFailed, zlib.error, EOFError, OSError)


def test_the_ingest_warc_reader_skips_bad_records_with_a_reason_and_reads_on(tmp_path):
    path = tmp_path / "fuzz.warc.gz"

    def check(case: hostile.WarcInput):
        path.write_bytes(case.data)
        answers = []
        try:
            for answer in _pages_from_warc(path, 2 * 1024 * 1024):
                answers.append(answer)
        except UNREADABLE:
            pass
        for answer in answers:
            if isinstance(answer, tuple):
                where, reason = answer
                assert str(path) in where and reason.split(":", 1)[0] in ("bad_record", "too_large"), answer
            else:
                assert isinstance(answer, FetchedPage) and answer.url and _aware(answer.fetched_at)

    run = fuzz("warc (ingest)", hostile.warc, check)
    run.assert_no_crash()


def test_the_evidence_warc_reader_answers_every_offset_with_a_copy_or_a_reason(tmp_path):
    path = tmp_path / "fuzz.warc.gz"

    def check(case: hostile.WarcInput):
        path.write_bytes(case.data)
        for offset in [*case.offsets, len(case.data), len(case.data) + 10, 1]:
            copy = read_warc_record(Path(tmp_path), path.name, offset, max_bytes=2 * 1024 * 1024)
            if isinstance(copy, Dropped):
                _dropped(copy)
            else:
                assert isinstance(copy, WarcCopy) and isinstance(copy.body, bytes)

    run = fuzz("warc (evidence)", hostile.warc, check)
    run.assert_no_crash()
