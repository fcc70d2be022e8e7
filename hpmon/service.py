"""``hpmon run``: the long-running service. It owns scheduling, the single-instance lock,
health checks and shutdown; the work itself runs in child processes.

Why children: a crawl runs the Twisted reactor, which can start once per process, and a
child that dies (or is killed) cannot take the scheduler with it. Each job is a command:

- ``crawl:<source>`` → ``python -m hpmon crawl --source <id>... --json``; every source has its
  own interval by kind (feeds often, sitemaps and listings less, news search and GDELT within
  their rate limits); sources due at the same moment share one child (one reactor);
- ``alerts`` → ``python -m hpmon alerts deliver``; ``digest`` → the digest API
  (``alerts.digest.due_digests`` / ``send_digest``) in a child; ``recheck`` → ``python -m hpmon
  recheck``; ``index-flush`` → ``python -m hpmon index flush`` (Elasticsearch only);
- ``health`` → ``python -m hpmon.service job health``: raises admin alerts.

A job whose module or command is not in this installation is registered as *unavailable*,
with its reason logged and shown by ``hpmon status``; it is never faked.

Durability: the job table (``service_*`` tables in ``settings.app_db_path``) records each
job's last start, finish, outcome and next due time. A job found "running" at start-up was
interrupted (kill -9, power cut): it is due at once, and an interrupted crawl forgets its
feeds' conditional-GET validators so the articles it had not fetched yet are listed again.
A job never overlaps with itself; at most ``max_children`` children run at once.

Shutdown (SIGTERM/SIGINT): no new job starts; running children get SIGTERM, then after
``shutdown_grace`` seconds SIGKILL; the job table is written; the process exits. The whole
stop takes at most ``shutdown_bound(config)`` seconds (grace + 10 s); deploy/hpmon.service's
TimeoutStopSec is set above it.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import fcntl
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hpmon.settings import Settings
from index.db import connect, immediate_transaction

logger = logging.getLogger("hpmon.service")

LOCK_FILE = "hpmon.lock"
RUN_DIR = "run"
TICK_SECONDS = 0.25
KILL_WAIT_SECONDS = 5.0  # after SIGKILL, how long to wait for the kernel to reap
SETTING_PREFIX = "service_"


# -- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceConfig:
    """The service's settings. Each field ``f`` is read from ``Settings.service_<f>`` when the
    settings have it (see the report to the lead for names, types and defaults)."""

    feed_interval: float = 300.0  # rss/atom feeds
    news_search_interval: float = 900.0  # news-search feeds (Google News-like; rate-limited)
    gdelt_interval: float = 900.0  # GDELT DOC API (one request per 5 s per domain anyway)
    sitemap_interval: float = 1800.0
    listing_interval: float = 1800.0
    pages_interval: float = 3600.0
    alerts_interval: float = 60.0  # deliver pending alerts (retries of a down mail server)
    digest_interval: float = 60.0  # look for due digests (each is sent once per day)
    recheck_interval: float = 86400.0  # re-check preserved evidence
    health_interval: float = 300.0
    flush_interval: float = 60.0  # Elasticsearch outbox
    max_children: int = 2
    job_timeout: float = 1800.0
    shutdown_grace: float = 20.0
    min_free_mb: int = 500  # below this, jobs that write are paused
    disk_alert_percent: float = 90.0
    source_failure_hours: float = 24.0
    digest_late_hours: float = 2.0
    admin_recipients: str = "admins"  # name of a list in Settings.recipients

    def interval_for_kind(self, kind: str) -> float:
        """Seconds between two crawls of a source of this kind."""
        return {
            "rss": self.feed_interval, "news_search": self.news_search_interval, "gdelt": self.gdelt_interval,
            "sitemap": self.sitemap_interval, "listing": self.listing_interval, "pages": self.pages_interval,
        }.get(kind, self.feed_interval)

    @classmethod
    def from_settings(cls, settings: Settings, overrides: Mapping[str, Any] | None = None) -> ServiceConfig:
        """The configuration from ``settings.service_*`` (when the settings define them), then
        ``overrides`` (names without the prefix, values as strings or typed)."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if hasattr(settings, SETTING_PREFIX + f.name):
                values[f.name] = getattr(settings, SETTING_PREFIX + f.name)
        for name, value in (overrides or {}).items():
            if name in {f.name for f in dataclasses.fields(cls)}:
                values[name] = value
        typed = {}
        for f in dataclasses.fields(cls):
            if f.name in values:
                caster = {"float": float, "int": int, "str": str}[str(f.type)]
                typed[f.name] = caster(values[f.name])
        return cls(**typed)


def shutdown_bound(config: ServiceConfig) -> float:
    """The most seconds ``hpmon run`` takes to exit after SIGTERM: the children's grace period,
    the SIGKILL wait, and a margin for writing the job table."""
    return config.shutdown_grace + KILL_WAIT_SECONDS + 5.0


# -- single-instance lock -----------------------------------------------------------------


class AlreadyRunning(RuntimeError):
    """Another ``hpmon run`` holds the lock of this data directory."""

    def __init__(self, lock_path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"hpmon đang chạy trên thư mục dữ liệu này ({who}, khoá {lock_path}); không khởi động lần hai. "
            f"/ hpmon is already running on this data directory ({who} holds {lock_path}); refusing to start.")
        self.pid = pid
        self.lock_path = lock_path


class InstanceLock:
    """An exclusive ``flock`` on ``HOME/hpmon.lock`` holding the owner's pid. The kernel drops it
    when the process dies, even by SIGKILL, so a stale lock cannot block a restart."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning (with the holder's pid)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.path, read_lock_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_lock_pid(lock_path: Path) -> int | None:
    try:
        return int(lock_path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def running_pid(home: Path) -> int | None:
    """The pid of the ``hpmon run`` holding HOME's lock, or None when no service runs there."""
    path = home / LOCK_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_lock_pid(path) or -1
    finally:
        os.close(fd)
    return None


# -- the job table ------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_jobs (
    job_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    interval_s REAL,
    unavailable TEXT,                 -- why the job cannot run here (module or command missing)
    last_start TEXT, last_finish TEXT,
    last_outcome TEXT,                -- ok | failed | source_failed | interrupted | timeout | skipped
    last_detail TEXT,
    last_ok TEXT,
    next_due TEXT,
    running_pid INTEGER,              -- set while a child runs it; found set at start-up = interrupted
    runs INTEGER NOT NULL DEFAULT 0,
    fail_streak INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS service_runs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL, pid INTEGER, started TEXT NOT NULL, finished TEXT,
    outcome TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS service_runs_job ON service_runs(job_id, started);
CREATE TABLE IF NOT EXISTS service_health_events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, created_at TEXT NOT NULL,
    notified_at TEXT, notify_error TEXT,
    UNIQUE(key, day)
);
CREATE TABLE IF NOT EXISTS service_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
RUNS_KEPT_DAYS = 30


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat(timespec="seconds") if dt else None


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class JobStore:
    """The durable job table. Writes are small transactions; a write that fails (full disk)
    raises sqlite3.Error to the caller, which keeps going and writes again later."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path, autocommit=True)
        self._conn.executescript(_SCHEMA)

    def _tx(self):
        return immediate_transaction(self._conn)

    def register(self, job_id: str, kind: str, interval: float, unavailable: str | None, now: datetime) -> None:
        """Insert the job (due now) or update its interval and availability; a new interval
        counts from the job's last run."""
        with self._tx() as c:
            row = c.execute("SELECT interval_s, last_finish FROM service_jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is not None and row[0] != interval:
                last = parse_iso(row[1])
                c.execute("UPDATE service_jobs SET next_due = ? WHERE job_id = ? AND running_pid IS NULL",
                          (iso(last + timedelta(seconds=interval) if last else now), job_id))
            c.execute(
                "INSERT INTO service_jobs(job_id, kind, created_at, interval_s, unavailable, next_due) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET kind = excluded.kind, "
                "interval_s = excluded.interval_s, unavailable = excluded.unavailable",
                (job_id, kind, iso(now), interval, unavailable, iso(now)),
            )

    def retire(self, keep: set[str]) -> list[str]:
        """Remove the jobs that are no longer configured (a source deleted or disabled); their
        run history stays. Returns their ids."""
        with self._tx() as c:
            gone = [r[0] for r in c.execute("SELECT job_id FROM service_jobs") if r[0] not in keep]
            c.executemany("DELETE FROM service_jobs WHERE job_id = ?", [(job_id,) for job_id in gone])
        return gone

    def recover_interrupted(self, now: datetime) -> list[str]:
        """Mark jobs left 'running' by a previous process as interrupted and due now; returns their ids."""
        with self._tx() as c:
            ids = [r[0] for r in c.execute("SELECT job_id FROM service_jobs WHERE running_pid IS NOT NULL")]
            c.execute(
                "UPDATE service_jobs SET running_pid = NULL, last_outcome = 'interrupted', last_finish = ?, "
                "last_detail = 'the service stopped while it ran (killed or crashed)', next_due = ?, "
                "fail_streak = fail_streak + 1 WHERE running_pid IS NOT NULL", (iso(now), iso(now)))
            c.execute("UPDATE service_runs SET finished = ?, outcome = 'interrupted' WHERE finished IS NULL",
                      (iso(now),))
        return ids

    def next_due(self) -> dict[str, datetime]:
        rows = self._conn.execute("SELECT job_id, next_due FROM service_jobs").fetchall()
        return {job_id: parse_iso(due) or utcnow() for job_id, due in rows}

    def started(self, job_ids: list[str], pid: int, now: datetime) -> None:
        with self._tx() as c:
            for job_id in job_ids:
                c.execute("UPDATE service_jobs SET running_pid = ?, last_start = ? WHERE job_id = ?",
                          (pid, iso(now), job_id))
                c.execute("INSERT INTO service_runs(job_id, pid, started) VALUES (?, ?, ?)", (job_id, pid, iso(now)))

    def finished(self, job_id: str, outcome: str, detail: str, now: datetime, next_due: datetime) -> None:
        ok = outcome == "ok"
        with self._tx() as c:
            c.execute(
                "UPDATE service_jobs SET running_pid = NULL, last_finish = ?, last_outcome = ?, last_detail = ?, "
                "next_due = ?, runs = runs + 1, last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
                "fail_streak = CASE WHEN ? THEN 0 ELSE fail_streak + 1 END WHERE job_id = ?",
                (iso(now), outcome, detail[:4000], iso(next_due), ok, iso(now), ok, job_id),
            )
            c.execute("UPDATE service_runs SET finished = ?, outcome = ?, detail = ? "
                      "WHERE id = (SELECT max(id) FROM service_runs WHERE job_id = ? AND finished IS NULL)",
                      (iso(now), outcome, detail[:4000], job_id))

    def skipped(self, job_id: str, reason: str, now: datetime, next_due: datetime) -> None:
        with self._tx() as c:
            c.execute("UPDATE service_jobs SET last_outcome = 'skipped', last_detail = ?, next_due = ? "
                      "WHERE job_id = ?", (reason, iso(next_due), job_id))

    def record_event(self, key: str, kind: str, severity: str, message: str, now: datetime) -> bool:
        """Record a problem once per key and day; returns True when it is new today."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO service_health_events(key, day, kind, severity, message, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (key, now.date().isoformat(), kind, severity, message, iso(now)))
            return cur.rowcount > 0

    def unnotified_events(self, now: datetime) -> list[dict[str, Any]]:
        """Today's problems the admins have not been told about yet (a failed notice is retried)."""
        rows = self._conn.execute(
            "SELECT id, key, kind, severity, message, created_at FROM service_health_events "
            "WHERE notified_at IS NULL AND day = ? ORDER BY id", (now.date().isoformat(),)).fetchall()
        keys = ("id", "key", "kind", "severity", "message", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def mark_notified(self, ids: list[int], now: datetime, error: str | None) -> None:
        with self._tx() as c:
            for event_id in ids:
                if error:
                    c.execute("UPDATE service_health_events SET notify_error = ? WHERE id = ?", (error, event_id))
                else:
                    c.execute("UPDATE service_health_events SET notified_at = ?, notify_error = NULL WHERE id = ?",
                              (iso(now), event_id))

    def set_state(self, key: str, value: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO service_state(key, value) VALUES (?, ?) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def prune(self, now: datetime) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM service_runs WHERE started < ?", (iso(now - timedelta(days=RUNS_KEPT_DAYS)),))

    def close(self) -> None:
        self._conn.close()


def read_jobs(app_db: Path) -> list[dict[str, Any]]:
    """Every row of the job table (for ``hpmon status``); empty when the service never ran."""
    if not app_db.exists():
        return []
    conn = sqlite3.connect(f"file:{app_db}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM service_jobs ORDER BY job_id")]
        except sqlite3.OperationalError:
            return []
    finally:
        conn.close()


# -- jobs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One schedulable job: what runs, how often, whether it writes (paused on a full disk)."""

    id: str
    kind: str  # crawl | alerts | digest | recheck | health | index-flush
    interval: float
    argv: tuple[str, ...] = ()  # for crawl jobs: the arguments this source adds to the batch
    source_id: str | None = None
    feed_urls: tuple[str, ...] = ()  # conditional-GET URLs to forget when a crawl is interrupted
    unavailable: str | None = None
    writes: bool = True


def _module_present(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _cli_has(*path: str) -> bool:
    """Whether ``hpmon <path...>`` is a registered command of the CLI."""
    try:
        from hpmon.cli import main
    except Exception:  # the CLI failing to import is reported by doctor, not here
        return False
    command: Any = main
    for name in path:
        commands = getattr(command, "commands", None)
        if not commands or name not in commands:
            return False
        command = commands[name]
    return True


def _unavailable_reason(module: str, command: tuple[str, ...], issue: str) -> str | None:
    if not _module_present(module):
        return f"module {module} is not installed ({issue}); job not run"
    if command and not _cli_has(*command):
        return f"command `hpmon {' '.join(command)}` is not registered in hpmon.cli ({issue}); job not run"
    return None


def digest_api_reason() -> str | None:
    """Why the digest job cannot run, or None when the digest area offers
    ``hpmon.commands.digest.send_due_digests`` (issue 7: each due digest once, with catch-up)."""
    if not _module_present("alerts.digest.service"):
        return "module alerts.digest.service is not installed (issue 7): digests are not sent by the service"
    try:
        import hpmon.commands.digest as digest
    except Exception as exc:
        return f"hpmon.commands.digest fails to import: {type(exc).__name__}: {exc}"
    missing = [n for n in ("send_due_digests", "digest_service") if not hasattr(digest, n)]
    return f"hpmon.commands.digest has no {', '.join(missing)}; job not run" if missing else None


def build_jobs(settings: Settings, config: ServiceConfig) -> list[JobSpec]:
    """Every job of this installation, available or not (with the reason)."""
    from hpmon.app import load_source_list

    jobs: list[JobSpec] = []
    for source in load_source_list(settings):
        if not source.enabled:
            continue
        feeds = tuple(source.urls) if source.kind == "rss" else ()
        jobs.append(JobSpec(id=f"crawl:{source.id}", kind="crawl", interval=config.interval_for_kind(source.kind),
                            argv=("--source", source.id), source_id=source.id, feed_urls=feeds))
    jobs.append(JobSpec(id="alerts", kind="alerts", interval=config.alerts_interval, argv=("alerts", "deliver"),
                        unavailable=_unavailable_reason("alerts.engine", ("alerts", "deliver"), "issue 6")))
    jobs.append(JobSpec(id="digest", kind="digest", interval=config.digest_interval, unavailable=digest_api_reason()))
    jobs.append(JobSpec(id="recheck", kind="recheck", interval=config.recheck_interval, argv=("recheck",),
                        unavailable=None if _cli_has("recheck") else
                        "command `hpmon recheck` is not registered in hpmon.cli (evidence re-check); job not run"))
    if settings.index == "elasticsearch":
        jobs.append(JobSpec(id="index-flush", kind="index-flush", interval=config.flush_interval,
                            argv=("index", "flush")))
    jobs.append(JobSpec(id="health", kind="health", interval=config.health_interval, writes=False))
    return jobs


# -- children -----------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    """Ask the kernel to SIGKILL this child when the service dies (kill -9 included), so an
    orphaned crawl never runs alongside the next service's."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass
class Child:
    """A running child process and the jobs it does."""

    jobs: list[JobSpec]
    proc: subprocess.Popen
    started: datetime
    started_mono: float
    out_path: Path
    err_path: Path
    terminated: bool = False  # we sent SIGTERM (shutdown or timeout)
    timed_out: bool = False
    kill_at: float | None = None

    @property
    def job_ids(self) -> list[str]:
        return [j.id for j in self.jobs]


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()


def _crawl_rows(stdout: str) -> dict[str, dict]:
    try:
        rows = json.loads(stdout)
    except ValueError:
        return {}
    return {r.get("source"): r for r in rows if isinstance(r, dict)} if isinstance(rows, list) else {}


# -- the service --------------------------------------------------------------------------


@dataclass
class Service:
    """The scheduler loop. ``run()`` returns the process exit code."""

    settings: Settings
    config: ServiceConfig
    python: str = field(default_factory=lambda: sys.executable)
    children: list[Child] = field(default_factory=list)
    _stop_signal: int | None = None
    _reload_requested: bool = False
    _disk_paused: bool = False
    _pending_writes: list[tuple] = field(default_factory=list)

    # entry point ---------------------------------------------------------------------------

    def run(self) -> int:
        lock = InstanceLock(self.settings.home)
        lock.acquire()  # raises AlreadyRunning
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._on_reload)
        store = JobStore(self.settings.app_db_path)
        try:
            jobs = self._start(store)
            while self._stop_signal is None:
                if self._reload_requested:
                    self._reload_requested = False
                    jobs = self._reload(store, jobs)
                self._tick(store, jobs)
                self._sleep(TICK_SECONDS)
            self._shutdown(store)
            return 0
        finally:
            store.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            lock.release()

    def _on_signal(self, signum: int, frame: object) -> None:
        if self._stop_signal is not None:  # a second signal: do not wait any more
            for child in self.children:
                _signal_group(child.proc, signal.SIGKILL)
            return
        self._stop_signal = signum

    def _on_reload(self, signum: int, frame: object) -> None:
        self._reload_requested = True

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self._stop_signal is None and time.monotonic() < end:
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    # start-up ----------------------------------------------------------------------------

    def _start(self, store: JobStore) -> dict[str, JobSpec]:
        now = utcnow()
        run_dir = self.settings.home / RUN_DIR
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in run_dir.glob("*"):  # outputs of children of a killed service
            stale.unlink(missing_ok=True)
        jobs = {j.id: j for j in build_jobs(self.settings, self.config)}
        interrupted = store.recover_interrupted(now)
        for job_id in interrupted:
            logger.warning("job %s was interrupted by the last stop; it runs again now", job_id,
                           extra={"job": job_id})
        self._forget_validators([jobs[j] for j in interrupted if j in jobs])
        self._register(store, jobs, now)
        store.prune(now)
        store.set_state("started", json.dumps({"pid": os.getpid(), "at": iso(now)}))
        logger.info("hpmon run started (pid %s): %d jobs, %d available; stop bound %.0f s", os.getpid(), len(jobs),
                    sum(not j.unavailable for j in jobs.values()), shutdown_bound(self.config))
        return jobs

    def _register(self, store: JobStore, jobs: dict[str, JobSpec], now: datetime) -> list[str]:
        """Put the configured jobs in the job table and take out those no longer configured;
        returns the ids taken out."""
        for job in jobs.values():
            store.register(job.id, job.kind, job.interval, job.unavailable, now)
            if job.unavailable:
                logger.warning("job %s unavailable: %s", job.id, job.unavailable, extra={"job": job.id})
        return store.retire(set(jobs))

    def _reload(self, store: JobStore, jobs: dict[str, JobSpec]) -> dict[str, JobSpec]:
        """SIGHUP: read the sources again and schedule what changed (sources added, removed,
        disabled, or of another kind). A registry that does not load keeps the current jobs,
        with the reason logged. Running jobs finish as they started; the other configuration
        files (alerts, digests, lexicons, city profile) are read by each job when it starts,
        so they need no reload."""
        from crawlers.sources import SourceError

        try:
            fresh = {j.id: j for j in build_jobs(self.settings, self.config)}
        except (SourceError, OSError, ValueError) as exc:
            logger.error("tải lại thất bại / reload failed, the current jobs are kept: %s", exc)
            return jobs
        try:
            removed = self._register(store, fresh, utcnow())
        except sqlite3.Error as exc:
            logger.error("reload failed, cannot write the job table (the current jobs are kept): %s", exc)
            return jobs
        added = sorted(set(fresh) - set(jobs))
        logger.warning("reloaded the configuration: %d jobs (%d added%s, %d removed%s)", len(fresh), len(added),
                       f": {', '.join(added)}" if added else "", len(removed),
                       f": {', '.join(sorted(removed))}" if removed else "")
        return fresh

    def _forget_validators(self, jobs: list[JobSpec]) -> None:
        """An interrupted crawl may have read a feed without fetching all of its articles; with
        the feed's ETag kept, the next crawl would get 304 and never see them. Forget it."""
        urls = [u for j in jobs for u in j.feed_urls]
        if not urls:
            return
        from crawlers.state import CrawlState

        state = CrawlState(self.settings.state_path)
        try:
            for url in urls:
                state.save_validators(url, None, None)
        finally:
            state.close()

    # the loop ----------------------------------------------------------------------------

    def _tick(self, store: JobStore, jobs: dict[str, JobSpec]) -> None:
        self._flush_pending(store)
        self._reap(store, jobs)
        self._enforce_timeouts()
        if self._stop_signal is not None:
            return
        self._launch_due(store, jobs)

    def _busy(self) -> set[str]:
        return {job_id for child in self.children for job_id in child.job_ids}

    def _disk_ok(self) -> bool:
        """False (and says so once) while HOME has less than ``min_free_mb`` free."""
        try:
            free_mb = shutil.disk_usage(self.settings.home).free / 1_000_000
        except OSError as exc:
            logger.error("cannot read disk usage of %s: %s", self.settings.home, exc)
            return True
        paused = free_mb < self.config.min_free_mb
        if paused and not self._disk_paused:
            logger.error("ổ đĩa gần đầy / disk almost full: %s has %.1f MB free (< %d MB): crawling, indexing and "
                         "sending are paused until space is freed", self.settings.home, free_mb,
                         self.config.min_free_mb)
        elif not paused and self._disk_paused:
            logger.warning("disk space is back (%.1f MB free on %s): jobs resume", free_mb, self.settings.home)
        self._disk_paused = paused
        return not paused

    def _launch_due(self, store: JobStore, jobs: dict[str, JobSpec]) -> None:
        now = utcnow()
        try:
            due_at = store.next_due()
        except sqlite3.Error as exc:
            logger.error("cannot read the job table: %s", exc)
            return
        busy = self._busy()
        due = [jobs[j] for j, at in sorted(due_at.items(), key=lambda kv: kv[1])
               if j in jobs and at <= now and j not in busy and not jobs[j].unavailable]
        if not due:
            return
        disk_ok = self._disk_ok()
        order = {"alerts": 0, "digest": 1, "index-flush": 2, "crawl": 3, "recheck": 4, "health": 5}
        due.sort(key=lambda j: order.get(j.kind, 9))
        crawl_batch = [j for j in due if j.kind == "crawl"]
        for job in due:
            if len(self.children) >= self.config.max_children:
                return
            if job.writes and not disk_ok:
                continue
            if job.kind == "crawl":
                if crawl_batch:
                    self._spawn(store, crawl_batch, now)
                    crawl_batch = []
                continue
            self._spawn(store, [job], now)

    def _argv(self, jobs: list[JobSpec]) -> list[str]:
        base_opts = ["--home", str(self.settings.home)]
        if self.settings.sources_file:
            base_opts += ["--sources-file", str(self.settings.sources_file)]
        kind = jobs[0].kind
        if kind == "crawl":
            return [self.python, "-m", "hpmon", *base_opts, "crawl", *[a for j in jobs for a in j.argv], "--json"]
        if kind in ("health", "digest"):
            return [self.python, "-m", "hpmon.service", *base_opts, "job", kind]
        return [self.python, "-m", "hpmon", *base_opts, *jobs[0].argv]

    def _spawn(self, store: JobStore, jobs: list[JobSpec], now: datetime) -> None:
        run_dir = self.settings.home / RUN_DIR
        name = jobs[0].id.replace(":", "-") if len(jobs) == 1 else f"crawl-batch-{len(jobs)}"
        stamp = f"{name}-{int(time.time() * 1000)}"
        out_path, err_path = run_dir / f"{stamp}.out", run_dir / f"{stamp}.err"
        argv = self._argv(jobs)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            with out_path.open("wb") as out, err_path.open("wb") as err:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                        start_new_session=True, preexec_fn=_die_with_parent,
                                        close_fds=True)
        except OSError as exc:
            reason = f"cannot start the job: {type(exc).__name__}: {exc}"
            if exc.errno == errno.ENOSPC:
                reason = f"disk full, cannot start the job: {exc}"
            logger.error("%s: %s", ",".join(j.id for j in jobs), reason)
            for job in jobs:
                self._write(store, "finished", job.id, "failed", reason, now, now + timedelta(seconds=job.interval))
            return
        child = Child(jobs=jobs, proc=proc, started=now, started_mono=time.monotonic(), out_path=out_path,
                      err_path=err_path)
        self.children.append(child)
        logger.info("started %s (pid %s)", ", ".join(child.job_ids), proc.pid, extra={"job": child.job_ids[0]})
        self._write(store, "started", child.job_ids, proc.pid, now)

    def _enforce_timeouts(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.proc.poll() is not None:
                continue
            if not child.terminated and now - child.started_mono > self.config.job_timeout:
                logger.error("%s ran longer than %.0f s: stopping it", ", ".join(child.job_ids),
                             self.config.job_timeout)
                child.timed_out = True
                self._terminate(child)
            elif child.kill_at is not None and now >= child.kill_at:
                _signal_group(child.proc, signal.SIGKILL)

    def _terminate(self, child: Child) -> None:
        child.terminated = True
        child.kill_at = time.monotonic() + self.config.shutdown_grace
        _signal_group(child.proc, signal.SIGTERM)

    def _reap(self, store: JobStore, jobs: dict[str, JobSpec]) -> None:
        for child in list(self.children):
            code = child.proc.poll()
            if code is None:
                continue
            self.children.remove(child)
            self._record_exit(store, child, code)

    def _record_exit(self, store: JobStore, child: Child, code: int) -> None:
        now = utcnow()
        stdout = _tail(child.out_path, 200_000)
        stderr = _tail(child.err_path)
        rows = _crawl_rows(stdout) if child.jobs[0].kind == "crawl" else {}
        interrupted: list[JobSpec] = []
        for job in child.jobs:
            if child.timed_out:
                outcome, detail = "timeout", f"stopped after {self.config.job_timeout:.0f} s"
            elif code != 0:
                outcome = "interrupted" if child.terminated else "failed"
                detail = f"exit {code}: {stderr[-800:]}"
            elif child.terminated and job.kind == "crawl":
                outcome, detail = "interrupted", "stopped by the service before the crawl finished"
            else:
                outcome, detail = "ok", stdout[-800:] if job.kind != "crawl" else ""
                row = rows.get(job.source_id)
                if row is not None:
                    detail = json.dumps(row, ensure_ascii=False)
                    if row.get("failed") and not row.get("fetched") and not row.get("not_modified"):
                        outcome = "source_failed"
            if job.kind == "crawl" and outcome in ("interrupted", "timeout", "failed"):
                interrupted.append(job)
            due = now if outcome == "interrupted" else now + timedelta(seconds=job.interval)
            level = logging.INFO if outcome in ("ok", "source_failed") else logging.ERROR
            logger.log(level, "%s finished: %s", job.id, outcome, extra={"job": job.id, "source": job.source_id})
            self._write(store, "finished", job.id, outcome, detail, now, due)
        self._forget_validators(interrupted)
        for path in (child.out_path, child.err_path):
            path.unlink(missing_ok=True)

    def _write(self, store: JobStore, method: str, *args: Any) -> None:
        """A job-table write; kept in memory and retried when it fails (full disk, busy database)."""
        try:
            getattr(store, method)(*args)
        except sqlite3.Error as exc:
            logger.error("cannot write the job table (%s); will retry: %s", method, exc)
            self._pending_writes.append((method, args))

    def _flush_pending(self, store: JobStore) -> None:
        pending, self._pending_writes = self._pending_writes, []
        for method, args in pending:
            self._write(store, method, *args)

    # shutdown ----------------------------------------------------------------------------

    def _shutdown(self, store: JobStore) -> None:
        signame = signal.Signals(self._stop_signal).name if self._stop_signal else "?"
        logger.warning("%s received: no new jobs; stopping %d running (grace %.0f s)", signame,
                       len(self.children), self.config.shutdown_grace)
        for child in self.children:
            if child.proc.poll() is None:
                self._terminate(child)
        deadline = time.monotonic() + self.config.shutdown_grace
        while self.children and time.monotonic() < deadline:
            self._reap(store, {})
            time.sleep(0.05)
        for child in self.children:
            logger.error("%s did not stop within %.0f s: killed", ", ".join(child.job_ids),
                         self.config.shutdown_grace)
            _signal_group(child.proc, signal.SIGKILL)
        kill_deadline = time.monotonic() + KILL_WAIT_SECONDS
        while self.children and time.monotonic() < kill_deadline:
            self._reap(store, {})
            time.sleep(0.05)
        self._flush_pending(store)
        try:
            store.set_state("stopped", json.dumps({"pid": os.getpid(), "at": iso(utcnow()), "signal": signame}))
        except sqlite3.Error as exc:
            logger.error("cannot record the clean stop: %s", exc)
        logger.info("hpmon run stopped cleanly")


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


# -- jobs that run in a child of this module ----------------------------------------------


def run_digest_job(settings: Settings, now: datetime | None = None) -> int:
    """Send every due digest; returns how many were sent. What is due, and what was already sent,
    is the digest area's log (so catching up after downtime, and never sending twice, are its job)."""
    from hpmon.commands.digest import send_due_digests

    sent = 0
    for result in send_due_digests(settings, now or utcnow()):
        status = getattr(result, "status", "?")
        logger.info("digest %s of %s: %s", getattr(result, "profile_id", "?"), getattr(result, "day", "?"), status,
                    extra={"job": "digest"})
        sent += status == "sent"
    return sent


def run_health_job(settings: Settings, config: ServiceConfig) -> list[dict]:
    """Look for problems (source down for a day, digest late, disk above the threshold, a job
    failing again and again), record each once a day in ``service_health_events`` and tell the
    admins; returns the problems found."""
    from hpmon.health import find_problems, health_report, notify_admins

    report = health_report(settings, config=config)
    problems = find_problems(report, config)
    store = JobStore(settings.app_db_path)
    try:
        notify_admins(settings, config, store, problems)
    finally:
        store.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m hpmon.service [--home H] [--sources-file F] run | job NAME``: the service and
    its internal jobs, runnable before (and besides) ``hpmon run`` is registered in the CLI.

    Until the ``service_*`` settings exist in hpmon.settings, this entry point reads them from
    ``HPMON_SERVICE_<NAME>`` environment variables (like load_settings reads the others)."""
    import argparse

    from hpmon.logjson import setup_json_logging
    from hpmon.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m hpmon.service")
    parser.add_argument("--home", type=Path)
    parser.add_argument("--sources-file", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    job = sub.add_parser("job")
    job.add_argument("name", choices=["health", "digest"])
    args = parser.parse_args(argv)
    settings = load_settings(home=args.home, sources_file=args.sources_file)
    overrides = {k[len("HPMON_SERVICE_"):].lower(): v for k, v in os.environ.items()
                 if k.startswith("HPMON_SERVICE_")}
    config = ServiceConfig.from_settings(settings, overrides)
    setup_json_logging(settings.log_dir, settings.log_level, stream=sys.stderr,
                       stream_level="INFO" if args.command == "run" else "WARNING")
    if args.command == "run":
        try:
            return Service(settings, config).run()
        except AlreadyRunning as exc:
            logger.error("%s", exc)
            print(str(exc), file=sys.stderr)
            return 75  # EX_TEMPFAIL: systemd must not hammer it
    if args.name == "health":
        problems = run_health_job(settings, config)
        print(json.dumps(problems, ensure_ascii=False))
        return 0
    reason = digest_api_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    print(json.dumps({"sent": run_digest_job(settings)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
