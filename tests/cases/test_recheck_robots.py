"""The recheck's robots.txt is read as the crawl reads it (Protego, Scrapy's parser): the most
specific rule wins and wildcards count, as search engines read robots.txt, not the first rule
that matches (urllib.robotparser's reading)."""

from __future__ import annotations

import pytest

from pipeline.evidence import PoliteFetcher
from tests.route_server import RouteServer

ROBOTS = b"User-agent: *\nDisallow: /news/\nAllow: /news/public/\nDisallow: /*.pdf$\n"


@pytest.fixture
def site():
    server = RouteServer({"/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS)})
    yield server
    server.close()


def test_the_most_specific_rule_wins_and_wildcards_count(site):
    with PoliteFetcher(user_agent="hpmon/0.1 (+test)", delay=0, allow_hosts=["127.0.0.1"]) as fetcher:
        assert fetcher.allowed(f"{site.base}/news/public/hai-phong.html") is True  # Allow is longer
        assert fetcher.allowed(f"{site.base}/news/private.html") is False
        assert fetcher.allowed(f"{site.base}/docs/report.pdf") is False  # the wildcard rule
        assert fetcher.allowed(f"{site.base}/docs/report.pdf.html") is True
    assert site.paths.count("/robots.txt") == 1  # read once per host


@pytest.mark.parametrize("status,allowed", [(404, True), (403, False), (401, False)])
def test_a_missing_or_forbidden_robots_txt(status, allowed):
    server = RouteServer({"/robots.txt": (status, {}, b"")})
    try:
        with PoliteFetcher(user_agent="hpmon/0.1", delay=0, allow_hosts=["127.0.0.1"]) as fetcher:
            assert fetcher.allowed(f"{server.base}/a.html") is allowed
    finally:
        server.close()
