"""`make demo`: the whole main job offline, against the bundled test news site on 127.0.0.1.

Copies tests/fixtures/site into the demo data directory with its dates moved to the last day (the
newest article of the site is dated within the last 24 hours, the others keep their distance from
it), serves the copy, writes a source registry for it, runs `hpmon init`, `hpmon crawl` and a few
searches, then stops the site; the digest, the alerts and the trends then show this week's data.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.fixture_sources import FAST_CRAWL_ENV, write_sources  # noqa: E402
from tests.fixtures.newsite import SITE_DIR, NewsSite  # noqa: E402

TEXT_SUFFIXES = {".html", ".rss", ".atom", ".xml", ".json", ".txt", ".yaml"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# the dates the site's pages write (pages in legacy encodings too: the patterns are ASCII digits):
# 2026-11-20 (metadata, sitemaps, JSON-LD), Fri, 20 Nov 2026 (feeds, headers), 20/11/2026
# (Vietnamese pages), 2026年11月20日 and 2026년 11월 20일 (UTF-8 Chinese, Japanese, Korean pages).
# Article URLs (/2026/11/20/, 20261120-) are left as they are: they are the files' names.
_ISO = re.compile(rb"(?<![\d/])(\d{4})-(\d{2})-(\d{2})(?!\d)")
_RFC822 = re.compile(rb"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) (" + "|".join(MONTHS).encode() + rb") (\d{4})\b")
_DMY = re.compile(rb"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_CJK = re.compile("(\\d{4})年(\\d{1,2})月(\\d{1,2})日".encode())
_KO = re.compile("(\\d{4})년 (\\d{1,2})월 (\\d{1,2})일".encode())


def _moved(y: bytes, m: bytes, d: bytes, shift: timedelta) -> date | None:
    try:
        return date(int(y), int(m), int(d)) + shift
    except ValueError:  # not a date (or past year 9999)
        return None


def shift_dates(data: bytes, shift: timedelta) -> bytes:
    """``data`` with every date in the site's formats moved by ``shift`` (whole days; weekday
    names of feed dates rewritten to match)."""
    def iso(m: re.Match) -> bytes:
        day = _moved(m[1], m[2], m[3], shift)
        return day.isoformat().encode() if day else m[0]

    def rfc822(m: re.Match) -> bytes:
        day = _moved(m[3], str(MONTHS.index(m[2].decode()) + 1).encode(), m[1], shift)
        return f"{DAYS[day.weekday()]}, {day.day:02d} {MONTHS[day.month - 1]} {day.year}".encode() if day else m[0]

    def dmy(m: re.Match) -> bytes:
        day = _moved(m[3], m[2], m[1], shift)
        width = len(m[1])
        return f"{day.day:0{width}d}/{day.month:0{len(m[2])}d}/{day.year}".encode() if day else m[0]

    def cjk(m: re.Match) -> bytes:
        day = _moved(m[1], m[2], m[3], shift)
        return f"{day.year}年{day.month:0{len(m[2])}d}月{day.day:0{len(m[3])}d}日".encode() if day else m[0]

    def ko(m: re.Match) -> bytes:
        day = _moved(m[1], m[2], m[3], shift)
        return f"{day.year}년 {day.month}월 {day.day}일".encode() if day else m[0]

    for pattern, fix in ((_ISO, iso), (_RFC822, rfc822), (_DMY, dmy), (_CJK, cjk), (_KO, ko)):
        data = pattern.sub(fix, data)
    return data


def site_shift(articles: list[dict], now: datetime) -> timedelta:
    """Whole days that bring the site's newest article to within the 24 hours before ``now`` (never
    after it: no article is dated in the future)."""
    newest = max(datetime.fromisoformat(a["published"]) for a in articles if a.get("published"))
    return timedelta(days=(now - newest) // timedelta(days=1))


def dated_site(target: Path, now: datetime) -> tuple[Path, timedelta]:
    """A copy of the fixture site in ``target`` with its dates moved to the days before ``now``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(SITE_DIR, target)
    shift = site_shift(json.loads((SITE_DIR / "_articles.json").read_text(encoding="utf-8")), now)
    for path in target.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            path.write_bytes(shift_dates(path.read_bytes(), shift))
    return target, shift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default=str(REPO / "demo-data"), help="demo data directory (reset each run)")
    parser.add_argument("--keep", action="store_true", help="keep the previous demo data (shows an incremental crawl)")
    args = parser.parse_args()
    home = Path(args.home).resolve()
    if home.exists() and not args.keep:
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    hpmon = [sys.executable, "-m", "hpmon"]
    root, shift = dated_site(home / "site", datetime.now(UTC))
    with NewsSite(port=0, root=root) as site:
        print(f"Local test news site serving on {site.base_url} (its dates moved {shift.days} days to this week)")
        sources = write_sources(site.base_url, home / "sources.yaml")
        env = {**os.environ, **FAST_CRAWL_ENV, "HPMON_HOME": str(home), "HPMON_SOURCES_FILE": str(sources)}
        steps = [
            ["init"],
            ["crawl"],
            ["search", "hai phong", "--limit", "5", "--facets"],
            ["search", "海防 OR ハイフォン OR 하이퐁 OR Хайфон", "--limit", "5"],
            ["search", '"cang lach huyen" OR "Lach Huyen"', "--limit", "3"],
            ["stories", "--top", "5"],
            ["cases", "list"],
        ]
        for step in steps:
            print(f"\n$ hpmon {' '.join(step)}", flush=True)
            result = subprocess.run(hpmon + step, env=env, cwd=REPO)
            if result.returncode != 0:
                return result.returncode
    env_line = f"HPMON_HOME={shlex.quote(str(home))} HPMON_SOURCES_FILE={shlex.quote(str(sources))}"
    exe = REPO / ".venv" / "bin" / "hpmon"
    command = shlex.quote(str(exe)) if exe.exists() else "hpmon"
    print(f"\nDemo data is in {home}. Paste to try it (the same data directory and sources file):")
    print(f"  {env_line} {command} search \"do son\"")
    print(f"  {env_line} {command} users add admin --role admin")
    print(f"  {env_line} {command} serve")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
