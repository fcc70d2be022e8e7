"""Tone is a calibrated three-way decision with neutral handled explicitly (issue 18, item 4)."""

import numpy as np
import pytest

from classifiers.corpus import Example, example_from_dict
from classifiers.models import _tone_outlet_weights, choose_tone_margins, decide_tone

LABELS = ["negative", "neutral", "positive"]
NEG, NEU, POS = range(3)


def test_zero_margins_are_the_plain_argmax():
    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.3, 0.4, 0.3]])
    assert list(decide_tone(p, np.zeros(3))) == [POS, NEG, NEU]


def test_a_positive_margin_keeps_a_borderline_report_neutral_but_not_a_clear_one():
    margins = np.array([0.0, 0.0, 0.10])
    borderline = np.array([0.10, 0.42, 0.48])  # positive only 0.06 above neutral
    clear = np.array([0.05, 0.25, 0.70])
    assert decide_tone(borderline, margins)[0] == NEU
    assert decide_tone(clear, margins)[0] == POS


def test_a_negative_margin_lets_negative_win_below_neutral():
    margins = np.array([-0.10, 0.0, 0.0])
    assert decide_tone(np.array([0.40, 0.45, 0.15]), margins)[0] == NEG
    assert decide_tone(np.array([0.30, 0.55, 0.15]), margins)[0] == NEU


def _overconfident_positive(n=300, seed=0):
    """Out-of-fold probabilities where neutral reports lean a little to positive: gold neutral
    rows have p(positive) just above p(neutral); gold positive rows are clearly positive."""
    rng = np.random.default_rng(seed)
    rows, gold = [], []
    for _ in range(n):
        g = rng.integers(3)
        if g == NEU:
            pos = rng.uniform(0.40, 0.48)
            neu = pos - rng.uniform(0.01, 0.07)
            rows.append([1 - pos - neu, neu, pos])
        elif g == POS:
            pos = rng.uniform(0.65, 0.9)
            rows.append([(1 - pos) / 3, 2 * (1 - pos) / 3, pos])
        else:
            neg = rng.uniform(0.6, 0.9)
            rows.append([neg, (1 - neg) / 2, (1 - neg) / 2])
        gold.append(g)
    return np.array(rows), np.array(gold)


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_margins_chosen_out_of_fold_correct_a_systematic_lean_to_positive(metric):
    p, y = _overconfident_positive()
    margins, score = choose_tone_margins(p, y, LABELS, metric=metric)
    assert margins[NEU] == 0.0
    assert margins[POS] > 0.0  # positive has to beat neutral by a margin now
    before = np.mean(decide_tone(p, np.zeros(3)) == y)
    after = np.mean(decide_tone(p, margins) == y)
    assert after > before + 0.2
    assert score >= after - 1e-9 if metric == "accuracy" else score > 0.9


def test_without_evidence_the_margins_stay_zero():
    rng = np.random.default_rng(1)
    y = rng.integers(3, size=200)
    p = np.full((200, 3), 0.1)
    p[np.arange(200), y] = 0.8  # the argmax is always right: no margin can do better
    margins, _ = choose_tone_margins(p, y, LABELS)
    assert list(margins) == [0.0, 0.0, 0.0]


def test_an_unknown_metric_is_refused():
    p, y = _overconfident_positive(30)
    with pytest.raises(ValueError, match="unknown tone metric"):
        choose_tone_margins(p, y, LABELS, metric="f2")


def _ex(i, outlet, tone):
    return Example(f"x{i}", "en", "t", "text", ["other"], tone, [], outlet)


def test_outlet_balance_lowers_the_tone_an_outlet_mostly_has_and_raises_the_rare_one():
    # state media: 8 positive, 2 neutral; wires: 2 positive, 8 neutral
    data = ([_ex(i, "vn_state", "positive") for i in range(8)] + [_ex(10 + i, "vn_state", "neutral") for i in range(2)]
            + [_ex(20 + i, "wire", "positive") for i in range(2)] + [_ex(30 + i, "wire", "neutral") for i in range(8)]
            + [_ex(40, None, "negative")])
    w = _tone_outlet_weights(data, cap=3.0)
    state_pos, state_neu, wire_pos, wire_neu = w[0], w[8], w[10], w[12]
    assert state_neu > state_pos and wire_pos > wire_neu
    assert state_neu == pytest.approx(wire_pos) and state_pos == pytest.approx(wire_neu)
    assert state_neu / state_pos <= 9.0 + 1e-9  # each factor is capped at 3 either way
    assert np.mean(w[:20]) == pytest.approx(1.0)  # weight is moved, not added
    assert w[20] == 1.0  # no outlet kind: untouched


def test_outlet_kind_is_read_from_the_seed_format():
    ex = example_from_dict({"text": "x", "sentiment": "neutral", "outlet_kind": "wire"}, "a")
    assert ex.outlet_kind == "wire"
    assert example_from_dict({"text": "x"}, "b").outlet_kind is None
    with pytest.raises(ValueError, match="outlet_kind"):
        example_from_dict({"text": "x", "outlet_kind": 3}, "c")


def test_the_trained_model_decides_tone_with_its_out_of_fold_margins_and_says_so(models):
    decision = models.meta["cv"]["tone_decision"]
    assert set(decision["margins"]) == {"negative", "positive"}
    assert decision["oof_accuracy"] >= decision["oof_accuracy_argmax"] - 1e-9
    assert sum(sum(row.values()) for row in decision["oof_confusion"].values()) == models.meta["n_examples"]
    p = models.predict("Haiphong port handles 64 million tonnes in five months",
                       "Seaports in the city handled 64 million tonnes of cargo, up 7% on a year earlier, "
                       "the port authority said.", "en")
    reason = next(r for r in p.reasons if r.kind == "sentiment")
    assert reason.label == p.sentiment[0]
    assert reason.decision.startswith(f"{p.sentiment[0]}: calibrated") and "margins over neutral" in reason.decision
    assert reason.to_dict()["decision"] == reason.decision
