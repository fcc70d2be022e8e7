"""A real crawl (``hpmon crawl`` in a subprocess) against servers on 127.0.0.1: no request
reaches an address the policy refuses — not a redirect hop, not a sitemap-index child, not
another spelling of loopback — and robots.txt is asked again when a redirect changes host.
Gzip bombs (a 600 MiB sitemap in 611 KB) end with a reason, in bounded memory."""

from __future__ import annotations

import json
import sqlite3
import sys
import zlib

import pytest
import yaml

from tests.conftest import make_hpmon
from tests.peak_memory import python_measured, run_measured
from tests.route_server import RouteServer

pytestmark = pytest.mark.slow
BOMB_MIB = 600


def gzip_bomb(mib: int = BOMB_MIB, payload: bytes = b"") -> bytes:
    """``payload`` then zeros, ``mib`` MiB in all, gzipped (about 1 KB per MiB), made in chunks."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [deflater.compress(payload)]
    zeros = bytes(1 << 20)
    for _ in range(mib):
        out.append(deflater.compress(zeros))
    out.append(deflater.flush())
    return b"".join(out)


def _index(*children: str) -> bytes:
    locs = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}' \
           f"</sitemapindex>".encode()


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    news, internal, other = RouteServer(), RouteServer(), RouteServer()
    internal.routes = {"/internal/secret": (200, {}, b"<html><body>internal secret</body></html>"),
                       "/internal/sitemap.xml": (200, {"Content-Type": "application/xml"}, _index())}
    other.routes = {"/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
                    "/private/article.html": (200, {}, b"<html><body>not for robots</body></html>")}
    sitemap = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' \
              b"<url><loc>http://example.invalid/a.html</loc></url>"
    news.routes = {
        "/redirect.html": (302, {"Location": f"http://127.0.0.1:{internal.port}/internal/secret"}, b""),
        "/to-localhost.html": (302, {"Location": f"http://localhost:{internal.port}/internal/secret"}, b""),
        "/moved.html": (301, {"Location": f"http://localhost:{other.port}/private/article.html"}, b""),
        "/sitemap-index.xml": (200, {"Content-Type": "application/xml"}, _index(
            f"http://127.0.0.1:{internal.port}/internal/sitemap.xml",
            f"http://[::ffff:127.0.0.1]:{news.port}/sitemap-index.xml", "file:///etc/hostname")),
        "/bomb.xml.gz": (200, {"Content-Type": "application/x-gzip"}, gzip_bomb(payload=sitemap)),
        "/bomb-encoded.xml": (200, {"Content-Type": "application/xml", "Content-Encoding": "gzip"},
                              gzip_bomb(payload=sitemap)),
    }
    base = f"http://127.0.0.1:{news.port}"
    common = {"country": "VN", "language": "vi", "scope": "domestic"}
    sources = [
        {"id": "redirects", "name": "Redirects", "kind": "pages", **common,
         "urls": [base + "/redirect.html", base + "/to-localhost.html"]},
        {"id": "index", "name": "Sitemap index", "kind": "sitemap", **common, "urls": [base + "/sitemap-index.xml"]},
        {"id": "moved", "name": "Moved", "kind": "pages", **common, "urls": [base + "/moved.html"]},
        {"id": "bomb", "name": "Bomb", "kind": "sitemap", **common, "urls": [base + "/bomb.xml.gz"]},
        {"id": "bomb-encoded", "name": "Encoded bomb", "kind": "sitemap", **common,
         "urls": [base + "/bomb-encoded.xml"]},
    ]
    home = tmp_path_factory.mktemp("guard-home")
    (home / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    hpmon = make_hpmon(home, home / "sources.yaml",
                       HPMON_FETCH_ALLOW_HOSTS=json.dumps([f"127.0.0.1:{news.port}", f"localhost:{other.port}"]))
    # the crawl in a fresh process, and its peak memory (ru_maxrss, KiB on Linux)
    # (every source fails here, so the crawl exits non-zero: that is not the test's business)
    out, peak_kib = run_measured([sys.executable, "-m", "hpmon", "crawl", "--json"], env=hpmon.env, check=False)
    rows = {row["source"]: row for row in json.loads(out)}
    with sqlite3.connect(home / "crawl.sqlite") as db:
        failures = db.execute("SELECT source_id, url, reason FROM failures").fetchall()
    yield rows, failures, peak_kib, news, internal, other, hpmon
    for s in (news, internal, other):
        s.close()


def test_redirect_hops_to_internal_addresses_are_refused_with_a_reason(crawl):
    rows, failures, _, _, internal, _, _ = crawl
    assert rows["redirects"]["failures"] == {"blocked_address": 2}
    details = [reason for source, _, reason in failures if source == "redirects"]
    assert any("127.0.0.1 is loopback" in d for d in details)
    assert any("localhost resolves to 127.0.0.1" in d or "localhost resolves to ::1" in d for d in details)
    assert internal.paths == []


def test_sitemap_index_children_may_not_point_inside(crawl):
    """Not to an internal address, another spelling of an allowed one, or a local file."""
    rows, failures, _, news, internal, _, _ = crawl
    assert rows["index"]["failures"] == {"blocked_address": 2, "blocked_scheme": 1}, rows["index"]
    details = [reason for source, _, reason in failures if source == "index"]
    assert any("::ffff:127.0.0.1 is loopback" in d for d in details), details
    assert internal.paths == [] and news.paths.count("/sitemap-index.xml") == 1


def test_robots_txt_is_asked_again_when_a_redirect_changes_host(crawl):
    rows, _, _, _, _, other, _ = crawl
    assert rows["moved"]["failures"] == {"robots": 1}
    assert other.paths == ["/robots.txt"]


def test_a_gzip_bomb_sitemap_stops_at_the_limit_with_a_reason_in_bounded_memory(crawl):
    rows, failures, peak_kib, _, _, _, _ = crawl
    assert rows["bomb"]["failures"] == {"malformed_sitemap": 1}
    assert any("expands beyond 50 MiB" in reason for source, _, reason in failures if source == "bomb")
    assert rows["bomb-encoded"]["failures"] == {"too_large": 1}
    print(f"peak memory of the crawl with two {BOMB_MIB} MiB gzip bombs: {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 450 * 1024  # it was 1.49 GB; the bomb alone is 600 MiB inflated


def test_an_inflated_sitemap_is_bounded_in_memory():
    """The sitemap reader alone on the 600 MiB bomb, peak memory measured in a child process."""
    code = ("import sys; from crawlers.sitemaps import read_sitemap; "
            "r = read_sitemap(sys.stdin.buffer.read()); print(r.error, r.detail)")
    reading, peak_kib = python_measured(code, input=gzip_bomb(), timeout=120)
    assert reading.startswith("malformed_sitemap expands beyond 50 MiB")
    print(f"peak memory reading a {BOMB_MIB} MiB gzip bomb sitemap: {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 250 * 1024


def test_ingest_of_an_internal_url_is_refused(crawl):
    *_, internal, _, hpmon = crawl
    result = hpmon.run("ingest", f"http://localhost:{internal.port}/internal/secret", check=False)
    assert "blocked_address" in result.stdout and internal.paths == []
    with sqlite3.connect(hpmon.home / "crawl.sqlite") as db:
        [(reason,)] = db.execute("SELECT reason FROM failures WHERE source_id = 'ingest'").fetchall()
    assert reason.startswith("blocked_address: localhost resolves to")


def test_a_response_from_an_internal_address_is_dropped_whatever_the_lookup_said():
    """DNS rebinding: our lookup said public, the connection reached loopback."""
    import ipaddress

    from scrapy.http import HtmlResponse, Request

    from crawlers.middleware import AddressGuardMiddleware, BlockedRequest
    from guard.net import HostPolicy

    guard = AddressGuardMiddleware(HostPolicy.from_allow_hosts(["fixture.local"]))
    request = Request("http://news.example/a.html")
    answer = HtmlResponse(request.url, body=b"<html>internal</html>", request=request,
                          ip_address=ipaddress.ip_address("127.0.0.1"))
    with pytest.raises(BlockedRequest, match="news.example connected to 127.0.0.1 is loopback") as refused:
        guard.process_response(request, answer)
    assert refused.value.guard_reason == "blocked_address"
    public = HtmlResponse(request.url, body=b"<html>ok</html>", request=request,
                          ip_address=ipaddress.ip_address("93.184.215.14"))
    assert guard.process_response(request, public) is public
    allowed = Request("http://fixture.local/a.html")
    local = HtmlResponse(allowed.url, body=b"<html>ok</html>", request=allowed,
                         ip_address=ipaddress.ip_address("127.0.0.1"))
    assert guard.process_response(allowed, local) is local


def test_sources_check_live_goes_through_the_policy_too(crawl, tmp_path):
    *_, internal, _, _ = crawl
    feed = {"id": "inside", "name": "Internal feed", "kind": "rss", "country": "VN", "language": "vi",
            "scope": "domestic", "urls": [f"http://localhost:{internal.port}/internal/feed.xml"]}
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": [feed]}), encoding="utf-8")
    hpmon = make_hpmon(tmp_path, tmp_path / "sources.yaml")
    result = hpmon.run("sources", "check", "inside", "--live", check=False)
    assert result.returncode == 1 and "blocked_address" in result.stdout, result.stdout
    assert internal.paths == []
