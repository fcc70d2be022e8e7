"""The Scrapy settings every crawl runs with leave no door open on the machine: no telnet console
and no remote-control server (Scrapy 2.19 opens one on 127.0.0.1 by default)."""

from __future__ import annotations

from scrapy.settings import Settings as ScrapySettings
from scrapy.settings import default_settings

from crawlers.settings import scrapy_settings


def test_no_console_and_no_remote_control_in_a_crawl():
    values = scrapy_settings(user_agent="hpmon/0.1", download_timeout=30, max_page_bytes=1_000_000,
                             concurrent_requests=4, concurrent_per_domain=2, download_delay=0, autothrottle=False,
                             obey_robots=True, retry_times=1, retry_backoff=1.0, item_pipelines={}, log_level="INFO")
    assert default_settings.REMOTE_CONTROL_ENABLED is True  # what a crawl would get without the setting
    settings = ScrapySettings(values)
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
