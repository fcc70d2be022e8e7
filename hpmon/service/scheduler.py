"""The scheduler loop: launches due jobs as child processes, reaps them, records outcomes,
pauses writing on a full disk, reloads the sources on SIGHUP, stops within its bound."""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hpbase.clock import iso, utcnow
from hpmon.exitcodes import EXIT_FAILED
from hpmon.service.config import KILL_WAIT_SECONDS, ServiceConfig, shutdown_bound
from hpmon.service.jobs import JobSpec, build_jobs
from hpmon.service.jobstore import JobStore
from hpmon.service.lock import InstanceLock
from hpmon.settings import Settings

logger = logging.getLogger("hpmon.service")

RUN_DIR = "run"
TICK_SECONDS = 0.25
# After a job hit a full disk (ENOSPC, EDQUOT) while the free space read above the threshold
# (a quota, inodes, a disk that filled between two looks), writing stays paused until this much
# more is free than at the failure, or until DISK_FULL_PROBE_SECONDS have passed: then one round
# runs again, and pauses again if the disk is still full.
DISK_FULL_MARGIN_MB = 50
DISK_FULL_PROBE_SECONDS = 900.0
_DISK_FULL_WORDS = ("disk full at", "No space left on device", "Disk quota exceeded", "database or disk is full")


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
    _disk_full_after: tuple[float, float] | None = None  # (monotonic time, free MB) of a job's ENOSPC
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
        logger.info("hpmon run started (pid %s): %d jobs; stop bound %.0f s", os.getpid(), len(jobs),
                    shutdown_bound(self.config))
        return jobs

    def _register(self, store: JobStore, jobs: dict[str, JobSpec], now: datetime) -> list[str]:
        """Put the configured jobs in the job table and take out those no longer configured;
        returns the ids taken out."""
        for job in jobs.values():
            store.register(job.id, job.kind, job.interval, now)
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

        try:
            state = CrawlState(self.settings.state_path)
            try:
                for url in urls:
                    state.save_validators(url, None, None)
            finally:
                state.close()
        except sqlite3.Error as exc:  # a corrupt crawl state: the crawls that need it fail, the rest goes on
            logger.error("cannot forget the validators of %d feeds: %s is not a readable database (%s%s); the "
                         "crawls fail until it is restored with `hpmon restore BACKUP_DIR --force` (stop `hpmon "
                         "run` first), the other jobs go on", len(urls), self.settings.state_path,
                         type(exc).__name__, f": {exc}" if str(exc) else "")

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

    def _free_mb(self) -> float | None:
        try:
            return shutil.disk_usage(self.settings.home).free / 1_000_000
        except OSError as exc:
            logger.error("cannot read disk usage of %s: %s", self.settings.home, exc)
            return None

    def _disk_ok(self) -> bool:
        """False (and says so once) while HOME has less than ``min_free_mb`` free, or since a job
        ran into a full disk (until space grows or the probe time passes)."""
        free_mb = self._free_mb()
        if free_mb is None:
            return True
        if self._disk_full_after is not None:
            since, free_then = self._disk_full_after
            margin = max(self.config.min_free_mb, DISK_FULL_MARGIN_MB)
            if free_mb >= free_then + margin:
                logger.warning("disk space is back (%.1f MB free on %s, %.1f MB when a job found the disk full): "
                               "jobs resume", free_mb, self.settings.home, free_then)
                self._disk_full_after = None
            elif time.monotonic() - since >= DISK_FULL_PROBE_SECONDS:
                logger.warning("the disk was full %.0f s ago (%.1f MB free on %s now): one round of jobs runs to "
                               "see whether writing works again", DISK_FULL_PROBE_SECONDS, free_mb,
                               self.settings.home)
                self._disk_full_after = None
            else:
                return False
        paused = free_mb < self.config.min_free_mb
        if paused and not self._disk_paused:
            logger.error("ổ đĩa gần đầy / disk almost full: %s has %.1f MB free (< %d MB): crawling, indexing and "
                         "sending are paused until space is freed", self.settings.home, free_mb,
                         self.config.min_free_mb)
        elif not paused and self._disk_paused:
            logger.warning("disk space is back (%.1f MB free on %s): jobs resume", free_mb, self.settings.home)
        self._disk_paused = paused
        return not paused

    def _note_disk_full(self, child: Child, rows: dict[str, dict], stderr: str) -> None:
        """Pause the jobs that write when a job ran into a full disk, whatever the free space
        read before it (its pages were deferred, not lost; the next round would only fail too)."""
        hit = [r.get("source") for r in rows.values() if (r.get("failures") or {}).get("disk_full")]
        if not hit and not any(word in stderr for word in _DISK_FULL_WORDS):
            return
        free_mb = self._free_mb()
        if self._disk_full_after is None:
            logger.error("ổ đĩa đầy / disk full: %s found the disk full at %s (%s MB free now): crawling, indexing "
                         "and sending are paused until space is freed; what it could not write is retried then",
                         ", ".join(child.job_ids), self.settings.home,
                         "?" if free_mb is None else f"{free_mb:.1f}")
        self._disk_full_after = (time.monotonic(), free_mb if free_mb is not None else 0.0)

    def _launch_due(self, store: JobStore, jobs: dict[str, JobSpec]) -> None:
        now = utcnow()
        try:
            due_at = store.next_due()
        except sqlite3.Error as exc:
            logger.error("cannot read the job table: %s", exc)
            return
        busy = self._busy()
        due = [jobs[j] for j, at in sorted(due_at.items(), key=lambda kv: kv[1])
               if j in jobs and at <= now and j not in busy]
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
            elif code != 0 and not (job.kind == "crawl" and code == EXIT_FAILED and rows):
                # a crawl whose every source failed exits EXIT_FAILED: its rows say so (source_failed)
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
        if any(job.writes for job in child.jobs):
            self._note_disk_full(child, rows, stderr)
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


