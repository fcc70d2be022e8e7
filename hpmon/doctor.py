"""``hpmon doctor``: checks the installation, one finding per check, each with a clear
reason: configuration (city profile, sources, lexicons, alert rules, digest profiles), every
SQLite database (``PRAGMA quick_check``), the index engine, the SMTP server (connect and EHLO
only: nothing is sent), disk, versions."""

from __future__ import annotations

import platform
import smtplib
import sqlite3
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from hpmon.settings import SETTINGS_FILE, Settings, settings_problems


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok | warn | fail
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail}


def _check_settings(settings: Settings) -> Finding:
    """The settings' problems (hpmon/settings.py): an error fails, an unknown key warns."""
    problems = settings_problems(settings.home)
    if not problems:
        path = settings.home / SETTINGS_FILE
        return Finding("settings", "ok", f"{path} and HPMON_* valid" if path.is_file() else
                       f"HPMON_* valid (no {SETTINGS_FILE})")
    status = "fail" if any(p.level == "error" for p in problems) else "warn"
    return Finding("settings", status, "; ".join(map(str, problems)))


def _check_city(settings: Settings) -> Finding:
    from hpmon.app import load_city

    city = load_city(settings)
    return Finding("city", "ok", f"{city.display_name.get('vi', city.id)}: {len(city.entries)} names and places, "
                                 f"time zone {city.timezone}")


def _check_sources(settings: Settings) -> Finding:
    from hpmon.app import load_source_list

    sources = load_source_list(settings)
    enabled = sum(s.enabled for s in sources)
    if not enabled:
        return Finding("sources", "fail", f"no enabled source in {settings.sources_path}")
    return Finding("sources", "ok", f"{enabled} enabled of {len(sources)} ({settings.sources_path})")


def _check_verified(settings: Settings) -> Finding:
    from crawlers.sources import verification_summary
    from hpmon.app import load_source_list

    summary = verification_summary(load_source_list(settings))
    unverified = summary["unverified_enabled"]
    if not unverified:
        return Finding("source verification", "ok", f"all {summary['enabled']} enabled sources verified")
    ids = ", ".join(u["id"] for u in unverified[:8]) + (" …" if len(unverified) > 8 else "")
    return Finding("source verification", "warn",
                   f"{len(unverified)} of {summary['enabled']} enabled sources unverified ({ids}): their URLs were "
                   "never checked against the outlet; run `hpmon sources check --live` on a networked machine")


def _check_lexicons(settings: Settings) -> Finding:
    from classifiers.lexicon import Lexicons
    from classifiers.sensitive import SensitiveDetector

    lexicons = Lexicons.load(settings.config_dir)
    SensitiveDetector.from_config(settings.config_dir)
    return Finding("lexicons", "ok", f"{len(lexicons.topic_labels)} topics; sensitive themes loaded")


def _check_facts(settings: Settings) -> Finding:
    from hpmon.app import load_facts

    checker = load_facts(settings)
    official, total = checker.reference_counts()
    missing = checker.without_official()
    where = settings.config_dir / "facts.yaml"
    if missing:
        return Finding("reference facts", "warn",
                       f"{official} of {total} reference figures are official; {len(missing)} of "
                       f"{len(checker.quantities)} quantities have only placeholders (official: false), which are "
                       f"never compared with articles: {', '.join(missing)}. Enter each official figure with its "
                       f"source on the web app's Facts page (/facts) or with `hpmon facts add`")
    return Finding("reference facts", "ok", f"every quantity of {where} has an official figure "
                   f"({official} of {total} references official)")


def _yaml_check(name: str, path: Path) -> Finding:
    if not path.is_file():
        return Finding(name, "warn", f"{path} not found")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return Finding(name, "fail", f"{path}: expected a mapping at the top")
    return Finding(name, "ok", f"{path} parses ({', '.join(list(data)[:5])})")


def _check_rules(settings: Settings) -> Finding:
    path = settings.config_dir / "alerts.yaml"
    try:
        from alerts.rules import load_rules, read_risk_thresholds
    except ImportError:  # the alerts module is not installed: at least the YAML must parse
        return _yaml_check("alert rules", path)
    if not path.is_file():
        return Finding("alert rules", "warn", f"{path} not found: no alert rule")
    rules = load_rules(path, thresholds=read_risk_thresholds(settings.config_dir / "risk.yaml"))
    return Finding("alert rules", "ok", f"{len(rules)} rules in {path}")


def _check_digests(settings: Settings) -> Finding:
    return _yaml_check("digest profiles", settings.config_dir / "digests.yaml")


def _check_engine(settings: Settings) -> Finding:
    from hpmon.app import open_backend

    if settings.index == "sqlite" and not settings.index_path.exists():
        return Finding("index", "warn", f"no index yet at {settings.index_path} (run `hpmon init`)")
    backend = open_backend(settings)
    try:
        count = backend.count()
        extra = ""
        if settings.index == "elasticsearch":
            extra = f", outbox {backend.outbox.depth()} waiting"
    finally:
        backend.close()
    return Finding("index", "ok", f"{settings.index} answers: {count} articles{extra}")


def database_paths(settings: Settings) -> list[Path]:
    """The SQLite databases of the installation that exist: the known ones, then any other
    ``*.sqlite`` in the data directory."""
    known = [settings.index_path if settings.index == "sqlite" else None, settings.state_path, settings.app_db_path,
             settings.outbox_path, settings.home / "stories.sqlite"]
    paths = {p: None for p in known if p is not None and p.exists()}
    if settings.home.is_dir():
        paths.update({p: None for p in sorted(settings.home.glob("*.sqlite")) if p.is_file()})
    return list(paths)


def check_database(path: Path, *, full: bool = False) -> str | None:
    """None when SQLite's own check finds the file sound (``PRAGMA quick_check``, or the slower
    ``integrity_check`` with ``full``), else the reason. Read-only: nothing is written."""
    if path.stat().st_size == 0:
        return "empty file (0 bytes): not a database; its data is gone"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as exc:
        return f"cannot open: {exc}"
    try:
        rows = conn.execute("PRAGMA integrity_check(20)" if full else "PRAGMA quick_check(20)").fetchall()
    except sqlite3.DatabaseError as exc:  # not a database, a corrupt header, a malformed schema
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    return "; ".join(problems)[:400] if problems else None


def _check_databases(settings: Settings, *, full: bool = False) -> Finding:
    paths = database_paths(settings)
    if not paths:
        return Finding("databases", "warn", f"no database in {settings.home} yet (run `hpmon init`)")
    check = "integrity_check" if full else "quick_check"
    bad = []
    for path in paths:
        problem = check_database(path, full=full)
        if problem:
            bad.append(f"{path.name}: {problem}")
    if bad:
        return Finding("databases", "fail", f"{check} failed: " + " | ".join(bad)
                       + " — restore from a backup with `hpmon restore BACKUP_DIR` (the service must be stopped)")
    return Finding("databases", "ok", f"{check} ok on {len(paths)} ({', '.join(p.name for p in paths)})")


def _check_smtp(settings: Settings) -> Finding:
    if not settings.smtp_host:
        return Finding("smtp", "warn", "no SMTP server set (HPMON_SMTP_HOST): alerts and digests cannot be mailed")
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_security == "tls":
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=min(settings.smtp_timeout, 15),
                                  context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=min(settings.smtp_timeout, 15))
    with client:
        code, answer = client.ehlo()
        starttls = client.has_extn("starttls")
    if code != 250:
        return Finding("smtp", "fail", f"{settings.smtp_host}:{settings.smtp_port} answered EHLO with {code}")
    if settings.smtp_security == "starttls" and not starttls:
        return Finding("smtp", "fail", f"{settings.smtp_host}:{settings.smtp_port} does not offer STARTTLS "
                                       "(set HPMON_SMTP_SECURITY)")
    return Finding("smtp", "ok", f"{settings.smtp_host}:{settings.smtp_port} answers EHLO ({settings.smtp_security})")


def _check_disk(settings: Settings, alert_percent: float, min_free_mb: int) -> Finding:
    from hpmon.health import disk_usage

    disk = disk_usage(settings.home)
    detail = f"{disk['used_percent']}% used, {disk['free_bytes'] // 1_000_000} MB free on {settings.home}"
    if disk["free_bytes"] < min_free_mb * 1_000_000:
        return Finding("disk", "fail", detail + f" (< {min_free_mb} MB: the service pauses)")
    if disk["used_percent"] >= alert_percent:
        return Finding("disk", "warn", detail)
    return Finding("disk", "ok", detail)


def _check_home(settings: Settings) -> Finding:
    from hpmon.service import running_pid

    if not settings.home.is_dir():
        return Finding("home", "fail", f"{settings.home} does not exist (run `hpmon init`)")
    probe = settings.home / ".doctor-write-test"
    probe.write_bytes(b"ok")
    probe.unlink()
    pid = running_pid(settings.home)
    state = f"service running (pid {pid})" if pid else "no service running"
    mode = settings.home.stat().st_mode & 0o777
    if mode & 0o077:
        return Finding("home", "warn", f"{settings.home.resolve()} is readable by other users (mode {mode:o}): "
                                       f"it holds password hashes, sessions and cases; run `chmod 700` on it")
    return Finding("home", "ok", f"{settings.home.resolve()} writable, mode {mode:o}; {state}")


def _check_versions(settings: Settings) -> Finding:
    from hpmon import __version__

    parts = [f"hpmon {__version__}", f"python {platform.python_version()}", f"sqlite {sqlite3.sqlite_version}"]
    for package in ("scrapy", "trafilatura", "elasticsearch", "pydantic"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} missing")
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        return Finding("versions", "fail", "; ".join(parts) + " — SQLite lacks FTS5")
    finally:
        conn.close()
    if settings.index == "elasticsearch":
        parts.append(f"elasticsearch server at {settings.es_url}")
    return Finding("versions", "ok", "; ".join(parts))


def run_checks(settings: Settings, *, disk_alert_percent: float = 90.0, min_free_mb: int = 500,
               full: bool = False) -> list[Finding]:
    """Every check, in order; a check that raises becomes a ``fail`` with the exception as reason.
    ``full``: the databases get SQLite's full ``integrity_check`` instead of ``quick_check``."""
    checks: list[tuple[str, Callable[[], Finding]]] = [
        ("settings", lambda: _check_settings(settings)),
        ("home", lambda: _check_home(settings)),
        ("databases", lambda: _check_databases(settings, full=full)),
        ("city", lambda: _check_city(settings)),
        ("sources", lambda: _check_sources(settings)),
        ("source verification", lambda: _check_verified(settings)),
        ("lexicons", lambda: _check_lexicons(settings)),
        ("reference facts", lambda: _check_facts(settings)),
        ("alert rules", lambda: _check_rules(settings)),
        ("digest profiles", lambda: _check_digests(settings)),
        ("index", lambda: _check_engine(settings)),
        ("smtp", lambda: _check_smtp(settings)),
        ("disk", lambda: _check_disk(settings, disk_alert_percent, min_free_mb)),
        ("versions", lambda: _check_versions(settings)),
    ]
    findings = []
    for name, check in checks:
        try:
            findings.append(check())
        except Exception as exc:  # each failure is a finding with its reason; doctor never crashes
            findings.append(Finding(name, "fail", f"{type(exc).__name__}: {exc}"[:500]))
    return findings
