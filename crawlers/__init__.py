"""Crawlers: the source registry, the Scrapy spider, politeness, seen-URL store, WARC archive."""
