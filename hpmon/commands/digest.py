"""``hpmon digest``: render the daily digest to files and/or mail it; the scheduler's entry points.

Register in ``hpmon.cli`` with ``main.add_command(digest)`` (from ``hpmon.commands.digest``).
The scheduler (``hpmon run``) calls ``send_due_digests(settings)`` on each tick, or
``due_digests(settings, now)`` and ``send_digest(settings, profile, day)`` one by one. They take
the settings because the library (``alerts.digest``) never reads them itself.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from hpmon.settings import Settings

if TYPE_CHECKING:
    from alerts.digest.service import DigestService, SendResult
    from index.backend import Backend
    from records.cases import CaseStore

log = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "md")


def digest_service(settings: Settings, *, backend: Backend | None = None,
                   cases: CaseStore | None = None) -> DigestService:
    """The digest service wired from the settings: index, city time zone and name, taxonomy,
    profiles (``config_dir/digests.yaml``), the log and the rebuttal case store in ``app_db_path``
    (case states and queue counts, through ``alerts.digest.inputs.case_inputs`` as in the web
    preview), SMTP and recipient lists."""
    from alerts.digest.inputs import open_case_store
    from alerts.digest.log import DigestLog
    from alerts.digest.profiles import load_profiles
    from alerts.digest.service import DigestService
    from alerts.i18n import load_taxonomy
    from hpmon.app import load_city, open_backend, smtp_config

    city = load_city(settings)
    taxonomy = load_taxonomy(settings.config_dir / "topics.yaml")
    profiles = load_profiles(settings.config_dir / "digests.yaml", set(taxonomy.topics) or None)
    return DigestService(
        backend=backend or open_backend(settings), owns_backend=backend is None, profiles=profiles,
        log=DigestLog(settings.app_db_path),
        timezone=city.timezone, city=dict(city.display_name) or {"vi": city.id}, base_url=settings.base_url,
        taxonomy=taxonomy, recipients=settings.recipients, smtp=smtp_config(settings),
        cases=cases or open_case_store(settings.app_db_path), owns_cases=cases is None,
    )


def send_due_digests(settings: Settings, now: datetime | None = None, **wiring) -> list[SendResult]:
    """The scheduler's tick: send every digest due at ``now`` (missed days included), each once;
    returns what happened to each (sent, or failed with the reason; the next tick retries)."""
    service = digest_service(settings, **wiring)
    try:
        return service.send_due(now or datetime.now(UTC))
    finally:
        service.close()


def due_digests(settings: Settings, now: datetime | None = None, **wiring) -> list[tuple[str, date]]:
    """Every (profile, day) due at ``now`` and not sent yet, oldest first."""
    service = digest_service(settings, **wiring)
    try:
        return service.due_digests(now or datetime.now(UTC))
    finally:
        service.close()


def send_digest(settings: Settings, profile: str, day: date, *, force: bool = False, **wiring) -> SendResult:
    """Send one profile's digest of ``day`` and log it (skipped when already sent, unless ``force``)."""
    service = digest_service(settings, **wiring)
    try:
        return service.send_digest(profile, day, force=force)
    finally:
        service.close()


def _formats(value: str) -> list[str]:
    chosen = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise click.BadParameter(f"unknown format(s) {', '.join(unknown)} (use {','.join(FORMATS)})")
    return chosen


def _day(value: str | None, timezone: str) -> date:
    if not value:
        return datetime.now(ZoneInfo(timezone)).date() - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a date: {value} (use YYYY-MM-DD)", param_hint="--date") from exc


def write_files(digest, formats: list[str], out: Path) -> list[Path]:
    """Write the digest in ``formats`` into ``out`` (Markdown gets its charts as PNG files next to it)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "html" in formats:
        path = out / f"{digest.stem}.html"
        path.write_text(digest.html("file"), encoding="utf-8")
        written.append(path)
    if "md" in formats:
        files = {}
        for chart in digest.charts:
            chart_path = out / f"{digest.stem}-{chart.filename}"
            chart_path.write_bytes(chart.png)
            files[chart.id] = chart_path.name
        path = out / f"{digest.stem}.md"
        path.write_text(digest.markdown(files), encoding="utf-8")
        written.append(path)
    if "pdf" in formats:
        path = out / f"{digest.stem}.pdf"
        path.write_bytes(digest.pdf())
        written.append(path)
    return written


@click.command("digest")
@click.option("--date", "day_text", metavar="YYYY-MM-DD", help="The day to report on (default: yesterday, city time).")
@click.option("--profile", "profile_ids", multiple=True, metavar="NAME",
              help="Digest profile of config/digests.yaml (repeatable; default: every profile).")
@click.option("--format", "formats", default="html,pdf,md", show_default=True, help="Files to write: html,pdf,md.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the files (default: HOME/digests).")
@click.option("--lang", type=click.Choice(["vi", "en"]), help="Language (default: the profile's).")
@click.option("--send", is_flag=True, help="Also mail it to the profile's recipients (and log it as sent).")
@click.option("--due", is_flag=True, help="Send every digest due now and not sent yet (what `hpmon run` does).")
@click.pass_context
def digest(ctx: click.Context, day_text: str | None, profile_ids: tuple[str, ...], formats: str, out: Path | None,
           lang: str | None, send: bool, due: bool) -> None:
    """Render the daily digest as HTML, PDF and Markdown files; with --send, mail it.

    Example: hpmon digest --date 2025-11-24 --profile songoaivu --format pdf --send
    """
    from alerts.digest.profiles import ProfileError

    settings: Settings = ctx.obj["settings"]
    try:
        service = digest_service(settings)
    except ProfileError as exc:
        raise click.ClickException(f"digest profiles: {exc}") from exc
    try:
        _run(service, settings, day_text, profile_ids, formats, out, lang, send, due)
    finally:
        service.close()


def _run(service: DigestService, settings: Settings, day_text: str | None, profile_ids: tuple[str, ...],
         formats: str, out: Path | None, lang: str | None, send: bool, due: bool) -> None:
    if due:
        results = service.send_due(datetime.now(UTC))
        for result in results:
            _echo_result(result)
        if not results:
            click.echo("no digest due")
        if any(r.status == "failed" for r in results):
            raise click.ClickException("some digests were not sent (the next run tries again)")
        return
    chosen = list(profile_ids) or list(service.profiles)
    unknown = [p for p in chosen if p not in service.profiles]
    if unknown:
        raise click.ClickException(f"unknown profile(s) {', '.join(unknown)} (known: {', '.join(service.profiles)})")
    day = _day(day_text, service.timezone)
    kinds = _formats(formats)
    target = out or settings.home / "digests"
    failed = False
    for profile_id in chosen:
        built = service.build(profile_id, day, lang=lang)
        for path in write_files(built, kinds, target):
            click.echo(f"wrote {path}")
        if send:
            result = service.send_digest(profile_id, day, force=True, lang=lang, digest=built)
            _echo_result(result)
            failed = failed or result.status == "failed"
    if failed:
        raise click.ClickException("some digests were not sent")


def _echo_result(result: SendResult) -> None:
    if result.status == "sent":
        click.echo(f"sent {result.profile} {result.day} to {len(result.recipients)} recipients ({result.message_id})")
    else:
        click.echo(f"{result.status} {result.profile} {result.day}: {result.reason}", err=result.status == "failed")
