"""Commands about what hpmon understood: labels (analysts' corrections), stories, models."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from hpbase.configfiles import TopicsFile
from hpmon.app import load_city, open_backend
from hpmon.settings import Settings
from hpmon.term import console


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def known_topics(settings: Settings) -> set[str]:
    """The topic labels of the taxonomy (config/topics.yaml)."""
    path = settings.config_dir / "topics.yaml"
    taxonomy = TopicsFile.read(path)
    if not taxonomy.exists:
        raise FileNotFoundError(path)
    return set(taxonomy.topic_keys)


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
    from records.labels import CorrectionError, LabelStore, apply_correction

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


SEED_DIR = Path(__file__).resolve().parents[2] / "classifiers" / "data"


def train_models(settings: Settings, *, cross_validation: bool = False, echo=None) -> dict:
    """Train the topic and sentiment models on the seed corpus plus every analyst correction,
    save them into the data directory; returns their metadata (and the CV report when asked)."""
    from classifiers.corpus import Example, load_seed
    from classifiers.evaluate import cross_validate, render_text
    from classifiers.lexicon import Lexicons
    from classifiers.models import train
    from classifiers.sensitive import SensitiveDetector
    from pipeline.city import boundary_names
    from records.labels import LabelStore

    lexicons = Lexicons.load(settings.config_dir)
    seed = load_seed(SEED_DIR)
    store = LabelStore(settings.app_db_path)
    corrections = [Example(id=f"correction-{c.article_id}", lang=c.language, title=c.title, text=c.text,
                           topics=c.topics or [], sentiment=c.sentiment)
                   for c in store.latest_per_article()]
    store.close()
    city = load_city(settings)
    sensitive = SensitiveDetector.from_config(settings.config_dir, boundary_names(city))
    models = train(seed, corrections, lexicons=lexicons, sensitive=sensitive)
    models.save(settings.models_dir)
    from pipeline.about import MODEL_FILE, load_labelled, train_about

    try:  # the relevance decision (pipeline/about.py)
        about, about_scores = train_about(load_labelled(SEED_DIR), city)
    except ValueError as exc:  # a corpus without about_city labels of both kinds: the formula decides
        (settings.models_dir / MODEL_FILE).unlink(missing_ok=True)  # never a stale decision from another corpus
        logging.getLogger(__name__).warning("relevance decision not trained (%s): the hand formula decides", exc)
        about_scores = {"error": str(exc)}
        if echo is not None:
            echo(f"relevance decision not trained ({exc}): the hand formula decides")
    else:
        about.save(settings.models_dir)
        if echo is not None:
            echo(f"relevance decision: out-of-fold F1 {about_scores['oof']['f1']:.3f} at threshold "
                 f"{about_scores['threshold']:.2f} (hand formula {about_scores['hand_formula']['f1']:.3f})")
    if cross_validation and echo is not None:
        echo(render_text(cross_validate(seed + corrections, 5, lexicons=lexicons),
                         title="5-fold cross-validation (seed corpus + corrections)"))
    return {**models.meta, "corrections": len(corrections), "seed": len(seed), "about": about_scores}


@click.command()
@click.option("--cv/--no-cv", default=True, show_default=True, help="Print 5-fold cross-validated scores.")
@click.pass_context
def train(ctx: click.Context, cv: bool) -> None:
    """Rebuild the topic and sentiment models from the seed corpus plus every analyst correction."""
    settings = _settings(ctx)
    meta = train_models(settings, cross_validation=cv, echo=click.echo)
    console.print(f"trained models {meta.get('version')} on {meta['seed']} seed examples and "
                  f"{meta['corrections']} corrections → {settings.models_dir}")


@click.command("eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.pass_context
def evaluate_command(ctx: click.Context, path: Path, as_json: bool) -> None:
    """Score the current models (and the keyword rules, side by side) on a labelled JSON Lines file.

    Fields: text, optional title, topics or topic, sentiment as -1/0/1 or a label, and
    sensitive (the themes; when any line has them, the sensitive-theme detector is scored too,
    every line counting as labelled).
    """
    from classifiers.baseline import LexiconBaseline
    from classifiers.corpus import load_jsonl
    from classifiers.evaluate import evaluate, render_comparison, render_text
    from classifiers.lexicon import Lexicons
    from hpmon.app import load_models

    settings = _settings(ctx)
    models = load_models(settings)
    if models is None:
        raise click.ClickException("no trained models: run `hpmon train` first")
    loaded = load_jsonl(path)
    for bad in loaded.bad_lines:
        click.echo(f"skipped {bad.path}:{bad.line}: {bad.reason}", err=True)
    if not loaded.examples:
        raise click.ClickException(f"no usable example in {path}")
    version = models.meta.get("version", "")
    report = evaluate(models.predict, loaded.examples, version)
    baseline = evaluate(LexiconBaseline(Lexicons.load(settings.config_dir)).predict, loaded.examples, "lexicon")
    sensitive = None
    if any(e.sensitive for e in loaded.examples):  # the file labels sensitive themes: score the detector too
        from classifiers.sensitive_eval import score_sensitive

        sensitive = score_sensitive(
            settings.config_dir,
            [{"id": e.id, "lang": e.lang or "", "title": e.title, "text": e.text, "sensitive": e.sensitive}
             for e in loaded.examples],
            predict_topics=lambda title, text, lang: models.predict(title, text, lang or None).topic_labels)
    if as_json:
        click.echo(json.dumps({"model": json.loads(report.to_json()), "lexicon_rules": json.loads(baseline.to_json()),
                               "sensitive_themes": sensitive.to_dict() if sensitive else None,
                               "skipped_lines": len(loaded.bad_lines)}, ensure_ascii=False, indent=2))
        return
    click.echo(render_text(report, title=f"model {version} on {path.name} ({len(loaded.examples)} examples)"))
    click.echo()
    click.echo(render_comparison({f"model {version}": report, "lexicon rules": baseline}))
    if sensitive is not None:
        from classifiers.sensitive_eval import format_report

        click.echo()
        click.echo("Sensitive themes (lexicon + rule of config/risk.yaml, with the model's topics):")
        click.echo(format_report(sensitive))
