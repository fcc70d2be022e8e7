"""Downloader middleware: retried requests wait longer each time (exponential backoff)."""

from __future__ import annotations

import asyncio

from scrapy.utils.reactor import is_asyncio_reactor_installed


class BackoffMiddleware:
    """Delays a retried request by ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds (capped by
    ``RETRY_BACKOFF_MAX``), n being how many times it was retried already."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0),
                   crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0))

    async def process_request(self, request):
        retries = request.meta.get("retry_times", 0)
        if retries and self.base > 0:
            delay = min(self.cap, self.base * 2 ** (retries - 1))
            if is_asyncio_reactor_installed():
                await asyncio.sleep(delay)
            else:  # pragma: no cover - only with a non-asyncio Twisted reactor
                from twisted.internet import reactor
                from twisted.internet.task import deferLater

                await deferLater(reactor, delay, lambda: None)
        return None
