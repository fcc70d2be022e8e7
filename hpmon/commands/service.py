"""Commands that run and look after the installation: ``run`` (the service), ``status``,
``doctor``, ``backup``, ``restore``, ``retention``. Register each in hpmon.cli with
``main.add_command(...)`` (see the module's ``COMMANDS``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from hpmon.settings import Settings
from hpmon.term import console, err


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _service_config(settings: Settings):
    from hpmon.service import ServiceConfig

    return ServiceConfig.from_settings(settings)


@click.command("run")
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the service: crawl each source on its interval, deliver alerts, send digests, check health.

    Stops cleanly on SIGTERM/SIGINT (within the bound in deploy/README.md). A second `hpmon run`
    on the same data directory refuses to start.
    """
    from hpmon.app import init_home
    from hpmon.logjson import setup_json_logging
    from hpmon.service import AlreadyRunning, Service

    settings = _settings(ctx)
    init_home(settings)
    setup_json_logging(settings.log_dir, settings.log_level, stream=sys.stderr, stream_level="INFO")
    try:
        code = Service(settings, _service_config(settings)).run()
    except AlreadyRunning as exc:
        err.print(f"[red]{exc}[/]")
        sys.exit(75)  # EX_TEMPFAIL; deploy/hpmon.service does not restart on it
    sys.exit(code)


def _age(text: str | None) -> str:
    return text or "—"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="The whole health report as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Service, jobs, sources, index, alerts, disk: how the installation is doing."""
    from hpmon.health import health_report

    settings = _settings(ctx)
    report = health_report(settings, config=_service_config(settings))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    service = report["service"]
    style = {"ok": "green", "degraded": "yellow", "failing": "red"}[report["status"]]
    console.print(Text(f"hpmon {report['version']} — {report['status']}", style=f"bold {style}"))
    console.print(f"service: {'running, pid ' + str(service['pid']) if service['running'] else 'not running'}")
    index = report["index"]
    console.print(f"index: {index['engine']}, " + (f"[red]{index['error']}[/]" if "error" in index
                                                     else f"{index.get('articles', 0)} articles")
                  + (f", outbox {index['outbox_depth']}" if "outbox_depth" in index else ""))
    per_hour = report["articles_per_hour"]
    console.print(f"articles indexed, last 24 h: {sum(h['articles'] for h in per_hour)}"
                  + (f" (last hour with articles: {per_hour[-1]['hour']}, {per_hour[-1]['articles']})"
                     if per_hour else ""))
    alerts = report["alerts"]
    console.print("alerts: " + (f"{alerts['pending']} waiting, {alerts['failed']} failed" if alerts.get("available")
                                else alerts.get("reason", "—")))
    disk = report["disk"]
    console.print(f"disk: {disk['used_percent']}% used, {disk['free_bytes'] // 1_000_000} MB free")
    jobs = Table(title="Jobs")
    for col in ("job", "last start", "last outcome", "next due", "fails in a row", "note"):
        jobs.add_column(col, overflow="fold")
    for j in service["jobs"]:
        jobs.add_row(j["job_id"], _age(j.get("last_start")), j.get("last_outcome") or "—", _age(j.get("next_due")),
                     str(j.get("fail_streak") or 0),
                     "running" if j.get("running_pid") else "")
    console.print(jobs)
    sources = Table(title="Sources")
    for col in ("source", "kind", "last success", "errors in a row", "last error"):
        sources.add_column(col, overflow="fold")
    for s in report["sources"]:
        if "kind" in s:
            sources.add_row(s["id"], s["kind"], _age(s.get("last_success")),
                            Text(str(s.get("error_streak") or 0), style="red" if s.get("error_streak") else ""),
                            (s.get("last_error") or "")[:80])
    console.print(sources)
    for problem in report["problems"]:
        console.print(Text(f"! {problem['message']}", style="red"))


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True)
@click.option("--full", is_flag=True, help="SQLite's full integrity_check on every database (slower than quick_check).")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, full: bool) -> None:
    """Check the installation: configuration, databases (quick_check), index engine, SMTP (EHLO
    only), disk, versions. Exits 1 when a check fails."""
    from hpmon.doctor import run_checks

    settings = _settings(ctx)
    config = _service_config(settings)
    findings = run_checks(settings, disk_alert_percent=config.disk_alert_percent, min_free_mb=config.min_free_mb,
                          full=full)
    if as_json:
        click.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        marks = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
        for f in findings:
            console.print(f"{marks[f.status]} [bold]{f.check}[/]: ", Text(f.detail))
    if any(f.status == "fail" for f in findings):
        sys.exit(1)


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """Copy the data directory (databases, WARC archive, models) into DEST, with a sha256 manifest.

    Safe while the service runs: databases are copied through SQLite's backup API.
    """
    from hpmon.backup import BackupError
    from hpmon.backup import backup as do_backup

    try:
        manifest = do_backup(_settings(ctx), dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    total = sum(f.size for f in manifest.files)
    kinds: dict[str, int] = {}
    for f in manifest.files:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    console.print(f"backed up {len(manifest.files)} files ({total // 1000} kB) into {dest}: "
                  + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))


@click.command("restore")
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite the files the data directory already has.")
@click.pass_context
def restore(ctx: click.Context, src: Path, force: bool) -> None:
    """Restore a backup made by `hpmon backup` into the data directory (refused while `hpmon run` runs)."""
    from hpmon.backup import BackupError
    from hpmon.backup import restore as do_restore

    try:
        manifest = do_restore(_settings(ctx), src, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"restored {len(manifest.files)} files from the backup of {manifest.created_at}")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Only say what would be cleared and deleted.")
@click.option("--text-years", type=click.IntRange(0), help="Override the setting retention_text_years.")
@click.option("--warc-years", type=click.IntRange(0), help="Override the setting retention_warc_years.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention(ctx: click.Context, dry_run: bool, text_years: int | None, warc_years: int | None,
              as_json: bool) -> None:
    """Apply the retention policy: clear full text older than N years; delete old WARC files,
    except those holding pages of articles in cases (kept forever)."""
    from hpmon.backup import apply_retention, retention_plan

    settings = _settings(ctx)
    text_years = text_years if text_years is not None else getattr(settings, "retention_text_years", 5)
    warc_years = warc_years if warc_years is not None else getattr(settings, "retention_warc_years", 0)
    plan = retention_plan(settings, text_years, warc_years)
    result = None if dry_run else apply_retention(settings, plan)
    if as_json:
        click.echo(json.dumps({"plan": plan.to_dict(), "applied": result}, ensure_ascii=False, indent=2))
        return
    verb = "would" if dry_run else "did"
    console.print(f"text older than {plan.text_cutoff or 'never'}: {verb} clear {len(plan.clear_text)} articles")
    console.print(f"WARC older than {plan.warc_cutoff or 'never'}: {verb} delete {len(plan.delete_warc)} files; "
                  f"keeping {len(plan.keep_warc_for_cases)} for cases")
    for name, ids in plan.keep_warc_for_cases.items():
        console.print(f"  kept {name}: case articles {', '.join(ids[:5])}")


COMMANDS = (run, status, doctor, backup, restore, retention)
