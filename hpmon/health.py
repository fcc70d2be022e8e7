"""How the installation is doing: the health report of ``hpmon status``, ``/healthz`` and
``/metrics``. It lives in the service package (:mod:`hpmon.service.health`, which says why);
this module names its functions for the commands and the web app."""

from __future__ import annotations

from hpmon.service.health import (
    alert_deliveries,
    articles_per_hour,
    disk_usage,
    find_problems,
    health_report,
    late_digests,
    notify_admins,
    prometheus_text,
)

__all__ = ["alert_deliveries", "articles_per_hour", "disk_usage", "find_problems", "health_report", "late_digests",
           "notify_admins", "prometheus_text"]
