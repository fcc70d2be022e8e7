"""The whole path, as a user runs it: ``hpmon ingest`` over a batch of hostile WARC and HTML files
(tests/fuzz/hostile.py) in one run. Every file is processed or named with its reason; the run
ends with its summary table and an honest exit code (0, or 3 when an input failed), never a
traceback."""

from __future__ import annotations

import random
import re

import pytest

from tests.conftest import make_hpmon
from tests.fuzz import hostile
from tests.fuzz.conftest import CASES, SEED, case_seed

pytestmark = pytest.mark.slow


def test_ingest_of_hostile_files_names_each_failure_and_exits_honestly(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    count = max(4, CASES // 10)
    files = []
    for i in range(count):
        rng = random.Random(case_seed(i, SEED + 1))
        if i % 2:
            path = inputs / f"case-{i}.warc.gz"
            path.write_bytes(hostile.warc(rng).data)
        else:
            path = inputs / f"case-{i}.html"
            path.write_bytes(hostile.page(rng)[0])
        files.append(path)
    home = tmp_path / "home"
    home.mkdir()
    done = make_hpmon(home).run("ingest", *map(str, files), check=False, timeout=1200)
    out = done.stdout + done.stderr
    assert done.returncode in (0, 3), out[-3000:]
    assert "Traceback" not in out, out[-5000:]
    assert "Ingest" in done.stdout  # the summary table
    failed = re.findall(r"(\d+) inputs? failed", done.stderr)
    assert (done.returncode == 3) == bool(failed), out[-3000:]
    print(f"hpmon ingest over {count} hostile files: exit {done.returncode}, "
          f"{failed[0] if failed else 0} inputs failed")
