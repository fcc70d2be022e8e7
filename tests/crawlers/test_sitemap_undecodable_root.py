"""A sitemap whose root element lxml keeps but cannot give as text (a character reference to a lone
surrogate in its namespace, found by the fuzz suite: case seed 14000751) is refused with a reason,
not an exception that would stop the source."""

from __future__ import annotations

from crawlers.sitemaps import read_sitemap

SURROGATE_NAMESPACE = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                       b'<urlset xmlns="http://www.sitemaps.org/schemas/sit&#xD800;emap/0.9">'
                       b"<url><loc>https://news.example/a/1.html</loc></url></urlset>")


def test_a_root_namespace_that_is_not_valid_unicode_is_a_malformed_sitemap():
    reading = read_sitemap(SURROGATE_NAMESPACE)
    assert reading.error == "malformed_sitemap" and "not valid Unicode" in reading.detail
    assert reading.pages == [] and reading.children == []


def test_the_same_sitemap_with_its_namespace_intact_still_reads():
    body = SURROGATE_NAMESPACE.replace(b"sit&#xD800;emap", b"sitemap")
    assert read_sitemap(body).pages[0][0] == "https://news.example/a/1.html"
