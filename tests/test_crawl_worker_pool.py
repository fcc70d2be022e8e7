"""The crawl's worker pool (pipeline/pool.py, pipeline/scrapy_bridge.py) on the local test news
site: it indexes the same articles with the same labels as processing in the crawling process,
and a worker killed while pages are in flight loses nothing (those pages are retried later)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from index.sqlite import SqliteBackend
from tests.conftest import make_hpmon
from tests.fixtures.fixture_sources import write_sources

pytestmark = pytest.mark.slow


def _labels(home: Path) -> dict[str, dict]:
    """What a user sees of each indexed article, by id (story ids are replaced by the group of
    articles that share the story, which does not depend on which copy came first)."""
    backend = SqliteBackend(home / "index.sqlite")
    try:
        articles = list(backend.iter_articles())
    finally:
        backend.close()
    stories: dict[str, set[str]] = {}
    for a in articles:
        stories.setdefault(a.story_id or a.id, set()).add(a.id)
    return {a.id: {"url": a.url, "title": a.title, "language": a.language, "coverage": a.coverage,
                   "scope": a.scope, "country": a.country, "topics": a.topics, "sentiment": a.sentiment,
                   "sentiment_score": a.sentiment_score, "sensitive_themes": a.sensitive_themes,
                   "risk_score": a.risk_score, "relevance_score": a.relevance_score, "flags": a.flags,
                   "duplicate_of": a.duplicate_of, "published_at": a.published_at, "text": a.text,
                   "story": sorted(stories[a.story_id or a.id])} for a in articles}


def _log_records(home: Path) -> list[dict]:
    lines = []
    for path in sorted((home / "logs").glob("hpmon.log*")):
        lines += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def _pool_started(home: Path) -> list[str]:
    return [r["msg"] for r in _log_records(home) if "worker pool started" in r.get("msg", "")]


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def trained_models(tmp_path_factory) -> Path:
    """Topic, tone and context models trained once (``hpmon train``), so every label is compared."""
    home = tmp_path_factory.mktemp("trained")
    make_hpmon(home).run("train", "--no-cv")
    return home / "models"


def _home(tmp_path: Path, name: str, models: Path) -> Path:
    home = tmp_path / name
    shutil.copytree(models, home / "models")
    return home


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _crawl(news_site, home: Path, workers: int):
    sources = write_sources(news_site.base_url, home / "sources.yaml")
    hpmon = make_hpmon(home, sources, HPMON_WORKERS=str(workers))
    result = hpmon.run("crawl", "--json")
    # the workers start, work and stop without a word on the console (no traceback, no leak warning)
    assert "Traceback" not in result.stderr and "resource_tracker" not in result.stderr, result.stderr
    return hpmon


def test_the_pool_indexes_the_same_articles_and_labels_as_one_process(news_site, tmp_path, manifest,
                                                                      trained_models):
    pooled = _crawl(news_site, _home(tmp_path, "pooled", trained_models), 2)
    alone = _crawl(news_site, _home(tmp_path, "alone", trained_models), 1)
    assert _pool_started(pooled.home) == ["worker pool started: 2 processes"]
    assert _pool_started(alone.home) == []
    with_pool, in_process = _labels(pooled.home), _labels(alone.home)
    # trained models: the learned relevance decision judges a passing mention not about the city
    assert len(with_pool) == sum(a["kept"] and not a.get("passing_mention") for a in manifest["articles"])
    assert set(with_pool) == set(in_process)
    assert any(labels["topics"] for labels in in_process.values())  # the models did label them
    for article_id, labels in in_process.items():
        assert with_pool[article_id] == labels, labels["url"]


def test_a_worker_killed_mid_crawl_loses_nothing(news_site, tmp_path, manifest, trained_models):
    home = _home(tmp_path, "killed", trained_models)
    sources = write_sources(news_site.base_url, home / "sources.yaml")
    hpmon = make_hpmon(home, sources, HPMON_WORKERS="2")
    import subprocess
    import sys

    from tests.conftest import REPO

    proc = subprocess.Popen([sys.executable, "-m", "hpmon", "crawl", "--json"], env=hpmon.env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed: list[int] = []

    def kill_a_worker_once_pages_are_processed() -> None:
        # the first page written means the workers have loaded their models and are at work on
        # the next ones: kill one of them then (the log is followed as it grows)
        log, seen, workers = home / "logs" / "hpmon.log", 0, []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if not workers:
                workers = [p for p in _children(proc.pid) if b"spawn_main" in _cmdline(p)]  # not the resource tracker
            text = log.read_bytes()[seen:] if log.exists() else b""
            seen += len(text)
            if workers and (b'"msg": "indexed ' in text or b'"msg": "dropped ' in text):
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_worker_once_pages_are_processed)
    killer.start()
    out, err = proc.communicate(timeout=300)
    killer.join()
    assert proc.returncode == 0, err
    assert killed, "no worker was killed"
    rows = {row["source"]: row for row in json.loads(out)}
    lost = {source: row["failures"].get("worker_lost", 0) for source, row in rows.items()}
    assert sum(lost.values()) >= 1, f"the kill landed when no page was in flight: {rows}"
    records = _log_records(home)
    assert any("died with the page in flight" in r.get("msg", "") for r in records)
    with sqlite3.connect(home / "crawl.sqlite") as conn:
        waiting = conn.execute("SELECT url, attempts, final, retry_at FROM seen WHERE reason LIKE "
                               "'pipeline/worker_lost%'").fetchall()
    assert len(waiting) == sum(lost.values())
    assert all(attempts == 0 and final == 0 and retry_at for _, attempts, final, retry_at in waiting)

    # the backoff of a failure of our own has passed (its first delay is two minutes): due now
    with sqlite3.connect(home / "crawl.sqlite") as conn:
        conn.execute("UPDATE seen SET retry_at = '2000-01-01T00:00:00Z' WHERE reason LIKE 'pipeline/worker_lost%'")
    hpmon.run("crawl", "--json")
    stored = _labels(home)
    from urllib.parse import urlsplit

    paths = [urlsplit(a["url"]).path for a in stored.values()]
    assert len(paths) == len(set(paths))
    assert set(paths) == {a.get("canonical") or a["path"] for a in manifest["articles"]
                          if a["kept"] and not a.get("passing_mention")}
