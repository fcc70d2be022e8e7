"""CLI of machine translation: ``hpmon translate install|status|remove|text`` (docs/translation.md).
The engine and the pipeline's stage are built from the settings in ``hpmon.app``."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from hpmon.app import engine_choice
from hpmon.settings import Settings
from hpmon.term import console, err
from pipeline.translate import (
    MODELS_FOLDER,
    PIVOT,
    ArgosEngine,
    PackageError,
    TranslationError,
    base_language,
    install_package,
    installed_pairs,
    remove_pair,
)

#: The languages of the office's foreign coverage, checked by ``hpmon translate status``.
COVERAGE_LANGUAGES = ("zh", "ja", "ko", "ru", "fr", "de", "es", "th", "en")


@click.group("translate")
def translate() -> None:
    """Machine translation of foreign coverage: models and engine."""


@translate.command("install")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.pass_context
def install(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check and install Argos Translate packages (.argosmodel) into HOME/translation/."""
    from pathlib import Path

    settings: Settings = ctx.obj["settings"]
    failed = 0
    for name in files:
        try:
            pair = install_package(Path(name), settings.home / MODELS_FOLDER)
        except PackageError as exc:
            failed += 1
            err.print(Text(f"{name}: not installed: {exc}"))
            continue
        console.print(Text(f"installed {pair.source}→{pair.target} ({pair.name}) in {pair.path}"))
    if failed:
        raise SystemExit(1)


@translate.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """The engine in use, the installed models and which languages reach each target."""
    settings: Settings = ctx.obj["settings"]
    choice = engine_choice(settings)
    directory = settings.home / MODELS_FOLDER
    pairs = installed_pairs(directory)
    engine = choice.translator.name if choice.translator else "none"
    console.print(Text(f"engine: {engine} (translation_engine = {settings.translation_engine!r}); "
                       f"targets: {', '.join(settings.translation_targets)}"))
    if choice.translator is None:
        console.print(Text(f"no translation: {choice.reason}"))
    table = Table(title=f"installed models ({directory})")
    for column in ("pair", "package", "folder"):
        table.add_column(column)
    for pair in pairs:
        table.add_row(f"{pair.source}→{pair.target}", Text(pair.name), Text(str(pair.path)))
    console.print(table if pairs else Text(f"no model installed in {directory}"))
    if choice.translator is None:
        return
    routes = Table(title="coverage languages → targets")
    routes.add_column("from")
    targets = [t for t in dict.fromkeys(base_language(t) for t in settings.translation_targets) if t]
    for target in targets:
        routes.add_column(f"→ {target}")
    for source in COVERAGE_LANGUAGES:
        cells = []
        for target in targets:
            cells.append("—" if source == target else _route(choice.translator, source, target))
        routes.add_row(source, *cells)
    console.print(routes)


def _route(translator, source: str, target: str) -> str:
    if isinstance(translator, ArgosEngine):
        try:
            hops = translator.route(source, target)
        except TranslationError:
            return "missing"
        return "direct" if len(hops) == 1 else f"via {PIVOT}"
    try:
        return "yes" if (source, target) in translator.pairs() else "missing"
    except TranslationError as exc:
        return f"unknown ({exc})"


@translate.command("remove")
@click.argument("pair")
@click.pass_context
def remove(ctx: click.Context, pair: str) -> None:
    """Remove an installed model (PAIR such as zh-en)."""
    settings: Settings = ctx.obj["settings"]
    if not remove_pair(settings.home / MODELS_FOLDER, pair.replace("→", "-")):
        raise click.ClickException(f"{pair} is not installed (hpmon translate status lists the pairs)")
    console.print(Text(f"removed {pair}"))


@translate.command("text")
@click.argument("text")
@click.option("--from", "source", required=True, help="Language of TEXT (zh, ja, ko, ru, fr, de, es, th, en...).")
@click.option("--to", "target", default="vi", show_default=True, help="Language to translate into.")
@click.pass_context
def text_command(ctx: click.Context, text: str, source: str, target: str) -> None:
    """Translate TEXT with the configured engine (to try an installed model)."""
    settings: Settings = ctx.obj["settings"]
    choice = engine_choice(settings)
    if choice.translator is None:
        raise click.ClickException(choice.reason)
    try:
        [out] = choice.translator.translate([text], base_language(source) or source, base_language(target) or target)
    except TranslationError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(Text(out))
    err.print(Text(f"machine translation, {choice.translator.name}: "
                   f"{choice.translator.model(base_language(source) or source, base_language(target) or target)}"))
