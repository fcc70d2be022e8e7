"""Backends for the conformance suite: every test that takes ``backend`` runs on each engine.

The Elasticsearch engine is the one `make test` starts (HPMON_ES_URL). Without HPMON_ES_URL
the Elasticsearch cases are skipped; with it, an unreachable engine is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest

from index.sqlite import SqliteBackend


def es_backend(prefix: str, **kwargs):
    url = os.environ.get("HPMON_ES_URL")
    if not url:
        pytest.skip("HPMON_ES_URL is not set (make test starts Elasticsearch and sets it)")
    from index.elasticsearch import ElasticsearchBackend

    backend = ElasticsearchBackend(url, prefix=prefix, refresh=True, **kwargs)
    backend.client.cluster.health(wait_for_status="yellow", timeout="60s")
    return backend


def drop_es(backend) -> None:
    client = backend.client
    client.options(ignore_status=404).indices.delete(index=f"{backend.prefix}-*", expand_wildcards="all")
    client.options(ignore_status=404).indices.delete_index_template(name=f"{backend.prefix}-v*")


def make_backend(kind: str, tmp_path):
    if kind == "sqlite":
        return SqliteBackend(tmp_path / "index.sqlite")
    return es_backend(f"hpmon-test-{uuid.uuid4().hex[:10]}")


@pytest.fixture(params=["sqlite", "elasticsearch"])
def empty_backend(request, tmp_path):
    backend = make_backend(request.param, tmp_path)
    yield backend
    if request.param == "elasticsearch":
        drop_es(backend)
    backend.close()


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def empty_module_backend(request, tmp_path_factory):
    """One backend per engine shared by a module's read-only tests."""
    backend = make_backend(request.param, tmp_path_factory.mktemp("index"))
    yield backend
    if request.param == "elasticsearch":
        drop_es(backend)
    backend.close()
