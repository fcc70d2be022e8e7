"""The Elasticsearch backend: the same ``index.Backend`` contract as the embedded one, at scale.

- Explicit mappings: title, lead and text are analysed twice — as written (``title``) and
  folded (``title.folded``: Vietnamese diacritics removed, ``đ`` → ``d``) so ``hai phong``
  finds ``Hải Phòng`` while exact forms score on both fields and rank higher; CJK text is
  indexed as bigrams (with unigrams, so one character is searchable too); French elisions
  (``l'``, ``d'``) are removed. Every facet is a keyword field.
- Monthly indices ``<prefix>-v<N>-<YYYY.MM>`` from one versioned index template, all behind
  the read alias ``<prefix>``; writes go to the month of the article's date in the current
  version N (kept in ``<prefix>-meta``). ``migrate`` builds version N+1, copies, and swaps
  the alias atomically, so a mapping change needs no downtime.
- Writes use the bulk helper (chunked, 429/503 retried with backoff, per-item errors
  reported); ids are article ids, so re-indexing changes nothing. When the engine is down,
  articles wait in a durable outbox (SQLite) and are flushed in order when it answers.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch.helpers import BulkIndexError

from index.article import FACET_FIELDS, Article
from index.backend import FacetHistogram, UpsertReport
from index.highlight import make_snippet
from index.outbox import Outbox
from index.query import Clause, Histogram, Hit, SearchQuery, SearchResult, Snippet

logger = logging.getLogger(__name__)

MAPPING_VERSION = 1
_MARK_START, _MARK_END = "\ue000", "\ue001"
_MAX_WINDOW = 10_000  # Elasticsearch's index.max_result_window
_FRENCH_ELISIONS = ["l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"]
_TEXT_FIELDS = ("title", "lead", "text")
_LABEL_BOOST = 1e-4  # the score of a match by label only (text matches score far above)
_TIER_BOOST = 1e4  # added per tier an expanded query's hit reaches (far above any text score)
_PHRASE_FIELDS = ["title^4", "title.folded^3", "lead^2", "lead.folded^1.5", "text^1.2", "text.folded",
                  # machine translations (pipeline/translate.py), weighed as the lead, as the embedded engine does
                  *(f"translations.{lang}.{part}{sub}^{boost}" for lang in ("vi", "en") for part in ("title", "lead")
                    for sub, boost in (("", 2), (".folded", 1.5)))]


def index_settings(shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """Settings with hpmon's analysers (folding, CJK bigrams, elision)."""
    common = ["cjk_width", "lowercase", "hp_elision"]
    return {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "analysis": {
            "filter": {
                "hp_fold": {"type": "asciifolding", "preserve_original": False},
                "hp_cjk_index": {"type": "cjk_bigram", "output_unigrams": True},
                "hp_cjk_search": {"type": "cjk_bigram", "output_unigrams": False},
                "hp_elision": {"type": "elision", "articles_case": False, "articles": _FRENCH_ELISIONS},
            },
            "analyzer": {
                "hp_exact": {"tokenizer": "standard", "filter": [*common, "hp_cjk_index"]},
                "hp_exact_search": {"tokenizer": "standard", "filter": [*common, "hp_cjk_search"]},
                "hp_folded": {"tokenizer": "standard", "filter": [*common, "hp_fold", "hp_cjk_index"]},
                "hp_folded_search": {"tokenizer": "standard", "filter": [*common, "hp_fold", "hp_cjk_search"]},
            },
        },
    }


def _analysed() -> dict[str, Any]:
    return {
        "type": "text", "analyzer": "hp_exact", "search_analyzer": "hp_exact_search",
        "fields": {"folded": {"type": "text", "analyzer": "hp_folded", "search_analyzer": "hp_folded_search"}},
    }


def mappings() -> dict[str, Any]:
    """Explicit mappings: analysed text, keyword facets, dates and scores; reasons stored only."""
    keyword = {"type": "keyword"}
    props: dict[str, Any] = {name: _analysed() for name in _TEXT_FIELDS}
    props["relevance_terms"] = keyword
    for name in ("id", "url", "source_id", "outlet", "country", "scope", "coverage", "language", "authors",
                 "content_hash", "story_id", "duplicate_of", "topics", "sentiment", "sensitive_themes", "flags"):
        props[name] = keyword
    for name in ("published_at", "fetched_at", "date", "indexed_at"):
        props[name] = {"type": "date"}
    for name in ("language_probability", "relevance_score", "sentiment_score", "risk_score"):
        props[name] = {"type": "float"}
    props["warc_file"] = {"type": "keyword", "index": False}
    props["warc_offset"] = {"type": "long", "index": False}
    props["reasons"] = {"type": "object", "enabled": False}
    # machine translations of title and lead (pipeline/translate.py): analysed like the originals for
    # the office's two reading languages; any other language is kept in _source only
    translation = {"properties": {"title": _analysed(), "lead": _analysed(), "engine": keyword,
                                  "model": {"type": "keyword", "index": False}}}
    props["translations"] = {"type": "object", "properties": {"vi": translation, "en": translation}}
    return {"dynamic": False, "properties": props}


def _month(article: Article) -> str:
    when = article.date or datetime.now(UTC)
    return when.astimezone(UTC).strftime("%Y.%m")


def _source(article: Article) -> dict[str, Any]:
    doc = article.to_dict()
    doc["date"] = article.date.astimezone(UTC).isoformat() if article.date else None
    doc["indexed_at"] = datetime.now(UTC).isoformat()
    return doc


def _article(source: dict[str, Any]) -> Article:
    return Article.from_dict(source)


def _snippet_from_highlight(fragment: str) -> Snippet:
    text, spans, pos, start = [], [], 0, None
    for ch in fragment:
        if ch == _MARK_START:
            start = pos
        elif ch == _MARK_END and start is not None:
            spans.append((start, pos))
            start = None
        else:
            text.append(ch)
            pos += 1
    merged: list[tuple[int, int]] = []
    body = "".join(text)
    for s, e in spans:
        if merged and not body[merged[-1][1] : s].strip():
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return Snippet(body, merged)


class EngineUnavailable(RuntimeError):
    """Elasticsearch did not answer or refused the write; the articles stay queued."""


class ElasticsearchBackend:
    """``index.Backend`` on an Elasticsearch cluster (8.x or 9.x)."""

    name = "elasticsearch"

    def __init__(self, url: str | list[str], *, prefix: str = "hpmon-articles", outbox: Outbox | None = None,
                 api_key: str | None = None, basic_auth: tuple[str, str] | None = None, ca_certs: str | None = None,
                 shards: int = 1, replicas: int = 0, refresh: bool = False, request_timeout: float = 30.0,
                 client: Elasticsearch | None = None, time_limit_ms: int = 5000) -> None:
        hosts = [u.strip() for u in url.split(",")] if isinstance(url, str) else list(url)
        self.client = client or Elasticsearch(
            hosts, api_key=api_key, basic_auth=basic_auth, ca_certs=ca_certs, request_timeout=request_timeout,
            max_retries=3, retry_on_timeout=True, retry_on_status=(429, 502, 503, 504),
        )
        self.prefix = prefix
        self.outbox = outbox
        self.shards = shards
        self.replicas = replicas
        self.refresh_writes = refresh
        self._version: int | None = None
        self._recent_hashes: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.RLock()
        self.time_limit_ms = time_limit_ms

    # -- layout ------------------------------------------------------------------------------

    @property
    def meta_index(self) -> str:
        return f"{self.prefix}-meta"

    def _template_name(self, version: int) -> str:
        return f"{self.prefix}-v{version}"

    def _index_for(self, article: Article, version: int | None = None) -> str:
        return f"{self.prefix}-v{version or self.version}-{_month(article)}"

    @property
    def version(self) -> int:
        """The mapping version writes go to (creates the layout on first use)."""
        if self._version is None:
            self.ensure_layout()
        return self._version  # type: ignore[return-value]

    def ensure_layout(self) -> None:
        """Create the meta index and the current index template if they do not exist."""
        if not self.client.indices.exists(index=self.meta_index):
            self.client.options(ignore_status=400).indices.create(
                index=self.meta_index, settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
                mappings={"dynamic": False, "properties": {"version": {"type": "integer"}}},
            )
        meta = self.client.options(ignore_status=404).get(index=self.meta_index, id="layout")
        version = meta["_source"]["version"] if meta.get("found") else MAPPING_VERSION
        self._put_template(version)
        if not meta.get("found"):
            self.client.index(index=self.meta_index, id="layout", document={"version": version}, refresh=True)
        self._version = version

    def _put_template(self, version: int, *, alias: bool = True) -> None:
        template: dict[str, Any] = {"settings": index_settings(self.shards, self.replicas), "mappings": mappings()}
        if alias:
            template["aliases"] = {self.prefix: {}}
        self.client.indices.put_index_template(
            name=self._template_name(version),
            index_patterns=[f"{self.prefix}-v{version}-*"],
            priority=100 + version,
            template=template,
            meta={"hpmon_mapping_version": version},
        )

    # -- writing -----------------------------------------------------------------------------

    def upsert(self, articles: Iterable[Article]) -> UpsertReport:
        """Index articles by id. With an outbox, they are first queued durably; what cannot be
        written now (engine down) stays queued and is reported in ``errors`` as ``queued: ...``."""
        articles = list(articles)
        for a in articles:
            self._remember(a)
        if self.outbox is None:
            return self._bulk([(None, a) for a in articles])
        self.outbox.put(articles)
        return self.flush()

    def flush(self, batch: int = 500) -> UpsertReport:
        """Send what waits in the outbox, oldest first; stops at the first outage."""
        report = UpsertReport()
        if self.outbox is None:
            return report
        with self._lock:
            while True:
                pending = self.outbox.peek(batch)
                if not pending:
                    return report
                part = self._bulk(pending)
                report.written += part.written
                report.errors.update(part.errors)
                sent = [seq for seq, a in pending if a.id in part.written or a.id in part.errors
                        and not part.errors[a.id].startswith("queued")]
                self.outbox.done(sent)
                if len(sent) < len(pending):
                    failed = [seq for seq, _ in pending if seq not in set(sent)]
                    self.outbox.failed(failed, next(iter(part.errors.values()), "engine unavailable"))
                    return report

    def _bulk(self, items: list[tuple[int | None, Article]]) -> UpsertReport:
        report = UpsertReport()
        if not items:
            return report
        try:
            version = self.version
            latest: dict[str, Article] = {}
            for _, article in items:  # the last version of each article wins, in order
                latest[article.id] = article
            actions = []
            existing = self._locations(list(latest))
            for article in latest.values():
                target = self._index_for(article, version)
                for old in existing.get(article.id, []):
                    if old != target:  # the article's date moved it to another month
                        actions.append({"_op_type": "delete", "_index": old, "_id": article.id})
                actions.append({"_op_type": "index", "_index": target, "_id": article.id, "_source": _source(article)})
            for ok, info in helpers.streaming_bulk(
                self.client, actions, chunk_size=500, max_retries=5, initial_backoff=1, max_backoff=30,
                retry_on_status=(429, 503), raise_on_error=False, raise_on_exception=True,
                refresh="wait_for" if self.refresh_writes else False,
            ):
                op, result = next(iter(info.items()))
                if op == "delete":
                    continue
                if ok:
                    report.written.append(result["_id"])
                else:
                    error = result.get("error")
                    reason = error.get("reason") if isinstance(error, dict) else str(error)
                    report.errors[result["_id"]] = f"{result.get('status')}: {reason}"
        except (TransportError, ApiError, BulkIndexError) as exc:
            if isinstance(exc, ApiError) and exc.meta.status not in (408, 429, 502, 503, 504):
                raise  # a request the engine refuses (a bug or a bad mapping), not an outage
            written = set(report.written)
            for _, article in items:
                if article.id not in written:
                    report.errors[article.id] = f"queued: engine unavailable ({type(exc).__name__})"
            logger.warning("Elasticsearch unavailable, %d articles wait in the outbox: %s",
                           len(items) - len(written), exc)
        return report

    def _locations(self, ids: list[str]) -> dict[str, list[str]]:
        """Which concrete indices already hold these ids."""
        if not self.client.indices.exists_alias(name=self.prefix):
            return {}
        found: dict[str, list[str]] = {}
        res = self.client.search(index=self.prefix, query={"ids": {"values": ids}}, source=False,
                                 size=len(ids) * 2)
        for hit in res["hits"]["hits"]:
            found.setdefault(hit["_id"], []).append(hit["_index"])
        return found

    def _remember(self, article: Article) -> None:
        with self._lock:
            if article.content_hash and article.content_hash not in self._recent_hashes:
                self._recent_hashes[article.content_hash] = article.id
                while len(self._recent_hashes) > 20_000:
                    self._recent_hashes.popitem(last=False)

    def refresh(self) -> None:
        """Make every write visible to search (tests and batch jobs)."""
        if self.client.indices.exists_alias(name=self.prefix):
            self.client.indices.refresh(index=self.prefix)

    # -- reading -----------------------------------------------------------------------------

    def _engine_lookup(self, lookup, what: str) -> Article | None:
        """A lookup the write path needs (is this article or this text known?). With an outbox,
        an engine outage must not stop the write, which is queued: the answer is then "not known
        to the engine" and the outage is logged; without one, the error goes to the caller."""
        try:
            return lookup()
        except (TransportError, ApiError) as exc:
            if self.outbox is None:
                raise
            logger.warning("Elasticsearch unavailable for %s (the outbox keeps the write): %s", what, exc)
            return None

    def get(self, article_id: str) -> Article | None:
        if self.outbox is not None:
            queued = self.outbox.get(article_id)
            if queued is not None:
                return queued
        return self._engine_lookup(lambda: self._get(article_id), f"get {article_id}")

    def _get(self, article_id: str) -> Article | None:
        if not self.client.indices.exists_alias(name=self.prefix):
            return None
        res = self.client.search(index=self.prefix, query={"ids": {"values": [article_id]}}, size=1)
        hits = res["hits"]["hits"]
        return _article(hits[0]["_source"]) if hits else None

    def find_by_content_hash(self, content_hash: str) -> Article | None:
        with self._lock:
            known = self._recent_hashes.get(content_hash)
        if known:
            found = self.get(known)
            if found is not None:
                return found
        if self.outbox is not None:
            queued = self.outbox.find_by_content_hash(content_hash)
            if queued is not None:
                return queued
        return self._engine_lookup(lambda: self._find_by_content_hash(content_hash), "the duplicate check")

    def _find_by_content_hash(self, content_hash: str) -> Article | None:
        if not self.client.indices.exists_alias(name=self.prefix):
            return None
        res = self.client.search(index=self.prefix, query={"term": {"content_hash": content_hash}},
                                 sort=[{"date": "asc"}, {"id": "asc"}], size=1)
        hits = res["hits"]["hits"]
        return _article(hits[0]["_source"]) if hits else None

    def count(self) -> int:
        if not self.client.indices.exists_alias(name=self.prefix):
            return 0
        return self.client.count(index=self.prefix)["count"]

    def iter_articles(self) -> Iterator[Article]:
        if not self.client.indices.exists_alias(name=self.prefix):
            return
        for hit in helpers.scan(self.client, index=self.prefix, query={"query": {"match_all": {}}}, size=500):
            yield _article(hit["_source"])

    @staticmethod
    def _clause(clause: Clause, *, text_only: bool = False, own: bool = False) -> dict[str, Any]:
        """Any of the clause's phrases and other names (as phrases; ``prefixes`` with the last word
        continuing), or one of its labels: a label alone scores ``_LABEL_BOOST``, below any text
        match. ``text_only``: without the labels; ``own``: the user's own phrases only."""
        names = () if own else clause.names
        should: list[dict[str, Any]] = [{"multi_match": {"query": p, "type": "phrase", "fields": _PHRASE_FIELDS}}
                                        for p in (*clause.phrases, *names)]
        should += [{"multi_match": {"query": p, "type": "phrase_prefix", "fields": _PHRASE_FIELDS}}
                   for p in (() if own else clause.prefixes)]
        by_facet: dict[str, list[str]] = {}
        for facet, value in () if (text_only or own) else clause.labels:
            by_facet.setdefault(FACET_FIELDS[facet], []).append(value)
        if by_facet:  # one score for any number of labels, as the embedded engine ranks them all alike
            labels = [{"terms": {attr: values}} for attr, values in by_facet.items()]
            should.append({"constant_score": {"filter": labels[0] if len(labels) == 1 else
                                              {"bool": {"should": labels, "minimum_should_match": 1}},
                                              "boost": _LABEL_BOOST}})
        return should[0] if len(should) == 1 else {"bool": {"should": should, "minimum_should_match": 1}}

    def build_query(self, query: SearchQuery) -> dict[str, Any]:
        """The Elasticsearch query for a SearchQuery (same semantics as the SQLite backend)."""
        parsed = query.parsed
        filters: list[dict[str, Any]] = [{"terms": {FACET_FIELDS[f]: v}} for f, v in query.filters.items()]
        if query.since or query.until:
            rng: dict[str, str] = {}
            if query.since:
                rng["gte"] = query.since.astimezone(UTC).isoformat()
            if query.until:
                rng["lte"] = query.until.astimezone(UTC).isoformat()
            filters.append({"range": {"date": rng}})
        if query.min_risk is not None:
            filters.append({"range": {"risk_score": {"gte": query.min_risk}}})
        body: dict[str, Any] = {
            "must": [self._clause(c) for c in parsed.must] or [{"match_all": {}}],
            "must_not": [self._clause(c) for c in parsed.must_not],
            "filter": filters,
        }
        if parsed.is_expanded:
            # tiers, as the embedded engine ranks them: the user's own words in every clause, then the
            # other spellings, then labels (which match neither and keep their small score)
            body["should"] = [
                {"constant_score": {"filter": {"bool": {"must": [self._clause(c, **kind) for c in parsed.must]}},
                                    "boost": _TIER_BOOST}}
                for kind in ({"own": True}, {"text_only": True})]
        return {"bool": body}

    def search(self, query: SearchQuery) -> SearchResult:
        if not self.client.indices.exists_alias(name=self.prefix):
            return SearchResult(total=0, hits=[], facets={name: [] for name in FACET_FIELDS} if query.facets else {})
        es_query = self.build_query(query)
        scored = query.sort == "relevance" and bool(query.parsed.must)
        sort = [{"_score": "desc"}, {"id": "asc"}] if scored else [{"date": {"order": "desc", "missing": "_last"}},
                                                                     {"id": "asc"}]
        body: dict[str, Any] = {
            "query": es_query, "sort": sort, "size": query.limit, "track_total_hits": True,
            "highlight": {
                "pre_tags": [_MARK_START], "post_tags": [_MARK_END], "fragment_size": 240, "number_of_fragments": 1,
                "no_match_size": 0, "require_field_match": False, "encoder": "default",
                "fields": {f: {} for f in ("text", "text.folded", "lead", "lead.folded", "title", "title.folded")},
            },
        }
        if query.facets:
            body["aggs"] = {name: {"terms": {"field": attr, "size": query.facet_size,
                                             "order": [{"_count": "desc"}, {"_key": "asc"}]}}
                            for name, attr in FACET_FIELDS.items()}
        if query.offset + query.limit <= _MAX_WINDOW:
            body["from"] = query.offset
        else:
            after = self._search_after_position(es_query, sort, query.offset)
            if after is None:
                body["size"] = 0
            else:
                body["search_after"] = after
        body["timeout"] = f"{self.time_limit_ms}ms"
        res = self._reader().search(index=self.prefix, body=body)
        phrases = query.parsed.positive_phrases()
        hits = []
        for hit in res["hits"]["hits"]:
            article = _article(hit["_source"])
            highlight = hit.get("highlight", {})
            fragment = next((highlight[f][0] for f in ("text.folded", "text", "lead.folded", "lead", "title.folded",
                                                       "title") if highlight.get(f)), None)
            snippet = (_snippet_from_highlight(fragment) if fragment
                       else make_snippet([article.text, article.lead, article.title], phrases))
            hits.append(Hit(article=article, score=float(hit.get("_score") or 0.0), snippet=snippet))
        facets: dict[str, list[tuple[str, int]]] = {}
        if query.facets:
            for name in FACET_FIELDS:
                facets[name] = [(str(b["key"]), b["doc_count"]) for b in res["aggregations"][name]["buckets"]]
        return SearchResult(total=res["hits"]["total"]["value"], hits=hits, facets=facets,
                            timed_out=bool(res.get("timed_out")))

    def _search_after_position(self, es_query: dict, sort: list, offset: int) -> list | None:
        """The sort values of the hit just before ``offset`` (deep paging with search_after)."""
        after, seen = None, 0
        while seen < offset:
            size = min(1000, offset - seen)
            body: dict[str, Any] = {"query": es_query, "sort": sort, "size": size, "_source": False,
                                    "timeout": f"{self.time_limit_ms}ms"}
            if after is not None:
                body["search_after"] = after
            hits = self._reader().search(index=self.prefix, body=body)["hits"]["hits"]
            if not hits:
                return None
            after = hits[-1]["sort"]
            seen += len(hits)
        return after

    def histogram(self, query: SearchQuery, interval: str = "day", timezone: str = "UTC") -> Histogram:
        """Article counts per calendar day (or week/month) of their date, for the query; under the
        time limit (partial counts with ``timed_out`` past it)."""
        if not self.client.indices.exists_alias(name=self.prefix):
            return Histogram()
        res = self._reader().search(index=self.prefix, query=self.build_query(query), size=0,
                                    timeout=f"{self.time_limit_ms}ms", aggs={
            "per": {"date_histogram": {"field": "date", "calendar_interval": interval, "time_zone": timezone,
                                       "format": "yyyy-MM-dd", "min_doc_count": 1}}})
        buckets = (res.get("aggregations") or {}).get("per", {}).get("buckets", [])
        return Histogram([(b["key_as_string"], b["doc_count"]) for b in buckets],
                         timed_out=bool(res.get("timed_out")))

    def facet_histogram(self, query: SearchQuery, facet: str, interval: str = "day", timezone: str = "UTC",
                        size: int = 50) -> FacetHistogram:
        """Per calendar bucket of the hits' dates, the counts of ``facet``'s values (a terms aggregation
        under a date histogram; ``week`` is the ISO week from Monday, as the embedded engine); under
        the time limit (partial counts with ``timed_out`` past it)."""
        if facet not in FACET_FIELDS:
            raise ValueError(f"unknown facet {facet!r}")
        if interval not in ("day", "week", "month", "year"):
            raise ValueError(f"unknown interval {interval!r}")
        if not self.client.indices.exists_alias(name=self.prefix):
            return FacetHistogram()
        res = self._reader().search(index=self.prefix, query=self.build_query(query), size=0,
                                    timeout=f"{self.time_limit_ms}ms", aggs={
            "per": {"date_histogram": {"field": "date", "calendar_interval": interval, "time_zone": timezone,
                                       "format": "yyyy-MM-dd", "min_doc_count": 1},
                    "aggs": {"values": {"terms": {"field": FACET_FIELDS[facet], "size": size,
                                                  "order": [{"_count": "desc"}, {"_key": "asc"}]}}}}})
        buckets = (res.get("aggregations") or {}).get("per", {}).get("buckets", [])
        return FacetHistogram([(b["key_as_string"], str(v["key"]), v["doc_count"])
                               for b in buckets for v in b["values"]["buckets"]],
                              timed_out=bool(res.get("timed_out")))

    def _reader(self) -> Elasticsearch:
        """The client for searches: the engine stops collecting at the time limit (``timeout``, then
        answers with ``timed_out``); the request itself gives up soon after, without retrying."""
        return self.client.options(request_timeout=self.time_limit_ms / 1000 + 5, retry_on_timeout=False)

    # -- operations --------------------------------------------------------------------------

    def migrate(self) -> tuple[int, int, int]:
        """Create the next mapping version, copy every article into it, and move the read
        alias in one atomic step; returns (old version, new version, articles copied).

        Reads keep using the old indices until the swap; writes switch to the new version
        when the copy is done, and what was written meanwhile is copied again before the swap.
        Other running processes pick the new version up when they restart."""
        old = self.version
        new = old + 1
        started = datetime.now(UTC)
        self._put_template(new, alias=False)

        def copy(query: dict) -> int:
            actions = (
                {"_op_type": "index", "_index": self._index_for(_article(hit["_source"]), new), "_id": hit["_id"],
                 "_source": hit["_source"]}
                for hit in helpers.scan(self.client, index=f"{self.prefix}-v{old}-*", query={"query": query},
                                        size=500)
            )
            n = 0
            for ok, _ in helpers.streaming_bulk(self.client, actions, chunk_size=500, max_retries=5,
                                                   retry_on_status=(429, 503), raise_on_error=True):
                n += ok
            return n

        copied = copy({"match_all": {}})
        self.client.index(index=self.meta_index, id="layout", document={"version": new}, refresh=True)
        self._version = new
        copied += copy({"range": {"indexed_at": {"gte": started.isoformat()}}})
        self._put_template(new, alias=True)
        self.client.indices.update_aliases(actions=[
            {"add": {"index": f"{self.prefix}-v{new}-*", "alias": self.prefix}},
            {"remove": {"index": f"{self.prefix}-v{old}-*", "alias": self.prefix}},
        ])
        self.client.indices.refresh(index=self.prefix)
        return old, new, copied

    def close(self) -> None:
        self.client.close()
        if self.outbox is not None:
            self.outbox.close()
