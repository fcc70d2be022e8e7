"""How the installation is doing, in one dictionary: the service and its jobs, each source's
last success and error streak, the index and its outbox, articles per hour, alert deliveries,
disk use. Read by ``hpmon status``, by the web app's ``/healthz`` and ``/metrics``
(:func:`health_report`, :func:`prometheus_text`) and by the service's health job, which turns
problems into admin alerts (:func:`find_problems`, :func:`notify_admins`).

It is part of the service package because it reads the service's job table and lock and the
service's health job runs it: outside the package it would import ``hpmon.service`` (whose
``__init__`` imports the jobs) while the jobs import it, a loop. ``hpmon.health`` names the
same functions for the commands and the web app.

Everything here only reads (except :func:`notify_admins`); a part that cannot be read is
reported with its reason instead of failing the whole report.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest

from hpbase.clock import iso, parse_iso, utcnow
from hpmon.service.config import ServiceConfig
from hpmon.service.jobstore import read_jobs
from hpmon.service.lock import running_pid
from hpmon.settings import Settings

if TYPE_CHECKING:
    from hpmon.service.jobstore import JobStore

logger = logging.getLogger(__name__)

# Alert delivery states counted as waiting / failed, whatever the alerts module calls its table.
_PENDING_STATES = {"pending", "sending", "queued", "retry", "retrying", "waiting", "new"}
_FAILED_STATES = {"failed", "error", "dead", "gave_up", "permanent_failure"}


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def disk_usage(path: Path) -> dict[str, Any]:
    """Total, used and free bytes of the file system holding ``path``, and the used percent."""
    probe = path if path.exists() else path.parent
    usage = shutil.disk_usage(probe)
    return {"path": str(path), "total_bytes": usage.total, "used_bytes": usage.used, "free_bytes": usage.free,
            "used_percent": round(100.0 * usage.used / usage.total, 1) if usage.total else 0.0}


def _sources(settings: Settings) -> list[dict[str, Any]]:
    from crawlers.state import CrawlState
    from hpmon.app import load_source_list

    try:
        sources = load_source_list(settings)
    except Exception as exc:  # an invalid registry is a finding, not a crash of the status page
        return [{"id": "?", "error": f"sources cannot be read: {exc}"}]
    health: dict[str, dict] = {}
    if settings.state_path.exists():
        state = CrawlState(settings.state_path)
        try:
            health = state.health()
        finally:
            state.close()
    out = []
    for s in sources:
        h = health.get(s.id, {})
        out.append({"id": s.id, "kind": s.kind, "enabled": s.enabled, "last_fetch": h.get("last_fetch"),
                    "last_success": h.get("last_success"), "last_new": h.get("last_new"),
                    "error_streak": h.get("error_streak", 0), "last_error": (h.get("last_error") or "")[:300] or None,
                    "last_error_at": h.get("last_error_at")})
    return out


def articles_per_hour(state_path: Path, now: datetime, hours: int = 24) -> list[dict[str, Any]]:
    """Articles newly indexed per hour over the last ``hours`` hours, by the time they were
    fetched (from the crawl state's seen-URL store, so it is the same for both engines)."""
    if not state_path.exists():
        return []
    since = now - timedelta(hours=hours)
    conn = _ro(state_path)
    try:
        rows = conn.execute(
            "SELECT substr(last_attempt, 1, 13) AS hour, count(*) FROM seen WHERE outcome = 'indexed' "
            "AND last_attempt >= ? GROUP BY hour ORDER BY hour", (iso(since, offset="Z"),)).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [{"hour": f"{hour}:00Z", "articles": n} for hour, n in rows]


def _index(settings: Settings) -> dict[str, Any]:
    from hpmon.app import open_backend

    info: dict[str, Any] = {"engine": settings.index}
    if settings.index == "sqlite" and not settings.index_path.exists():
        info["articles"] = 0
        return info
    try:
        backend = open_backend(settings)
        try:
            info["articles"] = backend.count()
        finally:
            backend.close()
    except Exception as exc:  # the engine may be down: that is what the report is for
        info["error"] = f"{type(exc).__name__}: {exc}"[:300]
    if settings.index == "elasticsearch" and settings.outbox_path.exists():
        from index.outbox import Outbox

        outbox = Outbox(settings.outbox_path)
        try:
            info["outbox_depth"] = outbox.depth()
        finally:
            outbox.close()
    return info


def alert_deliveries(app_db: Path) -> dict[str, Any]:
    """Alert deliveries by state, from the alerts module's table when it exists (any
    ``alert_*`` table with a ``state`` or ``status`` column)."""
    if not app_db.exists():
        return {"available": False, "reason": "no office database yet"}
    conn = _ro(app_db)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'alert%' ORDER BY name")]
        for table in sorted(tables, key=lambda t: ("deliver" not in t, t)):
            columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
            column = "state" if "state" in columns else "status" if "status" in columns else None
            if column is None:
                continue
            counts = dict(conn.execute(f'SELECT "{column}", count(*) FROM "{table}" GROUP BY "{column}"').fetchall())
            return {"available": True, "table": table, "by_state": counts,
                    "pending": sum(n for k, n in counts.items() if str(k).lower() in _PENDING_STATES),
                    "failed": sum(n for k, n in counts.items() if str(k).lower() in _FAILED_STATES)}
    except sqlite3.Error as exc:
        return {"available": False, "reason": str(exc)}
    finally:
        conn.close()
    return {"available": False, "reason": "the alerts module has not created its delivery table"}


def late_digests(settings: Settings, now: datetime, late_hours: float) -> dict[str, Any]:
    """Digests due for longer than ``late_hours`` and still not sent (from the digest log)."""
    from hpmon.commands.digest import digest_service

    try:
        service = digest_service(settings)
        try:
            due = service.due_digests(now)
            late = [{"profile": profile, "day": day.isoformat()} for profile, day in due
                    if now - service.due_at(profile, day) > timedelta(hours=late_hours)]
        finally:
            service.close()
    except Exception as exc:  # a broken digest configuration is a finding, not a crash of the report
        return {"available": True, "error": f"{type(exc).__name__}: {exc}"[:300], "late": []}
    return {"available": True, "due": len(due), "late": late}


def health_report(settings: Settings, *, config: ServiceConfig | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """Everything ``hpmon status``, ``/healthz`` and ``/metrics`` show, as plain JSON-able
    values; ``problems`` lists what an admin should act on and ``status`` sums it up
    ("ok", "degraded" or "failing")."""
    from hpmon import __version__

    config = config or ServiceConfig.from_settings(settings)
    now = now or utcnow()
    pid = running_pid(settings.home)
    report: dict[str, Any] = {
        "generated_at": now.isoformat(timespec="seconds"),
        "version": __version__,
        "home": str(settings.home),
        "service": {"running": pid is not None, "pid": pid if pid and pid > 0 else None,
                    "jobs": read_jobs(settings.app_db_path)},
        "sources": _sources(settings),
        "index": _index(settings),
        "articles_per_hour": articles_per_hour(settings.state_path, now),
        "alerts": alert_deliveries(settings.app_db_path),
        "digests": late_digests(settings, now, config.digest_late_hours),
        "disk": disk_usage(settings.home),
    }
    report["problems"] = find_problems(report, config, now=now)
    severities = {p["severity"] for p in report["problems"]}
    report["status"] = "failing" if "critical" in severities else "degraded" if severities else "ok"
    return report


def find_problems(report: dict[str, Any], config: ServiceConfig, *, now: datetime | None = None) -> list[dict]:
    """The problems in a report an admin must hear about: a source failing for more than
    ``source_failure_hours``, a late digest, the disk above ``disk_alert_percent``, a job failing
    three times in a row, alert deliveries that failed. Each has a stable ``key`` (one alert per
    key and day) and a bilingual message."""
    now = now or parse_iso(report.get("generated_at")) or utcnow()
    problems: list[dict[str, Any]] = []
    window = timedelta(hours=config.source_failure_hours)
    jobs = {j["job_id"]: j for j in report.get("service", {}).get("jobs", [])}
    for s in report.get("sources", []):
        if not s.get("enabled") or not s.get("error_streak"):
            continue
        last_ok = parse_iso(s.get("last_success"))
        known_since = parse_iso((jobs.get(f"crawl:{s['id']}") or {}).get("created_at"))
        failing_since = last_ok or known_since
        if failing_since is not None and now - failing_since >= window:
            problems.append({
                "key": f"source_down:{s['id']}", "kind": "source_down", "severity": "warning",
                "message": f"Nguồn {s['id']} lỗi liên tục hơn {config.source_failure_hours:.0f} giờ "
                           f"(thành công lần cuối: {s.get('last_success') or 'chưa bao giờ'}; "
                           f"lỗi: {s.get('last_error')}) "
                           f"/ source {s['id']} has failed for over {config.source_failure_hours:.0f} h "
                           f"({s.get('error_streak')} errors in a row)"})
    disk = report.get("disk", {})
    if disk.get("used_percent", 0) >= config.disk_alert_percent:
        problems.append({
            "key": f"disk:{disk.get('path')}", "kind": "disk", "severity": "critical",
            "message": f"Ổ đĩa đã dùng {disk['used_percent']}% ({disk.get('path')}) / disk {disk['used_percent']}% "
                       f"full (threshold {config.disk_alert_percent:.0f}%, "
                       f"{disk.get('free_bytes', 0) // 1_000_000} MB free)"})
    for item in report.get("digests", {}).get("late", []):
        problems.append({
            "key": f"digest_late:{item['profile']}:{item['day']}", "kind": "digest_late", "severity": "critical",
            "message": f"Bản tin ngày {item['day']} ({item['profile']}) chưa được gửi / the {item['profile']} digest "
                       f"of {item['day']} has not been sent"})
    for job in jobs.values():
        if job.get("kind") == "crawl" or (job.get("fail_streak") or 0) < 3:
            continue
        problems.append({
            "key": f"job_failing:{job['job_id']}", "kind": "job_failing", "severity": "warning",
            "message": f"Tác vụ {job['job_id']} thất bại {job['fail_streak']} lần liên tiếp / job {job['job_id']} "
                       f"failed {job['fail_streak']} times in a row: {(job.get('last_detail') or '')[:300]}"})
    failed = report.get("alerts", {}).get("failed") or 0
    if failed:
        problems.append({
            "key": "alert_delivery_failed", "kind": "alert_delivery", "severity": "warning",
            "message": f"{failed} cảnh báo gửi thất bại / {failed} alert deliveries failed for good"})
    return problems


def notify_admins(settings: Settings, config: ServiceConfig, store: JobStore, problems: list[dict],
                  *, now: datetime | None = None) -> list[dict]:
    """Record each problem once a day (``service_health_events``), log it as an error, and mail
    the ones not yet told to the ``admin_recipients`` list; returns the events notified now.
    Without SMTP or admins the events stay recorded and logged only (said once per run)."""
    now = now or utcnow()
    for p in problems:
        if store.record_event(p["key"], p["kind"], p["severity"], p["message"], now):
            logger.error("health: %s", p["message"], extra={"job": "health"})
    events = store.unnotified_events(now)
    if not events:
        return []
    admins = settings.recipients.get(config.admin_recipients) or []
    if not settings.smtp_host or not admins:
        logger.error("health: %d problems not mailed: no SMTP server or no '%s' recipient list",
                     len(events), config.admin_recipients)
        return []
    from alerts.mail import MailError, send_mail
    from hpmon.app import smtp_config

    message = EmailMessage()
    message["Subject"] = f"[hpmon] Cảnh báo vận hành: {len(events)} sự cố / operations alert: {len(events)} problems"
    message["To"] = ", ".join(admins)
    message["From"] = settings.smtp_from
    lines = [f"- [{e['severity']}] {e['message']}" for e in events]
    message.set_content("hpmon — sự cố vận hành / operations problems\n\n" + "\n".join(lines) +
                        f"\n\nMáy chủ / home: {settings.home}\n`hpmon status` để xem chi tiết / for details.\n")
    try:
        send_mail(smtp_config(settings), message)
    except MailError as exc:
        logger.error("health: admin alert not sent (%s); retried at the next check", exc)
        store.mark_notified([e["id"] for e in events], now, str(exc)[:500])
        return []
    store.mark_notified([e["id"] for e in events], now, None)
    return events


# -- Prometheus -----------------------------------------------------------------------------


def _ts(text: str | None) -> float | None:
    dt = parse_iso(text)
    return dt.timestamp() if dt else None


def _gauges(report: dict[str, Any]) -> dict[str, tuple[str, list[tuple[dict[str, Any], float]]]]:
    """The report's gauges: name -> (help text, [(labels, value)]); a value the report lacks is left out."""
    families: dict[str, tuple[str, list[tuple[dict[str, Any], float]]]] = {}

    def add(name: str, help_text: str, value: float | None, labels: dict[str, Any] | None = None) -> None:
        if value is None:
            return
        families.setdefault(name, (help_text, []))[1].append((labels or {}, float(value)))

    service = report.get("service", {})
    add("hpmon_service_up", "1 when `hpmon run` holds the data directory's lock.", 1 if service.get("running") else 0)
    for job in service.get("jobs", []):
        labels = {"job": job["job_id"], "kind": job["kind"]}
        add("hpmon_job_last_success_timestamp_seconds", "Last successful finish of the job.", _ts(job.get("last_ok")),
            labels)
        add("hpmon_job_failures_in_a_row", "Consecutive failed runs of the job.", job.get("fail_streak") or 0, labels)
        add("hpmon_job_running", "1 while a child process runs the job.", 1 if job.get("running_pid") else 0, labels)
    for s in report.get("sources", []):
        if "kind" not in s:
            continue
        labels = {"source": s["id"], "kind": s["kind"]}
        add("hpmon_source_last_success_timestamp_seconds", "Last successful fetch of the source's listing.",
            _ts(s.get("last_success")), labels)
        add("hpmon_source_error_streak", "Consecutive failures of the source.", s.get("error_streak") or 0, labels)
    index = report.get("index", {})
    add("hpmon_index_articles", "Articles stored in the index.", index.get("articles"), {"engine": index.get("engine")})
    add("hpmon_index_up", "1 when the index engine answered.", 0 if "error" in index else 1,
        {"engine": index.get("engine")})
    add("hpmon_outbox_depth", "Articles waiting in the outbox for Elasticsearch.", index.get("outbox_depth"))
    hours = report.get("articles_per_hour", [])
    add("hpmon_articles_indexed_last_hour", "Articles newly indexed during the last full hour of the report.",
        hours[-1]["articles"] if hours else 0)
    add("hpmon_articles_indexed_24h", "Articles newly indexed in the last 24 hours.", sum(h["articles"] for h in hours))
    alerts = report.get("alerts", {})
    if alerts.get("available"):
        add("hpmon_alert_deliveries_pending", "Alert deliveries waiting to be sent.", alerts.get("pending", 0))
        add("hpmon_alert_deliveries_failed", "Alert deliveries that failed for good.", alerts.get("failed", 0))
    digests = report.get("digests", {})
    if digests.get("available"):
        add("hpmon_digests_late", "Digests due and not sent in time.", len(digests.get("late", [])))
    disk = report.get("disk", {})
    add("hpmon_disk_used_ratio", "Used share of the data directory's file system.",
        (disk.get("used_percent") or 0) / 100.0)
    add("hpmon_disk_free_bytes", "Free bytes on the data directory's file system.", disk.get("free_bytes"))
    add("hpmon_problems", "Problems an admin should act on.", len(report.get("problems", [])))
    return families


class _ReportCollector:
    """One report as a prometheus_client collector (``collect`` is all generate_latest asks)."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (help_text, samples) in _gauges(self.report).items():
            keys = list(samples[0][0])
            family = GaugeMetricFamily(name, help_text, labels=keys)
            for labels, value in samples:
                family.add_metric([str(labels[k]) for k in keys], value)
            yield family


def prometheus_text(report: dict[str, Any]) -> str:
    """The report in the Prometheus text exposition format (version 0.0.4), for ``/metrics``,
    written by prometheus_client (label escaping, full-precision values)."""
    return generate_latest(_ReportCollector(report)).decode("utf-8")
