"""Fixtures for the service tests: a real SMTP server, and ``hpmon run`` as a real subprocess
with short intervals against the local test news site."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import REPO, make_hpmon
from tests.fixtures.fixture_sources import write_sources

SHORT_INTERVALS = {
    "HPMON_SERVICE_FEED_INTERVAL": "2",
    "HPMON_SERVICE_NEWS_SEARCH_INTERVAL": "3",
    "HPMON_SERVICE_GDELT_INTERVAL": "3",
    "HPMON_SERVICE_SITEMAP_INTERVAL": "3",
    "HPMON_SERVICE_LISTING_INTERVAL": "3",
    "HPMON_SERVICE_PAGES_INTERVAL": "3",
    "HPMON_SERVICE_ALERTS_INTERVAL": "1",
    "HPMON_SERVICE_DIGEST_INTERVAL": "1",
    "HPMON_SERVICE_HEALTH_INTERVAL": "2",
    "HPMON_SERVICE_SHUTDOWN_GRACE": "10",
    "HPMON_SERVICE_MIN_FREE_MB": "1",
    "HPMON_SERVICE_MAX_CHILDREN": "3",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1; ``.inbox.messages`` is what arrived."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


def service_argv() -> list[str]:
    """``hpmon run``, as systemd starts it."""
    return [sys.executable, "-m", "hpmon", "run"]


@dataclass
class ServiceHome:
    """One data directory and the environment to run the service on it."""

    home: Path
    env: dict[str, str]
    logs: list[Path] = field(default_factory=list)
    log_dir: Path | None = None  # where the service's stderr is kept (default: next to home)

    def start(self) -> subprocess.Popen:
        log = (self.log_dir or self.home.parent) / f"service-{len(self.logs)}.stderr"
        self.logs.append(log)
        with log.open("wb") as fh:
            return subprocess.Popen(service_argv(), env=self.env, cwd=REPO, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=fh)

    def stderr(self, n: int = -1) -> str:
        return self.logs[n].read_text(encoding="utf-8", errors="replace")

    def jobs(self) -> dict[str, dict]:
        db = self.home / "hpmon.sqlite"
        if not db.exists():
            return {}
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return {r["job_id"]: dict(r) for r in conn.execute("SELECT * FROM service_jobs")}
        except sqlite3.OperationalError:
            return {}
        finally:
            conn.close()


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (an unreaped zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def stop(proc: subprocess.Popen, timeout: float = 40) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


@pytest.fixture
def service_home(news_site, tmp_path, smtp_server) -> ServiceHome:
    home = tmp_path / "home"
    home.mkdir()
    sources = write_sources(news_site.base_url, tmp_path / "sources.yaml")
    hp = make_hpmon(home, sources)
    env = dict(hp.env)
    env.update(SHORT_INTERVALS)
    env.update({"HPMON_SMTP_HOST": "127.0.0.1", "HPMON_SMTP_PORT": str(smtp_server.port),
                "HPMON_SMTP_SECURITY": "none", "HPMON_RECIPIENTS": '{"admins": ["quantri@example.test"]}',
                "PYTHONUNBUFFERED": "1"})
    env.pop("HPMON_LOG_LEVEL", None)
    return ServiceHome(home=home, env=env)
