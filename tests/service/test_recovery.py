"""What a restart after kill -9 finds and does: interrupted jobs are due again at once, an
interrupted crawl forgets its feeds' validators (so articles it had not fetched are listed
again), and the job table keeps each job's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from crawlers.state import CrawlState
from hpmon.service import JobStore, Service, ServiceConfig, parse_iso
from hpmon.settings import Settings

FEED = "http://127.0.0.1:9/feeds/vi.rss"


def _settings(tmp_path) -> Settings:
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [
        {"id": "vi", "name": "Báo", "kind": "rss", "urls": [FEED], "language": "vi", "country": "VN",
         "scope": "domestic"},
        {"id": "ko", "name": "Sitemap", "kind": "sitemap", "urls": ["http://127.0.0.1:9/sitemap.xml"]},
    ]}, allow_unicode=True))
    return Settings(home=tmp_path / "home", sources_file=sources)


def test_a_crawl_killed_mid_run_is_due_at_once_and_forgets_its_feed_validators(tmp_path):
    settings = _settings(tmp_path)
    config = ServiceConfig(feed_interval=300)
    earlier = datetime.now(UTC) - timedelta(minutes=1)
    store = JobStore(settings.app_db_path)
    store.register("crawl:vi", "crawl", 300, earlier)
    store.register("crawl:ko", "crawl", 1800, earlier)
    store.started(["crawl:vi"], 4242, earlier)  # then the service was killed
    store.finished("crawl:ko", "ok", "", earlier, earlier + timedelta(seconds=1800))
    store.close()
    state = CrawlState(settings.state_path)
    state.save_validators(FEED, '"etag-of-the-feed"', "Thu, 19 Nov 2026 10:00:00 GMT")
    state.close()

    store = JobStore(settings.app_db_path)
    try:
        jobs = Service(settings, config)._start(store)
        due = store.next_due()
    finally:
        store.close()

    assert set(jobs) >= {"crawl:vi", "crawl:ko", "health"}
    assert due["crawl:vi"] <= datetime.now(UTC), "the interrupted crawl runs again at once"
    assert due["crawl:ko"] > datetime.now(UTC) + timedelta(minutes=25), "a finished job keeps its schedule"
    state = CrawlState(settings.state_path)
    assert state.validators(FEED) == (None, None)
    state.close()


def test_job_outcomes_and_failures_in_a_row_are_durable(tmp_path):
    settings = _settings(tmp_path)
    now = datetime.now(UTC)
    store = JobStore(settings.app_db_path)
    store.register("alerts", "alerts", 60, now)
    for _ in range(3):
        store.started(["alerts"], 1, now)
        store.finished("alerts", "failed", "exit 1: SMTP down", now, now + timedelta(seconds=60))
    store.close()
    store = JobStore(settings.app_db_path)
    row = store._conn.execute("SELECT fail_streak, runs, last_outcome, next_due FROM service_jobs").fetchone()
    store.close()
    assert row[:3] == (3, 3, "failed")
    assert parse_iso(row[3]) > now
