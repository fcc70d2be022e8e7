"""The Scrapy item pipeline that hands each fetched page to ``pipeline.process``.

Two modes, chosen by the spider's ``pool`` (the ``workers`` setting):

- **In process** (``pool`` None, ``workers = 1``): each page runs through every stage and is
  indexed right here, on the reactor thread.
- **Worker pool** (a ``pipeline.pool.PagePool``): the content stages (decode, extract, language,
  relevance, topics and tone, sensitive themes, facts) run in the pool's processes while the
  crawl keeps downloading. ``process_item`` returns a coroutine that waits for the page's
  outcome; at most ``IN_FLIGHT_PER_WORKER`` pages per worker are in the pool, the others wait
  their turn (and Scrapy stops fetching once the responses waiting on their items pass
  ``SCRAPER_SLOT_MAX_ACTIVE_SIZE``). The one writer is this object, on the reactor thread: it
  takes the analyses back **in the order the pages arrived**, whatever order the workers finish
  in, and does what must stay exact exactly as the in-process mode does: duplicate and story
  assignment, the risk that depends on the story, the WARC sync before indexing (one fsync for
  the group that is ready), the index write and its hooks (rebuttal queue, alert-evaluation
  mark), the seen-URL store and the per-source counters.

A worker that dies with pages in flight is ``pipeline/worker_lost`` for each of them: a failure
of our own, retried on a later run after a backoff (crawlers/state.py), never a lost run.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from concurrent.futures import Future

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer

from crawlers.items import FetchedPage
from pipeline.outcome import Dropped
from pipeline.pool import WorkerLost
from pipeline.process import Indexed

logger = logging.getLogger(__name__)

# Drop reasons that are our own failure, not the page's (a bug in a stage, the engine or the disk
# refusing the write, a worker process that died): the page is retried later and never counts as
# an attempt at it
OWN_FAILURES = frozenset({"internal_error", "index_error", "disk_full", "worker_lost"})
# pages given to the pool and not yet written, per worker: enough that a slow page at the head of
# the writer's order does not leave the workers idle behind it
IN_FLIGHT_PER_WORKER = 8


def disk_full(exc: BaseException) -> bool:
    """Whether the exception says the disk (or the quota) is full, from the OS or from SQLite."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


async def _outcome_of(written: defer.Deferred):
    """What Scrapy awaits for a page in the pool: its outcome, once the writer has stored it."""
    return await maybe_deferred_to_future(written)


class ProcessPages:
    """Processes every ``FetchedPage`` with the spider's pipeline, records the outcome in the
    seen-URL store and counts it under ``source/<id>/...`` in the crawl stats."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self._semaphore: defer.DeferredSemaphore | None = None
        self._next_seq = 0  # the arrival number of the next page
        self._next_write = 0  # the arrival number the writer waits for
        self._ready: dict[int, tuple[FetchedPage, Future]] = {}
        self._waiting: dict[int, defer.Deferred] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, FetchedPage):
            return item
        spider = self.crawler.spider
        pool = getattr(spider, "pool", None)
        if pool is None:
            return self._write(item, lambda: spider.processor.analyze(spider.processor.draft_from_page(item)))
        if self._semaphore is None:
            self._semaphore = defer.DeferredSemaphore(pool.workers * IN_FLIGHT_PER_WORKER)
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        written = defer.Deferred()
        self._waiting[seq] = written
        # FIFO: pages enter the pool in arrival order once a place is free
        self._semaphore.acquire().addCallback(lambda _: self._submit(pool, seq, item))
        return _outcome_of(written)

    # -- the pool ----------------------------------------------------------------------------

    def _submit(self, pool, seq: int, item: FetchedPage) -> None:
        from twisted.internet import reactor  # the one Scrapy installed (importing it earlier would install one)

        try:
            future = pool.submit(item)
        except Exception as exc:  # the pool could not take the page (cannot start a worker...)
            future = Future()
            future.set_exception(exc)
        # the callback runs in the pool's thread (or here, when already done): back to the reactor
        future.add_done_callback(lambda f: reactor.callFromThread(self._arrived, seq, item, f))

    def _arrived(self, seq: int, item: FetchedPage, future: Future) -> None:
        self._ready[seq] = (item, future)
        processor = self.crawler.spider.processor
        while self._next_write in self._ready:  # the writer goes in arrival order
            seq = self._next_write
            item, future = self._ready.pop(seq)
            self._next_write += 1
            written = self._waiting.pop(seq)
            try:
                outcome = self._write(item, lambda f=future: processor.analyze_context(f.result()))
            except Exception:  # the outcome could not be recorded: Scrapy logs it, the next pages go on
                self._semaphore.release()
                written.errback()
                continue
            self._semaphore.release()
            written.callback(outcome)

    # -- the writer --------------------------------------------------------------------------

    def _write(self, item: FetchedPage, analyze):
        """Analyse (``analyze()``), index and record one page; returns its outcome."""
        spider = self.crawler.spider
        try:
            analysis = analyze()
            if analysis.dropped is None:  # an article is indexed only once its WARC record is durable
                spider.archive.sync()
            outcome = spider.processor.index(analysis)
        except WorkerLost as exc:
            logger.error("processing %s: %s", item.url, exc, extra={"source": item.source_id, "url": item.url})
            outcome = Dropped("pipeline", "worker_lost", str(exc))
        except Exception as exc:  # a bug in a stage must not stop the crawl; it is logged and counted
            if disk_full(exc):
                logger.error("disk full while processing %s: %s", item.url, exc,
                             extra={"source": item.source_id, "url": item.url})
                outcome = Dropped("pipeline", "disk_full", f"{type(exc).__name__}: {exc}")
            else:
                logger.exception("processing %s failed", item.url, extra={"source": item.source_id, "url": item.url})
                outcome = Dropped("pipeline", "internal_error", f"{type(exc).__name__}: {exc}")
        self._record(item, outcome)
        return outcome

    def _record(self, item: FetchedPage, outcome) -> None:
        spider = self.crawler.spider
        stats = self.crawler.stats
        prefix = f"source/{item.source_id}"
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
