"""``hpmon run``: the long-running service. It owns scheduling, the single-instance lock,
health checks and shutdown; the work itself runs in child processes. Modules: ``config`` (the
``service_*`` settings), ``lock``, ``jobstore`` (the durable job table), ``jobs`` (what runs),
``scheduler`` (the loop), ``health`` (the installation's health report, which the health job runs and
``hpmon doctor`` and ``/healthz`` show); ``python -m hpmon.service job …`` runs the two internal jobs.

Why children: a crawl runs the Twisted reactor, which can start once per process, and a
child that dies (or is killed) cannot take the scheduler with it. Each job is a command:

- ``crawl:<source>`` → ``python -m hpmon crawl --source <id>... --json``; every source has its
  own interval by kind (feeds often, sitemaps and listings less, news search and GDELT within
  their rate limits); sources due at the same moment share one child (one reactor);
- ``alerts`` → ``python -m hpmon alerts deliver``; ``digest`` → ``python -m hpmon.service job
  digest`` (every due digest once, catching up); ``recheck`` → ``python -m hpmon recheck``;
  ``index-flush`` → ``python -m hpmon index flush`` (Elasticsearch only);
- ``health`` → ``python -m hpmon.service job health``: raises admin alerts.

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

from hpbase.clock import iso, utcnow
from hpmon.service.config import ServiceConfig, shutdown_bound
from hpmon.service.jobs import JobSpec, build_jobs, run_digest_job, run_health_job
from hpmon.service.jobstore import JobStore, parse_iso, read_jobs
from hpmon.service.lock import LOCK_FILE, AlreadyRunning, InstanceLock, read_lock_pid, running_pid
from hpmon.service.scheduler import RUN_DIR, Service

__all__ = [
    "LOCK_FILE", "RUN_DIR", "AlreadyRunning", "InstanceLock", "JobSpec", "JobStore", "Service", "ServiceConfig",
    "build_jobs", "iso", "parse_iso", "read_jobs", "read_lock_pid", "run_digest_job", "run_health_job",
    "running_pid", "shutdown_bound", "utcnow",
]
