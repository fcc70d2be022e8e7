"""Quality gate: titles, authors, publication times and body on real pages (../shared/benchmarks
fundus/ and trafilatura-eval/, read in place; skipped where absent). The floors sit a little
below what bench/metadata_bench.py measured when they were set (docs/extraction.md); the body
must stay at least as good as trafilatura's own on the same pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import DATA_ROOT
from bench.metadata_bench import (
    _decode,
    country_timezone,
    load_fundus,
    load_trafilatura_eval,
    run_hpmon,
    run_trafilatura,
    score_page,
    summarise,
)

FUNDUS = DATA_ROOT / "fundus"
TRAF_EVAL = DATA_ROOT / "trafilatura-eval"

FUNDUS_FLOORS = {"time_60s": 0.97, "day_right": 0.97, "title_exact": 0.85, "authors_exact": 0.84}
TRAF_EVAL_FLOORS = {"title_exact": 0.82, "authors_exact": 0.72, "no_invented_author": 0.69, "day_right": 0.80}


def _measure(pages) -> tuple[dict, dict]:
    ours, theirs = [], []
    for p in pages:
        html = _decode(p.body)
        if html is None:
            continue
        zone = country_timezone(p.country)
        ours.append(score_page(p, run_hpmon(html, p), zone))
        theirs.append(score_page(p, run_trafilatura(html, p), zone))
    return summarise(ours), summarise(theirs)


def _check(folder: Path, loader, floors: dict[str, float]) -> None:
    hp, traf = _measure(loader(folder))
    low = {k: round(hp[k], 3) for k, floor in floors.items() if hp[k] is None or hp[k] < floor}
    assert not low, f"below the floors {floors}: {low}"
    assert hp["body_f1"] >= traf["body_f1"] - 0.002, (hp["body_f1"], traf["body_f1"])


@pytest.mark.skipif(not (FUNDUS / "ground-truth.json").exists(), reason="../shared/benchmarks/fundus absent")
def test_fundus_metadata_floors():
    _check(FUNDUS, load_fundus, FUNDUS_FLOORS)


@pytest.mark.skipif(not (TRAF_EVAL / "evaldata-subset.json").exists(),
                    reason="../shared/benchmarks/trafilatura-eval absent")
def test_trafilatura_eval_metadata_floors():
    _check(TRAF_EVAL, load_trafilatura_eval, TRAF_EVAL_FLOORS)
