"""The address policy (guard.net): which addresses hpmon refuses, how the allow list reads,
and that an httpx client built on it refuses every hop to an internal address — against a real
HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from guard.net import BLOCKED, HostPolicy, Refused, address_refusal, guarded_client, parse_allow_entry
from tests.route_server import RouteServer


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "not globally routable"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
])
def test_internal_addresses_are_refused_with_their_kind(address, kind):
    why = address_refusal(address)
    assert why is not None and why.startswith(address if "::ffff" not in address else "::ffff:") and kind in why


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_allow_entries_name_a_host_and_maybe_a_port():
    assert parse_allow_entry("Fixture.Local.") == ("fixture.local", None)
    assert parse_allow_entry("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_allow_entry("[::1]:8080") == ("::1", 8080)
    assert parse_allow_entry("::1") == ("::1", None)
    for bad in ("", "10.0.0.0/8", "host:port", "host:99999", "user@host", "[::1"):
        with pytest.raises(ValueError):
            parse_allow_entry(bad)


def test_a_bad_allow_entry_is_logged_and_allows_nothing(caplog):
    policy = HostPolicy.from_allow_hosts(["10.0.0.0/8", "intranet.local"])
    assert policy.allows("intranet.local", 443) and not policy.allows("10.1.2.3", 80)
    assert "fetch_allow_hosts: ignored" in caplog.text


def test_a_name_resolving_to_an_internal_address_is_refused_and_the_answer_is_checked_whole():
    answers = {"metadata.example": ["169.254.169.254"], "mixed.example": ["93.184.215.14", "10.0.0.7"],
               "news.example": ["93.184.215.14"]}
    policy = HostPolicy.from_allow_hosts([], resolve=lambda host, port: answers[host])
    with pytest.raises(Refused) as refused:
        policy.vet("metadata.example", 80)
    assert refused.value.reason == BLOCKED
    assert str(refused.value).startswith("blocked_address: metadata.example resolves to 169.254.169.254; "
                                         "169.254.169.254 is link-local")
    with pytest.raises(Refused, match="10.0.0.7 is private"):
        policy.vet("mixed.example", 443)
    assert policy.vet("news.example", 443) == ["93.184.215.14"]


def test_a_connection_that_reached_an_internal_address_is_refused_unless_the_host_is_allowed():
    policy = HostPolicy.from_allow_hosts(["fixture.local"])
    with pytest.raises(Refused, match="news.example connected to 127.0.0.1 is loopback"):
        policy.check_connected("news.example", 80, "127.0.0.1")
    policy.check_connected("fixture.local", 80, "127.0.0.1")
    policy.check_connected("news.example", 80, "93.184.215.14")


# -- httpx, against real servers on 127.0.0.1 -------------------------------------------------------


NOT_HERE = (404, {}, b"not here")


@pytest.fixture(scope="module")
def server_pair() -> Iterator[tuple[RouteServer, RouteServer]]:
    internal = RouteServer({"/internal/secret": (200, {}, b"the office's internal page")}, missing=NOT_HERE)
    public = RouteServer(missing=NOT_HERE, routes={"/article": (200, {}, b"an article"),
                      "/moved": (302, {"Location": f"http://127.0.0.1:{internal.port}/internal/secret"}, b""),
                      "/to-localhost": (302, {"Location": f"http://localhost:{internal.port}/internal/secret"},
                                        b"")})
    yield public, internal
    public.close()
    internal.close()


@pytest.fixture
def servers(server_pair) -> tuple[RouteServer, RouteServer]:
    for server in server_pair:
        server.paths.clear()
    return server_pair


def test_loopback_is_refused_by_default_and_allowed_only_through_the_setting(servers):
    public, _ = servers
    with guarded_client(HostPolicy()) as client, pytest.raises(Refused, match="127.0.0.1 is loopback"):
        client.get(f"http://127.0.0.1:{public.port}/article")
    assert public.paths == []  # refused before connecting
    with guarded_client(HostPolicy.from_allow_hosts(["127.0.0.1"])) as client:
        assert client.get(f"http://127.0.0.1:{public.port}/article").text == "an article"


@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]", "2130706433", "127.1"])
def test_other_spellings_of_loopback_are_refused_when_only_127_0_0_1_is_allowed(servers, host):
    public, _ = servers
    with guarded_client(HostPolicy.from_allow_hosts(["127.0.0.1"])) as client, pytest.raises(Refused):
        client.get(f"http://{host}:{public.port}/article")
    assert public.paths == []


def test_every_redirect_hop_is_checked(servers):
    public, internal = servers
    policy = HostPolicy.from_allow_hosts([f"127.0.0.1:{public.port}"])  # only the first server
    with guarded_client(policy, follow_redirects=True) as client:
        for path in ("/moved", "/to-localhost"):
            with pytest.raises(Refused, match="is loopback"):
                client.get(f"http://127.0.0.1:{public.port}{path}")
    assert public.paths == ["/moved", "/to-localhost"] and internal.paths == []


def test_the_guarded_client_ignores_proxies_from_the_environment(servers, monkeypatch):
    public, _ = servers
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    with guarded_client(HostPolicy.from_allow_hosts(["127.0.0.1"]), timeout=5) as client:
        assert client.get(f"http://127.0.0.1:{public.port}/article").status_code == 200


def test_other_schemes_are_refused():
    with guarded_client(HostPolicy()) as client, pytest.raises((Refused, httpx.UnsupportedProtocol)):
        client.get("file:///etc/passwd")
