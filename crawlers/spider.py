"""The one Scrapy spider: crawls every enabled source by its kind and yields fetched pages.

Feeds, news-search feeds, sitemaps, section listings and GDELT queries are read for links;
each link not seen before is fetched once, archived to WARC and handed to the item
pipeline as a ``FetchedPage``. Every failure is recorded with a reason and counted under
``source/<id>/failed/<reason>`` in the crawl stats, which feed the run summary.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

from crawlers.feeds import read_feed
from crawlers.gdelt import build_query_url, read_artlist
from crawlers.items import FetchedPage, LinkHints
from crawlers.links import looks_like_article
from crawlers.newslinks import (
    GOOGLE_NEWS_BATCH_PATH,
    GoogleNewsParams,
    direct_link,
    google_news_article_page,
    google_news_params,
    google_news_request_body,
    google_news_url,
    is_google_news_article,
)
from crawlers.sitemaps import read_sitemap
from crawlers.sources import Source
from crawlers.state import CrawlState
from crawlers.urls import canonical_url
from crawlers.warc import WarcArchive

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


def failure_reason(failure: Failure) -> tuple[str, str, bool]:
    """(reason key, detail, transient?) for a failed request."""
    exc = failure.value
    name = type(exc).__name__
    message = str(exc) or name
    response = getattr(exc, "response", None)
    if getattr(exc, "guard_reason", None):  # refused by crawlers.middleware.AddressGuardMiddleware
        return exc.guard_reason, getattr(exc, "detail", message), False
    if response is not None and name == "HttpError":
        status = response.status
        return f"http_{status}", f"HTTP {status}", status in TRANSIENT_STATUSES
    if name == "IgnoreRequest":
        if "robots.txt" in message:
            return "robots", "disallowed by robots.txt", False
        if "redirection" in message:
            return "redirect_loop", "too many redirects (loop?)", False
        if "DOWNLOAD_MAXSIZE" in message:  # a body inflated past the cap (HttpCompressionMiddleware)
            return "too_large", "page larger than the size cap once decompressed", False
        return "ignored", message, False
    if "Timeout" in name or "TimedOut" in name:
        return "timeout", "no answer before the download timeout", True
    if name in ("DownloadCancelledError", "CancelledError") or "max size" in message:
        return "too_large", "page larger than the size cap", False
    if "ConnectionRefused" in name:
        return "connection_refused", "connection refused", True
    if "DNS" in name or "CannotResolveHost" in name:
        return "dns_error", "host name not found", True
    if "DataLoss" in name or "ConnectionLost" in name or "ConnectionDone" in name:
        return "connection_lost", message, True
    return "download_error", f"{name}: {message}"[:300], True


class SourcesSpider(scrapy.Spider):
    """Crawls the given sources once. Built by ``hpmon`` with everything it needs."""

    name = "hpmon"

    def __init__(self, *, sources: list[Source], state: CrawlState, archive: WarcArchive,
                 search_names: dict[str | None, list[str]], run_id: int | None = None,
                 processor: Any = None, max_age_days: int = 7, pool: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = [s for s in sources if s.enabled]
        self.by_id = {s.id: s for s in self.sources}
        self.state = state
        self.archive = archive
        self.search_names = search_names
        self.run_id = run_id
        self.processor = processor  # used by the item pipeline (pipeline.scrapy_bridge)
        self.pool = pool  # worker processes of the item pipeline's content stages; None: in process
        self.max_age_days = max_age_days
        self.queued: dict[str, int] = {}
        self.requested: set[str] = set()  # article links requested in this run
        # feed validators (ETag, Last-Modified) are kept only when the run finished and every
        # article the feed listed was handled: otherwise the next run must read the feed again
        self.pending_validators: dict[str, tuple[str | None, str | None]] = {}
        self.feeds_with_retries: set[str] = set()
        self.link_feeds: dict[str, str] = {}  # article link → the feed that listed it (this run)
        self.failed_sources: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------

    def _inc(self, source: Source, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"source/{source.id}/{key}", n)

    def _fail(self, source: Source, url: str, reason: str, detail: str, *, listing: bool) -> None:
        self._inc(source, f"failed/{reason}")
        self.state.record_failure(self.run_id, source.id, url, f"{reason}: {detail}")
        if listing:
            self.failed_sources.add(source.id)
            self.state.source_failed(source.id, f"{reason}: {detail}", url, self.run_id)
        self.logger.info("source %s: %s failed: %s (%s)", source.id, url, reason, detail,
                         extra={"source": source.id, "url": url})

    def _listing_request(self, source: Source, url: str, callback, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self._listing_failed, dont_filter=True,
                              meta={"source_id": source.id, **meta}, priority=10)

    # -- start -----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.start_requests_for_sources():
            yield request

    def start_requests_for_sources(self) -> Iterable[scrapy.Request]:
        for source in self.sources:
            self.crawler.stats.set_value(f"source/{source.id}/fetched", 0)
            try:
                yield from self._source_requests(source)
            except ValueError as exc:  # a URL Scrapy cannot request: this source fails, the others go on
                self._fail(source, ",".join(source.urls) or str(source.url_template), "bad_url", str(exc),
                           listing=True)

    def _query_terms(self, source: Source) -> list[str]:
        """The terms a search source asks for: its own (a watch search), else the city's names
        in its language."""
        return (self.search_names.get(source.id) or self.search_names.get(source.language)
                or self.search_names.get(None, []))

    def _source_requests(self, source: Source) -> Iterable[scrapy.Request]:
        if source.kind == "rss":
            for url in source.urls:
                yield self._feed_request(source, url)
        elif source.kind == "news_search":
            names = self._query_terms(source)
            query = " OR ".join(f'"{n}"' if " " in n else n for n in names)
            yield self._feed_request(source, source.url_template.replace("{query}", quote_plus(query)))
        elif source.kind == "sitemap":
            for url in source.urls:
                yield self._listing_request(source, url, self.parse_sitemap, depth=0)
        elif source.kind == "listing":
            for url in source.urls:
                yield self._listing_request(source, url, self.parse_listing)
        elif source.kind == "gdelt":
            names = self._query_terms(source)
            for url in source.urls:
                yield self._listing_request(source, build_query_url(url, names, source.language),
                                            self.parse_gdelt)
        elif source.kind == "pages":
            for url in source.urls:
                request = self._article_request(source, url, LinkHints())
                if request:
                    yield request

    def _feed_request(self, source: Source, url: str) -> scrapy.Request:
        etag, last_modified = self.state.validators(url)
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = self._listing_request(source, url, self.parse_feed, handle_httpstatus_list=[304])
        request.headers.update(headers)
        return request

    # -- listings --------------------------------------------------------------------------

    def _source(self, response: Response) -> Source:
        return self.by_id[response.meta["source_id"]]

    def _listing_ok(self, source: Source) -> None:
        if source.id not in self.failed_sources:
            self.state.source_succeeded(source.id)

    def parse_feed(self, response: Response):
        source = self._source(response)
        if response.status == 304:
            self._inc(source, "not_modified")
            self._listing_ok(source)
            return
        reading = read_feed(response.body, url=response.url,
                            content_type=response.headers.get("Content-Type", b"").decode("latin-1"),
                            timezone=source.tzinfo)
        if reading.error:
            self._fail(source, response.url, reading.error, reading.detail, listing=True)
            return
        self._log_notes(source, response.url, reading.notes)
        if reading.warning:
            self._inc(source, "warnings/bozo_feed")
            self.state.record_failure(self.run_id, source.id, response.url, f"bozo_feed: {reading.warning}")
        feed_url = response.request.url if response.request else response.url
        self.pending_validators[feed_url] = (
            (response.headers.get("ETag") or b"").decode("latin-1") or None,
            (response.headers.get("Last-Modified") or b"").decode("latin-1") or None,
        )
        self._listing_ok(source)
        for entry in reading.entries:
            request = self._article_request(source, entry.link, entry.hints, feed=feed_url)
            if request:
                yield request

    def parse_sitemap(self, response: Response):
        source = self._source(response)
        reading = read_sitemap(response.body, timezone=source.tzinfo)
        self._log_notes(source, response.url, reading.notes)
        if reading.error:
            self._fail(source, response.url, reading.error, reading.detail, listing=True)
            return
        self._listing_ok(source)
        if response.meta.get("depth", 0) < 2:
            for child in reading.children[:50]:
                yield self._listing_request(source, child, self.parse_sitemap, depth=response.meta.get("depth", 0) + 1)
        horizon = datetime.now(UTC).timestamp() - self.max_age_days * 86400
        for url, hints in reading.pages:
            if hints.published and hints.published.timestamp() < horizon:
                self._inc(source, "skipped_old")
                continue
            request = self._article_request(source, url, hints)
            if request:
                yield request

    def parse_listing(self, response: Response):
        source = self._source(response)
        if not hasattr(response, "text"):
            self._fail(source, response.url, "not_html", "the listing page is not HTML", listing=True)
            return
        self._listing_ok(source)
        for link in LinkExtractor(unique=True).extract_links(response):
            if looks_like_article(link.url, response.url, source.article_pattern):
                request = self._article_request(source, link.url, LinkHints(title=link.text.strip() or None))
                if request:
                    yield request

    def parse_gdelt(self, response: Response):
        source = self._source(response)
        reading = read_artlist(response.body)
        self._log_notes(source, response.url, reading.notes)
        if reading.error:
            self._fail(source, response.url, reading.error, reading.detail, listing=True)
            return
        self._listing_ok(source)
        for url, hints in reading.articles:
            request = self._article_request(source, url, hints)
            if request:
                yield request

    def _log_notes(self, source: Source, url: str, notes: list[str]) -> None:
        """What a reader repaired or skipped is no failure, but the operator sees it in the log."""
        for note in notes:
            self.logger.info("source %s: %s: %s", source.id, url, note)

    def _listing_failed(self, failure: Failure) -> None:
        request = failure.request
        source = self.by_id[request.meta["source_id"]]
        reason, detail, _ = failure_reason(failure)
        self._fail(source, request.url, reason, detail, listing=True)

    # -- articles --------------------------------------------------------------------------

    def _article_request(self, source: Source, url: str, hints: LinkHints, *,
                         feed: str | None = None) -> scrapy.Request | None:
        if not url.startswith(("http://", "https://")):
            return None
        link = canonical_url(direct_link(url))
        self._inc(source, "links")
        link = self.state.resolved_target(link) or link  # a news-search id resolved on an earlier run
        if self._seen(source, link, feed=feed):
            return None
        if self.queued.get(source.id, 0) >= source.max_articles:
            self._inc(source, "skipped_cap")
            return None
        self.queued[source.id] = self.queued.get(source.id, 0) + 1
        self.requested.add(link)
        # dont_filter: duplicates are handled above; Scrapy's filter would also swallow a
        # redirect loop silently instead of reporting it
        meta = {"source_id": source.id, "link": link, "hints": hints, **({"feed": feed} if feed else {})}
        return scrapy.Request(link, callback=self.parse_article, errback=self._article_failed, dont_filter=True,
                              meta=meta)

    def _seen(self, source: Source, link: str, *, feed: str | None = None) -> bool:
        """True (and counted) when ``link`` was requested in this run, handled for good before, or
        waits out its backoff after a failure of our own (then its feed must be read again)."""
        if link in self.requested:
            self._inc(source, "skipped_seen")
            return True
        if not self.state.should_fetch(link):
            if self.state.waiting(link):
                self._inc(source, "skipped_backoff")
                if feed:
                    self.feeds_with_retries.add(feed)
            else:
                self._inc(source, "skipped_seen")
            return True
        return False

    def retry_later(self, source_id: str, link: str, feed: str | None, reason: str) -> None:
        """A page that failed for a reason of our own (engine, disk, a bug in a stage; the item
        pipeline calls this): it is fetched again on a later run, after a backoff, without using
        up an attempt, and the feed that listed it is read again in full (validators not kept)."""
        retry_at = self.state.defer(link, source_id, reason)
        if feed:
            self.feeds_with_retries.add(feed)
        self.logger.warning("source %s: %s will be retried after %s: %s", source_id, link,
                            retry_at.strftime("%Y-%m-%d %H:%M:%SZ"), reason,
                            extra={"source": source_id, "url": link})

    def parse_article(self, response: Response):
        source = self._source(response)
        if "resolved_from" not in response.meta:
            params = google_news_params(response.text) if hasattr(response, "text") else None
            if params is not None or is_google_news_article(response.url):
                yield from self._resolve_news_link(source, response, params)
                return
        self._inc(source, "fetched")
        if response.meta.get("feed"):
            self.link_feeds[response.meta["link"]] = response.meta["feed"]
        fetched_at = datetime.now(UTC)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        try:
            warc_file, offset = self.archive.write_response(
                response.url, response.status, _reason_phrase(response.status), headers, response.body, fetched_at,
                request_method=response.request.method if response.request else None,
                request_headers=response.request.headers if response.request else None,
            )
        except OSError as exc:  # a full disk is our own failure, not the page's: retried on a later run
            reason = "disk_full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "warc_error"
            detail = f"{'disk full' if reason == 'disk_full' else 'cannot write'} at {self.archive.path}: {exc}"
            self._fail(source, response.url, reason, detail, listing=False)
            self.retry_later(source.id, response.meta["link"], response.meta.get("feed"), f"{reason}: {detail}")
            return
        yield FetchedPage(
            source_id=source.id,
            url=response.url,
            link_url=response.meta["link"],
            status=response.status,
            headers={k.lower(): v for k, v in reversed(headers)},
            body=response.body,
            fetched_at=fetched_at,
            warc_file=warc_file,
            warc_offset=offset,
            hints=response.meta.get("hints") or LinkHints(),
        )

    # -- news-search links that only a second request resolves (crawlers/newslinks.py) ----------

    @staticmethod
    def _link_meta(response: Response) -> dict[str, Any]:
        """What a follow-up request of the same link carries over (not Scrapy's own keys)."""
        return {key: response.meta[key] for key in ("source_id", "link", "hints", "feed") if key in response.meta}

    def _resolve_news_link(self, source: Source, response: Response, params: GoogleNewsParams | None):
        meta = self._link_meta(response)
        if params is None:
            page = google_news_article_page(response.url)
            if page and not response.meta.get("news_page_tried"):  # the web page of the same article
                yield scrapy.Request(page, callback=self.parse_article, errback=self._article_failed,
                                     dont_filter=True, meta={**meta, "news_page_tried": True})
                return
            self._news_link_unresolved(source, meta, "the Google News page carries no article id and signature")
            return
        yield scrapy.FormRequest(response.urljoin(GOOGLE_NEWS_BATCH_PATH),
                                 formdata={"f.req": google_news_request_body(params)},
                                 callback=self.parse_news_link, errback=self._article_failed, dont_filter=True,
                                 meta=meta)

    def parse_news_link(self, response: Response):
        source = self._source(response)
        meta = self._link_meta(response)
        target = google_news_url(response.text) if hasattr(response, "text") else None
        if not target:
            self._news_link_unresolved(source, meta, "Google News did not give the article's URL")
            return
        link, target = meta["link"], canonical_url(target)
        self.state.mark(link, source.id, "resolved", target)
        self._inc(source, "resolved_links")
        if self._seen(source, target, feed=meta.get("feed")):
            return
        self.requested.add(target)
        yield scrapy.Request(target, callback=self.parse_article, errback=self._article_failed, dont_filter=True,
                             meta={**meta, "link": target, "resolved_from": link})

    def _news_link_unresolved(self, source: Source, meta: dict[str, Any], detail: str) -> None:
        """A news-search link whose article could not be found: logged with its reason, tried
        again on the next runs (up to the retry limit): Google's answer may be temporary."""
        self._fail(source, meta["link"], "news_link_unresolved", detail, listing=False)
        self.state.mark(meta["link"], source.id, "failed", f"news_link_unresolved: {detail}", final=False)
        if meta.get("feed"):
            self.feeds_with_retries.add(meta["feed"])

    def _article_failed(self, failure: Failure) -> None:
        request = failure.request
        source = self.by_id[request.meta["source_id"]]
        reason, detail, transient = failure_reason(failure)
        self._fail(source, request.url, reason, detail, listing=False)
        self.state.mark(request.meta["link"], source.id, "failed", f"{reason}: {detail}", final=not transient)
        if transient and request.meta.get("feed"):
            self.feeds_with_retries.add(request.meta["feed"])

    def closed(self, reason: str) -> None:
        """Keep the feeds' validators only after a finished run (a killed or failed one reads them again)."""
        if reason != "finished":
            return
        for url, (etag, last_modified) in self.pending_validators.items():
            if url not in self.feeds_with_retries:
                self.state.save_validators(url, etag, last_modified)


_PHRASES = {200: "OK", 203: "Non-Authoritative Information", 206: "Partial Content"}


def _reason_phrase(status: int) -> str:
    return _PHRASES.get(status, "")


