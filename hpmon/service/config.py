"""The service's settings (``Settings.service_*``) and the stop bound they give.

``ServiceConfig`` has one field per ``Settings.service_<name>`` setting, named without the
prefix, with that setting's type, default and constraints: it is built from the settings model,
so a default is written once (in hpmon/settings.py) and values are validated by pydantic."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from hpmon.settings import Settings

KILL_WAIT_SECONDS = 5.0  # after SIGKILL, how long to wait for the kernel to reap
SETTING_PREFIX = "service_"


# -- configuration ------------------------------------------------------------------------


class _ServiceConfigBase(BaseModel):
    """What ``ServiceConfig`` does; its fields come from ``Settings`` (see below)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def interval_for_kind(self, kind: str) -> float:
        """Seconds between two crawls of a source of this kind."""
        field = {"rss": "feed_interval", "news_search": "news_search_interval", "gdelt": "gdelt_interval",
                 "sitemap": "sitemap_interval", "listing": "listing_interval", "pages": "pages_interval"}
        return getattr(self, field.get(kind, "feed_interval"))

    @classmethod
    def from_settings(cls, settings: Settings, overrides: Mapping[str, Any] | None = None) -> _ServiceConfigBase:
        """The configuration from ``settings.service_*``, then ``overrides`` (names without the
        prefix; strings are converted by the field's type, an unknown name is an error)."""
        values = {name: getattr(settings, SETTING_PREFIX + name) for name in cls.model_fields
                  if hasattr(settings, SETTING_PREFIX + name)}
        return cls.model_validate({**values, **(overrides or {})})


def service_fields() -> dict[str, str]:
    """``ServiceConfig`` field name -> the ``Settings`` name it is read from."""
    return {name.removeprefix(SETTING_PREFIX): name for name in Settings.model_fields
            if name.startswith(SETTING_PREFIX)}


#: The service's configuration: ``feed_interval``, ``max_children``, ... (every
#: ``Settings.service_*`` setting without its prefix), frozen, with the settings' defaults.
ServiceConfig = create_model(
    "ServiceConfig",
    __base__=_ServiceConfigBase,
    __module__=__name__,
    __doc__="The service's settings: one field per ``Settings.service_<field>``, with its type and default.",
    **{short: (Settings.model_fields[name].annotation, copy.copy(Settings.model_fields[name]))
       for short, name in service_fields().items()},
)


def shutdown_bound(config: ServiceConfig) -> float:
    """The most seconds ``hpmon run`` takes to exit after SIGTERM: the children's grace period,
    the SIGKILL wait, and a margin for writing the job table."""
    return config.shutdown_grace + KILL_WAIT_SECONDS + 5.0
