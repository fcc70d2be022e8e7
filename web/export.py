"""Export of the current search as CSV or JSON Lines, streamed page by page and capped."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace

from index.article import Article
from index.backend import Backend
from index.query import SearchQuery

EXPORT_CAP = 5000
BATCH = 200
CSV_COLUMNS = ("id", "date", "title", "outlet", "source", "country", "scope", "language", "topics", "sentiment",
               "sensitive_themes", "risk_score", "story_id", "url", "snippet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _articles(backend: Backend, query: SearchQuery, cap: int) -> Iterator[tuple[Article, str]]:
    offset = 0
    while offset < cap:
        page = backend.search(replace(query, limit=min(BATCH, cap - offset), offset=offset, facets=False))
        for hit in page.hits:
            yield hit.article, hit.snippet.text
        offset += len(page.hits)
        if len(page.hits) < BATCH or offset >= page.total:
            return


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (crawled text is hostile)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(article: Article, snippet: str) -> dict[str, object]:
    return {
        "id": article.id, "date": article.date.isoformat() if article.date else None, "title": article.title,
        "outlet": article.outlet, "source": article.source_id, "country": article.country, "scope": article.scope,
        "language": article.language, "topics": article.topics, "sentiment": article.sentiment,
        "sensitive_themes": article.sensitive_themes, "risk_score": article.risk_score,
        "story_id": article.story_id, "url": article.url, "snippet": snippet,
    }


def csv_lines(backend: Backend, query: SearchQuery, cap: int = EXPORT_CAP) -> Iterator[str]:
    """The CSV export (header first, UTF-8 with BOM so spreadsheets read Vietnamese right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for article, snippet in _articles(backend, query, cap):
        buffer.seek(0)
        buffer.truncate()
        row = _row(article, snippet)
        writer.writerow([_cell("|".join(v) if isinstance(v, list) else v) for v in row.values()])
        yield buffer.getvalue()


def jsonl_lines(backend: Backend, query: SearchQuery, cap: int = EXPORT_CAP) -> Iterator[str]:
    """The JSON Lines export: one object per article."""
    for article, snippet in _articles(backend, query, cap):
        yield json.dumps(_row(article, snippet), ensure_ascii=False) + "\n"
