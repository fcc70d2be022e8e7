"""The service's settings (``Settings.service_*``) and the stop bound they give."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpmon.settings import Settings

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


