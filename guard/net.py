"""Where hpmon may connect: never to loopback, private, link-local, multicast, reserved or
unspecified addresses (IPv4 and IPv6, IPv4-mapped and other embedded IPv4 included) unless
the host is named in the ``fetch_allow_hosts`` setting.

A crawled page, a redirect, a sitemap index or an ingested URL is hostile input: without this
check any of them can point a fetcher at the office's own network (``302 →
http://127.0.0.1:18503/internal/secret``) and the answer ends up in the index or in evidence.

``HostPolicy.vet`` resolves a host and returns the addresses to connect to, or raises
``Refused``; ``guarded_client`` is an ``httpx.Client`` that vets every new connection — each
redirect hop included — and connects to the very address it vetted (no second DNS lookup, so
a DNS-rebinding answer cannot slip in between). The Scrapy side is
``crawlers.middleware.AddressGuardMiddleware``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx

log = logging.getLogger(__name__)

BLOCKED = "blocked_address"
BLOCKED_SCHEME = "blocked_scheme"
DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(ValueError):
    """A connection hpmon will not make; ``reason`` is a stable key, ``detail`` says why. A
    ValueError: code that reports a bad URL as a reason reports this one too."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _kind(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not globally routable"
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """IPv4 addresses an IPv6 address carries (and reaches, on a dual-stack or NAT64 network)."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.ipv4_mapped:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    if ip.sixtofour:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo:
        found.append(("Teredo", ip.teredo[1]))
    if ip in _NAT64:
        found.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return found


def address_refusal(address: str | IPAddress) -> str | None:
    """Why hpmon refuses to connect to ``address`` ("127.0.0.1 is loopback"), or None for a
    public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address):
        shown = f"::ffff:{ip.ipv4_mapped}" if ip.ipv4_mapped else str(ip)
        for how, inner in _embedded_v4(ip):
            kind = _kind(inner)
            if kind:
                return f"{shown} is {kind} ({how} {inner})"
        if ip.ipv4_mapped:  # the IPv4 address decides (::ffff:0:0/96 itself is "reserved")
            return None
    kind = _kind(ip)
    return f"{ip} is {kind}" if kind else None


def _norm_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def parse_allow_entry(entry: str) -> tuple[str, int | None]:
    """(host, port or None) of one ``fetch_allow_hosts`` entry: ``fixture.local``,
    ``127.0.0.1``, ``127.0.0.1:8080``, ``::1``, ``[::1]:8080``; ValueError when it is none."""
    text = entry.strip()
    if not text or "/" in text or "@" in text or " " in text:
        raise ValueError(f"not a host or host:port: {entry!r}")
    port: str | None = None
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"not a host or host:port: {entry!r}")
        port = rest[1:] or None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text  # a name, an IPv4 address or a bare IPv6 address
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"bad port in {entry!r}")
    if not host:
        raise ValueError(f"not a host or host:port: {entry!r}")
    return _norm_host(host), int(port) if port else None


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class HostPolicy:
    """Which hosts hpmon may connect to: public addresses, and the hosts named in
    ``allow`` (``(host, None)`` for any port). ``resolve`` is the DNS lookup (``getaddrinfo``)."""

    allow: frozenset[tuple[str, int | None]] = frozenset()
    resolve: Callable[[str, int], list[str]] = field(default=_getaddrinfo, compare=False)

    @classmethod
    def from_allow_hosts(cls, entries: Iterable[str] = (), **kw) -> HostPolicy:
        """The policy for a ``fetch_allow_hosts`` list; an entry that is not a host is logged
        and ignored (it allows nothing)."""
        allow = set()
        for entry in entries or ():
            try:
                allow.add(parse_allow_entry(str(entry)))
            except ValueError as exc:
                log.warning("fetch_allow_hosts: ignored: %s", exc)
        return cls(frozenset(allow), **kw)

    def allows(self, host: str, port: int) -> bool:
        """Whether ``host`` (as written in the URL) is named in the allow list for ``port``."""
        host = _norm_host(host)
        return (host, None) in self.allow or (host, port) in self.allow

    def vet(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host:port``: the host itself when it is allowed by
        name, else every address it resolves to, each public. Raises ``Refused`` when one is
        not (an answer mixing public and private addresses is refused whole), and
        ``socket.gaierror`` when the name does not resolve."""
        if self.allows(host, port):
            return [host]
        addresses = self.resolve(_norm_host(host), port)
        if not addresses:
            raise socket.gaierror(f"{host} resolves to no address")
        for address in addresses:
            why = address_refusal(address)
            if why:
                named = "" if _norm_host(host) == _norm_host(address) else f"{host} resolves to {address}; "
                raise Refused(BLOCKED, f"{named}{why} (add the host to fetch_allow_hosts to allow it)")
        return addresses

    def check_connected(self, host: str, port: int, address: str | IPAddress) -> None:
        """Raise ``Refused`` when a connection to ``host`` actually reached a refused address
        (DNS rebinding: the lookup that connected answered differently from ours)."""
        if self.allows(host, port):
            return
        why = address_refusal(address)
        if why:
            raise Refused(BLOCKED, f"{host} connected to {why}")

    def check_url(self, url: str) -> tuple[str, int]:
        """(host, port) of an http(s) URL; ``Refused`` for another scheme or no host."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise Refused(BLOCKED_SCHEME, f"only http and https are fetched, not {scheme or 'a relative URL'}:")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise Refused(BLOCKED, f"bad port in {url[:200]}") from exc
        if not parts.hostname:
            raise Refused(BLOCKED, f"no host in {url[:200]}")
        return parts.hostname, port


# -- httpx -------------------------------------------------------------------------------------


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy vetted."""

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        try:
            targets = self.policy.vet(host, port)
        except OSError as exc:  # the name does not resolve: the same error as an unguarded client's
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        error: Exception | None = None
        for target in targets:
            try:
                return self._backend.connect_tcp(target, port, timeout=timeout, local_address=local_address,
                                                 socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        raise Refused(BLOCKED, f"unix socket {path}")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every new connection (each redirect hop to a new origin) goes
    through the policy. No proxy: a proxy would resolve the host itself, out of our sight."""

    def __init__(self, policy: HostPolicy, *, verify: bool = True, limits: httpx.Limits = LIMITS) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=GuardedBackend(policy))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in DEFAULT_PORTS:
            raise Refused(BLOCKED_SCHEME, f"only http and https are fetched, not {request.url.scheme}:")
        return super().handle_request(request)


def guarded_client(policy: HostPolicy, **kwargs) -> httpx.Client:
    """An ``httpx.Client`` that connects only where ``policy`` allows (never through an
    environment proxy). Pass ``follow_redirects`` and the rest as usual."""
    return httpx.Client(transport=GuardedTransport(policy), trust_env=False, **kwargs)
