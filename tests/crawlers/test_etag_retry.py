"""A failure of our own (here: the index on a full disk) is a delay, never a loss: the feed's
ETag and Last-Modified are not kept, so the next run reads the feed in full again; the links
wait out a backoff without using up their attempts; once the disk has room they are indexed.

A real crawl (``hpmon crawl`` in a subprocess) of the local test site, with the index on a real
1 MiB tmpfs filled to the last byte.

Nothing here depends on how fast a loaded machine is: a backoff is judged against the time of the
failure it follows, "time passes" (or not) is written into the crawl state rather than waited
for, and a page has a minute to download (the fixture site is local; a loaded machine's stall
must not turn into a ``timeout`` the test does not expect)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from crawlers.state import MAX_ATTEMPTS, CrawlState, own_failure_delay
from index.sqlite import SqliteBackend
from tests.conftest import make_hpmon
from tests.diskspace import fill, small_tmpfs
from tests.fixtures.fixture_sources import load_manifest

pytestmark = pytest.mark.slow


def _fill(disk: Path, slack: int = 40 * 1024) -> None:
    """Fill the filesystem, then give back ``slack`` bytes: room for SQLite to open the index
    (its -shm and -wal files), not to write an article."""
    fill(disk, leave=slack, chunk=512)


@pytest.fixture
def full_disk(tmp_path):
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        yield disk


def _feed_source(base_url: str, path: Path) -> Path:
    source = next(s for s in load_manifest()["sources"] if s["id"] == "fx-vi")
    source = {**source, "urls": [base_url + u.replace("{{BASE}}", "") for u in source["urls"]]}
    path.write_text(yaml.safe_dump({"sources": [source]}, allow_unicode=True), encoding="utf-8")
    return path


# a page's download time limit for these crawls: see the module's docstring
DOWNLOAD_TIMEOUT = "60"


def _crawl(hpmon, *, allowed: tuple[int, ...] = (0,)) -> dict:
    """The crawl's one row (``hpmon crawl --json``); when the command did not end as ``allowed``
    or printed no rows, the failure says its exit code and the end of what it wrote."""
    result = hpmon.run("crawl", "--json", check=False)
    try:
        rows = json.loads(result.stdout)
    except ValueError:
        rows = None
    assert result.returncode in allowed and rows, (
        f"hpmon crawl exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return rows[0]


def _set_retry_at(state_path: Path, when: datetime) -> None:
    """Time passes (or not): every link waiting out a backoff may be retried from ``when``."""
    conn = sqlite3.connect(state_path)
    with conn:
        conn.execute("UPDATE seen SET retry_at = ? WHERE retry_at IS NOT NULL", (when.strftime("%Y-%m-%dT%H:%M:%SZ"),))
    conn.close()


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _seen(state_path: Path) -> dict[str, tuple[int, int, int, str | None, str]]:
    conn = sqlite3.connect(state_path)
    rows = conn.execute("SELECT url, attempts, final, deferrals, retry_at, outcome FROM seen").fetchall()
    conn.close()
    return {r[0]: tuple(r[1:]) for r in rows}


def _validators(state_path: Path) -> dict[str, tuple[str | None, str | None]]:
    conn = sqlite3.connect(state_path)
    rows = conn.execute("SELECT url, etag, last_modified FROM validators").fetchall()
    conn.close()
    return {r[0]: (r[1], r[2]) for r in rows}


def _feed_requests(site, feed_path: str) -> list[dict[str, str]]:
    return [{k.lower(): v for k, v in h.items()} for m, p, h in site.requests if p == feed_path and m == "GET"]


def test_a_full_index_disk_keeps_the_feed_unvalidated_and_retries_the_links_later(news_site, tmp_path, full_disk):
    home = tmp_path / "home"
    home.mkdir()
    SqliteBackend(full_disk / "index.sqlite").close()  # the schema, then not one byte more
    (home / "index.sqlite").symlink_to(full_disk / "index.sqlite")
    _fill(full_disk)
    hpmon = make_hpmon(home, _feed_source(news_site.base_url, tmp_path / "sources.yaml"),
                       HPMON_DOWNLOAD_TIMEOUT=DOWNLOAD_TIMEOUT)
    state_path = home / "crawl.sqlite"
    feed_url = news_site.base_url + "/feeds/vi.rss"

    news_site.reset_requests()
    first = _crawl(hpmon)
    assert first["relevant"] == 0 and first["failures"].get("disk_full", 0) >= 1, first
    seen = _seen(state_path)
    failed = {u: r for u, r in seen.items() if r[4] == "failed"}
    assert failed, seen
    for url, (attempts, final, deferrals, retry_at, _) in failed.items():
        assert (attempts, final, deferrals) == (0, 0, 1), url  # not an attempt at the page
        assert retry_at is not None
    conn = sqlite3.connect(state_path)
    failed_at = dict(conn.execute("SELECT url, last_attempt FROM seen WHERE outcome = 'failed'").fetchall())
    conn.close()
    for url, (*_, retry_at, _) in failed.items():  # the first backoff, counted from the failure
        assert _parse(retry_at) - _parse(failed_at[url]) == own_failure_delay(1), (url, retry_at, failed_at[url])
    assert feed_url not in _validators(state_path)  # the feed must be read in full next time

    # a second run before the backoff is over (however long the first run took to end): the feed
    # is read in full again, the links wait out their backoff
    _set_retry_at(state_path, datetime.now(UTC) + timedelta(hours=1))
    news_site.reset_requests()
    second = _crawl(hpmon)
    requests = _feed_requests(news_site, "/feeds/vi.rss")
    assert requests and "if-none-match" not in requests[0], requests
    assert second["fetched"] == 0, second
    assert feed_url not in _validators(state_path)
    assert all(_seen(state_path)[u][:3] == (0, 0, 1) for u in failed)

    # room on the disk again, and the backoff has passed: every link is indexed
    (full_disk / "filler").unlink()
    _backoff_passed(state_path)
    third = _crawl(hpmon)
    assert third["relevant"] >= 1 and not third["failures"].get("disk_full"), third
    after = _seen(state_path)
    assert all(after[u][4] in ("indexed", "duplicate", "dropped") and after[u][1] == 1 for u in failed), after
    backend = SqliteBackend(home / "index.sqlite")
    assert backend.count() == third["relevant"]
    backend.close()
    assert feed_url in _validators(state_path)  # every item handled: now the validators are kept

    news_site.reset_requests()
    fourth = _crawl(hpmon)
    assert fourth["not_modified"] == 1, fourth
    assert "if-none-match" in _feed_requests(news_site, "/feeds/vi.rss")[0]


def test_failures_of_our_own_back_off_exponentially_and_never_use_up_the_attempts(tmp_path):
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    state = CrawlState(tmp_path / "crawl.sqlite", clock=lambda: now[0])
    url = "https://example.org/a"
    delays = []
    for _ in range(MAX_ATTEMPTS + 5):
        assert state.should_fetch(url)
        retry_at = state.defer(url, "s", "pipeline/internal_error: OperationalError: database or disk is full")
        delays.append(retry_at - now[0])
        assert not state.should_fetch(url) and state.waiting(url)
        now[0] = retry_at
    assert delays[:4] == [own_failure_delay(1), own_failure_delay(1) * 2, own_failure_delay(1) * 4,
                          own_failure_delay(1) * 8]
    assert max(delays) <= timedelta(hours=6)
    assert state.should_fetch(url)  # still fetched after more failures of ours than MAX_ATTEMPTS
    state.mark(url, "s", "indexed", article_id="x")
    assert not state.should_fetch(url) and not state.waiting(url)
    state.close()


def test_a_state_file_from_before_gets_the_new_columns(tmp_path):
    path = tmp_path / "crawl.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE seen (url TEXT PRIMARY KEY, source_id TEXT NOT NULL, first_seen TEXT NOT NULL, "
                 "last_attempt TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1, outcome TEXT NOT NULL, "
                 "reason TEXT, final INTEGER NOT NULL DEFAULT 1, article_id TEXT)")
    conn.execute("INSERT INTO seen VALUES ('https://e.org/x', 's', 'a', 'a', 1, 'failed', 'timeout', 0, NULL)")
    conn.commit()
    conn.close()
    state = CrawlState(path)
    assert state.should_fetch("https://e.org/x")
    state.defer("https://e.org/x", "s", "pipeline/internal_error")
    assert state.waiting("https://e.org/x")
    state.close()


def _backoff_passed(state_path: Path) -> None:
    """Time passes: every backoff is over."""
    _set_retry_at(state_path, datetime.now(UTC) - timedelta(seconds=1))


def test_a_full_warc_disk_loses_no_page_and_says_disk_full(news_site, tmp_path, full_disk):
    home = tmp_path / "home"
    home.mkdir()
    (home / "warc").symlink_to(full_disk)
    _fill(full_disk, slack=0)
    hpmon = make_hpmon(home, _feed_source(news_site.base_url, tmp_path / "sources.yaml"),
                       HPMON_DOWNLOAD_TIMEOUT=DOWNLOAD_TIMEOUT)
    state_path = home / "crawl.sqlite"

    first = hpmon.run("crawl", "--json", check=False)
    assert first.returncode == 0, first.stderr[-3000:]  # no traceback: a state, not a crash
    row = yaml.safe_load(first.stdout)[0]
    assert row["relevant"] == 0 and row["failures"].get("disk_full", 0) == row["fetched"] > 0, row
    assert "Traceback" not in first.stderr
    failed = {u: r for u, r in _seen(state_path).items() if r[4] == "failed"}
    assert len(failed) == row["fetched"]
    assert all(r[:3] == (0, 0, 1) for r in failed.values())  # not an attempt at the page: retried later
    conn = sqlite3.connect(state_path)
    reasons = [r[0] for r in conn.execute("SELECT reason FROM seen WHERE outcome = 'failed'")]
    conn.close()
    assert all(r.startswith("disk_full: disk full at ") for r in reasons), reasons

    (full_disk / "filler").unlink()
    _backoff_passed(state_path)
    second = _crawl(hpmon)
    assert second["relevant"] >= 1 and not second["failures"], second
    assert all(_seen(state_path)[u][4] in ("indexed", "duplicate", "dropped") for u in failed)
