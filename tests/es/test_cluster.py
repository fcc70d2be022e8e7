"""A three-node cluster on loopback, an index with one replica, one node killed mid-ingest:
indexing and search go on and no article is lost."""

from __future__ import annotations

import threading
import time

import pytest

from index.elasticsearch import ElasticsearchBackend
from index.outbox import Outbox
from index.query import SearchQuery
from tests.es.cluster import es_script, require_engine, synthetic_articles

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]
CLUSTER, PORT = "trio", "9440"


@pytest.fixture(scope="module")
def cluster_urls():
    require_engine()
    urls = es_script("start", "--cluster", CLUSTER, "--port", PORT, "--nodes", "3", timeout=400)
    yield [u for u in urls.replace(",", "\n").split() if u.startswith("http")]
    es_script("stop", "--cluster", CLUSTER)


def test_one_node_killed_mid_ingest(cluster_urls, tmp_path):
    assert len(cluster_urls) == 3
    articles = synthetic_articles(900, prefix="c")
    backend = ElasticsearchBackend(cluster_urls, prefix="hpmon-trio", outbox=Outbox(tmp_path / "outbox.sqlite"),
                                   shards=3, replicas=1, request_timeout=10)
    backend.upsert(articles[:30])
    backend.client.cluster.health(wait_for_status="green", timeout="90s")
    progress = {"done": 30}

    def ingest():
        for start in range(30, len(articles), 30):
            backend.upsert(articles[start:start + 30])
            progress["done"] = start + 30
            time.sleep(0.02)

    worker = threading.Thread(target=ingest)
    worker.start()
    while progress["done"] < 300 and worker.is_alive():
        time.sleep(0.05)
    es_script("kill-node", "2", "--cluster", CLUSTER)
    searches_during = []
    while worker.is_alive():
        searches_during.append(backend.search(SearchQuery(text="hai phong OR haiphong", limit=1)).total)
        time.sleep(0.2)
    worker.join()
    for _ in range(30):  # a master election may have delayed some writes: they wait in the outbox
        backend.flush()
        if backend.outbox.depth() == 0:
            break
        time.sleep(2)
    assert backend.outbox.depth() == 0
    backend.refresh()
    assert backend.count() == len(articles)
    assert searches_during and max(searches_during) > 0  # search kept answering with a node down
    health = backend.client.cluster.health()
    assert health["number_of_nodes"] == 2 and health["status"] in ("yellow", "green")
    assert backend.search(SearchQuery(text="海防港")).total == len(articles) // 4
    backend.close()
