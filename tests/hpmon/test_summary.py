"""The crawl summary a user reads: per-source counts and, in words, what else happened."""

from __future__ import annotations

from rich.console import Console

from crawlers.sources import Source
from hpmon.summary import summarize, summary_table


def test_the_summary_says_why_a_source_brought_nothing_new():
    sources = [Source(id="gnews-en", name="Google News (en)", kind="news_search",
                      url_template="https://news.google.com/rss/search?q={query}"),
               Source(id="vnexpress", name="VnExpress", kind="rss", urls=("https://vnexpress.net/rss",))]
    stats = {"source/gnews-en/fetched": 1, "source/gnews-en/resolved_links": 5, "source/gnews-en/skipped_seen": 4,
             "source/gnews-en/failed/news_link_unresolved": 1, "source/vnexpress/not_modified": 1,
             "source/unknown/fetched": 9}
    rows = {r.source_id: r for r in summarize(stats, sources)}
    assert rows["gnews-en"].to_dict()["resolved_links"] == 5 and rows["gnews-en"].failed == 1
    console = Console(width=200, record=True)
    console.print(summary_table(list(rows.values())))
    text = console.export_text()
    assert "news_link_unresolved×1; 5 search links resolved, 4 already seen" in text
    assert "not modified" in text and "unknown" not in text
