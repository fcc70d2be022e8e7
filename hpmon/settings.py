"""hpmon's settings: one typed model (``Settings``), the only place every setting, its type and
its default are written. Loaded once by ``load_settings`` from four sources, each winning over the
ones before it:

    defaults (this model) < ``$HPMON_HOME/hpmon.toml`` < ``HPMON_*`` environment < command line

then passed down as plain values. docs/settings.md's table is generated from this model
(``python -m hpmon.settingsdoc``; a test checks it). A value of the wrong type stops hpmon with
one line per problem naming the key and where it came from (``SettingsError``); an unknown key
in hpmon.toml is a warning and is ignored; ``hpmon doctor`` reports both
(``settings_problems``)."""

from __future__ import annotations

import difflib
import importlib.resources
import logging
import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceError

log = logging.getLogger(__name__)

#: The package that holds ``config/`` in a built wheel (pyproject.toml maps it onto the folder).
CONFIG_PACKAGE = "hpmon.defaults"
ENV_PREFIX = "HPMON_"


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
#: Settings that cannot be set in hpmon.toml (the file is inside the data directory).
NOT_IN_FILE = frozenset({"home"})


def _doc(shown: str | None = None, *, secret: bool = False) -> dict[str, Any]:
    """Extra facts for docs/settings.md: how the default is shown when it is not a plain value,
    and whether the value is a secret (never echoed in a message)."""
    extra: dict[str, Any] = {}
    if shown is not None:
        extra["doc_default"] = shown
    if secret:
        extra["secret"] = True
    return extra


class Settings(BaseSettings):
    """Every setting hpmon has. Documented in docs/settings.md (generated from this model)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    home: Path = Field(Path("data"), json_schema_extra=_doc("`./data`"), description=(
        "Data directory: `index.sqlite`, `crawl.sqlite` (seen URLs, feed validators, source health, runs), "
        "`warc/`, `logs/`."))
    config_dir: Path = Field(DEFAULT_CONFIG_DIR, json_schema_extra=_doc("the repository's `config/`"),
                             description="Folder holding `cities/`, `sources.yaml`, `outlets.yaml`, lexicons.")
    city: str = Field("haiphong", description="City profile: `config_dir/cities/<city>.yaml`.")
    sources_file: Path | None = Field(None, json_schema_extra=_doc("`config_dir/sources.yaml`"),
                                      description="Source registry to crawl.")
    # -- the index -----------------------------------------------------------------------
    index: Literal["sqlite", "elasticsearch"] = Field(
        "sqlite", description="Index engine: `sqlite` (embedded) or `elasticsearch`.")
    es_url: str = Field("http://127.0.0.1:9200",
                        description='Elasticsearch URL(s), comma-separated, when `index = "elasticsearch"`.')
    es_prefix: str = Field("hpmon-articles", description=(
        "Read alias and prefix of the monthly indices (`<prefix>-v<N>-<YYYY.MM>`)."))
    es_api_key: str | None = Field(None, json_schema_extra=_doc(secret=True), description=(
        "API key (a secret: set it in the environment, not in a file in the repository)."))
    es_username: str | None = Field(None, description="Basic-auth user.")
    es_password: str | None = Field(None, json_schema_extra=_doc(secret=True),
                                    description="Basic-auth password (a secret).")
    es_ca_certs: Path | None = Field(None, description="CA certificate to verify the engine's TLS certificate.")
    es_shards: int = Field(1, description="Primary shards per monthly index.")
    es_replicas: int = Field(1, description="Replicas per monthly index (use 0 on a single node).")
    search_time_limit_ms: int = Field(5000, ge=1, description=(
        "Time limit of every search query (hits, facets, histogram), in milliseconds, on both engines; "
        "past it the page says the result is partial (docs/search.md)."))
    # -- crawling ------------------------------------------------------------------------
    user_agent: str = Field(
        "hpmon/0.1 (+https://github.com/hpmon/hpmon; media monitoring for the Hai Phong foreign-information office)",
        json_schema_extra=_doc("`hpmon/0.1 (+…)`"),
        description="User-Agent sent with every request; its first word is the robots.txt agent.")
    download_timeout: float = Field(30.0, description="Seconds before a request is abandoned (reason `timeout`).")
    max_page_bytes: int = Field(5_000_000, description="Larger pages are not downloaded (reason `too_large`).")
    concurrent_requests: int = Field(16, description="Requests in flight overall.")
    concurrent_per_domain: int = Field(2, description="Requests in flight per domain.")
    download_delay: float = Field(1.0, description=(
        "Base delay between requests to one domain; AutoThrottle adapts it. "
        "GDELT is always limited to one request per 5 s."))
    autothrottle: bool = Field(True, description="Adapt delays to each server's latency.")
    obey_robots: bool = Field(True, description="Respect robots.txt (reason `robots`).")
    fetch_allow_hosts: list[str] = Field(default_factory=list, description=(
        "Internal hosts that may be fetched although they are on a loopback, private, link-local or reserved "
        'address: `"name"`, `"address"` or `"host:port"` (JSON list in the environment, '
        '`fetch_allow_hosts = ["intranet.local"]` in `hpmon.toml`). Every other such address is refused on '
        "every request and redirect hop, webhooks included (reason `blocked_address`); "
        "see [security.md](security.md)."))
    retry_times: int = Field(2, description="Retries of a failed request (timeouts, 5xx, 429) within a run.")
    retry_backoff: float = Field(2.0, description="Delay before the first retry, doubled for each further retry.")
    max_age_days: int = Field(7, description="Sitemap entries older than this are skipped.")
    min_text_chars: int = Field(80, description=(
        "Extracted text shorter than this is not an article (reason `no_text`), counted in text units: a Latin, "
        "Vietnamese or Cyrillic letter 1, Thai 1.2, kana 2, a Hangul syllable 2.5, a CJK ideograph 3 "
        "(docs/extraction.md)."))
    workers: int = Field(0, ge=0, description=(
        "Processes that decode, extract and classify fetched pages during a crawl, while it keeps downloading: "
        "`0` = one per CPU the process may use; `1` = no pool, every page is processed in the crawling process "
        "(for tests and debugging). Each worker loads the models once; one writer in the crawl indexes in "
        "arrival order (docs/throughput.md)."))
    # -- machine translation of foreign coverage (docs/translation.md) ---------------------
    translation_engine: Literal["auto", "argos", "libretranslate", "off"] = Field("auto", description=(
        "Engine that translates the title and lead of kept foreign articles: `argos` (the CTranslate2 models "
        "installed with `hpmon translate install` in `home/translation/`), `libretranslate` (the server at "
        "`libretranslate_url`), `auto` (the installed models if any, else the server if one is set) or `off`."))
    translation_targets: list[str] = Field(["vi"], json_schema_extra=_doc('`["vi"]`'), description=(
        'Languages articles are translated into (JSON list, e.g. `["vi", "en"]`); an article already written '
        "in one of them is not translated into it."))
    libretranslate_url: str | None = Field(None, description=(
        "URL of a LibreTranslate server (e.g. `http://127.0.0.1:5000`), for `translation_engine` "
        "`libretranslate` or `auto`."))
    libretranslate_api_key: str | None = Field(None, json_schema_extra=_doc(secret=True), description=(
        "API key of the LibreTranslate server, when it asks for one (a secret)."))
    libretranslate_timeout: float = Field(10.0, gt=0, description=(
        "Seconds before a LibreTranslate request is abandoned; the article is indexed without translation "
        "and the server is left alone for 5 minutes."))
    # -- outgoing mail and webhooks (alerts, digests) --------------------------------------
    smtp_host: str | None = Field(None, description="SMTP server for alerts and digests (nothing is sent when unset).")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="`starttls`, `tls` (implicit, port 465) or `none`.")
    smtp_username: str | None = Field(None, description="SMTP login.")
    smtp_password: str | None = Field(None, json_schema_extra=_doc(secret=True),
                                      description="SMTP password (a secret: environment only).")
    smtp_from: str = Field("hpmon <hpmon@localhost>", description="Sender of alerts and digests.")
    smtp_timeout: float = Field(30.0, description="Seconds before an SMTP connection attempt is abandoned.")
    webhook_secret: str | None = Field(None, json_schema_extra=_doc(secret=True), description=(
        "Key of the `X-Hpmon-Signature` HMAC-SHA256 header on webhook alerts (a secret)."))
    recipients: dict[str, list[str]] = Field(default_factory=dict, description=(
        'JSON map of named recipient lists (`{"sotttt": ["a@x.vn"]}`) used by alert rules and digest profiles.'))
    webhooks: dict[str, str] = Field(default_factory=dict, description="JSON map of named webhook URLs.")
    approvers: list[str] = Field(default_factory=list, description=(
        "JSON list of the users who may approve and publish a rebuttal."))
    # -- the service (`hpmon run`; hpmon.service.ServiceConfig reads these) and data care --
    service_feed_interval: float = Field(300.0, description=(
        "Seconds between crawls of an RSS/Atom source (`hpmon run`)."))
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
    service_shutdown_grace: float = Field(20.0, description=(
        "Seconds running jobs get after SIGTERM (the service exits within this + 10)."))
    service_min_free_mb: int = Field(500, description="Below this free space in HOME, jobs that write are paused.")
    service_disk_alert_percent: float = Field(90.0, description="Disk use that raises an admin alert.")
    service_source_failure_hours: float = Field(24.0, description="A source failing this long raises an admin alert.")
    service_digest_late_hours: float = Field(2.0, description="A digest this late raises an admin alert.")
    service_admin_recipients: str = Field("admins", description=(
        "Name of the `recipients` list that receives admin alerts."))
    retention_text_years: int = Field(5, description=(
        "Full text older than this is cleared (0 = keep forever); titles, metadata and reasons stay."))
    retention_warc_years: int = Field(0, description=(
        "WARC files older than this are deleted, except those holding case articles (0 = keep forever)."))
    # -- web app -------------------------------------------------------------------------
    base_url: str = Field("http://127.0.0.1:8000", description=(
        "Public URL of the web app, for links in alerts and digests."))
    web_host: str = Field("127.0.0.1", description="Address `hpmon serve` listens on.")
    web_port: int = Field(8000, description="Port `hpmon serve` listens on.")
    web_metrics_allow: list[str] = Field(default_factory=list, description=(
        'CIDR networks (a JSON list in the environment, e.g. `["127.0.0.1/32", "10.0.0.0/8"]`) whose clients get '
        "`/metrics` and the details of `/healthz`. None by default: the address is the client's after "
        "`--proxy-headers` (deploy/README.md)."))
    web_metrics_token: str | None = Field(None, json_schema_extra=_doc("unset", secret=True), description=(
        "A secret bearer token (`Authorization: Bearer ...`) that unlocks `/metrics` and the details of "
        "`/healthz` from any address."))
    secret_key: str | None = Field(None, json_schema_extra=_doc("generated", secret=True), description=(
        "Key signing web sessions (a secret); generated into the data directory when unset."))
    log_level: str = Field("INFO", description="Level of `home/logs/hpmon.log` (rotated, 10 MB × 5).")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The sources, the winner first: keyword arguments (command-line options), ``HPMON_*``,
        then hpmon.toml while ``load_settings`` reads one; the model's defaults come last."""
        loading = _LOADING.get()
        if loading is None:
            return init_settings, env_settings
        return init_settings, env_settings, _SettingsFile(settings_cls, loading)

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

# -- loading, with problems that name their key and source ------------------------------------


@dataclass(frozen=True)
class SettingsProblem:
    """One thing wrong with the settings: ``error`` stops hpmon, ``warning`` is logged and the
    key is ignored."""

    level: Literal["error", "warning"]
    key: str
    source: str  # the file, "environment variable HPMON_X" or "command-line option"
    message: str

    def __str__(self) -> str:
        return f"{self.key} ({self.source}): {self.message}"


class SettingsError(ValueError):
    """The settings cannot be used; ``problems`` says which key, from where, and why."""

    def __init__(self, problems: list[SettingsProblem]):
        self.problems = problems
        super().__init__("\n  ".join(["", *map(str, problems)]) if len(problems) > 1 else str(problems[0]))


@dataclass
class _Loading:
    path: Path
    problems: list[SettingsProblem] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # the known keys the file sets


_LOADING: ContextVar[_Loading | None] = ContextVar("hpmon_settings_loading", default=None)


class _SettingsFile(TomlConfigSettingsSource):
    """pydantic-settings' TOML source for hpmon.toml, keeping only the keys the model has: an
    unknown key (or ``home``) becomes a warning naming the closest known key."""

    def __init__(self, settings_cls: type[BaseSettings], loading: _Loading):
        self._loading = loading
        self._known = settings_cls.model_fields
        super().__init__(settings_cls, toml_file=loading.path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problem = SettingsProblem("error", SETTINGS_FILE, str(file_path), f"not valid TOML: {exc}")
            raise SettingsError([problem]) from exc
        known = self._known
        kept = {}
        for key, value in data.items():
            if key in NOT_IN_FILE:
                message = f"cannot be set in the file inside it (use --{key} or {ENV_PREFIX}{key.upper()}); ignored"
            elif key not in known:
                close = difflib.get_close_matches(key, [k for k in known if k not in NOT_IN_FILE], n=1)
                message = "unknown setting, ignored" + (f" (did you mean {close[0]!r}?)" if close else "")
            else:
                kept[key] = value
                continue
            self._loading.problems.append(SettingsProblem("warning", key, str(file_path), message))
        self._loading.keys.update(kept)
        return kept


def _env_name(key: str, environ: Mapping[str, str]) -> str | None:
    """The environment variable that sets ``key`` (matched without case, as pydantic-settings does)."""
    wanted = (ENV_PREFIX + key).lower()
    return next((name for name in environ if name.lower() == wanted), None)


def _source_of(key: str, overrides: Mapping[str, Any], loading: _Loading, environ: Mapping[str, str]) -> str:
    """Where the winning value of ``key`` came from, in the order of precedence."""
    if key in overrides:
        return "command-line option"
    if (name := _env_name(key, environ)) is not None:
        return f"environment variable {name}"
    if key in loading.keys:
        return str(loading.path)
    return "default"


def _shown(key: str, value: Any) -> str:
    field_info = Settings.model_fields.get(key)
    extra = field_info.json_schema_extra if field_info is not None else None
    if isinstance(extra, dict) and extra.get("secret"):
        return "(secret, not shown)"
    return f"{value!r}"[:80]


def _build(overrides: Mapping[str, Any]) -> tuple[Settings | None, list[SettingsProblem]]:
    """The settings and every problem found on the way (``None`` when an error stops them)."""
    environ = os.environ
    overrides = {k: v for k, v in overrides.items() if v is not None}
    env_home = environ[name] if (name := _env_name("home", environ)) else None
    home = Path(overrides.get("home") or env_home or Settings.model_fields["home"].default)
    loading = _Loading(home / SETTINGS_FILE)
    token = _LOADING.set(loading)
    try:
        settings = Settings(**{**overrides, "home": home})
    except SettingsError as exc:  # hpmon.toml is not TOML
        return None, [*loading.problems, *exc.problems]
    except SourceError as exc:  # an HPMON_* value that should be JSON is not
        key = next((k for k in Settings.model_fields if f'"{k}"' in str(exc)), "?")
        cause = exc.__cause__ or exc
        problem = SettingsProblem("error", key, _source_of(key, overrides, loading, environ),
                                  f"not valid JSON ({cause})")
        return None, [*loading.problems, problem]
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            key = str(error["loc"][0]) if error["loc"] else "?"
            where = ".".join(str(part) for part in error["loc"])
            detail = error["msg"] if error["type"] == "extra_forbidden" else \
                f"{error['msg']} (got {_shown(key, error.get('input'))})"
            errors.append(SettingsProblem("error", where, _source_of(key, overrides, loading, environ), detail))
        return None, [*loading.problems, *errors]
    finally:
        _LOADING.reset(token)
    return settings, loading.problems


def load_settings(**overrides: Any) -> Settings:
    """Settings from the model's defaults, then ``$HPMON_HOME/hpmon.toml``, then the environment,
    then ``overrides`` (command-line options; ``None`` means not given). The only place hpmon
    reads the environment. Raises ``SettingsError`` (one line per problem: key, source, reason)
    when a value is wrong; logs a warning for each unknown key of the file, which is ignored."""
    settings, problems = _build(overrides)
    errors = [p for p in problems if p.level == "error"]
    if settings is None or errors:
        raise SettingsError(errors)
    for problem in problems:
        log.warning("settings: %s", problem)
    return settings


def settings_problems(home: Path | None = None, **overrides: Any) -> list[SettingsProblem]:
    """Every problem of the settings that ``load_settings(home=home, ...)`` would read: errors
    and warnings (for ``hpmon doctor``)."""
    return _build({"home": home, **overrides})[1]
