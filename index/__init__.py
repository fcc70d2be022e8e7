"""The index: the Article schema, the Backend protocol, its engines and the query model."""

from index.article import FACET_FIELDS, Article, article_id
from index.backend import Backend, UpsertReport
from index.query import Hit, QuerySyntaxError, SearchQuery, SearchResult, Snippet, parse_query

__all__ = [
    "FACET_FIELDS", "Article", "Backend", "Hit", "QuerySyntaxError", "SearchQuery", "SearchResult",
    "Snippet", "UpsertReport", "article_id", "parse_query",
]
