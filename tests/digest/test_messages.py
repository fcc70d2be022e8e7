"""The message catalogues: every string the templates and code ask for exists in Vietnamese and English."""

from __future__ import annotations

import re
from pathlib import Path

from alerts.digest.i18n import LANGUAGES, load_messages
from alerts.digest.profiles import BREAKDOWNS, METRICS, PURPOSES, SECTIONS

DIGEST = Path(__file__).resolve().parents[2] / "alerts" / "digest"


def used_keys() -> set[str]:
    """Literal keys passed to t()/tr() in the templates and the digest's code, plus the computed ones."""
    keys: set[str] = set()
    for path in [*DIGEST.glob("templates/*.j2"), *DIGEST.glob("*.py")]:
        keys |= set(re.findall(r"""\bt(?:r)?\(\s*["']([a-z_]+(?:\.[a-z_]+)+|[a-z_]+)["']""", path.read_text()))
    keys |= {f"metric.{m}" for m in METRICS} | {f"purpose.{p}" for p in PURPOSES}
    keys |= {f"section.{s}" for s in SECTIONS}
    keys |= {f"breakdown.{b}" for b in BREAKDOWNS} | {f"breakdown.{b}.column" for b in BREAKDOWNS}
    keys |= {"flag.other", "risk.other", "case.unknown"}
    keys |= {f"chart.{c}" for c in ("volume_scope", "volume_sentiment", "topics", "countries", "languages")}
    return keys


def test_every_used_message_exists_in_both_languages():
    keys = used_keys()
    assert len(keys) > 60  # the scan found the templates' keys
    for lang in LANGUAGES:
        missing = sorted(keys - set(load_messages(lang)))
        assert not missing, f"{lang}: {missing}"


def test_both_catalogues_have_the_same_keys_apart_from_singular_forms():
    vi, en = set(load_messages("vi")), set(load_messages("en"))
    assert {k for k in en - vi if not k.endswith(".one")} == set()
    assert vi - en == set()
