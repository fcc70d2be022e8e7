"""Shared fixtures: the local test news site, a data directory, and running ``hpmon``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.fixture_sources import FAST_CRAWL_ENV, load_manifest, write_sources
from tests.fixtures.newsite import NewsSite

REPO = Path(__file__).resolve().parent.parent
HPMON = [sys.executable, "-m", "hpmon"]


@dataclass
class Hpmon:
    """Runs the real ``hpmon`` command in a subprocess against one data directory."""

    home: Path
    env: dict[str, str]

    def run(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 300):
        result = subprocess.run([*HPMON, *args], env=self.env, cwd=REPO, input=input, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"hpmon {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def json(self, *args: str, **kw):
        return json.loads(self.run(*args, "--json", **kw).stdout)


@pytest.fixture(scope="session")
def manifest() -> dict:
    return load_manifest()


@pytest.fixture(scope="module")
def news_site():
    with NewsSite(port=0) as site:
        yield site


def make_hpmon(home: Path, sources_file: Path | None = None, **extra_env: str) -> Hpmon:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPMON_")}
    env.update(FAST_CRAWL_ENV)
    env.update({"HPMON_HOME": str(home), "COLUMNS": "200", "PYTHONPATH": str(REPO)})
    if sources_file:
        env["HPMON_SOURCES_FILE"] = str(sources_file)
    env.update(extra_env)
    return Hpmon(home=home, env=env)


@pytest.fixture(scope="module")
def site_hpmon(news_site, tmp_path_factory) -> Hpmon:
    """hpmon with a fresh data directory whose sources are the local test site."""
    home = tmp_path_factory.mktemp("hpmon-home")
    sources = write_sources(news_site.base_url, home / "sources.yaml")
    return make_hpmon(home, sources)
