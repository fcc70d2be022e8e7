"""Downloader middleware: retried requests wait longer each time (exponential backoff), and
no request reaches an internal address (``AddressGuardMiddleware``)."""

from __future__ import annotations

import asyncio
import logging
import time

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.reactor import is_asyncio_reactor_installed
from twisted.internet.threads import deferToThread

from guard.net import HostPolicy, Refused

logger = logging.getLogger(__name__)


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


class BlockedRequest(IgnoreRequest):
    """A request the address policy refused; ``guard_reason`` is the failure's reason key."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(str(refused))
        self.guard_reason = refused.reason
        self.detail = refused.detail


class AddressGuardMiddleware:
    """Refuses every request — start URLs, redirect hops (each comes back through here),
    sitemap-index children, robots.txt — whose host is not public, unless it is named in
    ``FETCH_ALLOW_HOSTS``; the failure reason is ``blocked_address`` (``guard.net``).

    The host is resolved here, and Scrapy resolves it again to connect: a DNS-rebinding answer
    could differ in between. So the address a response actually came from
    (``response.ip_address``) is checked too, and such a response is dropped before any other
    middleware or the spider sees it (the GET itself was sent; nothing of the answer is kept).
    Through a proxy (``meta["proxy"]``) the proxy resolves the host and that check is not
    possible (docs/security.md)."""

    CACHE_SECONDS = 60.0

    def __init__(self, policy: HostPolicy, stats=None) -> None:  # noqa: ANN001 (a StatsCollector)
        self.policy = policy
        self.stats = stats
        self._vetted: dict[tuple[str, int], float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(HostPolicy.from_allow_hosts(crawler.settings.getlist("FETCH_ALLOW_HOSTS")), crawler.stats)

    def _refuse(self, request, refused: Refused):  # noqa: ANN001, ANN202
        if self.stats is not None:
            self.stats.inc_value(f"guard/refused/{refused.reason}")
        logger.info("refused %s: %s", request.url, refused)
        raise BlockedRequest(refused)

    async def process_request(self, request):
        try:
            host, port = self.policy.check_url(request.url)
        except Refused as refused:
            self._refuse(request, refused)
        if self.policy.allows(host, port):
            return None
        key = (host, port)
        if time.monotonic() - self._vetted.get(key, float("-inf")) < self.CACHE_SECONDS:
            return None
        try:
            await maybe_deferred_to_future(deferToThread(self.policy.vet, host, port))
        except Refused as refused:
            self._refuse(request, refused)
        except OSError:  # the name does not resolve: Scrapy's own lookup reports it (dns_error)
            return None
        self._vetted[key] = time.monotonic()
        return None

    def process_response(self, request, response):
        address = getattr(response, "ip_address", None)
        if address is None or request.meta.get("proxy"):
            return response
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            self.policy.check_connected(host, port, address)
        except Refused as refused:
            self._vetted.pop((host, port), None)
            self._refuse(request, refused)
        return response
