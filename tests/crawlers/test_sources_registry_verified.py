"""The default registry's verification fields (issue 19): a verified source says when and from
where, an unverified one says what was searched, and both survive ``sources import``/export."""
import datetime as dt
import shutil
from pathlib import Path

from crawlers.sources import export_opml, import_opml, load_sources, save_sources, verification_summary

REGISTRY = Path(__file__).resolve().parents[2] / "config" / "sources.yaml"


def test_every_verified_default_source_says_when_and_from_where():
    sources = load_sources(REGISTRY)
    verified = [s for s in sources if s.verified]
    for s in verified:
        assert isinstance(s.verified_at, dt.date), s.id
        assert s.verified_from and (s.verified_from.startswith("http") or "live fetch" in s.verified_from), s.id
    # no date or place without the flag: a half-filled check is not a check
    for s in sources:
        if not s.verified:
            assert s.verified_at is None and s.verified_from is None, s.id


def test_every_unverified_default_source_says_what_was_searched():
    for s in load_sources(REGISTRY):
        if not s.verified:
            assert s.note and ("searched" in s.note or "imported from" in s.note), s.id


def test_the_corrected_scmp_feed_is_the_one_its_stored_copy_names():
    scmp = next(s for s in load_sources(REGISTRY) if s.id == "scmp-asia")
    assert scmp.verified and scmp.urls == ("https://www.scmp.com/rss/318215/feed",)
    assert scmp.verified_from.startswith(scmp.urls[0])  # the copy's address is the feed's own


def test_the_listing_verified_as_written_names_its_stored_page():
    vnn = next(s for s in load_sources(REGISTRY) if s.id == "vietnamnews")
    assert vnn.verified and vnn.verified_from.startswith(vnn.urls[0] + "?p=")  # a page of that very section


def test_doctor_and_crawl_count_unverified_from_the_field():
    sources = load_sources(REGISTRY)
    summary = verification_summary(sources)
    enabled = [s for s in sources if s.enabled]
    assert summary["verified_enabled"] == sum(s.verified for s in enabled)
    assert {u["id"] for u in summary["unverified_enabled"]} == {s.id for s in enabled if not s.verified}


def test_verified_fields_round_trip_through_import_and_export(tmp_path):
    path = tmp_path / "sources.yaml"
    shutil.copy(REGISTRY, path)
    original = path.read_text(encoding="utf-8")
    opml = tmp_path / "f.opml"
    opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>'
                    '<outline type="rss" text="New feed" xmlUrl="https://new.example/rss"/>'
                    '</body></opml>', encoding="utf-8")
    existing = load_sources(path)
    new, _ = import_opml(opml, existing)
    save_sources(existing + new, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original.rstrip("\n"))  # comments, notes and verified lines byte for byte
    reloaded = load_sources(path)
    assert reloaded[: len(existing)] == existing
    assert reloaded[-1].urls == ("https://new.example/rss",) and not reloaded[-1].verified
    scmp = next(s for s in reloaded if s.id == "scmp-asia")
    assert scmp.verified_at == dt.date(2026, 12, 4) and scmp.verified_from.startswith("https://www.scmp.com/")
    assert "https://www.scmp.com/rss/318215/feed" in export_opml(reloaded)
