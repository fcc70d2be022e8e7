"""Formats report: every file of ``../shared/benchmarks/formats`` through hpmon's own parser for
its kind, with what was read (items, dates, notes, errors) and whether anything was lost or misread.

- ``feeds/``: ``crawlers.feeds.read_feed`` as a feed server labelling it ``text/xml`` without a
  charset would send it (the case that used to fail), in the zone a source of the outlet's
  country has (``Source.effective_timezone``);
- ``sitemaps/``: ``crawlers.sitemaps.read_sitemap``;
- ``opml/``: ``crawlers.sources.import_opml`` into an empty registry;
- ``constructed/`` (GDELT answers, marked as constructed in the data README): ``crawlers.gdelt.read_artlist``.

A file is **lost** when its parser crashed, failed, or read fewer items than the data README
states (OPML: an outline neither imported nor dropped with a reason); **misread** when something
read is wrong: mis-decoded text (U+FFFD, UTF-8 read as Latin-1), an item without the date its
element carries, a date outside 1995..now+2 days, a URL with white space, an OPML id that is a
``feed-N`` placeholder or shared, a GDELT title with a stray backslash.

    .venv/bin/python -m bench.formats_report [--data DIR] [--results DIR]
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import base_parser, data_dir, md_table, skip, write_report

NAME = "formats"
TITLE = "Formats report (real feeds, sitemaps, OPML exports; constructed GDELT answers)"
_MOJIBAKE = re.compile("\ufffd|Ã[\u0080-\u00bf]|Â[\u0080-\u00bf]|Ð[\u0080-\u00bf]|Ñ[\u0080-\u00bf]|ï¿½|è®")
_EXPECTED = re.compile(r"(\d[\d,]*)\s+(items|URLs|feeds|feed outlines|children)\b")
_DATE_ELEMENTS = re.compile(rb"<(?:\w+:)?(?:pubDate|published|updated|lastmod|publication_date|dc:date)\b")

# The country of each feed's outlet, as its source entry in config/sources.yaml would say (the
# data README names the publisher): it gives the zone of zone-less dates.
OUTLET_COUNTRY = {
    "vanpho93__vnexpress-tin-moi-nhat-2017-07-26.rss": "VN",
    "rss-parser__qq-news-gb2312.xml": "CN",
    "netnewswire__livemint.xml": "IN",
    "netnewswire__aktuality.rss": "SK",
    "node-feedparser__illegally-nested.xml": "US",
}


def expected_counts(readme: Path) -> dict[str, int]:
    """File name → item count the README's tables state ("25 items", "522 feeds", "5 children")."""
    counts: dict[str, int] = {}
    if not readme.exists():
        return counts
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0] or cells[0] in ("file", "---"):
            continue
        match = _EXPECTED.search(" ".join(cells[1:]))
        if match:
            counts[cells[0]] = int(match.group(1).replace(",", ""))
    return counts


def _plausible(when: datetime | None, now: datetime) -> bool:
    return when is None or datetime(1995, 1, 1, tzinfo=UTC) <= when <= now + timedelta(days=2)


def _feed(path: Path, now: datetime) -> dict:
    from crawlers.feeds import read_feed
    from crawlers.sources import country_timezone

    body = path.read_bytes()
    zone = country_timezone(OUTLET_COUNTRY.get(path.name))
    reading = read_feed(body, url=f"https://feeds.example/{path.name}", content_type="text/xml", timezone=zone)
    dates = [e.hints.published for e in reading.entries if e.hints.published]
    texts = [e.hints.title or "" for e in reading.entries] + [reading.title or ""]
    problems = []
    if bad := [t for t in texts if _MOJIBAKE.search(t)]:
        problems.append(f"{len(bad)} mis-decoded title(s): {bad[0][:40]!r}")
    with_date_elements = len(_DATE_ELEMENTS.findall(body))
    if len(dates) < min(len(reading.entries), with_date_elements):
        problems.append(f"{len(reading.entries) - len(dates)} entries without a date")
    if bad := [d for d in dates if not _plausible(d, now)]:
        problems.append(f"{len(bad)} implausible date(s): {bad[0]}")
    if bad := [e.link for e in reading.entries if re.search(r"\s", e.link)]:
        problems.append(f"{len(bad)} link(s) with white space")
    return {"items": len(reading.entries), "dated": len(dates), "first": min(dates, default=None),
            "last": max(dates, default=None), "error": reading.error and f"{reading.error}: {reading.detail}",
            "warning": reading.warning, "notes": reading.notes, "misread": problems,
            "read_as": f"{reading.encoding}; zone-less dates in {zone or 'UTC'}"}


def _sitemap(path: Path, now: datetime) -> dict:
    from crawlers.sitemaps import read_sitemap

    reading = read_sitemap(path.read_bytes())
    dates = [h.published for _, h in reading.pages if h.published]
    problems = []
    if bad := [u for u, _ in reading.pages + [(c, None) for c in reading.children] if re.search(r"\s", u)]:
        problems.append(f"{len(bad)} URL(s) with white space")
    if bad := [d for d in dates if not _plausible(d, now)]:
        problems.append(f"{len(bad)} implausible date(s): {bad[0]}")
    if bad := [h.title for _, h in reading.pages if h.title and _MOJIBAKE.search(h.title)]:
        problems.append(f"{len(bad)} mis-decoded title(s)")
    return {"items": len(reading.pages) + len(reading.children), "dated": len(dates),
            "first": min(dates, default=None), "last": max(dates, default=None),
            "error": reading.error and f"{reading.error}: {reading.detail}", "warning": None, "notes": [],
            "misread": problems,
            "read_as": f"{len(reading.pages)} pages, {len(reading.children)} child sitemaps"}


def _opml(path: Path, now: datetime) -> dict:
    from crawlers.sources import import_opml

    leaves = [o for o in ET.parse(path).iter("outline") if len(o) == 0]
    new, notes = import_opml(path, [])
    skipped = [n for n in notes if n.startswith("skipped")]
    duplicates = [n for n in skipped if "already registered" in n]
    ids = [s.id for s in new]
    problems = []
    if len(ids) != len(set(ids)):
        problems.append(f"{len(ids) - len(set(ids))} shared id(s)")
    if bad := [i for i in ids if re.fullmatch(r"feed(-\d+)?", i)]:
        problems.append(f"{len(bad)} placeholder id(s) ({bad[0]})")
    unaccounted = len(leaves) - len(new) - len(skipped)
    return {"items": len(new) + len(duplicates), "dated": None, "first": None, "last": None,
            "error": f"{unaccounted} outline(s) dropped without a note" if unaccounted else None,
            "warning": None, "notes": [n for n in notes if n not in duplicates], "misread": problems,
            "read_as": f"{len(new)} imported, {len(duplicates)} repeated in the file, "
                       f"{len(skipped) - len(duplicates)} dropped with a reason"}


def _gdelt(path: Path, now: datetime) -> dict:
    from crawlers.gdelt import read_artlist

    body = path.read_bytes()
    reading = read_artlist(body)
    dates = [h.published for _, h in reading.articles if h.published]
    problems = []
    if bad := [h.title for _, h in reading.articles if h.title and ("\\" in h.title or _MOJIBAKE.search(h.title))]:
        problems.append(f"{len(bad)} title(s) with escapes left: {bad[0][:40]!r}")
    expected_error = not body.strip().startswith((b"{", b"["))
    error = reading.error and f"{reading.error}: {reading.detail}"
    return {"items": len(reading.articles), "dated": len(dates), "first": min(dates, default=None),
            "last": max(dates, default=None), "error": None if expected_error and reading.error else error,
            "warning": None, "notes": reading.notes + ([f"answer read as {error}"] if expected_error and error else []),
            "misread": problems + (["a plain-text answer was not reported as an error"]
                                   if expected_error and not reading.error else []),
            "read_as": "GDELT artlist", "expected_override": body.count(b'"url"')}


PARSERS = {"feeds": _feed, "sitemaps": _sitemap, "opml": _opml, "constructed": _gdelt}


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    root = args.data or data_dir("formats")
    if not root.is_dir():
        skip(NAME, TITLE, f"data folder {root} absent", args.results)
    expected = expected_counts(root / "README.md")
    now = datetime.now(UTC)
    results, rows = [], []
    start = time.perf_counter()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        read = PARSERS.get(folder.name)
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            t = time.perf_counter()
            if read is None:
                result = {"items": 0, "error": f"no parser for folder {folder.name}/", "misread": [], "notes": []}
            else:
                try:
                    result = read(path, now)
                except Exception as exc:  # a bug in hpmon: reported, the report goes on
                    result = {"items": 0, "error": f"crash: {type(exc).__name__}: {exc}"[:300], "misread": [],
                              "notes": []}
            exp = result.pop("expected_override", None) if folder.name == "constructed" else expected.get(path.name)
            lost = bool(result.get("error")) or (exp is not None and result["items"] < exp)
            result.update({"file": f"{folder.name}/{path.name}", "expected": exp, "lost": lost,
                           "misread_any": bool(result.get("misread")), "ms": 1000 * (time.perf_counter() - t)})
            results.append(result)
            dates = (f"{result['dated']} dated, {result['first']:%Y-%m-%d %H:%M}Z … {result['last']:%Y-%m-%d %H:%M}Z"
                     if result.get("first") else ("—" if result.get("dated") is None else f"{result['dated']} dated"))
            warning = [result["warning"]] if result.get("warning") else []
            remarks = "; ".join([*(result.get("misread") or []), *warning, *(result.get("notes") or [])[:3]])
            verdict = ("LOST" if lost else "MISREAD" if result["misread_any"]
                       else "warned" if result.get("warning") else "ok")
            rows.append((result["file"], exp if exp is not None else "", result["items"], dates,
                         result.get("read_as", ""), result.get("error") or "", verdict, remarks[:200]))
    elapsed = time.perf_counter() - start
    lost = sum(r["lost"] for r in results)
    misread = sum(r["misread_any"] and not r["lost"] for r in results)
    warned = sum(bool(r.get("warning")) for r in results)
    md = [
        f"{len(results)} files; **{lost} lost, {misread} misread**; {warned} read with a warning (which the "
        f"crawler records as a source failure); {elapsed * 1000:.0f} ms in total.",
        "",
        md_table(["file", "expected (README)", "read", "dates", "read as", "error", "verdict", "remarks"], rows),
        "",
        "Feeds are read as a `text/xml` answer without charset, in the zone of the outlet's country; "
        "`read` counts entries, sitemap pages + child sitemaps, OPML feeds imported + repeated outlines, "
        "GDELT articles. `remarks`: what was misread, then the parser's notes (repairs, drops with reasons).",
    ]
    write_report(NAME, {"title": TITLE, "data": str(root), "files": results, "lost": lost, "misread": misread,
                                   "warned": warned},
                 "\n".join(md), args.results)
    print(f"  {len(results)} files: {lost} lost, {misread} misread, {warned} warned")


if __name__ == "__main__":
    main()
