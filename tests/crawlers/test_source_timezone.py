"""Source.timezone / effective_timezone and the verified fields."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest

from crawlers.sources import _CAPITAL_ZONES, Source, SourceError, country_timezone, load_sources


def _rss(**kw) -> Source:
    return Source(id="x", name="X", kind="rss", urls=("https://example.org/rss",), **kw)


def test_declared_zone_wins_over_country():
    assert _rss(country="VN", timezone="Asia/Bangkok").effective_timezone == "Asia/Bangkok"


def test_country_gives_its_main_zone():
    assert _rss(country="vn").effective_timezone == "Asia/Ho_Chi_Minh"
    assert _rss(country="CN").effective_timezone == "Asia/Shanghai"
    assert _rss(country="JP").effective_timezone == "Asia/Tokyo"
    # several zones: the capital's, not CLDR's alphabetical first (Adak, Adelaide, Astrakhan)
    assert _rss(country="US").effective_timezone == "America/New_York"
    assert _rss(country="AU").effective_timezone == "Australia/Sydney"
    assert _rss(country="RU").effective_timezone == "Europe/Moscow"


def test_no_country_no_zone():
    source = _rss()
    assert source.effective_timezone is None
    assert source.tzinfo is None
    assert country_timezone("QQ") is None


def test_tzinfo_is_usable():
    tz = _rss(country="CN").tzinfo
    assert dt.datetime(2024, 1, 1, 8, tzinfo=tz).utcoffset() == dt.timedelta(hours=8)


def test_capital_table_names_real_zones():
    for zone in _CAPITAL_ZONES.values():
        zoneinfo.ZoneInfo(zone)


@pytest.mark.parametrize("bad", ["Mars/Olympus", "UTC+7", "../../etc/passwd"])
def test_unknown_zone_is_refused(bad):
    with pytest.raises(ValueError, match="timezone"):
        _rss(timezone=bad)


def test_verified_fields(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "sources:\n"
        "  - {id: a, name: A, kind: rss, urls: ['https://a.example/rss'], verified: true,\n"
        "     verified_at: 2025-01-02, verified_from: 'https://a.example/rss-index'}\n"
        "  - {id: b, name: B, kind: rss, urls: ['https://b.example/rss'], note: guessed path}\n",
        encoding="utf-8",
    )
    a, b = load_sources(path)
    assert a.verified and a.verified_at == dt.date(2025, 1, 2) and a.verified_from.endswith("rss-index")
    assert not b.verified and b.note == "guessed path"


def test_bad_zone_in_file_names_the_source(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - {id: a, name: A, kind: rss, urls: ['https://a.example/rss'], timezone: Nowhere}\n",
                    encoding="utf-8")
    with pytest.raises(SourceError, match="source a: timezone"):
        load_sources(path)


def test_default_registry_zones_resolve():
    for source in load_sources(Path(__file__).resolve().parents[2] / "config" / "sources.yaml"):
        if source.country:
            assert source.tzinfo is not None, source.id
