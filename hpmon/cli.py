"""The ``hpmon`` command line."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from hpmon import __version__
from hpmon.app import build_pipeline, init_home, load_city, load_source_list, open_backend, setup_logging
from hpmon.settings import SETTINGS_FILE, Settings, load_settings
from hpmon.term import console, err

logger = logging.getLogger(__name__)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _disk_full_at(exc: BaseException, ctx: click.Context) -> str | None:
    """Where the disk is full, when the exception says so (the OS's ENOSPC or EDQUOT, or SQLite's
    "database or disk is full"), else None."""
    import errno
    import sqlite3

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = exc.filename
    elif isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
        where = None
    else:
        return None
    settings = (ctx.obj or {}).get("settings")
    return str(where or (settings.home if settings else "the data directory"))


_DAMAGED_DB = ("malformed", "not a database", "file is encrypted", "disk i/o error", "vtable constructor failed")


class _Commands(click.Group):
    """The command group: a full disk is said in one line ("disk full at PATH", exit 1), and so is
    a damaged database (with the commands that name and repair it), never with a traceback,
    whichever command hit it."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            where = _disk_full_at(exc, ctx)
            if where is not None:
                raise click.ClickException(f"disk full at {where}: free some space and run it again") from exc
            # SQLite raises the bare DatabaseError (not a subclass) for a damaged file
            if isinstance(exc, sqlite3.DatabaseError) and (type(exc) is sqlite3.DatabaseError or any(
                    w in str(exc).lower() for w in _DAMAGED_DB)):
                settings = (ctx.obj or {}).get("settings")
                home = settings.home if settings else "the data directory"
                raise click.ClickException(
                    f"a database in {home} is damaged ({exc}): `hpmon doctor --full` names it, "
                    "`hpmon restore BACKUP` repairs it from a backup") from exc
            raise


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), help="Data directory (default ./data or $HPMON_HOME).")
@click.option("--sources-file", type=click.Path(path_type=Path, exists=True), help="Source registry to use.")
@click.version_option(__version__, prog_name="hpmon")
@click.pass_context
def main(ctx: click.Context, home: Path | None, sources_file: Path | None) -> None:
    """hpmon: monitor what domestic and foreign press write about the city.

    Crawl sources, keep the articles about the city, search them. Settings come from
    HOME/hpmon.toml and HPMON_* environment variables (see docs/settings.md).
    """
    # Everything hpmon writes (password hashes, sessions, cases, the index, evidence) is for the
    # office only: files 0600 and directories 0700, whoever started it and with whatever umask.
    os.umask(0o077)
    try:
        settings = load_settings(home=home, sources_file=sources_file)
    except Exception as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
    ctx.obj = {"settings": settings}
    setup_logging(settings)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the data directory, its index and crawl state."""
    settings = _settings(ctx)
    created = init_home(settings)
    settings_file = settings.home / SETTINGS_FILE
    if not settings_file.exists():
        settings_file.write_text(
            "# hpmon settings (environment variables HPMON_<NAME> override these). See docs/settings.md.\n"
            "# index = \"sqlite\"\n# download_timeout = 30.0\n# user_agent = \"...\"\n", encoding="utf-8")
        created.append(settings_file)
    backend = open_backend(settings)
    count = backend.count()
    backend.close()
    from crawlers.state import CrawlState

    CrawlState(settings.state_path).close()
    city = load_city(settings)
    sources = load_source_list(settings)
    if not (settings.models_dir / "meta.json").is_file():
        from hpmon.commands.understand import train_models

        meta = train_models(settings)
        created.append(settings.models_dir)
        console.print(f"  trained topic and sentiment models {meta.get('version')} ({meta['seed']} examples)")
    console.print(f"[bold]hpmon[/] data directory: {settings.home.resolve()}")
    for path in created:
        console.print(f"  created {path}")
    console.print(f"  index: {settings.index} ({count} articles)")
    console.print(f"  city: {city.display_name.get('vi', city.id)} — {len(city.entries)} names and places")
    console.print(f"  sources: {sum(s.enabled for s in sources)} enabled of {len(sources)} ({settings.sources_path})")


@main.command()
@click.option("--source", "source_ids", multiple=True, help="Only this source id (repeatable).")
@click.option("--once", is_flag=True, help="Crawl once and exit (the default; the service is `hpmon run`).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def crawl(ctx: click.Context, source_ids: tuple[str, ...], once: bool, as_json: bool) -> None:
    """Crawl the configured sources once, process and index what is new.

    \b
    Exit codes:
      0  the crawl ran (some sources may have failed: see the summary)
      1  an error stopped it before crawling (settings, unknown source)
      3  every source failed
      4  no network: not one of a few source hosts resolves (checked
         in a few seconds before crawling)
    """
    from hpmon.crawl import EXIT_FAILED, EXIT_NO_NETWORK, network_problem, run_crawl
    from hpmon.summary import summary_table

    settings = _settings(ctx)
    init_home(settings)
    sources = load_source_list(settings)
    if source_ids:
        unknown = set(source_ids) - {s.id for s in sources}
        if unknown:
            raise click.ClickException(f"unknown source(s): {', '.join(sorted(unknown))}")
        sources = [s for s in sources if s.id in source_ids]
    enabled = [s for s in sources if s.enabled]
    if not enabled:
        raise click.ClickException("no enabled source to crawl")
    problem = network_problem(enabled)
    if problem:
        err.print(problem, markup=False, highlight=False, soft_wrap=True)
        ctx.exit(EXIT_NO_NETWORK)
    if not as_json:
        err.print(f"Crawling {len(enabled)} sources into {settings.home}…")
    rows = run_crawl(settings, sources, console=err)
    every_source_failed = bool(rows) and all(r.fetched == 0 and r.failed and not r.not_modified for r in rows)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
    else:
        console.print(summary_table(rows))
        _report_unverified(rows, sources)
    if every_source_failed:
        reasons = {k for r in rows for k in r.failures}
        hint = " Is the network reachable?" if reasons <= {"dns_error", "connection_refused", "timeout"} else ""
        err.print(f"[red]Every source failed[/] ({', '.join(sorted(reasons))}).{hint}")
        ctx.exit(EXIT_FAILED)
    if not as_json:
        console.print('Search what was found:  [bold]hpmon search "hai phong"[/]   '
                      '(add --facets, --foreign, --lang en...)')


def _report_unverified(rows: list, sources: list) -> None:
    """The crawled sources whose URLs nobody checked against the outlet, apart from the rest: a
    failure there most likely means a wrong URL in sources.yaml, not a broken site."""
    by_id = {s.id: s for s in sources}
    unverified = [r for r in rows if r.source_id in by_id and not by_id[r.source_id].verified]
    if not unverified:
        return
    failed = [r for r in unverified if r.failed and not r.fetched and not r.not_modified]
    console.print(f"[yellow]Unverified sources[/]: {len(unverified)} of {len(rows)} crawled "
                  f"({len(unverified) - len(failed)} answered, {len(failed)} failed); their URLs were never "
                  "checked against the outlet: [bold]hpmon sources check --live[/]")
    for r in failed:
        reasons = ", ".join(f"{k}×{v}" for k, v in r.failures.most_common(3))
        source = by_id[r.source_id]
        console.print(f"  [red]failed[/] {r.source_id} ({reasons}) — check its URL: "
                      f"{(source.urls or (source.url_template,))[0]}")
    verified_failed = [r for r in rows if r.source_id in by_id and by_id[r.source_id].verified
                       and r.failed and not r.fetched and not r.not_modified]
    if verified_failed:
        console.print(f"[red]Verified sources that failed[/]: {', '.join(r.source_id for r in verified_failed)}")


def _page_from_file(path: Path, max_bytes: int):
    """The file as a ``FetchedPage``; a file larger than ``max_bytes`` (the crawl's
    ``max_page_bytes``) as ``(where, reason)`` instead, never read."""
    from crawlers.items import FetchedPage

    size = path.stat().st_size
    if size > max_bytes:
        return str(path), f"too_large: {size} bytes, more than {max_bytes} (max_page_bytes), skipped"
    return FetchedPage(source_id="ingest", url=path.resolve().as_uri(), link_url=path.resolve().as_uri(),
                       status=200, headers={}, body=path.read_bytes(), fetched_at=datetime.now(UTC))


# What warcio raises on a record it cannot parse (a header without its value, a Content-Length of
# 30 digits): that record is skipped and the reading goes on at the next record's start.
_BAD_RECORD = (AttributeError, OverflowError, ValueError, TypeError, IndexError, KeyError)
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_START = b"WARC/1."


def _next_record_start(fh, after: int, gzipped: bool) -> int | None:
    """The offset of the next record's start (a gzip member, else a ``WARC/1.`` line) after
    ``after``, read in chunks; None at the end of the file."""
    marker = _GZIP_MEMBER if gzipped else _WARC_START
    fh.seek(after)
    position, tail = after, b""
    while chunk := fh.read(1 << 20):
        found = (tail + chunk).find(marker)
        if found >= 0:
            return position - len(tail) + found
        tail = chunk[-(len(marker) - 1):]
        position += len(chunk)
    return None


def _warc_records(fh):
    """(number, record) for each record of an open WARC file, or (number, exception) for one
    that cannot be parsed, after which the reading resumes at the next record's start."""
    from warcio.archiveiterator import ArchiveIterator

    fh.seek(0)
    gzipped = fh.read(2) == _GZIP_MEMBER[:2]
    start, number = 0, 0
    while start is not None:
        fh.seek(start)
        iterator = ArchiveIterator(fh)
        at = start
        try:
            for record in iterator:
                number += 1
                yield number, record
                at = iterator.get_record_offset() or at  # after the reader is done: this reads to its end
            return
        except _BAD_RECORD as exc:
            number += 1
            yield number, exc
            start = _next_record_start(fh, max(at, iterator.offset or 0) + 1, gzipped)


def _pages_from_warc(path: Path, max_bytes: int):
    """Each response record of a WARC as a ``FetchedPage``; a record that cannot be read (a bad
    header, date or status line) as ``(where, reason)`` instead, and the records after it are
    still read. A page is read in chunks up to ``max_bytes`` (the crawl's ``max_page_bytes``) as
    its record inflates, never whole: a larger one is ``too_large`` and skipped. A file that
    cannot be read on (truncated, corrupt) raises."""
    from crawlers.items import FetchedPage
    from guard.limits import TooLarge, read_stream

    with path.open("rb") as fh:
        for number, record in _warc_records(fh):
            if isinstance(record, BaseException):
                yield f"{path} record {number}", f"bad_record: {type(record).__name__}: {record}"[:300]
                continue
            if record.rec_type != "response" or not record.http_headers:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            where = f"{path} record {number}" + (f" ({url})" if url else "")
            try:
                date = record.rec_headers.get_header("WARC-Date")
                fetched = datetime.fromisoformat(date.replace("Z", "+00:00")) if date else datetime.now(UTC)
                if fetched.tzinfo is None:
                    fetched = fetched.replace(tzinfo=UTC)
                headers = {k.lower(): v for k, v in reversed(record.http_headers.headers)}
                status = int(record.http_headers.get_statuscode() or 200)
                if not url:
                    raise ValueError("no WARC-Target-URI")
                body = read_stream(record.content_stream(), max_bytes, what="the page")
            except TooLarge as exc:  # the rest of the record is skipped in chunks by the iterator
                yield where, f"too_large: {exc} (max_page_bytes), skipped"
                continue
            except (ValueError, TypeError, OverflowError) as exc:
                yield where, f"bad_record: {exc}"
                continue
            yield FetchedPage(source_id="ingest", url=url, link_url=url, status=status, headers=headers,
                              body=body, fetched_at=fetched)


def _ingest_table(counts: Counter, failures: Counter) -> Table:
    table = Table(title="Ingest")
    for column in ("pages", "new", "updated", "duplicates", "not relevant", "failed"):
        table.add_column(column, justify="right")
    table.add_column("reasons", overflow="fold")
    table.add_row(*(str(counts[k]) for k in ("pages", "new", "updated", "duplicates", "not_relevant")),
                  str(sum(failures.values())), ", ".join(f"{k}×{v}" for k, v in failures.most_common()) or "—")
    return table


class _Unreadable(tuple):
    """(where, reason) of a file that cannot be read on: said, and the next file goes on."""


def _ingest_items(files: list[Path], max_bytes: int):
    """Each file's pages in order: a ``FetchedPage``, ``(where, reason)`` for a WARC record that
    cannot be read, or ``_Unreadable`` for a file that cannot be read (on), after its pages."""
    for path in files:
        try:
            if path.name.endswith((".warc", ".warc.gz")):
                yield from _pages_from_warc(path, max_bytes)
            else:
                yield _page_from_file(path, max_bytes)
        except Exception as exc:  # a corrupt WARC or unreadable file: say why, go on
            yield _Unreadable((str(path), f"unreadable: {type(exc).__name__}: {exc}"))


def _batch_pool(settings: Settings, workers: int | None, most: int | None = None):
    """The worker pool of a batch command (``--workers``, else the ``workers`` setting; at most
    ``most`` processes), or None to process in this process (1 worker)."""
    from pipeline.pool import PagePool, worker_count

    count = worker_count(settings.workers if workers is None else workers)
    if most is not None:
        count = min(count, most)
    if count <= 1:
        return None
    from hpmon.app import worker_pipeline

    return PagePool(count, worker_pipeline, (settings, []))


_WORKERS_HELP = ("Processes that decode, extract and classify the inputs (0 = one per CPU, 1 = all in this process); "
                 "default: the `workers` setting. The output is in input order whatever the number.")


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--workers", type=click.IntRange(min=0), default=None, help=_WORKERS_HELP)
@click.pass_context
def ingest(ctx: click.Context, inputs: tuple[str, ...], workers: int | None) -> None:
    """Process and index HTML files, WARC files or URLs.

    \b
    Exit codes:
      0  every input was read and processed (indexed, or not about the city)
      1  an error stopped it before reading (a path that is not a file)
      3  at least one input failed: the summary says how many and why
    """
    from crawlers.sources import Source
    from hpmon.crawl import EXIT_FAILED
    from hpmon.summary import summary_table
    from pipeline.outcome import Dropped

    settings = _settings(ctx)
    init_home(settings)
    urls = [i for i in inputs if i.startswith(("http://", "https://"))]
    files = [Path(i) for i in inputs if i not in urls]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise click.ClickException(f"not a file or URL: {', '.join(missing)}")
    counts: Counter = Counter()
    failures: Counter = Counter()

    def failed(where: str, reason: str) -> None:
        failures[reason.split(":", 1)[0]] += 1
        console.print(f"[red]failed[/] {where}: {reason}", markup=True, highlight=False)

    if files:
        from crawlers.items import FetchedPage
        from pipeline.pool import IN_FLIGHT_PER_WORKER, WorkerLost, in_order
        from pipeline.process import Indexed

        warcs = any(f.name.endswith((".warc", ".warc.gz")) for f in files)
        pool = _batch_pool(settings, workers, None if warcs else len(files))  # one page a file: no idle worker
        backend = open_backend(settings)
        # with a pool, this process is the one writer (duplicates, stories, the index), in input order
        pipeline = build_pipeline(settings, backend, [], content_stages=pool is None)
        new_articles = []

        def outcome_of(page, future):
            try:
                if future is None:
                    return pipeline.process_page(page)
                return pipeline.index(pipeline.analyze_context(future.result()))
            except WorkerLost as exc:
                logger.error("processing %s: %s", page.url, exc)
                return Dropped("pipeline", "worker_lost", str(exc))
            except Exception as exc:  # a bug or our own failure (engine, disk): say why, go on
                logger.exception("processing %s failed", page.url)
                return Dropped("pipeline", "internal_error", f"{type(exc).__name__}: {exc}")

        items = _ingest_items(files, settings.max_page_bytes)
        if pool is None:
            taken = ((item, None) for item in items)
        else:
            taken = in_order(items, lambda item: pool.submit(item) if isinstance(item, FetchedPage) else None,
                             pool.workers * IN_FLIGHT_PER_WORKER)
        try:
            for item, future in taken:
                if isinstance(item, _Unreadable):
                    failed(*item)
                    continue
                counts["pages"] += 1
                if isinstance(item, tuple):  # a WARC record that cannot be read: skipped, the rest goes on
                    failed(*item)
                    continue
                outcome = outcome_of(item, future)
                if isinstance(outcome, Dropped):
                    if outcome.is_failure:
                        failed(item.url, f"{outcome.reason}: {outcome}")
                    else:
                        counts["not_relevant"] += 1
                        console.print(f"[yellow]dropped[/] {item.url}: {outcome}")
                else:
                    state = "duplicate" if outcome.duplicate else ("new" if outcome.new else "updated")
                    counts["duplicates" if outcome.duplicate else state] += 1
                    if isinstance(outcome, Indexed) and outcome.new:
                        new_articles.append(outcome.article)
                    console.print(f"[green]indexed[/] {outcome.article.id} ({state}) {outcome.article.title}")
        finally:
            if pool is not None:
                pool.close()
        if new_articles:
            from hpmon.commands.alerts import process_new_articles

            process_new_articles(settings, backend, new_articles)
        backend.close()
        console.print(_ingest_table(counts, failures))
    if urls:
        from hpmon.crawl import run_crawl

        source = Source(id="ingest", name="hpmon ingest", kind="pages", urls=tuple(urls))
        rows = run_crawl(settings, [source], console=err)
        console.print(summary_table(rows, title="Ingest"))
        for row in rows:
            failures.update(row.failures)
    if failures:
        total = sum(failures.values())
        err.print(f"[red]{total} input{'s' if total > 1 else ''} failed[/]: "
                  + ", ".join(f"{k}×{v}" for k, v in failures.most_common()), highlight=False)
        ctx.exit(EXIT_FAILED)


def _parse_day(value: str | None, tz: ZoneInfo, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a date: {value} (use YYYY-MM-DD)") from exc
    if len(value) <= 10:
        dt = datetime.combine(dt.date(), time.max if end else time.min)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def _marked(snippet) -> Text:
    text = Text(snippet.text.replace("\n", " "))  # same length: the spans stay valid
    for s, e in snippet.spans:
        text.stylize("bold yellow", s, e)
    return text


@main.command()
@click.argument("query", required=False, default="")
@click.option("--lang", "languages", multiple=True, help="Language code (repeatable): vi, en, zh...")
@click.option("--source", "source_ids", multiple=True, help="Source id (repeatable).")
@click.option("--country", "countries", multiple=True, help="Outlet country, ISO code (repeatable).")
@click.option("--since", help="From this date (YYYY-MM-DD, city time).")
@click.option("--until", help="Up to this date, inclusive.")
@click.option("--topic", "topics", multiple=True, help="Topic label (repeatable): sovereignty, investment...")
@click.option("--sentiment", "sentiments", multiple=True, type=click.Choice(["negative", "neutral", "positive"]))
@click.option("--theme", "themes", multiple=True, help="Sensitive theme (repeatable): sovereignty, religion...")
@click.option("--story", "story_ids", multiple=True, help="Only articles of this story.")
@click.option("--min-risk", type=click.FloatRange(0, 1), help="Only articles with at least this risk score.")
@click.option("--domestic", "scope", flag_value="domestic", help="Only domestic press.")
@click.option("--foreign", "scope", flag_value="foreign", help="Only foreign press.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--facets", is_flag=True, help="Show counts by language, source, country and scope.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(0))
@click.pass_context
def search(ctx: click.Context, query: str, languages, source_ids, countries, since, until, topics, sentiments,
           themes, story_ids, min_risk, scope, sort, facets, as_json, limit, offset) -> None:
    """Search the index. QUERY: words (all must match), "a phrase", -excluded, a OR b.

    Case and Vietnamese diacritics are ignored: `hai phong` finds `Hải Phòng`. A name the city
    profile knows finds all its spellings (`hai phong` also finds Haiphong, 海防, ハイフォン), and a
    topic or theme name finds the articles labelled with it; "quotes" search the words only.
    """
    from index.query import QuerySyntaxError, SearchQuery
    from index.thesaurus import Thesaurus

    settings = _settings(ctx)
    tz = ZoneInfo(load_city(settings).timezone)
    filters = {"language": list(languages), "source": list(source_ids), "country": [c.upper() for c in countries],
               "topic": list(topics), "sentiment": list(sentiments), "theme": list(themes), "story": list(story_ids)}
    if scope:
        filters["scope"] = [scope]
    try:
        request = SearchQuery(text=query, filters=filters, since=_parse_day(since, tz, False),
                              until=_parse_day(until, tz, True), sort=sort, limit=limit, offset=offset,
                              facets=facets, min_risk=min_risk)
        request.thesaurus = Thesaurus.of_installation(settings.config_dir, settings.city_path)
        backend = open_backend(settings)
        result = backend.search(request)
    except QuerySyntaxError as exc:
        raise click.ClickException(f"query: {exc}") from exc
    if as_json:
        click.echo(json.dumps({
            "total": result.total,
            "hits": [{"id": h.article.id, "score": round(h.score, 4), "title": h.article.title,
                      "url": h.article.url, "language": h.article.language, "source": h.article.source_id,
                      "outlet": h.article.outlet, "country": h.article.country, "scope": h.article.scope,
                      "date": h.article.date.isoformat() if h.article.date else None,
                      "topics": h.article.topics, "sentiment": h.article.sentiment,
                      "themes": h.article.sensitive_themes, "risk": h.article.risk_score,
                      "story": h.article.story_id,
                      "snippet": h.snippet.text, "highlights": h.snippet.spans} for h in result.hits],
            "facets": {k: [[v, n] for v, n in vals] for k, vals in result.facets.items() if vals},
        }, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{result.total}[/] articles" + (f" for [bold]{query}[/]" if query else ""))
    for n, hit in enumerate(result.hits, start=offset + 1):
        a = hit.article
        when = a.date.astimezone(tz).strftime("%Y-%m-%d %H:%M") if a.date else "?"
        console.print(Text(f"{n}. ", style="bold") + Text(a.title or "(no title)", style="bold"))
        labels = " · ".join(filter(None, [", ".join(a.topics or []), a.sentiment,
                                          f"risk {a.risk_score:.2f}" if a.risk_score else None]))
        console.print(Text(f"   {a.outlet or a.source_id} · {a.country or '?'} · {a.language} · {when} · {a.id}",
                           style="dim"))
        if labels:
            console.print(Text(f"   {labels}", style="cyan"))
        console.print(Text("   ") + _marked(hit.snippet))
    if facets:
        for name, values in result.facets.items():
            if values:
                console.print(f"[bold]{name}[/]: " + ", ".join(f"{v} ({n})" for v, n in values))


@main.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, article_id: str, as_json: bool) -> None:
    """Show one article with everything hpmon concluded and why."""
    settings = _settings(ctx)
    article = open_backend(settings).get(article_id)
    if article is None:
        raise click.ClickException(f"no article with id {article_id}")
    if as_json:
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
        return
    tz = ZoneInfo(load_city(settings).timezone)
    console.print(Text(article.title, style="bold"))
    console.print(f"[dim]{article.url}[/]")
    table = Table(show_header=False, box=None)
    published = article.reasons.get("published")
    origin = published.get("source") if isinstance(published, dict) else None  # json-ld, meta:..., feed...
    rows = [
        ("id", article.id), ("source", article.source_id), ("outlet", article.outlet or "?"),
        ("country", f"{article.country or '?'} ({article.scope or '?'})"),
        ("language", f"{article.language} (p={article.language_probability})"),
        ("published", article.published_at.astimezone(tz).isoformat() + (f" (from {origin})" if origin else "")
         if article.published_at else "unknown"),
        ("fetched", article.fetched_at.astimezone(tz).isoformat() if article.fetched_at else "?"),
        ("authors", ", ".join(article.authors) or "—"),
        ("relevance", f"{article.relevance_score} — {', '.join(article.relevance_terms)}"),
        ("topics", ", ".join(article.topics or []) or "—"),
        ("sentiment", f"{article.sentiment} ({article.sentiment_score})" if article.sentiment else "—"),
        ("sensitive", ", ".join(article.sensitive_themes or []) or "—"),
        ("risk", f"{article.risk_score}" if article.risk_score is not None else "—"),
        ("story", article.story_id or "—"),
        ("duplicate of", article.duplicate_of or "—"),
        ("evidence", f"{article.warc_file} @ {article.warc_offset}" if article.warc_file else "—"),
    ]
    for key, value in rows:
        table.add_row(Text(key, style="bold"), Text(str(value)))
    console.print(table)
    hits = article.reasons.get("relevance", {}).get("hits", [])
    if hits:
        console.print("[bold]why relevant[/]: " + "; ".join(f"{h['surface']} ({h['field']})" for h in hits[:12]))
    for reason in article.reasons.get("classification", {}).get("reasons", []):
        features = ", ".join(f"{name}" for name, _ in reason.get("features", [])[:5])
        console.print(f"[bold]why {reason['label']}[/]: terms {', '.join(reason.get('terms', [])[:8]) or '—'}; "
                      f"features {features or '—'}")
    findings = article.reasons.get("sensitive", {}).get("findings", [])
    if findings:
        console.print("[bold]sensitive findings[/]: " + "; ".join(
            f"{f['surface']} ({f['theme']}, severity {f['severity']})" for f in findings[:12]))
    for reason in article.reasons.get("risk", {}).get("reasons", []):
        console.print(f"[bold]risk[/] +{reason['weight']}: {reason['kind']} — {reason['evidence']}")
    correction = article.reasons.get("correction")
    if correction:
        console.print(f"[bold]corrected by[/] {correction['by']} at {correction['at']}: {correction.get('note', '')}")
    console.print()
    console.print(Text(article.text))


@main.group()
def sources() -> None:
    """List, check, import and export the sources."""


@sources.command("list")
@click.pass_context
def sources_list(ctx: click.Context) -> None:
    """The configured sources."""
    settings = _settings(ctx)
    table = Table(title=str(settings.sources_path))
    for col in ("id", "kind", "lang", "country", "zone", "scope", "group", "enabled", "verified", "name"):
        table.add_column(col)
    for s in load_source_list(settings):
        table.add_row(s.id, s.kind, s.language or "", s.country or "", s.effective_timezone or "", s.scope,
                      s.group or "", "yes" if s.enabled else "no", "yes" if s.verified else "no", s.name)
    console.print(table)


@sources.command("check")
@click.argument("source_ids", nargs=-1)
@click.option("--live", is_flag=True, help="Fetch each enabled source's URLs now and report what they answer.")
@click.pass_context
def sources_check(ctx: click.Context, source_ids: tuple[str, ...], live: bool) -> None:
    """Each source's health from the last crawls (last success, error streak, recent failures) and
    which sources are unverified. With --live: fetch each enabled feed, sitemap and listing with
    the crawl's settings and report its status, items and how fresh its newest item is."""
    from crawlers.sources import verification_summary
    from crawlers.state import CrawlState

    settings = _settings(ctx)
    all_sources = load_source_list(settings)
    unknown = set(source_ids) - {s.id for s in all_sources}
    if unknown:
        raise click.UsageError(f"unknown source id(s): {', '.join(sorted(unknown))}")
    chosen = [s for s in all_sources if not source_ids or s.id in source_ids]
    state = CrawlState(settings.state_path)
    health = state.health()
    table = Table(title="Source health")
    for col in ("source", "verified", "last fetch", "last success", "last new article", "errors in a row",
                "last error"):
        table.add_column(col)
    for s in chosen:
        h = health.get(s.id, {})
        streak = h.get("error_streak", 0)
        table.add_row(s.id, Text("yes", style="green") if s.verified else Text("no", style="yellow"),
                      h.get("last_fetch") or "never", h.get("last_success") or "never",
                      h.get("last_new") or "—", Text(str(streak), style="red" if streak else ""),
                      (h.get("last_error") or "")[:80])
    console.print(table)
    for s in chosen:
        failures = state.recent_failures(s.id, limit=5)
        if failures:
            console.print(f"[bold]{s.id}[/] recent failures:")
            for at, url, reason in failures:
                console.print(f"  {at}  {reason}  [dim]{url}[/]")
    summary = verification_summary(chosen)
    console.print(f"verified: {summary['verified_enabled']} of {summary['enabled']} enabled sources "
                  f"({summary['verified']} of {summary['sources']} in all); "
                  f"unverified enabled: {len(summary['unverified_enabled'])}")
    for item in summary["unverified_enabled"]:
        note = f" — {item['note']}" if item["note"] else ""
        console.print(f"  [yellow]unverified[/] {item['id']} ({item['kind']}) [dim]{item['url']}[/]{note}")
    if live:
        _sources_check_live(settings, [s for s in chosen if s.enabled])


def _sources_check_live(settings: Settings, chosen: list) -> None:
    from crawlers.sources import check_live
    from guard.net import GuardedTransport, HostPolicy

    err.print(f"Fetching {sum(len(s.urls) or 1 for s in chosen)} URLs of {len(chosen)} enabled sources…")
    checks = check_live(chosen, user_agent=settings.user_agent, timeout=settings.download_timeout,
                        max_bytes=settings.max_page_bytes, obey_robots=settings.obey_robots,
                        transport=GuardedTransport(HostPolicy.from_allow_hosts(settings.fetch_allow_hosts)))
    now = datetime.now(UTC)
    table = Table(title="Live check")
    for col in ("source", "kind", "status", "items", "newest item", "result", "url"):
        table.add_column(col)
    for c in checks:
        age = c.age(now)
        if age is None:
            fresh = "—"
        else:
            fresh = f"{age.total_seconds() / 3600:.1f} h ago" if age.days < 2 else f"{age.days} d ago"
        result = Text("ok", style="green") if c.ok else Text(
            f"{c.error}: {c.detail}"[:70], style="dim" if c.error == "not_checked" else "red")
        table.add_row(c.source_id, c.kind, str(c.status or "—"), "—" if c.items is None else str(c.items), fresh,
                      result, c.final_url if c.final_url and c.final_url != c.url else c.url)
    console.print(table)
    answered = [c for c in checks if c.error != "not_checked"]
    failed = [c for c in answered if not c.ok]
    console.print(f"live: {len(answered) - len(failed)} of {len(answered)} URLs answered with content; "
                  f"{len(failed)} failed; {len(checks) - len(answered)} search templates not fetched")
    if failed:
        ctx = click.get_current_context()
        ctx.exit(1)


@sources.command("import")
@click.argument("opml_file", type=click.Path(exists=True, path_type=Path))
@click.option("--language", help="Declared language of the imported feeds.")
@click.option("--country", help="Country of the imported feeds (ISO code).")
@click.option("--scope", type=click.Choice(["domestic", "foreign", "mixed"]), default="mixed", show_default=True)
@click.pass_context
def sources_import(ctx: click.Context, opml_file: Path, language, country, scope) -> None:
    """Add the feeds of an OPML file to the source registry."""
    from crawlers.sources import import_opml, save_sources

    settings = _settings(ctx)
    existing = load_source_list(settings)
    new, notes = import_opml(opml_file, existing, language=language, country=country, scope=scope)
    for note in notes:
        console.print(f"[dim]{note}[/]")
    if new:
        save_sources(existing + new, settings.sources_path)
    console.print(f"imported {len(new)} feeds into {settings.sources_path}")


@sources.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write (default: stdout).")
@click.pass_context
def sources_export(ctx: click.Context, output: Path | None) -> None:
    """Export the feed sources as OPML."""
    from crawlers.sources import export_opml

    opml = export_opml(load_source_list(_settings(ctx)))
    if output:
        output.write_text(opml, encoding="utf-8")
    else:
        click.echo(opml, nl=False)


def _analyze_inputs(lines):
    """(input id, the input object, or the reason it is not one) of each non-empty line."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        input_id = f"line-{n}"
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("each line must be a JSON object")
        except ValueError as exc:
            yield input_id, str(exc)
            continue
        yield str(item.get("id", input_id)), item


@main.command()
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help=_WORKERS_HELP + " With a pool, up to 8 lines per worker are read ahead of the output.")
@click.pass_context
def analyze(ctx: click.Context, workers: int | None) -> None:
    """Analyse JSON Lines from stdin without indexing; one JSON line out per line in.

    Input lines: {"id", "text"[, "title", "url", "language", "published_at"]} or {"id", "html", "url"}.
    Output: see docs/analyze.md (the public contract).
    """
    from pipeline.pool import IN_FLIGHT_PER_WORKER, WorkerLost, in_order

    settings = _settings(ctx)
    backend = open_backend(settings) if settings.index_path.exists() else None
    pool = _batch_pool(settings, workers)
    # with a pool the workers run the content stages; duplicates and stories are looked up here, in order
    pipeline = build_pipeline(settings, backend, [], content_stages=pool is None)

    def output(input_id: str, item: dict | str, future) -> dict:
        if isinstance(item, str):  # not a JSON object
            return {"id": input_id, "error": item}
        try:
            if future is None:
                return pipeline.analyze_input(item, input_id)
            return pipeline.analyze_context(future.result()).to_public(input_id)
        except (ValueError, TypeError) as exc:
            return {"id": input_id, "error": str(exc)}
        except WorkerLost as exc:
            logger.error("analyze %s: %s", input_id, exc)
            return {"id": input_id, "error": f"worker_lost: {exc}"}
        except Exception as exc:  # a bug in a stage: this input says so, the others go on
            logger.exception("analyze %s failed", input_id)
            return {"id": input_id, "error": f"internal_error: {type(exc).__name__}: {exc}"}

    inputs = _analyze_inputs(sys.stdin)
    if pool is None:
        taken = ((entry, None) for entry in inputs)
    else:
        taken = in_order(inputs, lambda entry: pool.submit_input(entry[1], entry[0])
                         if isinstance(entry[1], dict) else None, pool.workers * IN_FLIGHT_PER_WORKER)
    try:
        for (input_id, item), future in taken:
            click.echo(json.dumps(output(input_id, item, future), ensure_ascii=False))
    finally:
        if pool is not None:
            pool.close()


@main.group("index")
def index_group() -> None:
    """The index engines: status, sync into Elasticsearch, migrate mappings, flush the outbox."""


@index_group.command("status")
@click.pass_context
def index_status(ctx: click.Context) -> None:
    """Articles stored in each engine and articles waiting in the outbox."""
    settings = _settings(ctx)
    console.print(f"selected engine: [bold]{settings.index}[/]")
    if settings.index_path.exists():
        backend = open_backend(settings, "sqlite")
        console.print(f"sqlite ({settings.index_path}): {backend.count()} articles")
        backend.close()
    if settings.index == "elasticsearch":
        backend = open_backend(settings, "elasticsearch")
        try:
            console.print(f"elasticsearch ({settings.es_url}, alias {settings.es_prefix}): {backend.count()} articles,"
                          f" mapping v{backend.version}")
        except Exception as exc:  # the engine may be down: say so
            console.print(f"[red]elasticsearch unreachable[/]: {type(exc).__name__}: {exc}")
        console.print(f"outbox: {backend.outbox.depth()} articles waiting")
        backend.close()


@index_group.command("sync")
@click.option("--to", "target", type=click.Choice(["elasticsearch"]), required=True)
@click.option("--batch", default=500, show_default=True)
@click.pass_context
def index_sync(ctx: click.Context, target: str, batch: int) -> None:
    """Copy the embedded store into Elasticsearch (the upgrade path; safe to repeat)."""
    settings = _settings(ctx)
    source = open_backend(settings, "sqlite")
    dest = open_backend(settings, target)
    total, errors, chunk = 0, {}, []
    for article in source.iter_articles():
        chunk.append(article)
        if len(chunk) >= batch:
            report = dest.upsert(chunk)
            total, chunk = total + len(report.written), []
            errors.update(report.errors)
    if chunk:
        report = dest.upsert(chunk)
        total += len(report.written)
        errors.update(report.errors)
    dest.refresh()
    console.print(f"copied {total} articles from {settings.index_path} to {settings.es_url}")
    for article_id, reason in list(errors.items())[:20]:
        console.print(f"[red]not copied[/] {article_id}: {reason}")
    if errors:
        raise click.ClickException(f"{len(errors)} articles not copied (queued ones go out with `hpmon index flush`)")


@index_group.command("migrate")
@click.pass_context
def index_migrate(ctx: click.Context) -> None:
    """Create the next Elasticsearch mapping version, copy the articles, swap the read alias."""
    settings = _settings(ctx)
    if settings.index != "elasticsearch":
        raise click.ClickException("migrate applies to Elasticsearch (set HPMON_INDEX=elasticsearch)")
    backend = open_backend(settings)
    old, new, copied = backend.migrate()
    console.print(f"mapping v{old} → v{new}: {copied} articles copied, alias {settings.es_prefix} swapped")


@index_group.command("flush")
@click.pass_context
def index_flush(ctx: click.Context) -> None:
    """Send the articles waiting in the outbox (kept while Elasticsearch was unreachable)."""
    settings = _settings(ctx)
    if settings.index != "elasticsearch":
        raise click.ClickException("the outbox is used with Elasticsearch only")
    backend = open_backend(settings)
    report = backend.flush()
    console.print(f"sent {len(report.written)}; still waiting: {backend.outbox.depth()}")


def _register_commands() -> None:
    """Commands that live in hpmon/commands/, one module per area."""
    from hpmon.commands.alerts import alerts
    from hpmon.commands.cases import cases, evidence, library, recheck
    from hpmon.commands.digest import digest
    from hpmon.commands.facts import facts
    from hpmon.commands.serve import serve, users
    from hpmon.commands.service import COMMANDS as SERVICE_COMMANDS
    from hpmon.commands.translate import translate
    from hpmon.commands.understand import evaluate_command, label, stories, train

    for command in (label, stories, train, evaluate_command, cases, evidence, recheck, library, facts, alerts, digest,
                    serve, users, translate, *SERVICE_COMMANDS):
        main.add_command(command)


_register_commands()
