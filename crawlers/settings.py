"""Scrapy settings for hpmon's crawls, built from plain values (no global settings module)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def scrapy_settings(*, user_agent: str, download_timeout: float, max_page_bytes: int, concurrent_requests: int,
                    concurrent_per_domain: int, download_delay: float, autothrottle: bool, obey_robots: bool,
                    retry_times: int, retry_backoff: float, item_pipelines: dict[str, int],
                    log_level: str = "WARNING", slow_domains: dict[str, float] | None = None,
                    allow_hosts: Iterable[str] = ()) -> dict[str, Any]:
    """The settings dict for a crawl: polite (robots.txt, AutoThrottle, per-domain limits, an
    honest User-Agent), bounded (timeouts, a page size cap that holds for the decompressed
    body too), guarded (no internal address but ``allow_hosts``, on every redirect hop) and
    retrying with backoff."""
    return {
        "BOT_NAME": "hpmon",
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": obey_robots,
        "ROBOTSTXT_USER_AGENT": user_agent.split("/", 1)[0],
        "AUTOTHROTTLE_ENABLED": autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(download_delay, 0.5),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrent_per_domain),
        "CONCURRENT_REQUESTS": concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrent_per_domain,
        "DOWNLOAD_DELAY": download_delay,
        "RANDOMIZE_DOWNLOAD_DELAY": True,
        "DOWNLOAD_TIMEOUT": download_timeout,
        # Scrapy (2.11.1+) applies both to the body as received and, in HttpCompressionMiddleware,
        # to the body it inflates (Content-Encoding gzip, deflate, br, zstd): a gzip bomb stops at
        # max_page_bytes. A sitemap served as .xml.gz is inflated by crawlers.sitemaps (50 MiB).
        "DOWNLOAD_MAXSIZE": max_page_bytes,
        "DOWNLOAD_WARNSIZE": max_page_bytes // 2,
        "COMPRESSION_ENABLED": True,
        "DOWNLOAD_SLOTS": {d: {"concurrency": 1, "delay": delay} for d, delay in (slow_domains or {}).items()},
        "RETRY_ENABLED": retry_times > 0,
        "RETRY_TIMES": retry_times,
        "RETRY_BACKOFF_BASE": retry_backoff,
        "RETRY_HTTP_CODES": [408, 429, 500, 502, 503, 504, 522, 524],
        "REDIRECT_MAX_TIMES": 10,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 opens a remote-control server on 127.0.0.1 that runs Python sent with a token
        # kept in the user's state folder: no code runs in a crawl that the crawl did not bring
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": log_level,
        # the guard sits next to the downloader: its process_request sees each request last (the
        # proxy already chosen) and its process_response sees each answer first (before redirects)
        "DOWNLOADER_MIDDLEWARES": {"crawlers.middleware.BackoffMiddleware": 560,
                                   "crawlers.middleware.AddressGuardMiddleware": 950},
        "FETCH_ALLOW_HOSTS": list(allow_hosts),
        "ITEM_PIPELINES": item_pipelines,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "vi,en;q=0.8,*;q=0.5",
        },
    }
