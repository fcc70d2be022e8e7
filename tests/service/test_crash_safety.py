"""kill -9 at random moments, many times, then a clean run: nothing is lost, nothing is
indexed twice, and the service resumes each interrupted job."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest

from index.sqlite import SqliteBackend
from tests.service.conftest import process_gone, stop, wait_for

pytestmark = pytest.mark.slow
KILLS = 22


def _expected_paths(manifest) -> set[str]:
    return {a.get("canonical") or a["path"] for a in manifest["articles"] if a["kept"]}


def _indexed(home) -> list[str]:
    if not (home / "index.sqlite").exists():
        return []
    backend = SqliteBackend(home / "index.sqlite")
    try:
        return [urlsplit(a.url).path for a in backend.iter_articles()]
    finally:
        backend.close()


@pytest.fixture
def alerting_home(service_home, tmp_path):
    """The service home with alert and digest recipients, and rules that also alert on the
    fixture site's (older) articles."""
    import json
    import shutil

    from hpmon.settings import DEFAULT_CONFIG_DIR

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    rules = config / "alerts.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("max_article_age: 3d", "max_article_age: 3650d"),
                     encoding="utf-8")
    service_home.env["HPMON_CONFIG_DIR"] = str(config)
    service_home.env["HPMON_RECIPIENTS"] = json.dumps({
        "admins": ["quantri@example.test"], "sotttt_oncall": ["trucban.tttt@example.test"],
        "songoaivu_oncall": ["trucban.ngoaivu@example.test"], "sotttt": ["lanhdao.tttt@example.test"],
        "songoaivu": ["lanhdao.ngoaivu@example.test"]})
    # Both profiles sent a digest three days ago, so whatever the hour the day before yesterday's
    # is due now (a profile with no digest yet starts with yesterday's, after its send time only:
    # before 07:00 city time the run would have none to send).
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from alerts.digest.log import DigestLog

    log = DigestLog(service_home.home / "hpmon.sqlite")
    three_days_ago = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() - timedelta(days=3)
    for profile in ("sotttt", "songoaivu"):
        log.record(profile, three_days_ago, f"<digest.{profile}.seeded@example.test>", [])
    log.close()
    return service_home


def _mail_counts(smtp_server) -> tuple[Counter, Counter]:
    """Alert messages by (Message-ID, recipient) and digest messages by (profile, day, recipient)."""
    alerts, digests = Counter(), Counter()
    for message in list(smtp_server.inbox.messages):
        mid = str(message["Message-ID"] or "")
        for rcpt in str(message["To"] or "").split(","):
            if mid.startswith("<digest."):
                _, profile, day, _ = mid.strip("<>").split("@")[0].split(".", 3)
                digests[(profile, day, rcpt.strip())] += 1
            elif "Idempotency-Key" in message:
                alerts[(mid, rcpt.strip())] += 1
    return alerts, digests


def _expected_and_logged_alerts(service_home) -> tuple[set, Counter, list]:
    """The (rule, story) alerts the rules raise on the articles indexed (what an uninterrupted
    run logs, each once), those the alert log holds, and the e-mail deliveries not sent."""
    from pathlib import Path

    from alerts.engine import match_article
    from alerts.rules import load_rules, read_risk_thresholds

    config = Path(service_home.env["HPMON_CONFIG_DIR"])
    rules = [r for r in load_rules(config / "alerts.yaml", thresholds=read_risk_thresholds(config / "risk.yaml"))
             if r.enabled and r.kind == "match"]
    backend = SqliteBackend(service_home.home / "index.sqlite")
    try:
        articles = list(backend.iter_articles())
    finally:
        backend.close()
    expected = {(rule.name, a.story_id or a.duplicate_of or a.id) for a in articles for rule in rules
                if match_article(rule, a) is not None}
    with sqlite3.connect(service_home.home / "hpmon.sqlite") as conn:
        logged = Counter(conn.execute("SELECT rule, story_key FROM alert_log WHERE kind = 'match'").fetchall())
        unsent = conn.execute("SELECT target, state, last_error FROM alert_deliveries WHERE channel = 'email' "
                              "AND state != 'sent' AND target NOT LIKE 'unknown:%'").fetchall()
    return expected, logged, unsent


def test_killed_many_times_the_service_loses_and_duplicates_nothing(alerting_home, manifest, smtp_server):
    service_home = alerting_home
    seed = int(os.environ.get("HPMON_TEST_SEED", time.time()))
    rng = random.Random(seed)
    killed: set[tuple[str, int]] = set()  # (job, child pid) running when its service was killed
    kills_mid_crawl = 0
    for _ in range(KILLS):
        proc = service_home.start()
        time.sleep(rng.uniform(0.4, 6.0))
        # A job row names its child's pid; a row left by an earlier killed service names a dead child.
        running = {(j["job_id"], j["running_pid"]) for j in service_home.jobs().values()
                   if j["running_pid"] and not process_gone(j["running_pid"])}
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed |= running
        kills_mid_crawl += any(job.startswith("crawl:") for job, _ in running)
        for pid in {pid for _, pid in running}:  # children die with the service: no orphan keeps writing
            wait_for(lambda pid=pid: process_gone(pid), 10, what=f"child {pid} to die with the service")
    assert kills_mid_crawl >= 5, f"too few kills landed mid-crawl (seed {seed}): {kills_mid_crawl}"

    # A clean run to the end: every crawl job finishes once after this start.
    proc = service_home.start()
    try:
        started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))

        def all_crawls_finished():
            jobs = [j for j in service_home.jobs().values() if j["kind"] == "crawl"]
            return jobs and all((j["last_finish"] or "") >= started and j["last_outcome"] in ("ok", "source_failed")
                                for j in jobs)

        wait_for(all_crawls_finished, 120, interval=0.5, what=f"a full round of crawls (seed {seed})")
        wait_for(lambda: set(_indexed(service_home.home)) >= _expected_paths(manifest), 60, interval=0.5,
                 what=f"every fixture article to be indexed (seed {seed})")
        wait_for(lambda: len({k[:2] for k in _mail_counts(smtp_server)[1]}) >= 2, 60, interval=0.5,
                 what=f"both profiles' digests (seed {seed})")
        wait_for(lambda: _mail_counts(smtp_server)[0], 60, interval=0.5, what=f"the alerts (seed {seed})")
        time.sleep(3)  # one more delivery round: anything sent twice would show now
    finally:
        assert stop(proc) == 0

    alerts, digests = _mail_counts(smtp_server)
    assert alerts and max(alerts.values()) == 1, f"an alert was delivered twice (seed {seed}): {alerts}"
    expected, logged, unsent = _expected_and_logged_alerts(service_home)
    assert expected and logged == Counter(expected), f"the (rule, story) alerts after the kills (seed {seed})"
    assert not unsent, f"alert e-mails never sent (seed {seed}): {unsent}"
    assert {k[0] for k in digests} == {"sotttt", "songoaivu"}
    assert max(digests.values()) == 1, f"a digest was sent twice (seed {seed}): {digests}"
    paths = _indexed(service_home.home)
    assert len(paths) == len(set(paths)), "an article was indexed twice"
    assert set(paths) == _expected_paths(manifest), f"seed {seed}"
    for name in ("index.sqlite", "crawl.sqlite", "hpmon.sqlite"):
        with sqlite3.connect(service_home.home / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name
    with sqlite3.connect(service_home.home / "hpmon.sqlite") as conn:
        interrupted = set(conn.execute("SELECT job_id, pid FROM service_runs WHERE outcome = 'interrupted'"))
    assert killed <= interrupted, "each job killed mid-run is recorded as interrupted (and run again)"
