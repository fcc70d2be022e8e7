"""Feed reading robustness on saved real-world RSS/Atom files (12 publishers, several encodings).

Every file of the data folder goes through ``crawlers.feeds.read_feed`` exactly as fetched bytes
would (no content type). Reported per file: entries found vs the count the data README states,
error/warning with reason, entries without a date or title, and titles that look mis-decoded
(U+FFFD or UTF-8-read-as-Latin-1 sequences such as "Ã©").

    .venv/bin/python -m bench.feeds_bench
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from bench.common import base_parser, data_dir, md_table, skip, write_report

NAME = "feeds"
TITLE = "Feed reading (real-world RSS/Atom samples)"
XML_TYPE = "application/rss+xml"
_MOJIBAKE = re.compile("\ufffd|Ã[\u0080-\u00bf]|Â[\u0080-\u00bf]|Ð[\u0080-\u00bf]|Ñ[\u0080-\u00bf]|ï¿½")


def expected_counts(readme: Path) -> dict[str, int]:
    """File name → item count, from the README's table (| file | source | publisher | format | items | ...)."""
    counts: dict[str, int] = {}
    if not readme.exists():
        return counts
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[4].isdigit():
            counts[cells[0]] = int(cells[4])
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    folder = args.data or data_dir("feeds")
    files = sorted(p for p in folder.glob("*") if p.is_file() and p.name != "README.md") if folder.is_dir() else []
    if not files:
        skip(NAME, TITLE, f"data folder {folder} absent or empty", args.results)
    from crawlers.feeds import read_feed

    expected = expected_counts(folder / "README.md")
    rows, results = [], []
    total_found = total_expected = 0
    start = time.perf_counter()
    for path in files:
        body = path.read_bytes()
        t = time.perf_counter()
        try:
            reading = read_feed(body, url=f"https://feeds.example/{path.name}")
            crash = None
        except Exception as exc:  # a bug in hpmon: reported, the run goes on
            reading, crash = None, f"{type(exc).__name__}: {exc}"
        ms = 1000 * (time.perf_counter() - t)
        # Second reading as a server would label it: separates real malformation from the
        # "no content type" note feedparser adds when headers are passed without one.
        try:
            typed = read_feed(body, url=f"https://feeds.example/{path.name}", content_type=XML_TYPE)
            typed_status = typed.error or ("warning" if typed.warning else "ok")
            typed_reason = (typed.detail if typed.error else typed.warning) or ""
            typed_found = len(typed.entries)
        except Exception as exc:
            typed_status, typed_reason, typed_found = "crash", f"{type(exc).__name__}: {exc}", 0
        found = len(reading.entries) if reading else 0
        exp = expected.get(path.name)
        titles = [e.hints.title or "" for e in reading.entries] if reading else []
        summaries = [e.hints.summary or "" for e in reading.entries] if reading else []
        bad_titles = [t for t in titles if _MOJIBAKE.search(t)]
        bad_summaries = sum(1 for s in summaries if _MOJIBAKE.search(s))
        undated = sum(1 for e in reading.entries if e.hints.published is None) if reading else 0
        untitled = sum(1 for t in titles if not t)
        total_found += found
        total_expected += exp or 0
        status = "crash" if crash else (reading.error or ("warning" if reading.warning else "ok"))
        reason = crash or (reading.detail if reading.error else reading.warning) or ""
        results.append({
            "file": path.name, "bytes": len(body), "expected": exp, "found": found, "status": status,
            "reason": reason, "undated": undated, "untitled": untitled, "mis_decoded_titles": len(bad_titles),
            "mis_decoded_title_examples": bad_titles[:2], "mis_decoded_summaries": bad_summaries,
            "first_title": titles[0] if titles else None, "feed_title": reading.title if reading else None,
            "first_published": str(reading.entries[0].hints.published) if reading and reading.entries else None,
            "ms": ms, "with_content_type": {"content_type": XML_TYPE, "found": typed_found,
                                            "status": typed_status, "reason": typed_reason},
        })
        rows.append((path.name, exp, found, status, reason[:90], typed_found, typed_status, typed_reason[:110],
                     undated, len(bad_titles), bad_summaries, (titles[0][:50] if titles else "")))
    elapsed = time.perf_counter() - start
    complete = sum(1 for r in results if r["expected"] is not None and r["found"] == r["expected"])
    md = [
        f"{len(files)} files; entries found {total_found} of {total_expected} expected (README); "
        f"{complete} of {len(files)} files complete; {elapsed * 1000:.0f} ms in total.",
        "",
        md_table(["file", "expected", "found (no content type)", "status", "error / warning", "found (XML type)",
                  "status (XML type)", "error / warning (XML type)", "undated", "mis-decoded titles",
                  "mis-decoded summaries", "first title"], rows),
        "",
        f"Each file is read twice: as bytes with no content type (`content_type=None`, the default), and with "
        f"`content_type={XML_TYPE!r}` as a feed server would send. `status`: ok, warning (malformed but entries "
        "recovered), or the error key "
        "(empty_feed, not_a_feed, malformed_feed). `undated` = entries whose date could not be read. "
        "`mis-decoded` = text containing U+FFFD or UTF-8-as-Latin-1 sequences (the ilmessaggero copyright "
        "mojibake is in the source itself).",
    ]
    data = {"title": TITLE, "data": str(folder), "files": results, "found": total_found,
            "expected": total_expected, "complete_files": complete}
    write_report(NAME, data, "\n".join(md), args.results)
    print(f"  {total_found}/{total_expected} entries, {complete}/{len(files)} files complete")


if __name__ == "__main__":
    main()
