"""The other areas' services the web app shows: the rebuttal cases (with the evidence library),
alerts and digests. Each is built from the settings; a page is offered only when its service could
be built (its flag in ``features``), so a missing or broken part hides one page, not the app."""

from __future__ import annotations

import logging
from typing import Any

from index.backend import Backend

log = logging.getLogger(__name__)


def load_services(settings: Any, backend: Backend) -> tuple[dict[str, Any], dict[str, bool]]:
    """The services that could be built and a flag per optional page (cases, alerts, digests)."""
    services: dict[str, Any] = {}
    try:
        from records.cases import CaseStore
        from records.library import LibraryStore

        services["cases"] = CaseStore(settings.app_db_path)
        services["library"] = LibraryStore(settings.app_db_path)
        from records.figures import OfficialFigures

        services["figures"] = OfficialFigures(settings.app_db_path)
    except ImportError as exc:
        log.warning("rebuttal queue not available: %s", exc)
    try:
        import alerts.delivery  # noqa: F401
        import alerts.rules  # noqa: F401

        services["alerts"] = True
    except ImportError as exc:
        log.warning("alerts not available: %s", exc)
    try:
        import alerts.digest.render  # noqa: F401

        services["digests"] = True
    except ImportError as exc:
        log.warning("digests not available: %s", exc)
    return services, {"cases": "cases" in services, "figures": "figures" in services, "alerts": "alerts" in services,
                      "digests": "digests" in services}
