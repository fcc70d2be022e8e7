"""Models trained once per test session on the real seed corpus (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.corpus import Example, load_seed
from classifiers.lexicon import Lexicons
from classifiers.models import TrainedModels, train

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "classifiers" / "data"
CONFIG = REPO / "config"


@pytest.fixture(scope="session")
def lexicons() -> Lexicons:
    return Lexicons.load(CONFIG)


@pytest.fixture(scope="session")
def seed_examples() -> list[Example]:
    return load_seed(DATA)


@pytest.fixture(scope="session")
def test_examples() -> list[Example]:
    return load_seed(DATA, "test-*.jsonl")


@pytest.fixture(scope="session")
def models(seed_examples, lexicons) -> TrainedModels:
    return train(seed_examples, lexicons=lexicons)


@pytest.fixture(scope="session")
def verified_facts_dir(tmp_path_factory) -> Path:
    """A config folder whose reference facts an analyst has marked official (the shipped figures
    are placeholders, ``official: false``, and are never compared with articles)."""
    folder = tmp_path_factory.mktemp("verified-config")
    text = (CONFIG / "facts.yaml").read_text(encoding="utf-8")
    assert "official: false" in text
    (folder / "facts.yaml").write_text(text.replace("official: false", "official: true"), encoding="utf-8")
    return folder
