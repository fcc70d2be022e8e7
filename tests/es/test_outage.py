"""Nothing is lost when Elasticsearch goes down in the middle of an ingest: processed articles
wait in the durable outbox and are flushed, in order, exactly once, when it is back."""

from __future__ import annotations

import threading
import time

import pytest

from index.elasticsearch import ElasticsearchBackend
from index.outbox import Outbox
from tests.es.cluster import es_script, require_engine, synthetic_articles

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]
CLUSTER, PORT = "outage", "9430"


@pytest.fixture(scope="module")
def engine():
    require_engine()
    url = es_script("start", "--cluster", CLUSTER, "--port", PORT)
    yield url.splitlines()[-1]
    es_script("stop", "--cluster", CLUSTER)


def test_engine_stopped_mid_ingest_loses_nothing_and_duplicates_nothing(engine, tmp_path):
    articles = synthetic_articles(1200)
    backend = ElasticsearchBackend(engine, prefix="hpmon-outage", outbox=Outbox(tmp_path / "outbox.sqlite"),
                                   request_timeout=5)
    backend.ensure_layout()
    queued_during_outage = []
    sent = threading.Event()

    def ingest():
        for start in range(0, len(articles), 20):
            report = backend.upsert(articles[start:start + 20])
            if any(e.startswith("queued") for e in report.errors.values()):
                queued_during_outage.append(start)
            if start >= 300:
                sent.set()
            time.sleep(0.01)

    worker = threading.Thread(target=ingest)
    worker.start()
    assert sent.wait(120)
    es_script("stop", "--cluster", CLUSTER)  # the engine goes away while the ingest runs
    worker.join(300)
    assert not worker.is_alive()
    assert queued_during_outage, "the outage was not noticed"
    waiting = backend.outbox.depth()
    assert 0 < waiting <= len(articles)

    es_script("start", "--cluster", CLUSTER, "--port", PORT, "--keep-data")
    report = backend.flush()
    assert not report.errors
    assert backend.outbox.depth() == 0
    backend.refresh()
    assert backend.count() == len(articles)
    res = backend.client.search(index=backend.prefix, size=0, aggs={
        "ids": {"terms": {"field": "id", "min_doc_count": 2, "size": 10}}})
    assert res["aggregations"]["ids"]["buckets"] == []  # every article exactly once
    assert backend.get(articles[-1].id).title == articles[-1].title
    backend.close()


def test_the_write_path_lookups_answer_from_the_outbox_while_the_engine_is_down(engine, tmp_path):
    """The pipeline asks "is this text or this id known?" before every write; during an outage
    that must not raise, or the article is lost before the outbox can take it."""
    articles = synthetic_articles(3)
    backend = ElasticsearchBackend(engine, prefix="hpmon-outage-lookups",
                                   outbox=Outbox(tmp_path / "outbox.sqlite"), request_timeout=5)
    backend.ensure_layout()
    es_script("stop", "--cluster", CLUSTER)
    try:
        assert backend.find_by_content_hash(articles[0].content_hash or "h") is None
        assert backend.get(articles[0].id) is None
        report = backend.upsert(articles)
        assert all(e.startswith("queued") for e in report.errors.values()) and backend.outbox.depth() == 3
        assert backend.get(articles[0].id).title == articles[0].title  # the outbox answers for its articles
    finally:
        es_script("start", "--cluster", CLUSTER, "--port", PORT, "--keep-data")
    assert not backend.flush().errors and backend.outbox.depth() == 0
    backend.close()
