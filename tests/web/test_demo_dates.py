"""`make demo` dates the test news site relative to today, so the digest, the alerts and the trends
show data at once: the newest article falls in the 24 hours before now, none after, and every
article keeps its distance from the newest."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser

from tests.fixtures.newsite import SITE_DIR

REPO = Path(__file__).resolve().parents[2]


def _demo():
    spec = importlib.util.spec_from_file_location("hpmon_demo", REPO / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _published(root: Path) -> list[datetime]:
    return [datetime.fromisoformat(a["published"])
            for a in json.loads((root / "_articles.json").read_text(encoding="utf-8")) if a.get("published")]


def test_the_site_copy_is_dated_in_the_last_day(tmp_path):
    now = datetime(2027, 3, 9, 2, 30, tzinfo=UTC)
    root, shift = _demo().dated_site(tmp_path / "site", now)
    before, after = _published(SITE_DIR), _published(root)
    assert max(after) <= now < max(after) + timedelta(days=1)
    assert [b + shift for b in before] == after  # every article keeps its distance from the newest
    assert shift.days > 0 and shift == timedelta(days=shift.days)


def test_feed_dates_move_with_their_weekday_and_stay_readable(tmp_path):
    now = datetime(2027, 3, 9, 2, 30, tzinfo=UTC)
    root, shift = _demo().dated_site(tmp_path / "site", now)
    feeds = sorted((root / "feeds").glob("*.rss"))
    assert feeds
    moved = 0
    for feed in feeds:
        original = SITE_DIR / "feeds" / feed.name
        dates = re.findall(rb"<pubDate>([^<]+)</pubDate>", feed.read_bytes())
        old = re.findall(rb"<pubDate>([^<]+)</pubDate>", original.read_bytes())
        assert len(dates) == len(old)
        for new_text, old_text in zip(dates, old, strict=True):
            try:
                old_date = parsedate_to_datetime(old_text.decode())
            except (TypeError, ValueError):
                continue  # a junk date of the fixture stays junk
            new_date = parsedate_to_datetime(new_text.decode())
            assert new_date - old_date == shift
            assert new_text.decode().startswith(new_date.strftime("%a"))  # the weekday matches the day
            moved += 1
        assert len(feedparser.parse(feed.read_bytes()).entries) == len(feedparser.parse(original.read_bytes()).entries)
    assert moved


def test_an_article_page_declares_the_moved_date(tmp_path):
    now = datetime(2027, 3, 9, 2, 30, tzinfo=UTC)
    root, shift = _demo().dated_site(tmp_path / "site", now)
    article = json.loads((SITE_DIR / "_articles.json").read_text(encoding="utf-8"))[0]
    page = next(p for p in (root / article["path"].lstrip("/")).parent.glob("*")
                if p.stem == Path(article["path"]).stem or p.name == Path(article["path"]).name)
    published = datetime.fromisoformat(article["published"])
    assert (published + shift).date().isoformat().encode() in page.read_bytes()
    assert published.date().isoformat().encode() not in page.read_bytes()
