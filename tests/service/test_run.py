"""``hpmon run`` as a real process: one instance per data directory, a clean stop on SIGTERM
within the documented bound, admin alerts mailed once per problem and day."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

import pytest

from hpmon.service import ServiceConfig, shutdown_bound
from tests.conftest import REPO
from tests.service.conftest import process_gone, service_argv, stop, wait_for

pytestmark = pytest.mark.slow


def _running_children(service_home) -> list[int]:
    return [j["running_pid"] for j in service_home.jobs().values() if j["running_pid"]]


def test_second_run_on_the_same_data_refuses_to_start(service_home):
    first = service_home.start()
    try:
        wait_for(lambda: (service_home.home / "hpmon.lock").exists()
                 and (service_home.home / "hpmon.lock").read_text().strip() == str(first.pid), 30,
                 what="the first service to take the lock")
        second = subprocess.run(service_argv(), env=service_home.env, cwd=REPO, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 75
        assert "already running" in second.stderr and str(first.pid) in second.stderr
        assert first.poll() is None, "the first service must keep running"
    finally:
        assert stop(first) == 0


def test_sigterm_stops_children_and_exits_cleanly_within_the_bound(service_home):
    proc = service_home.start()
    children = wait_for(lambda: _running_children(service_home), 60, what="a crawl child to run")
    proc.send_signal(signal.SIGTERM)
    bound = shutdown_bound(ServiceConfig(shutdown_grace=10))
    code = proc.wait(timeout=bound)  # raises if the service overruns its documented bound
    assert code == 0
    log = service_home.stderr()
    assert "SIGTERM received" in log and "stopped cleanly" in log
    assert all(process_gone(pid) for pid in children)
    assert not _running_children(service_home), "no job may be left marked as running"
    with sqlite3.connect(service_home.home / "hpmon.sqlite") as conn:
        stopped = json.loads(conn.execute("SELECT value FROM service_state WHERE key = 'stopped'").fetchone()[0])
    assert stopped["signal"] == "SIGTERM" and stopped["pid"] == proc.pid


def test_every_job_of_the_installation_is_registered(service_home):
    proc = service_home.start()
    try:
        jobs = wait_for(lambda: service_home.jobs().get("health") and service_home.jobs(), 30, what="the job table")
    finally:
        stop(proc)
    assert {"alerts", "digest", "recheck", "health"} <= set(jobs)
    assert {j for j in jobs if j.startswith("crawl:")} >= {"crawl:fx-vi", "crawl:fx-ko-sitemap", "crawl:fx-gdelt"}


def test_a_problem_is_mailed_to_the_admins_once_a_day(service_home, smtp_server):
    env = dict(service_home.env, HPMON_SERVICE_DISK_ALERT_PERCENT="0")  # any disk is "too full"
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "hpmon.service", "job", "health"], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert any(p["kind"] == "disk" for p in json.loads(done.stdout))
    mails = smtp_server.inbox.messages
    assert len(mails) == 1
    assert mails[0]["To"] == "quantri@example.test"
    assert "Cảnh báo vận hành" in str(mails[0]["Subject"])
    assert "Ổ đĩa đã dùng" in mails[0].get_content()
    with sqlite3.connect(service_home.home / "hpmon.sqlite") as conn:
        rows = conn.execute("SELECT key, kind, notified_at FROM service_health_events").fetchall()
    keys = [r[0] for r in rows]
    assert "disk" in {r[1] for r in rows} and len(keys) == len(set(keys)), "each problem is recorded once a day"
    assert all(r[2] for r in rows), "every recorded problem went out in the one mail"
