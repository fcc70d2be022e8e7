"""Commands about what hpmon understood: labels (analysts' corrections), stories, models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import click
import yaml
from rich.console import Console
from rich.table import Table

from hpmon.app import load_city, open_backend
from hpmon.settings import Settings

console = Console()


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def known_topics(settings: Settings) -> set[str]:
    """The topic labels of the taxonomy (config/topics.yaml)."""
    raw = yaml.safe_load((settings.config_dir / "topics.yaml").read_text(encoding="utf-8")) or {}
    topics = raw.get("topics", [])
    if isinstance(topics, dict):
        return set(topics)
    return {t["label"] if isinstance(t, dict) else str(t) for t in topics}


@click.command()
@click.argument("article_id")
@click.option("--topic", "topics", multiple=True, help="Correct topic (repeatable, best first).")
@click.option("--sentiment", type=click.Choice(["negative", "neutral", "positive"]))
@click.option("--user", default="cli", show_default=True, help="Who makes the correction (audit).")
@click.option("--note", default="", help="Why.")
@click.pass_context
def label(ctx: click.Context, article_id: str, topics: tuple[str, ...], sentiment: str | None, user: str,
          note: str) -> None:
    """Correct an article's topics and/or sentiment (shown at once, used by the next `hpmon train`)."""
    from index.labels import CorrectionError, LabelStore, apply_correction

    settings = _settings(ctx)
    backend = open_backend(settings)
    store = LabelStore(settings.app_db_path)
    try:
        article = apply_correction(backend, store, article_id, topics=list(topics) or None, sentiment=sentiment,
                                   user=user, note=note, known_topics=known_topics(settings))
    except CorrectionError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"corrected {article.id}: topics={article.topics} sentiment={article.sentiment}")


@click.command()
@click.option("--since", help="Stories with articles since this date (YYYY-MM-DD, city time).")
@click.option("--top", "limit", default=10, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stories(ctx: click.Context, since: str | None, limit: int, as_json: bool) -> None:
    """The biggest stories: articles about the same event, by outlets, then countries."""
    from pipeline.stories import StoryStore

    settings = _settings(ctx)
    tz = ZoneInfo(load_city(settings).timezone)
    start = None
    if since:
        try:
            start = datetime.combine(datetime.fromisoformat(since).date(), time.min, tz).astimezone(UTC)
        except ValueError as exc:
            raise click.BadParameter(f"not a date: {since}") from exc
    store = StoryStore(settings.home / "stories.sqlite")
    top = store.top(since=start, limit=limit)
    if as_json:
        click.echo(json.dumps([s.__dict__ for s in top], ensure_ascii=False, indent=2))
        return
    table = Table(title="Stories")
    for col in ("story", "articles", "outlets", "languages", "countries", "first seen", "title"):
        table.add_column(col, overflow="fold")
    for s in top:
        first = datetime.fromisoformat(s.first_seen).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        table.add_row(s.story_id, str(s.size), ", ".join(s.outlets[:5]) + ("…" if len(s.outlets) > 5 else ""),
                      ", ".join(s.languages), ", ".join(s.countries), first, s.title[:90])
    console.print(table)
