"""The crawl's worker pool (pipeline/pool.py) with the real pipeline of a worker: the same analyses
as in the calling process, a killed worker costs only the pages then in flight (``WorkerLost``,
and a fresh pool takes the next pages), and workers that cannot start are not spawned forever."""

from __future__ import annotations

import os
import signal
from concurrent.futures import wait
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.items import FetchedPage
from hpmon.app import worker_pipeline
from hpmon.settings import DEFAULT_CONFIG_DIR, Settings
from pipeline.pool import MAX_RESTARTS, PagePool, WorkerLost, worker_count

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"


def _pages(copies: int = 1) -> list[FetchedPage]:
    files = sorted(p for p in SITE.rglob("*.html") if "listing" not in p.parts and "private" not in p.parts)
    when = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    pages = []
    for copy in range(copies):
        for path in files:
            url = f"http://news.example/{copy}/{path.relative_to(SITE)}"
            pages.append(FetchedPage(source_id="fixture", url=url, link_url=url, status=200,
                                     headers={"content-type": "text/html; charset=utf-8"}, body=path.read_bytes(),
                                     fetched_at=when))
    return pages


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"), config_dir=DEFAULT_CONFIG_DIR)


@pytest.fixture(scope="module")
def expected(settings) -> dict[str, dict]:
    """Each page's analysis by the pipeline of a worker, built and run in this process."""
    here = worker_pipeline(settings, [])
    return {p.url: here.analyze_content(here.draft_from_page(p)).to_public(p.url) for p in _pages(2)}


def test_workers_are_one_per_cpu_unless_set():
    assert worker_count(0) == len(os.sched_getaffinity(0))
    assert worker_count(3) == 3


def test_a_killed_worker_costs_only_the_pages_in_flight(settings, expected):
    pages = _pages(2)
    assert len(pages) == len(expected) >= 60
    pool = PagePool(2, worker_pipeline, (settings, []))
    try:
        futures = {p.url: pool.submit(p) for p in pages}
        first = futures[pages[0].url]
        assert first.result(timeout=300).to_public(pages[0].url) == expected[pages[0].url]
        victim = pool.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)  # the workers are at work on the next pages
        wait(futures.values(), timeout=300)
        lost = [url for url, f in futures.items() if isinstance(f.exception(), WorkerLost)]
        assert lost, "no page was in flight when the worker was killed"
        for url, future in futures.items():
            if url not in lost:
                assert future.exception() is None, url
                assert future.result().to_public(url) == expected[url], url
        # the next pages go to a fresh pool: the lost ones, retried, come out as they should have
        by_url = {p.url: p for p in pages}
        retried = {url: pool.submit(by_url[url]) for url in lost}
        for url, future in retried.items():
            assert future.result(timeout=300).to_public(url) == expected[url], url
        assert pool.restarts == 1 and victim not in pool.worker_pids()
    finally:
        pool.close()


def test_workers_that_cannot_start_are_not_spawned_for_every_page(tmp_path):
    broken = Settings(home=tmp_path / "home", config_dir=tmp_path / "no-such-config")  # no city profile to load
    pool = PagePool(1, worker_pipeline, (broken, []))
    page = _pages()[0]
    try:
        for _ in range(MAX_RESTARTS + 1):
            with pytest.raises(WorkerLost):
                pool.submit(page).result(timeout=120)
        assert pool.restarts == MAX_RESTARTS + 1
        with pytest.raises(WorkerLost, match="not restarted"):
            pool.submit(page)
        assert pool.worker_pids() == []
    finally:
        pool.close()
