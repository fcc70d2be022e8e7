"""The negative set: ordinary coverage in 15 languages (sport and celebrations, routine
elections and congresses, shipping routes, courtesy port calls, weather) that mentions the
East Sea, streets, congresses or churches only in passing. It must stay unflagged, out of the
national watch and out of the rebuttal queue. Written for this test (data/negative_set.jsonl),
never used for training.

Today 142 of the 150 stay unflagged; the eight that do not (weather and shipping on the South
China Sea in ru/uk/id/fr, fans "taking to the streets" in en/ru, a cathedral in vi) are listed
in the closing note of issue 18. The floors below pin that, so the set can only get cleaner."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.classifiers.test_watch_scope import city, context_models, detector, pipeline  # noqa: F401

SET = Path(__file__).parent / "data" / "negative_set.jsonl"
ITEMS = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
MIN_UNFLAGGED = 0.94
MAX_QUEUED = 0.04


@pytest.fixture(scope="module")
def outputs(pipeline):  # noqa: F811
    return {i["id"]: pipeline.analyze_input({"id": i["id"], "title": i["title"], "text": i["text"]}, i["id"])
            for i in ITEMS}


def test_the_set_covers_every_kind_in_fifteen_languages():
    assert len({i["lang"] for i in ITEMS}) >= 15
    kinds = Counter(i["kind"] for i in ITEMS)
    assert set(kinds) >= {"sport", "celebration", "election", "shipping", "port_call", "weather"}


def test_ordinary_coverage_stays_unflagged(outputs):
    flagged = {k: o["sensitive"]["themes"] for k, o in outputs.items() if o["sensitive"]["themes"]}
    assert 1 - len(flagged) / len(outputs) >= MIN_UNFLAGGED, flagged


def test_ordinary_coverage_is_neither_watch_coverage_nor_queued(outputs):
    watch = [k for k, o in outputs.items() if o["scope"] == "watch"]
    assert len(watch) / len(outputs) <= 1 - MIN_UNFLAGGED, watch
    queued = [k for k, o in outputs.items() if o["risk"]["queued"]]
    assert len(queued) / len(outputs) <= MAX_QUEUED, queued


def test_routine_elections_and_congresses_are_never_flagged(outputs):
    elections = [i["id"] for i in ITEMS if i["kind"] == "election"]
    assert elections and not [k for k in elections if outputs[k]["sensitive"]["themes"]]
