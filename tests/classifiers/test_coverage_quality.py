"""Quality gate on real coverage: ``hpmon analyze`` on the labelled real excerpts of
``../shared/benchmarks/coverage`` (never trained on), with floors below today's figures so a
change that makes the product understand real articles worse fails. The targets the office set
(relevance F1 0.98, sensitive R 0.90 / P 0.85, kept 0.90, topic macro-F1 0.70, tone 0.75) are
reported by ``make bench`` (bench/results/coverage.md)."""

from __future__ import annotations

import pytest

from bench.common import data_dir

COVERAGE = data_dir("coverage")

FLOORS = {  # measured 2026-12-04 (bench/results/coverage.md): 0.961 0.962 0.956 0.922 0.965 0.945 0.905 0.738 0.698
    ("relevance", "f1"): 0.95,
    ("kept", "recall"): 0.95,
    ("sensitive_kept_share",): 0.92,
    ("watch", "recall"): 0.88,
    ("watch", "precision"): 0.93,
    ("sensitive", "recall"): 0.90,
    ("sensitive", "precision"): 0.90,
    ("topic_macro_f1",): 0.70,
    ("tone_accuracy",): 0.69,
    ("language_accuracy",): 0.97,
}


@pytest.fixture(scope="module")
def measured():
    if not COVERAGE.is_dir():
        pytest.skip(f"no real coverage data at {COVERAGE}")
    from bench.coverage_bench import run

    return run(COVERAGE)


@pytest.mark.parametrize("path", list(FLOORS), ids=lambda p: ".".join(p))
def test_understanding_of_real_coverage_stays_above_its_floor(measured, path):
    value = measured["hpmon"]
    for key in path:
        value = value[key]
    assert value is not None and value >= FLOORS[path], f"{'.'.join(path)} = {value}"


def test_the_product_beats_the_naive_baseline_on_real_coverage(measured):
    ours, naive = measured["hpmon"], measured["baseline"]
    assert ours["sensitive_kept_share"] > naive["sensitive_kept_share"]
    assert ours["tone_accuracy"] > naive["tone_accuracy"]
    assert ours["sensitive"]["f1"] > naive["sensitive"]["f1"]
