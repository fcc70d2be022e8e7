"""Fixtures for tests that need a real Elasticsearch (started by scripts/elasticsearch.sh)."""
import os
import uuid

import pytest

DEFAULT_URL = "http://127.0.0.1:9200"


@pytest.fixture(scope="session")
def es_url():
    return os.environ.get("HPMON_ES_URL", DEFAULT_URL).split(",")[0]


@pytest.fixture(scope="session")
def es(es_url):
    """An official client connected to the test server.

    HPMON_ES_URL set: the server must answer (the test fails otherwise).
    HPMON_ES_URL unset: the tests are skipped when nothing answers at the default URL.
    Note: the integ-test distribution has no rest-root module, so GET / (es.info())
    and HEAD / (es.ping()) answer 405: use cluster.health() to probe.
    """
    try:
        import elasticsearch
    except ImportError:
        if "HPMON_ES_URL" in os.environ:
            pytest.fail("HPMON_ES_URL is set but the elasticsearch client is not installed")
        pytest.skip("the elasticsearch client is not installed")
    client = elasticsearch.Elasticsearch(es_url, request_timeout=30)
    try:
        client.cluster.health(wait_for_status="yellow", timeout="30s")
    except elasticsearch.exceptions.ConnectionError as exc:
        if "HPMON_ES_URL" in os.environ:
            pytest.fail(f"Elasticsearch at {es_url} does not answer: {exc}")
        pytest.skip(f"no Elasticsearch at {es_url} (run scripts/elasticsearch.sh start)")
    yield client
    client.close()


@pytest.fixture
def index_name(es):
    name = f"hpmon-test-{uuid.uuid4().hex[:12]}"
    yield name
    es.options(ignore_status=404).indices.delete(index=name)
