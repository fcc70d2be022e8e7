"""``python -m hpmon.service [--home H] [--sources-file F] job health|digest``: the two jobs the
service runs in a child of its own (the others are ``hpmon`` commands). The service itself is
``hpmon run``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hpmon.logjson import setup_json_logging
from hpmon.service.config import ServiceConfig
from hpmon.service.jobs import run_digest_job, run_health_job
from hpmon.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    """Run one internal job; prints its result as JSON and returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m hpmon.service")
    parser.add_argument("--home", type=Path)
    parser.add_argument("--sources-file", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    job = sub.add_parser("job")
    job.add_argument("name", choices=["health", "digest"])
    args = parser.parse_args(argv)
    settings = load_settings(home=args.home, sources_file=args.sources_file)
    setup_json_logging(settings.log_dir, settings.log_level, stream=sys.stderr, stream_level="WARNING")
    if args.name == "health":
        problems = run_health_job(settings, ServiceConfig.from_settings(settings))
        print(json.dumps(problems, ensure_ascii=False))
        return 0
    print(json.dumps({"sent": run_digest_job(settings)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
