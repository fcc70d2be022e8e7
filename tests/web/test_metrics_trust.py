"""Who may read /metrics and the details of /healthz: set explicitly (``web_metrics_allow``,
``web_metrics_token``), never "every connection from 127.0.0.1". The app runs in a real uvicorn on
127.0.0.1 as behind nginx or Caddy on the same machine (``--proxy-headers``, the proxy trusted)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import httpx
import uvicorn

from index.sqlite import SqliteBackend
from web.app import create_app

from .conftest import cheap_hasher, login, make_home

REPORT = {"status": "degraded", "problems": [{"severity": "warning", "what": "source fx failing"}]}


@contextmanager
def served(tmp_path, *, proxy_headers: bool = True, **settings_update):
    settings = make_home(tmp_path).model_copy(update=settings_update)
    backend = SqliteBackend(settings.index_path)
    app = create_app(settings, backend, password_hasher=cheap_hasher(), health=lambda: REPORT,
                     metrics=lambda r: f"hpmon_problems {len(r['problems'])}\n")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", proxy_headers=proxy_headers,
                                           forwarded_allow_ips="127.0.0.1"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30) as client:
            yield app, client
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        app.state.ctx.close()
        backend.close()


def test_a_connection_from_127_0_0_1_is_not_trusted_by_default(tmp_path):
    """Behind a proxy on the same machine every internet client connects from 127.0.0.1."""
    with served(tmp_path, proxy_headers=False) as (_, client):
        assert client.get("/metrics").status_code == 403
        health = client.get("/healthz")
        assert health.status_code == 200 and health.text == "degraded"  # status only, no details


def test_allowed_networks_see_metrics_and_forwarded_clients_are_judged_by_their_own_address(tmp_path):
    with served(tmp_path, web_metrics_allow=["127.0.0.1/32", "10.1.0.0/16"]) as (_, client):
        assert client.get("/metrics").text == "hpmon_problems 1\n"  # the local scraper
        assert client.get("/healthz").json()["problems"][0]["what"] == "source fx failing"
        internet = {"X-Forwarded-For": "203.0.113.5"}
        assert client.get("/metrics", headers=internet).status_code == 403
        assert client.get("/healthz", headers=internet).text == "degraded"
        assert client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200


def test_a_token_unlocks_metrics_from_anywhere_and_a_wrong_one_does_not(tmp_path):
    with served(tmp_path, web_metrics_token="s3cret-scrape-token") as (_, client):
        remote = {"X-Forwarded-For": "203.0.113.6"}
        assert client.get("/metrics", headers={**remote, "Authorization": "Bearer s3cret-scrape-token"}).text \
            == "hpmon_problems 1\n"
        assert client.get("/metrics", headers={**remote, "Authorization": "Bearer s3cret"}).status_code == 403
        assert client.get("/metrics", headers={**remote, "Authorization": "s3cret-scrape-token"}).status_code == 403
        assert client.get("/metrics", headers=remote).status_code == 403


def test_an_admin_session_sees_metrics_from_any_address(tmp_path):
    with served(tmp_path) as (_, client):
        client.headers["X-Forwarded-For"] = "203.0.113.7"
        assert login(client, "admin").status_code == 303
        assert client.get("/metrics").status_code == 200
        client.cookies.clear()
        assert login(client, "viewer").status_code == 303
        assert client.get("/metrics").status_code == 403


def test_a_bad_network_in_the_setting_is_ignored_not_trusted(tmp_path):
    with served(tmp_path, web_metrics_allow=["not-a-network", "127.0.0.1/32"]) as (_, client):
        assert client.get("/metrics").status_code == 200
        assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 403
