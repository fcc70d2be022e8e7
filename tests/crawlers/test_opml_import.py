"""OPML import: every attribute form readers write, a note for every outline dropped,
Unicode-aware unique ids; the registry's comments survive an import."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crawlers.sources import Source, import_opml, load_sources, save_sources

REPO = Path(__file__).resolve().parents[2]
SHARED_OPML = REPO.parent / "shared" / "benchmarks" / "formats" / "opml"

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>t</title></head><body>
<outline text="Tin Việt">
  <outline text="Báo Hải Phòng" type="rss" xmlUrl="https://baohaiphong.vn/rss/home.rss"/>
  <outline text="Đời sống" type="rss" xmlUrl="https://x.vn/doi-song.rss"/>
  <outline text="Monitoring" type="rss" feedUrl="https://m.example.org/feed" htmlUrl="https://m.example.org/"/>
  <outline text="Lower case" type="rss" xmlurl="https://lc.example.org/rss" Title="Lower Case Title"/>
  <outline text="By url" type="rss" url="https://u.example.org/atom.xml"/>
  <outline text="A link" type="link" url="https://link.example.org/page.html"/>
  <outline text="Only a site" htmlUrl="https://site.example.org/"/>
  <outline text="Nothing at all"/>
  <outline text="No scheme" type="rss" xmlUrl="www.theguardian.com/books/rss"/>
  <outline text="Relative" type="rss" xmlUrl="//proto.example.org/rss"/>
  <outline text="Bad" type="rss" xmlUrl="ftp://files.example.org/rss"/>
</outline>
<outline text="中文">
  <outline text="新闻理想档案馆" type="rss" xmlUrl="http://omm.hk/feed/"/>
  <outline text="阮一峰的网络日志" type="rss" xmlUrl="http://www.ruanyifeng.com/blog/atom.xml"/>
  <outline text="阮一峰的网络日志" type="rss" xmlUrl="http://www.ruanyifeng.com/blog/other.xml"/>
  <outline text="费利克斯" type="rss" xmlUrl="http://feeds.feedburner.com/felixcat"/>
  <outline text="Same" type="rss" xmlUrl="https://a.example.org/1"/>
  <outline text="Same" type="rss" xmlUrl="https://a.example.org/2"/>
  <outline text="Dup" type="rss" xmlUrl="https://a.example.org/1"/>
</outline>
</body></opml>
"""


@pytest.fixture()
def imported(tmp_path):
    path = tmp_path / "f.opml"
    path.write_text(OPML, encoding="utf-8")
    return import_opml(path, [])


def test_every_attribute_form_is_read(imported):
    new, _ = imported
    urls = {u for s in new for u in s.urls}
    assert {"https://m.example.org/feed", "https://lc.example.org/rss", "https://u.example.org/atom.xml",
            "https://www.theguardian.com/books/rss", "https://proto.example.org/rss"} <= urls
    assert "https://link.example.org/page.html" not in urls
    assert {s.name for s in new} >= {"Lower Case Title"}


def test_every_dropped_outline_has_a_reason(imported):
    new, notes = imported
    text = "\n".join(notes)
    assert "'A link': no feed URL (only url on a link outline)" in text
    assert "'Only a site': no feed URL (only htmlUrl)" in text
    assert "'Nothing at all': no feed URL" in text
    assert re.search(r"skipped ftp://files.example.org/rss: .*http", text)
    assert "skipped https://a.example.org/1: already registered as same" in text
    assert "URL without a scheme read as https" in text
    leaves = [o for o in ET.fromstring(OPML).iter("outline") if len(o) == 0]
    assert len(new) + sum(n.startswith("skipped") for n in notes) == len(leaves)


def test_ids_are_unicode_aware_unique_and_stable(imported, tmp_path):
    new, _ = imported
    ids = {s.urls[0]: s.id for s in new}
    assert ids["https://baohaiphong.vn/rss/home.rss"] == "bao-hai-phong"
    assert ids["https://x.vn/doi-song.rss"] == "doi-song"
    assert ids["http://omm.hk/feed/"] == "omm-hk"
    assert ids["http://feeds.feedburner.com/felixcat"] == "feedburner-com-felixcat"
    assert ids["http://www.ruanyifeng.com/blog/atom.xml"] == "ruanyifeng-com"
    assert re.fullmatch(r"ruanyifeng-com-[0-9a-f]{6}", ids["http://www.ruanyifeng.com/blog/other.xml"])
    assert len(set(ids.values())) == len(ids)
    assert not any(re.fullmatch(r"feed(-\d+)?", i) for i in ids.values())
    # the same file gives the same ids
    path = tmp_path / "again.opml"
    path.write_text(OPML, encoding="utf-8")
    assert {s.urls[0]: s.id for s in import_opml(path, [])[0]} == ids


def test_ids_do_not_collide_with_the_registry(imported, tmp_path):
    new, _ = imported
    path = tmp_path / "f.opml"
    path.write_text(OPML.replace("https://baohaiphong.vn/rss/home.rss", "https://baohaiphong.vn/rss/other.rss"),
                    encoding="utf-8")
    again, notes = import_opml(path, new)
    assert [s.urls[0] for s in again] == ["https://baohaiphong.vn/rss/other.rss"]
    assert again[0].id.startswith("bao-hai-phong-") and again[0].id not in {s.id for s in new}


REGISTRY = """# Header comment: must survive.
sources:
  # ---- a group comment ----
  - id: one
    name: One
    kind: rss
    urls: ["https://one.example/rss"]   # unverified path
    country: VN
    enabled: true
    verified: false
    note: "guessed"
  - id: two
    name: Two
    kind: listing
    urls: ["https://two.example/"]
    enabled: false   # dead since 2025
"""


def test_save_keeps_comments_order_and_values(tmp_path, imported):
    path = tmp_path / "sources.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    existing = load_sources(path)
    new, _ = imported
    save_sources(existing + new, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(REGISTRY)  # untouched sources keep their lines byte for byte
    reloaded = load_sources(path)
    assert reloaded == existing + new
    assert "Báo Hải Phòng" in text  # written as UTF-8, not escaped


def test_save_rewrites_only_what_changed(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    one, two = load_sources(path)
    changed = one.model_copy(update={"enabled": False})
    save_sources([changed], path)
    text = path.read_text(encoding="utf-8")
    assert "# Header comment: must survive." in text and "# ---- a group comment ----" in text
    assert "# unverified path" in text
    assert "id: two" not in text
    assert load_sources(path) == [changed]


def test_save_to_a_new_file(tmp_path):
    path = tmp_path / "new.yaml"
    sources = [Source(id="a", name="Á", kind="rss", urls=("https://a.example/rss",), timezone="Asia/Shanghai")]
    save_sources(sources, path)
    assert load_sources(path) == sources


@pytest.mark.skipif(not SHARED_OPML.is_dir(), reason="../shared/benchmarks/formats/opml not present")
@pytest.mark.parametrize("name", sorted(p.name for p in SHARED_OPML.glob("*.opml")) if SHARED_OPML.is_dir() else [])
def test_real_exports_lose_no_outline(name):
    path = SHARED_OPML / name
    leaves = [o for o in ET.parse(path).iter("outline") if len(o) == 0]
    new, notes = import_opml(path, [])
    skipped = [n for n in notes if n.startswith("skipped")]
    assert len(new) + len(skipped) == len(leaves)
    ids = [s.id for s in new]
    assert len(ids) == len(set(ids))
    assert not any(re.fullmatch(r"feed(-\d+)?", i) for i in ids)
    feed_outlines = [o for o in leaves if any(k.lower() in ("xmlurl", "feedurl") for k in o.attrib)]
    assert len(new) + sum("already registered" in n or "http(s)" in n for n in skipped) >= len(feed_outlines)


def test_import_into_the_shipped_registry_keeps_every_byte(tmp_path, imported):
    path = tmp_path / "sources.yaml"
    original = (REPO / "config" / "sources.yaml").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    existing = load_sources(path)
    new, _ = imported
    save_sources(existing + new, path)
    assert path.read_text(encoding="utf-8").startswith(original)  # `country: null`, comments, quotes kept
    assert load_sources(path) == existing + new
    assert all(s.note.startswith("imported from f.opml on ") and not s.verified for s in new)
