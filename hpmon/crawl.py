"""Running a crawl: one Scrapy process over the chosen sources, then the run summary."""

from __future__ import annotations

import ipaddress
import logging
import queue
import socket
import sys
import threading
import time
from contextlib import nullcontext
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from scrapy import signals
from scrapy.crawler import CrawlerProcess

from crawlers.settings import scrapy_settings
from crawlers.sources import Source
from crawlers.spider import SourcesSpider
from crawlers.state import CrawlState
from crawlers.warc import WarcArchive
from hpmon.app import build_pipeline, load_city, open_backend, page_pool, search_names
from hpmon.exitcodes import EXIT_FAILED, EXIT_NO_NETWORK, EXIT_OK  # noqa: F401 (re-exported)
from hpmon.settings import Settings
from hpmon.summary import SourceSummary, summarize

logger = logging.getLogger(__name__)

NETWORK_PROBE_HOSTS = 5
NETWORK_PROBE_TIMEOUT = 5.0


def source_hosts(sources: list[Source]) -> list[str]:
    """The distinct host names of the sources' URLs (and news-search templates), in order."""
    hosts: dict[str, None] = {}
    for source in sources:
        for url in (*source.urls, source.url_template or ""):
            host = urlsplit(url.replace("{query}", "q")).hostname if url else None
            if host:
                hosts[host.lower()] = None
    return list(hosts)


def network_problem(sources: list[Source], *, timeout: float = NETWORK_PROBE_TIMEOUT,
                    sample: int = NETWORK_PROBE_HOSTS) -> str | None:
    """None when the network looks usable (one of a few source hosts resolves, or a host is an
    address or this machine), else a one-line reason starting "no network: ". A crawl without
    DNS would otherwise spend minutes timing out on every source. Takes at most ``timeout`` s."""
    hosts = source_hosts([s for s in sources if s.enabled])[:sample]
    if not hosts:
        return None
    for host in hosts:
        try:
            ipaddress.ip_address(host.strip("[]"))
            return None
        except ValueError:
            if host == "localhost" or host.endswith(".localhost"):
                return None
    answers: queue.Queue[tuple[str, str | None]] = queue.Queue()

    def resolve(host: str) -> None:
        try:
            socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
            answers.put((host, None))
        except (OSError, UnicodeError) as exc:
            answers.put((host, str(exc) or type(exc).__name__))

    for host in hosts:  # daemon threads: a resolver that hangs must not keep the process alive
        threading.Thread(target=resolve, args=(host,), daemon=True, name=f"resolve {host}").start()
    deadline = time.monotonic() + timeout
    failures: dict[str, str] = {}
    while len(failures) < len(hosts):
        try:
            host, problem = answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if problem is None:
            return None
        failures[host] = problem
    silent = [h for h in hosts if h not in failures]
    parts = [f"{h}: {failures[h]}" for h in hosts if h in failures]
    if silent:
        parts.append(f"no DNS answer within {timeout:g} s for {', '.join(silent)}")
    return (f"no network: none of {len(hosts)} source hosts resolves ({'; '.join(parts)}); "
            "check the connection and DNS")

# GDELT asks for at most one request every 5 seconds.
# One request at a time, at least this many seconds apart: GDELT asks for one request per 5 s;
# Google News answers a burst of article-link resolutions (two requests per link) with 429s.
SLOW_DOMAINS = {"api.gdeltproject.org": 5.0, "news.google.com": 1.0}


def run_crawl(settings: Settings, sources: list[Source], *, console: Console | None = None) -> list[SourceSummary]:
    """Crawl the sources once, process and index what is new; returns the per-source summary.
    Runs the Twisted reactor, so it can be called once per process."""
    city = load_city(settings)
    backend = open_backend(settings)
    state = CrawlState(settings.state_path)
    archive = WarcArchive(settings.warc_dir, sync_every=64, sync_seconds=1.0)  # fsynced in groups; the bridge
    # syncs before it indexes (pipeline/scrapy_bridge.py)
    pool = page_pool(settings, sources)  # workers start on the first fetched page
    # with a pool, this process is the one writer: the workers run the content stages
    pipeline = build_pipeline(settings, backend, sources, city, content_stages=pool is None)
    run_id = state.start_run()
    process = CrawlerProcess(
        scrapy_settings(
            user_agent=settings.user_agent, download_timeout=settings.download_timeout,
            max_page_bytes=settings.max_page_bytes, concurrent_requests=settings.concurrent_requests,
            concurrent_per_domain=settings.concurrent_per_domain, download_delay=settings.download_delay,
            autothrottle=settings.autothrottle, obey_robots=settings.obey_robots, retry_times=settings.retry_times,
            retry_backoff=settings.retry_backoff, item_pipelines={"pipeline.scrapy_bridge.ProcessPages": 300},
            slow_domains=SLOW_DOMAINS, allow_hosts=settings.fetch_allow_hosts,
        )
        | {"LOG_INSTALL_ROOT_HANDLER": False},
    )
    crawler = process.create_crawler(SourcesSpider)
    show_progress = console is not None and console.is_terminal and sys.stderr.isatty()
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=console, transient=True) if show_progress else None
    counts = {"pages": 0, "indexed": 0}
    new_articles = []
    task = progress.add_task("crawling…") if progress else None

    def on_item(item, response, spider):  # scrapy signal
        from pipeline.process import Indexed

        counts["pages"] += 1
        counts["indexed"] += isinstance(item, Indexed)
        if isinstance(item, Indexed) and item.new:
            new_articles.append(item.article)
        if progress is not None:
            progress.update(task, description=f"crawling… {counts['pages']} pages, {counts['indexed']} indexed")

    crawler.signals.connect(on_item, signal=signals.item_scraped)
    process.crawl(crawler, sources=sources, state=state, archive=archive,
                  search_names=search_names(city, sources), run_id=run_id, processor=pipeline,
                  max_age_days=settings.max_age_days, pool=pool)
    try:
        with progress or nullcontext():
            process.start()
    finally:
        if pool is not None:
            pool.close()
    try:
        archive.close()
    except OSError as exc:  # a full disk at the very end: what was indexed stays, the summary still comes
        logger.error("disk full at %s: the WARC could not be closed cleanly: %s", archive.path, exc)
    if new_articles:  # alerts go out minutes after the articles are crawled
        from hpmon.commands.alerts import process_new_articles

        process_new_articles(settings, backend, new_articles)
    rows = summarize(crawler.stats.get_stats(), sources)
    state.finish_run(run_id, {"sources": [r.to_dict() for r in rows], "warc": archive.path.name})
    logger.info("run %s finished: %s", run_id, [r.to_dict() for r in rows])
    state.close()
    backend.close()
    return rows
