"""SIGHUP (``systemctl reload hpmon``): the service reads the sources again without stopping —
a source added is crawled, a source removed leaves the job table, an interval changed counts
from the last run — and a registry that does not load keeps the current jobs, with the reason."""

from __future__ import annotations

import signal

import pytest
import yaml

from tests.fixtures.fixture_sources import load_manifest
from tests.service.conftest import stop, wait_for

pytestmark = pytest.mark.slow


def _write(path, news_site, *source_ids: str) -> None:
    sources = [dict(s) for s in load_manifest()["sources"] if s["id"] in source_ids]
    for source in sources:
        source["urls"] = [u.replace("{{BASE}}", news_site.base_url) if u.startswith("{{BASE}}")
                          else news_site.base_url + u if u.startswith("/") else u for u in source.get("urls", [])]
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")


def test_sighup_reads_the_sources_again_and_a_broken_file_keeps_the_jobs(service_home, news_site, tmp_path):
    sources = tmp_path / "reload-sources.yaml"
    _write(sources, news_site, "fx-vi")
    service_home.env["HPMON_SOURCES_FILE"] = str(sources)
    proc = service_home.start()
    try:
        wait_for(lambda: '"msg": "crawl:fx-vi finished: ok"' in service_home.stderr(), 90, what="fx-vi crawled")
        assert "crawl:fx-en" not in service_home.jobs()

        _write(sources, news_site, "fx-en")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded the configuration" in service_home.stderr(), 30, what="the reload")
        line = next(x for x in service_home.stderr().splitlines() if "reloaded the configuration" in x)
        assert "1 added: crawl:fx-en" in line and "1 removed: crawl:fx-vi" in line
        # the job table is written just after the log line: wait for the table itself
        jobs = wait_for(lambda: (service_home.jobs().get("crawl:fx-en") or {}).get("last_outcome") == "ok"
                        and service_home.jobs(), 90, what="fx-en crawled")
        assert "crawl:fx-vi" not in jobs

        sources.write_text("sources: [ {id: fx-en, kind: rss, urls: [", encoding="utf-8")  # a half-saved edit
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in service_home.stderr(), 30, what="the reload to fail")
        error = next(x for x in service_home.stderr().splitlines() if "reload failed" in x)
        assert '"level": "ERROR"' in error and str(sources) in error
        assert proc.poll() is None, "a broken registry must not stop the service"
        assert set(service_home.jobs()) >= {"crawl:fx-en", "alerts", "health"}
        runs = service_home.jobs()["crawl:fx-en"]["runs"]
        wait_for(lambda: service_home.jobs()["crawl:fx-en"]["runs"] > runs, 60, what="fx-en to keep being crawled")
    finally:
        assert stop(proc) == 0


def test_a_changed_interval_counts_from_the_last_run(tmp_path):
    from datetime import UTC, datetime, timedelta

    from hpmon.service import JobStore

    t0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    store = JobStore(tmp_path / "hpmon.sqlite")
    try:
        store.register("crawl:x", "crawl", 1800, t0)
        store.started(["crawl:x"], 123, t0)
        store.finished("crawl:x", "ok", "", t0 + timedelta(seconds=30), t0 + timedelta(seconds=1830))
        store.register("crawl:x", "crawl", 1800, t0 + timedelta(seconds=60))  # unchanged: same due time
        assert store.next_due()["crawl:x"] == t0 + timedelta(seconds=1830)
        store.register("crawl:x", "crawl", 300, t0 + timedelta(seconds=60))
        assert store.next_due()["crawl:x"] == t0 + timedelta(seconds=330)
        assert store.retire({"alerts"}) == ["crawl:x"] and store.next_due() == {}
    finally:
        store.close()
