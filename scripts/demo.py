"""`make demo`: the whole main job offline, against the bundled test news site on 127.0.0.1.

Serves tests/fixtures/site, writes a source registry for it into the demo data directory,
runs `hpmon init`, `hpmon crawl` and a few searches, then stops the site.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.fixture_sources import FAST_CRAWL_ENV, write_sources  # noqa: E402
from tests.fixtures.newsite import NewsSite  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default=str(REPO / "demo-data"), help="demo data directory (reset each run)")
    parser.add_argument("--keep", action="store_true", help="keep the previous demo data (shows an incremental crawl)")
    args = parser.parse_args()
    home = Path(args.home)
    if home.exists() and not args.keep:
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    hpmon = [sys.executable, "-m", "hpmon"]
    with NewsSite(port=0) as site:
        print(f"Local test news site serving on {site.base_url}")
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
    print(f"\nDemo data is in {home}. Try: HPMON_HOME={home} .venv/bin/hpmon search \"do son\"")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
