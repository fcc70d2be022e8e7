"""hpmon's settings: one typed object, loaded once from ``$HPMON_HOME/hpmon.toml`` and
``HPMON_*`` environment variables (which win), then passed down as plain values."""

from __future__ import annotations

import importlib.resources
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The package that holds ``config/`` in a built wheel (pyproject.toml maps it onto the folder).
CONFIG_PACKAGE = "hpmon.defaults"


def default_config_dir() -> Path:
    """The configuration shipped with hpmon: ``config/`` of the checkout this code runs from, else
    the copy packaged in the installed wheel (``hpmon.defaults``, through importlib.resources)."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "config").is_dir():
        return checkout / "config"
    # hpmon.defaults has no __init__.py (it is the config folder), so ask its regular parent
    return Path(str(importlib.resources.files("hpmon"))) / CONFIG_PACKAGE.split(".")[-1]


DEFAULT_CONFIG_DIR = default_config_dir()
SETTINGS_FILE = "hpmon.toml"


class Settings(BaseSettings):
    """Every setting hpmon has. Documented in docs/settings.md (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="HPMON_", extra="forbid")

    home: Path = Field(Path("data"), description="Data directory: index, crawl state, WARC archive, logs.")
    config_dir: Path = Field(DEFAULT_CONFIG_DIR, description="Folder with cities/, sources.yaml, outlets.yaml.")
    city: str = Field("haiphong", description="City profile to use: config_dir/cities/<city>.yaml.")
    sources_file: Path | None = Field(None, description="Source registry; default config_dir/sources.yaml.")
    index: Literal["sqlite", "elasticsearch"] = Field("sqlite", description="Index engine.")
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch URL(s), comma-separated.")
    es_prefix: str = Field("hpmon-articles", description="Elasticsearch read alias and index name prefix.")
    es_api_key: str | None = Field(None, description="Elasticsearch API key (secret: set it in the environment).")
    es_username: str | None = Field(None, description="Elasticsearch basic-auth user.")
    es_password: str | None = Field(None, description="Elasticsearch basic-auth password (secret).")
    es_ca_certs: Path | None = Field(None, description="CA certificate file to verify Elasticsearch's TLS.")
    es_shards: int = Field(1, description="Primary shards per monthly index.")
    es_replicas: int = Field(1, description="Replicas per monthly index (0 on a single node).")
    search_time_limit_ms: int = Field(5000, ge=1, description="Time limit of every search query (hits, facets, "
                                      "histogram), in milliseconds; past it the page says the result is partial.")
    user_agent: str = Field(
        "hpmon/0.1 (+https://github.com/hpmon/hpmon; media monitoring for the Hai Phong foreign-information office)",
        description="User-Agent sent with every request; its first word is matched against robots.txt.",
    )
    download_timeout: float = Field(30.0, description="Seconds before a request is abandoned.")
    max_page_bytes: int = Field(5_000_000, description="Pages larger than this are not downloaded.")
    concurrent_requests: int = Field(16, description="Requests in flight overall.")
    concurrent_per_domain: int = Field(2, description="Requests in flight per domain.")
    download_delay: float = Field(1.0, description="Base delay between requests to a domain (AutoThrottle adapts).")
    autothrottle: bool = Field(True, description="Adapt delays to each server's latency.")
    obey_robots: bool = Field(True, description="Respect robots.txt.")
    fetch_allow_hosts: list[str] = Field(
        default_factory=list,
        description="Internal hosts that may be fetched (`name`, `address` or `host:port`); any other host on a "
                    "loopback, private, link-local or reserved address is refused (reason `blocked_address`).")
    retry_times: int = Field(2, description="Retries of a failed request (timeouts, 5xx, 429).")
    retry_backoff: float = Field(2.0, description="First retry delay in seconds; doubles each retry.")
    max_age_days: int = Field(7, description="Sitemap entries older than this are skipped.")
    min_text_chars: int = Field(80, description=(
        "Extracted text shorter than this, in text units (a Latin letter 1, a CJK ideograph 3), is not an article."))
    workers: int = Field(0, ge=0, description="Processes that decode, extract and classify fetched pages during a "
                         "crawl: 0 = one per available CPU, 1 = in the crawling process (no pool).")
    log_level: str = Field("INFO", description="Level of the log file in home/logs.")
    # -- outgoing mail and webhooks (alerts, digests) --------------------------------------
    smtp_host: str | None = Field(None, description="SMTP server for alerts and digests.")
    smtp_port: int = Field(587, description="SMTP port (587 STARTTLS, 465 TLS, 25 plain).")
    smtp_security: Literal["starttls", "tls", "none"] = Field("starttls", description="SMTP transport security.")
    smtp_username: str | None = Field(None, description="SMTP login.")
    smtp_password: str | None = Field(None, description="SMTP password (secret: environment only).")
    smtp_from: str = Field("hpmon <hpmon@localhost>", description="Sender address of alerts and digests.")
    smtp_timeout: float = Field(30.0, description="Seconds before an SMTP connection attempt is abandoned.")
    webhook_secret: str | None = Field(None, description="Key of the HMAC-SHA256 signature on webhook alerts (secret).")
    recipients: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named recipient lists used by alert rules and digest profiles, e.g. "
                    '{"sotttt": ["a@x.vn"]} (JSON in HPMON_RECIPIENTS); addresses never live in the repository.',
    )
    webhooks: dict[str, str] = Field(default_factory=dict, description="Named webhook URLs (JSON in HPMON_WEBHOOKS).")
    approvers: list[str] = Field(
        default_factory=list, description="Users who may approve and publish a rebuttal (the approver role).")
    # -- the service (`hpmon run`) and data care ---------------------------------------------
    service_feed_interval: float = Field(300.0, description="Seconds between crawls of an RSS/Atom feed.")
    service_news_search_interval: float = Field(900.0, description="Seconds between crawls of a news-search source.")
    service_gdelt_interval: float = Field(900.0, description="Seconds between GDELT queries.")
    service_sitemap_interval: float = Field(1800.0, description="Seconds between crawls of a sitemap source.")
    service_listing_interval: float = Field(1800.0, description="Seconds between crawls of a section listing.")
    service_pages_interval: float = Field(3600.0, description="Seconds between crawls of a `pages` source.")
    service_alerts_interval: float = Field(60.0, description="Seconds between alert delivery rounds.")
    service_digest_interval: float = Field(60.0, description="Seconds between checks for due digests.")
    service_recheck_interval: float = Field(86400.0, description="Seconds between re-checks of preserved evidence.")
    service_health_interval: float = Field(300.0, description="Seconds between health checks.")
    service_flush_interval: float = Field(60.0, description="Seconds between flushes of the Elasticsearch outbox.")
    service_max_children: int = Field(2, description="Jobs (child processes) running at once.")
    service_job_timeout: float = Field(1800.0, description="A job running longer than this is stopped.")
    service_shutdown_grace: float = Field(20.0, description="Seconds jobs get after SIGTERM (exit within this + 10).")
    service_min_free_mb: int = Field(500, description="Below this free space in HOME, jobs that write are paused.")
    service_disk_alert_percent: float = Field(90.0, description="Disk use that raises an admin alert.")
    service_source_failure_hours: float = Field(24.0, description="A source failing this long raises an admin alert.")
    service_digest_late_hours: float = Field(2.0, description="A digest this late raises an admin alert.")
    service_admin_recipients: str = Field("admins", description="Recipient list of admin alerts.")
    retention_text_years: int = Field(5, description="Years full text is kept (0 = forever).")
    retention_warc_years: int = Field(0, description="Years WARC files are kept (0 = forever; cases always).")
    # -- web app -------------------------------------------------------------------------
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of the web app (links in alerts, digests).")
    web_host: str = Field("127.0.0.1", description="Address `hpmon serve` listens on.")
    web_port: int = Field(8000, description="Port `hpmon serve` listens on.")
    secret_key: str | None = Field(None, description="Key signing web sessions (secret); generated into home if unset.")
    web_metrics_allow: list[str] = Field(
        default_factory=list,
        description="CIDR networks whose clients see /metrics and /healthz details (none by default).")
    web_metrics_token: str | None = Field(
        None, description="Bearer token that unlocks /metrics and /healthz details (secret).")

    @property
    def sources_path(self) -> Path:
        return self.sources_file or self.config_dir / "sources.yaml"

    @property
    def city_path(self) -> Path:
        return self.config_dir / "cities" / f"{self.city}.yaml"

    @property
    def index_path(self) -> Path:
        return self.home / "index.sqlite"

    @property
    def state_path(self) -> Path:
        return self.home / "crawl.sqlite"

    @property
    def warc_dir(self) -> Path:
        return self.home / "warc"

    @property
    def outbox_path(self) -> Path:
        return self.home / "outbox.sqlite"

    @property
    def app_db_path(self) -> Path:
        """The office's own records: labels, cases, alerts, users (one SQLite file)."""
        return self.home / "hpmon.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"


def load_settings(**overrides) -> Settings:
    """Settings from the file in the data directory, then the environment, then ``overrides``
    (command-line options). The only place hpmon reads the environment."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    home = Path(overrides.get("home") or os.environ.get("HPMON_HOME") or "data")
    values: dict = {}
    settings_file = home / SETTINGS_FILE
    if settings_file.is_file():
        with settings_file.open("rb") as fh:
            values.update(tomllib.load(fh))
    from_env = Settings()
    values.update({name: getattr(from_env, name) for name in from_env.model_fields_set})
    values.update(overrides)
    values["home"] = home
    return Settings(**values)
