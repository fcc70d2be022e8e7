"""The run summary accounts for every link a source listed: links waiting out the backoff after a
failure of our own, over the source's cap or too old are counted and said, not silently left out."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from rich.console import Console

from crawlers.sources import Source
from hpmon.summary import summarize, summary_table
from tests.conftest import make_hpmon
from tests.fixtures.fixture_sources import load_manifest


def test_links_skipped_for_backoff_cap_and_age_are_counted_and_said():
    sources = [Source(id="vnx", name="VnExpress", kind="rss", urls=("https://vnexpress.net/rss",))]
    stats = {"source/vnx/links": 12, "source/vnx/fetched": 4, "source/vnx/skipped_seen": 2,
             "source/vnx/skipped_backoff": 3, "source/vnx/skipped_cap": 2, "source/vnx/skipped_old": 1}
    row = summarize(stats, sources)[0].to_dict()
    assert (row["links"], row["skipped_backoff"], row["skipped_cap"], row["skipped_old"]) == (12, 3, 2, 1)
    console = Console(width=200, record=True)
    console.print(summary_table(summarize(stats, sources)))
    text = console.export_text()
    assert "2 already seen, 3 waiting to be retried, 2 over the source's cap, 1 too old" in text


def test_a_counter_that_is_not_a_count_is_left_alone():
    sources = [Source(id="vnx", name="VnExpress", kind="rss", urls=("https://vnexpress.net/rss",))]
    row = summarize({"source/vnx/failed": 2, "source/vnx/name": 1, "source/vnx/failures": 1}, sources)[0]
    assert row.failed == 0 and row.name == "VnExpress"


@pytest.mark.slow
def test_a_crawl_counts_the_links_that_wait_out_their_backoff(news_site, tmp_path):
    source = next(s for s in load_manifest()["sources"] if s["id"] == "fx-vi")
    source = {**source, "urls": [news_site.base_url + u.replace("{{BASE}}", "") for u in source["urls"]]}
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(yaml.safe_dump({"sources": [source]}, allow_unicode=True), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    hpmon = make_hpmon(home, sources_file)
    first = hpmon.json("crawl")[0]
    assert first["fetched"] > 2 and first["skipped_backoff"] == 0, first

    # three of its links failed for a reason of our own and wait for a retry an hour from now;
    # the feed lost its validators, so the next run reads it in full (as after such a failure)
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(home / "crawl.sqlite")
    with conn:
        waiting = [r[0] for r in conn.execute("SELECT url FROM seen WHERE outcome = 'indexed' LIMIT 3")]
        conn.executemany("UPDATE seen SET final = 0, attempts = 0, deferrals = 1, retry_at = ?, outcome = 'failed' "
                         "WHERE url = ?", [(later, url) for url in waiting])
        conn.execute("DELETE FROM validators")
    conn.close()
    assert len(waiting) == 3

    second = hpmon.json("crawl")[0]
    assert second["skipped_backoff"] == 3, second
    assert second["links"] == first["links"] and second["skipped_seen"] == first["links"] - 3, (first, second)
