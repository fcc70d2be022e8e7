"""``hpmon sources check`` (verified / unverified) and ``--live`` against feeds served on 127.0.0.1;
``hpmon sources import`` keeps the registry's comments."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawlers.sources import Source, check_live, load_sources, verification_summary
from tests.conftest import make_hpmon

NOW = datetime.now(UTC).replace(microsecond=0)
# zone-less pubDate, as Tencent writes them: Beijing wall time one hour ago
BARE = (NOW + timedelta(hours=8) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
FEED = (f'<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>新闻</title>'
        f"<item><title>海防港</title><link>http://x/a/1.htm</link><pubDate>{BARE}</pubDate></item>"
        f"<item><title>越南</title><link>http://x/a/2.htm</link><pubDate>2018-09-18 14:38:10</pubDate></item>"
        "</channel></rss>").encode("gb18030")
SITEMAP = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           b"<url><loc>http://x/a/3.htm</loc><lastmod>2024-01-02T03:04:05Z</lastmod></url></urlset>")
LISTING = (b"<html><body><a href='/tin-tuc/hai-phong-don-tau-container-lon-nhat-123456.htm'>a</a>"
           b"<a href='/lien-he'>contact</a></body></html>")
PAGES = {
    "/feed.xml": (200, "text/xml", FEED),  # text/xml without charset: no failure
    "/sitemap.xml": (200, "application/xml", SITEMAP),
    "/section": (200, "text/html; charset=utf-8", LISTING),
    "/html-not-feed": (200, "text/html", b"<!doctype html><html><body>hello</body></html>"),
    "/private/feed.xml": (200, "text/xml", FEED),
    "/robots.txt": (200, "text/plain", b"User-agent: hpmon\nDisallow: /private/\n"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        status, ctype, body = PAGES.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sources(base: str) -> list[Source]:
    return [
        Source(id="qq", name="Tencent", kind="rss", urls=(f"{base}/feed.xml",), country="CN",
               verified=True, verified_at="2026-12-01", verified_from=f"{base}/feed.xml (live fetch)"),
        Source(id="map", name="Map", kind="sitemap", urls=(f"{base}/sitemap.xml",), country="VN"),
        Source(id="sec", name="Section", kind="listing", urls=(f"{base}/section",), country="VN", note="guessed"),
        Source(id="gone", name="Gone", kind="rss", urls=(f"{base}/missing.rss",), country="VN"),
        Source(id="html", name="Html", kind="rss", urls=(f"{base}/html-not-feed",), country="VN"),
        Source(id="private", name="Private", kind="rss", urls=(f"{base}/private/feed.xml",)),
        Source(id="gn", name="Search", kind="news_search", url_template=f"{base}/search?q={{query}}"),
    ]


def test_verification_summary():
    sources = _sources("http://h")
    off = Source(id="off", name="Off", kind="rss", urls=("http://h/off",), enabled=False)
    summary = verification_summary([*sources, off])
    assert summary["sources"] == 8 and summary["enabled"] == 7 and summary["verified_enabled"] == 1
    assert [u["id"] for u in summary["unverified_enabled"]] == ["map", "sec", "gone", "html", "private", "gn"]
    assert summary["unverified_enabled"][1]["note"] == "guessed"


def test_live_check_against_a_local_server(server):
    checks = {c.source_id: c for c in check_live(_sources(server), user_agent="hpmon/test", timeout=10)}
    qq = checks["qq"]
    assert qq.ok and qq.status == 200 and qq.items == 2
    assert timedelta(minutes=50) < qq.age(datetime.now(UTC)) < timedelta(minutes=70)  # Beijing time, not UTC
    assert not any("CharacterEncodingOverride" in n for n in qq.notes if "malformed" in n)
    assert checks["map"].ok and checks["map"].items == 1 and checks["map"].newest.year == 2024
    assert checks["sec"].ok and checks["sec"].items == 1
    assert checks["gone"].error == "http_404" and checks["gone"].status == 404
    assert checks["html"].error == "not_a_feed"
    assert checks["private"].error == "robots_disallowed"
    assert checks["gn"].error == "not_checked"
    assert check_live(_sources(server)[5:6], user_agent="hpmon/test", obey_robots=False)[0].ok


def test_live_check_of_a_dead_host_is_a_reason_not_a_crash():
    # a port nothing listens on
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = Source(id="dead", name="Dead", kind="rss", urls=(f"http://127.0.0.1:{port}/feed",))
    (check,) = check_live([source], user_agent="hpmon/test", timeout=5)
    assert check.error == "fetch_failed" and "Connect" in check.detail


def test_live_check_size_cap(server):
    source = Source(id="qq", name="Tencent", kind="rss", urls=(f"{server}/feed.xml",))
    (check,) = check_live([source], user_agent="hpmon/test", max_bytes=100)
    assert check.error == "too_large"


def _write_registry(path, base):
    path.write_text(
        "# my registry: this comment must survive\n"
        "sources:\n"
        "  # ---- checked by hand ----\n"
        "  - id: qq\n    name: Tencent\n    kind: rss\n"
        f"    urls: [\"{base}/feed.xml\"]   # the GB2312 feed\n"
        "    country: CN\n    verified: true\n    verified_at: 2026-12-01\n"
        f"    verified_from: \"{base}/feed.xml (live fetch)\"\n"
        "  - id: gone\n    name: Gone\n    kind: rss\n"
        f"    urls: [\"{base}/missing.rss\"]\n"
        "    country: VN\n    verified: false\n    note: \"guessed path\"\n",
        encoding="utf-8")


def test_cli_sources_check_offline_and_live(server, tmp_path):
    registry = tmp_path / "sources.yaml"
    _write_registry(registry, server)
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    hp = make_hpmon(home, registry)
    out = hp.run("sources", "check").stdout
    assert "verified: 1 of 2 enabled sources" in out and "unverified gone (rss)" in out and "guessed path" in out
    live = hp.run("sources", "check", "--live", check=False)
    assert live.returncode == 1  # one feed failed
    assert "http_404" in live.stdout and "1 of 2 URLs answered with content" in live.stdout
    assert "h ago" in live.stdout
    ok = hp.run("sources", "check", "--live", "qq")
    assert "1 of 1 URLs answered" in ok.stdout


def test_cli_import_keeps_comments(server, tmp_path):
    registry = tmp_path / "sources.yaml"
    _write_registry(registry, server)
    before = registry.read_text(encoding="utf-8")
    opml = tmp_path / "feeds.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                    '<outline text="Báo Hải Phòng" type="rss" xmlUrl="https://baohaiphong.vn/rss/home.rss"/>'
                    '<outline text="Monitoring" type="rss" feedUrl="https://m.example.org/feed"/>'
                    f'<outline text="Again" type="rss" xmlUrl="{server}/feed.xml"/>'
                    "</body></opml>", encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    result = make_hpmon(home, registry).run("sources", "import", str(opml))
    assert "imported 2 feeds" in result.stdout and "already registered as qq" in result.stdout
    after = registry.read_text(encoding="utf-8")
    assert after.startswith(before)
    ids = [s.id for s in load_sources(registry)]
    assert ids == ["qq", "gone", "bao-hai-phong", "monitoring"]


def test_crawl_summary_reports_unverified_sources_apart():
    from hpmon.cli import _report_unverified
    from hpmon.summary import summarize
    from hpmon.term import console

    sources = _sources("http://h")
    stats = {"source/qq/failed/http_500": 1, "source/map/fetched": 3, "source/gone/failed/http_404": 2,
             "source/sec/not_modified": 1}
    rows = summarize(stats, sources)
    with console.capture() as captured:
        _report_unverified(rows, sources)
    out = captured.get()
    assert "Unverified sources: 6 of 7 crawled" in out
    assert "failed gone (http_404×2) — check its URL: http://h/missing.rss" in out
    assert "failed map" not in out and "failed sec" not in out  # answered, or not modified
    assert "Verified sources that failed: qq" in out


def test_doctor_warns_about_unverified_sources(tmp_path):
    from hpmon.doctor import _check_verified
    from hpmon.settings import Settings

    registry = tmp_path / "sources.yaml"
    _write_registry(registry, "http://h")
    finding = _check_verified(Settings(home=tmp_path, sources_file=registry))
    assert finding.status == "warn" and "1 of 2 enabled sources unverified (gone)" in finding.detail
    registry.write_text(registry.read_text(encoding="utf-8").replace("verified: false", "verified: true"),
                        encoding="utf-8")
    assert _check_verified(Settings(home=tmp_path, sources_file=registry)).status == "ok"
