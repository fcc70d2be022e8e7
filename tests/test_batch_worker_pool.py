"""`hpmon ingest FILES...` and `hpmon analyze` through the worker pool (`--workers`): the same
results, in the same order, as processing in the command's own process, and a failed input is
reported with its reason in its place."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.warc import WarcArchive
from pipeline.pool import in_order
from tests.conftest import make_hpmon
from tests.fixtures.fixture_sources import load_manifest
from tests.test_crawl_worker_pool import _labels, _pool_started

pytestmark = pytest.mark.slow

SITE = Path(__file__).resolve().parent / "fixtures" / "site"
BASE = "https://news.example.org"


def _page(path: str) -> bytes:
    return (SITE / path.lstrip("/")).read_text(encoding="utf-8").replace("{{BASE}}", BASE).encode("utf-8")


@pytest.fixture(scope="module")
def trained_models(tmp_path_factory) -> Path:
    """Topic, tone and context models trained once (``hpmon train``), so every label is compared."""
    home = tmp_path_factory.mktemp("trained")
    make_hpmon(home).run("train", "--no-cv")
    return home / "models"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[Path]:
    """The test site's articles: five as HTML files, the rest in a WARC with a binary "page"
    at its end, and a corrupt WARC between them."""
    folder = tmp_path_factory.mktemp("inputs")
    articles = [a["path"] for a in load_manifest()["articles"]]
    files = []
    for n, path in enumerate(articles[:5]):
        file = folder / f"page-{n}.html"
        file.write_bytes(_page(path))
        files.append(file)
    corrupt = folder / "corrupt.warc.gz"
    corrupt.write_bytes(b"\x1f\x8b not really gzip")
    files.append(corrupt)
    archive = WarcArchive(folder / "warc")
    for path in articles[5:]:
        archive.write_response(BASE + path, 200, "OK", [("Content-Type", "text/html; charset=utf-8")], _page(path),
                               datetime(2026, 11, 21, tzinfo=UTC))
    archive.write_response(BASE + "/binary.html", 200, "OK", [("Content-Type", "text/html")],
                           b"\x00\x01\x02" * 300, datetime(2026, 11, 21, tzinfo=UTC))
    archive.close()
    files.append(archive.path)
    return files


def _home(tmp_path: Path, name: str, models: Path) -> Path:
    home = tmp_path / name
    shutil.copytree(models, home / "models")
    return home


def test_ingest_through_the_pool_indexes_what_one_process_does_in_the_same_order(tmp_path, inputs,
                                                                               trained_models):
    alone = make_hpmon(_home(tmp_path, "alone", trained_models))
    pooled = make_hpmon(_home(tmp_path, "pooled", trained_models))
    one = alone.run("ingest", "--workers", "1", *map(str, inputs), check=False)
    two = pooled.run("ingest", "--workers", "2", *map(str, inputs), check=False)
    assert one.returncode == two.returncode == 3  # the corrupt WARC and the binary page failed
    assert "Traceback" not in two.stderr and "resource_tracker" not in two.stderr, two.stderr
    assert _pool_started(pooled.home) == ["worker pool started: 2 processes"]
    assert _pool_started(alone.home) == []
    lines = one.stdout.splitlines()
    assert two.stdout.splitlines() == lines  # every page's outcome, in input order
    said = [line.split()[0] for line in lines if line.split()[:1] in (["indexed"], ["dropped"], ["failed"])]
    assert said[5] == "failed" and "corrupt.warc.gz: unreadable" in one.stdout  # in its place
    assert said[-1] == "failed" and "binary.html: binary" in " ".join(one.stdout.split())
    with_pool, in_process = _labels(pooled.home), _labels(alone.home)
    assert len(in_process) >= 20 and any(labels["topics"] for labels in in_process.values())
    assert with_pool == in_process


def test_analyze_through_the_pool_answers_what_one_process_does_in_the_same_order(tmp_path, trained_models):
    articles = load_manifest()["articles"]
    lines = [json.dumps({"id": f"page-{n}", "html": _page(a["path"]).decode("utf-8"), "url": BASE + a["path"]})
             for n, a in enumerate(articles[:12])]
    lines[3:3] = ["not json", json.dumps({"id": "nothing"}), json.dumps(["a", "list"])]
    lines += [json.dumps({"id": f"text-{n}", "title": a["title"], "text": a["text"], "language": a["language"],
                          "published_at": "2026-11-20"}) for n, a in enumerate(_texts()[:10])]
    lines.append(json.dumps({"id": "bad-date", "text": "Hải Phòng", "published_at": "yesterday"}))
    stdin = "\n".join(lines) + "\n"
    home = _home(tmp_path, "analyze", trained_models)
    hpmon = make_hpmon(home)
    one = hpmon.run("analyze", "--workers", "1", input=stdin).stdout.splitlines()
    two = hpmon.run("analyze", "--workers", "2", input=stdin)
    assert "Traceback" not in two.stderr, two.stderr
    assert _pool_started(home) == ["worker pool started: 2 processes"]
    in_process, with_pool = [json.loads(x) for x in one], [json.loads(x) for x in two.stdout.splitlines()]
    assert len(in_process) == len(lines)
    assert [r["id"] for r in in_process][:5] == ["page-0", "page-1", "page-2", "line-4", "nothing"]
    assert "error" in in_process[3] and "error" in in_process[4] and "error" in in_process[5]
    assert "is not an ISO date" in in_process[-1]["error"]
    assert any(r.get("topics") for r in in_process) and any(r.get("kept") for r in in_process)
    assert with_pool == in_process


def _texts() -> list[dict]:
    return json.loads((SITE / "_articles.json").read_text(encoding="utf-8"))


def test_in_order_keeps_the_order_and_the_window(tmp_path):
    from concurrent.futures import Future

    pulled: list[int] = []

    def submit(n: int):
        if n % 3 == 0:
            return None  # not sent: taken back as it is
        future: Future = Future()
        future.set_result(n * 10)
        return future

    def items():
        for n in range(7):
            pulled.append(n)
            yield n
        raise OSError("the file ends here")

    taken = []
    with pytest.raises(OSError, match="ends here"):
        for n, future in in_order(items(), submit, 2):
            assert len(pulled) - len(taken) <= 2  # never more than the window ahead of the output
            taken.append((n, future.result() if future else None))
    assert taken == [(0, None), (1, 10), (2, 20), (3, None), (4, 40), (5, 50), (6, None)]


def test_in_order_gives_a_submit_that_fails_its_error_in_place():
    def submit(n: int):
        raise RuntimeError(f"no worker for {n}")

    taken = list(in_order([1, 2], submit, 4))
    assert [n for n, _ in taken] == [1, 2]
    assert all("no worker" in str(f.exception()) for _, f in taken)
