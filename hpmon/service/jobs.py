"""What the service runs: the jobs of this installation, and the two that run in a child of
``python -m hpmon.service`` (digests, health)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from hpbase.clock import utcnow
from hpmon.service.config import ServiceConfig
from hpmon.service.health import find_problems, health_report, notify_admins
from hpmon.service.jobstore import JobStore
from hpmon.settings import Settings

logger = logging.getLogger("hpmon.service")


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
    writes: bool = True


def build_jobs(settings: Settings, config: ServiceConfig) -> list[JobSpec]:
    """Every job of this installation: a crawl per enabled source, then alerts, digests, the
    evidence re-check, the Elasticsearch outbox (with that engine) and health."""
    from hpmon.app import load_source_list

    jobs: list[JobSpec] = []
    for source in load_source_list(settings):
        if not source.enabled:
            continue
        feeds = tuple(source.urls) if source.kind == "rss" else ()
        jobs.append(JobSpec(id=f"crawl:{source.id}", kind="crawl", interval=config.interval_for_kind(source.kind),
                            argv=("--source", source.id), source_id=source.id, feed_urls=feeds))
    jobs.append(JobSpec(id="alerts", kind="alerts", interval=config.alerts_interval, argv=("alerts", "deliver")))
    jobs.append(JobSpec(id="digest", kind="digest", interval=config.digest_interval))
    jobs.append(JobSpec(id="recheck", kind="recheck", interval=config.recheck_interval, argv=("recheck",)))
    if settings.index == "elasticsearch":
        jobs.append(JobSpec(id="index-flush", kind="index-flush", interval=config.flush_interval,
                            argv=("index", "flush")))
    jobs.append(JobSpec(id="health", kind="health", interval=config.health_interval, writes=False))
    return jobs


# -- jobs that run in a child of this module ----------------------------------------------


def run_digest_job(settings: Settings, now: datetime | None = None) -> int:
    """Send every due digest; returns how many were sent. What is due, and what was already sent,
    is the digest area's log (so catching up after downtime, and never sending twice, are its job)."""
    from hpmon.commands.digest import send_due_digests

    sent = 0
    for result in send_due_digests(settings, now or utcnow()):
        status = getattr(result, "status", "?")
        logger.info("digest %s of %s: %s", getattr(result, "profile", "?"), getattr(result, "day", "?"), status,
                    extra={"job": "digest"})
        sent += status == "sent"
    return sent


def run_health_job(settings: Settings, config: ServiceConfig) -> list[dict]:
    """Look for problems (source down for a day, digest late, disk above the threshold, a job
    failing again and again), record each once a day in ``service_health_events`` and tell the
    admins; returns the problems found."""
    report = health_report(settings, config=config)
    problems = find_problems(report, config)
    store = JobStore(settings.app_db_path)
    try:
        notify_admins(settings, config, store, problems)
    finally:
        store.close()
    return problems


