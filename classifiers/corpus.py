"""Labelled examples: the seed corpus, analysts' corrections and any file given to ``hpmon eval``.

One reader for every labelled JSONL file. It accepts the seed format (``id, lang, title, text,
topics, sentiment, sensitive``, optionally ``outlet_kind``) and the looser ``hpmon eval`` format (``text``, optional
``title``, ``topics`` or ``topic`` as a string or a list, ``sentiment`` as -1/0/1 or a label).
A bad line is reported with its number and skipped; it never stops the load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SENTIMENTS = ("negative", "neutral", "positive")
_SENTIMENT_ALIASES = {
    "-1": "negative", "0": "neutral", "1": "positive", "+1": "positive",
    "neg": "negative", "neu": "neutral", "pos": "positive",
    "negative": "negative", "neutral": "neutral", "positive": "positive",
}


@dataclass(frozen=True)
class Example:
    """One labelled article (``topics`` most important first; empty when not labelled)."""

    id: str
    lang: str | None
    title: str
    text: str
    topics: list[str] = field(default_factory=list)
    sentiment: str | None = None
    sensitive: list[str] = field(default_factory=list)
    #: the kind of outlet the text imitates (``vn_state``, ``wire``, ...; None when not recorded).
    #: Training uses it only to keep an outlet's register from standing in for tone.
    outlet_kind: str | None = None


@dataclass(frozen=True)
class BadLine:
    """A line that could not be read, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class LoadResult:
    examples: list[Example]
    bad_lines: list[BadLine]


def parse_sentiment(value: Any) -> str | None:
    """The sentiment label for -1/0/1 (numbers or strings) or a label name; None when absent.
    Raises ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"sentiment {value!r} is not -1/0/1 or a label")
    if isinstance(value, int | float):
        if value in (-1, 0, 1):
            return SENTIMENTS[int(value) + 1]
        raise ValueError(f"sentiment {value!r} is not -1/0/1 or a label")
    label = _SENTIMENT_ALIASES.get(str(value).strip().casefold())
    if label is None:
        raise ValueError(f"sentiment {value!r} is not -1/0/1 or a label")
    return label


def _labels(value: Any, name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{name} must be a label or a list of labels")
    return list(dict.fromkeys(v.strip() for v in value))


def example_from_dict(obj: Any, default_id: str) -> Example:
    """An Example from one JSON object; ValueError with a reason when it is not usable."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    text = obj.get("text") or ""
    title = obj.get("title") or ""
    if not isinstance(text, str) or not isinstance(title, str):
        raise ValueError("'text' (and 'title' if present) must be strings")
    if not text.strip() and not title.strip():
        raise ValueError("empty 'text'")
    topics = _labels(obj.get("topics", obj.get("topic")), "topics")
    sentiment = parse_sentiment(obj.get("sentiment"))
    lang = obj.get("lang", obj.get("language"))
    outlet = obj.get("outlet_kind")
    if outlet is not None and not isinstance(outlet, str):
        raise ValueError("'outlet_kind' must be a string")
    return Example(
        id=str(obj.get("id") or default_id),
        lang=str(lang) if lang else None,
        title=title,
        text=text,
        topics=topics,
        sentiment=sentiment,
        sensitive=_labels(obj.get("sensitive"), "sensitive"),
        outlet_kind=outlet.strip() or None if outlet else None,
    )


def load_jsonl(path: Path) -> LoadResult:
    """The examples of a labelled JSONL file, plus the lines that were skipped and why."""
    path = Path(path)
    examples: list[Example] = []
    bad: list[BadLine] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                examples.append(example_from_dict(json.loads(line), f"{path.stem}:{number}"))
            except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
                bad.append(BadLine(str(path), number, str(exc)))
    return LoadResult(examples, bad)


def load_seed(data_dir: Path, pattern: str = "seed-*.jsonl") -> list[Example]:
    """Every example of the seed corpus (``seed-*.jsonl``; ``pattern="test-*.jsonl"`` for the
    held-out part). Raises ValueError if a seed file has a bad line: the seed must be clean."""
    examples: list[Example] = []
    for path in sorted(Path(data_dir).glob(pattern)):
        result = load_jsonl(path)
        if result.bad_lines:
            raise ValueError("; ".join(map(str, result.bad_lines)))
        examples.extend(result.examples)
    return examples


def write_jsonl(examples: list[Example], path: Path) -> None:
    """Write examples in the seed format (used for analysts' corrections)."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps({"id": ex.id, "lang": ex.lang, "title": ex.title, "text": ex.text,
                                 "topics": ex.topics, "sentiment": ex.sentiment, "sensitive": ex.sensitive},
                                ensure_ascii=False) + "\n")
