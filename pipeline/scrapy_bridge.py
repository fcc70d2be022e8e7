"""The Scrapy item pipeline that hands each fetched page to ``pipeline.process``."""

from __future__ import annotations

import errno
import logging
import sqlite3

from crawlers.items import FetchedPage
from pipeline.outcome import Dropped
from pipeline.process import Indexed

logger = logging.getLogger(__name__)

# Drop reasons that are our own failure, not the page's (a bug in a stage, the engine or the disk
# refusing the write): the page is retried later and never counts as an attempt at it
OWN_FAILURES = frozenset({"internal_error", "index_error", "disk_full"})


def disk_full(exc: BaseException) -> bool:
    """Whether the exception says the disk (or the quota) is full, from the OS or from SQLite."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


class ProcessPages:
    """Processes every ``FetchedPage`` with the spider's pipeline, records the outcome in the
    seen-URL store and counts it under ``source/<id>/...`` in the crawl stats."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, FetchedPage):
            return item
        spider = self.crawler.spider
        stats = self.crawler.stats
        prefix = f"source/{item.source_id}"
        try:
            analysis = spider.processor.analyze(spider.processor.draft_from_page(item))
            if analysis.dropped is None:  # an article is indexed only once its WARC record is durable
                spider.archive.sync()
            outcome = spider.processor.index(analysis)
        except Exception as exc:  # a bug in a stage must not stop the crawl; it is logged and counted
            if disk_full(exc):
                logger.error("disk full while processing %s: %s", item.url, exc,
                             extra={"source": item.source_id, "url": item.url})
                outcome = Dropped("pipeline", "disk_full", f"{type(exc).__name__}: {exc}")
            else:
                logger.exception("processing %s failed", item.url, extra={"source": item.source_id, "url": item.url})
                outcome = Dropped("pipeline", "internal_error", f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, Indexed):
            logger.info("indexed %s", item.url, extra={"source": item.source_id, "article_id": outcome.article.id,
                                                       "url": item.url})
            stats.inc_value(f"{prefix}/relevant")
            if outcome.new:
                stats.inc_value(f"{prefix}/new")
            if outcome.duplicate:
                stats.inc_value(f"{prefix}/duplicates")
            spider.state.mark(item.link_url, item.source_id, "duplicate" if outcome.duplicate else "indexed",
                              article_id=outcome.article.id)
            if outcome.new:
                spider.state.source_succeeded(item.source_id, new_articles=1)
        else:
            logger.info("dropped %s: %s", item.url, outcome, extra={"source": item.source_id, "url": item.url})
            if outcome.is_failure:
                stats.inc_value(f"{prefix}/failed/{outcome.reason}")
                spider.state.record_failure(spider.run_id, item.source_id, item.url, str(outcome))
            else:
                stats.inc_value(f"{prefix}/dropped/{outcome.reason}")
            if outcome.reason in OWN_FAILURES:
                spider.retry_later(item.source_id, item.link_url, spider.link_feeds.get(item.link_url), str(outcome))
            else:
                spider.state.mark(item.link_url, item.source_id, "dropped", str(outcome))
        return outcome
