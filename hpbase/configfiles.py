"""The one reader of each configuration file more than one package reads.

``config/risk.yaml`` is read by the sensitive-theme detector (section ``sensitive``), the risk
score and the rebuttal queue (section ``risk``) and the alert rules (the named thresholds a rule
may use as ``min_risk``); ``config/topics.yaml`` by the web app, the alert e-mails, the digests,
the search thesaurus and the CLI. Each file is parsed here only, into a frozen dataclass whose
defaults are the defaults; a caller decides only what a *missing or broken* file means to it
(an alert still goes out with label keys; a digest refuses a broken taxonomy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml


class ConfigFileError(ValueError):
    """A configuration file that exists but cannot be read or is not valid YAML."""


def _read_mapping(path: Path) -> dict[str, Any] | None:
    """The top-level mapping of ``path``; None when the file is missing; ``{}`` when it holds
    no mapping. Raises ConfigFileError when it cannot be read or parsed."""
    if not path.is_file():
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigFileError(f"{path}: {exc}") from exc
    return raw if isinstance(raw, dict) else {}


# ---------------------------------------------------------------------------- risk.yaml


def _weight(value: Any) -> float:
    w = float(value)
    if not 0.0 <= w < 1.0:
        raise ValueError(f"risk weight {w} is not in [0, 1)")
    return w


@dataclass(frozen=True)
class RiskConfig:
    """The weights of ``config/risk.yaml`` → ``risk`` (see that file for what each means).
    The defaults here are the defaults of every reader of the file."""

    queue_threshold: float = 0.30
    medium: float = 0.30
    high: float = 0.55
    theme_weights: dict[str, dict[int, float]] = field(default_factory=dict)
    rebuttal_factor: float = 0.6
    theme_floors: dict[str, float] = field(default_factory=dict)
    negative_sentiment: float = 0.25
    negative_sentiment_min_probability: float = 0.5
    outlet_profiles: dict[str, float] = field(default_factory=dict)
    divergence_weight: float = 0.40
    divergence_min: float = 0.30
    fact_conflict: float = 0.35
    fact_conflicts_max: int = 3

    @classmethod
    def from_config(cls, config_dir: Path) -> RiskConfig:
        """The ``risk`` section of ``config_dir/risk.yaml`` (defaults when absent)."""
        return RiskFile.read(Path(config_dir) / "risk.yaml").risk_config()

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> RiskConfig:
        """The config of a ``risk`` section (a mapping as in the file). Raises ValueError on an
        unknown key or a weight outside [0, 1)."""
        raw = dict(section)
        levels = raw.pop("levels", {}) or {}
        themes = {
            str(theme): {int(k): _weight(v) for k, v in (by_sev or {}).items()}
            for theme, by_sev in (raw.pop("theme_weights", {}) or {}).items()
        }
        known = {f for f in cls.__dataclass_fields__ if f not in ("medium", "high", "theme_weights")}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"config/risk.yaml risk: unknown keys {sorted(unknown)}")
        kwargs: dict[str, Any] = {k: v for k, v in raw.items() if k in known}
        for key in ("theme_floors", "outlet_profiles"):
            kwargs[key] = {str(k): _weight(v) for k, v in (kwargs.get(key) or {}).items()}
        return cls(
            medium=float(levels.get("medium", cls.medium)),
            high=float(levels.get("high", cls.high)),
            theme_weights=themes,
            **kwargs,
        )

    def thresholds(self) -> dict[str, float]:
        """The named thresholds an alert rule may use as ``min_risk`` -- the very numbers the
        rebuttal queue and the risk bands use."""
        return {"queue_threshold": float(self.queue_threshold), "medium": float(self.medium),
                "high": float(self.high)}


@dataclass(frozen=True)
class RiskFile:
    """``config/risk.yaml``: its ``sensitive`` and ``risk`` sections as written (empty when the
    file or a section is absent). ``risk_config()`` types the ``risk`` section."""

    sensitive: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    risk: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def read(cls, path: Path) -> RiskFile:
        """The file at ``path``; empty sections when it does not exist. Raises ConfigFileError
        when it cannot be read or parsed."""
        raw = _read_mapping(Path(path)) or {}
        return cls(sensitive=MappingProxyType(dict(raw.get("sensitive") or {})),
                   risk=MappingProxyType(dict(raw.get("risk") or {})))

    def risk_config(self) -> RiskConfig:
        return RiskConfig.from_section(self.risk)


# ---------------------------------------------------------------------------- topics.yaml


@dataclass(frozen=True)
class TaxonomyLabel:
    """One label of the taxonomy: its machine key and its names per language (None when the
    entry gives no ``name`` mapping)."""

    label: str
    name: Mapping[str, str] | None = None


def _labels(items: Any) -> tuple[TaxonomyLabel, ...]:
    out = []
    for item in items or []:
        if isinstance(item, dict) and item.get("label"):
            name = item.get("name")
            names = {str(k): str(v) for k, v in name.items()} if isinstance(name, dict) else None
            out.append(TaxonomyLabel(str(item["label"]), MappingProxyType(names) if names is not None else None))
    return tuple(out)


@dataclass(frozen=True)
class TopicsFile:
    """``config/topics.yaml``: the topics, sentiments and sensitive themes, in file order."""

    topics: tuple[TaxonomyLabel, ...] = ()
    sentiments: tuple[TaxonomyLabel, ...] = ()
    themes: tuple[TaxonomyLabel, ...] = ()
    exists: bool = False
    #: Every topic key, also of the short forms only the CLI's label check accepts (``topics:`` a
    #: mapping of labels, or a list with bare label strings).
    topic_keys: frozenset[str] = frozenset()

    @classmethod
    def read(cls, path: Path) -> TopicsFile:
        """The taxonomy at ``path``; an empty one (``exists`` false) when there is no such file.
        Raises ConfigFileError when it cannot be read or parsed."""
        raw = _read_mapping(Path(path))
        if raw is None:
            return cls()
        topics = raw.get("topics")
        if isinstance(topics, dict):
            keys = frozenset(str(k) for k in topics)
            topics = None
        else:
            keys = frozenset(str(t["label"]) if isinstance(t, dict) else str(t) for t in topics or []
                             if not isinstance(t, dict) or t.get("label"))
        return cls(topics=_labels(topics), sentiments=_labels(raw.get("sentiments")),
                   themes=_labels(raw.get("sensitive_themes")), exists=True, topic_keys=keys)


# ----------------------------------------------------------------------------- facts.yaml


@dataclass(frozen=True)
class QuantityInfo:
    """One quantity of ``config/facts.yaml`` as the people who enter figures see it: its key,
    names per language, canonical unit, whether it is an annual flow (its references have a
    ``period``), and how many of the file's references are official and how many placeholders."""

    name: str
    labels: Mapping[str, str]
    unit: str
    annual: bool
    official: int
    placeholders: int

    def label_in(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.name


@dataclass(frozen=True)
class FactsFile:
    """``config/facts.yaml``: the parsed mapping (``raw``, which the fact checker reads whole)
    and its quantities (``quantities``, in file order). A reference is official only with
    ``official: true`` and a non-empty ``source``."""

    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    quantities: tuple[QuantityInfo, ...] = ()

    @classmethod
    def read(cls, path: Path) -> FactsFile:
        """The file at ``path``; an empty one when it does not exist. Raises ConfigFileError
        when it cannot be read or parsed."""
        raw = _read_mapping(Path(path)) or {}
        quantities = []
        for name, q in (raw.get("quantities") or {}).items():
            if not isinstance(q, dict):
                continue
            label = q.get("label")
            labels = {str(k): str(v) for k, v in label.items()} if isinstance(label, dict) else \
                ({"en": str(label)} if label else {})
            refs = [r for r in q.get("references") or () if isinstance(r, dict)]
            official = sum(1 for r in refs if r.get("official") is True and str(r.get("source") or "").strip())
            quantities.append(QuantityInfo(str(name), MappingProxyType(labels), str(q.get("unit") or ""),
                                           any(r.get("period") is not None for r in refs), official,
                                           len(refs) - official))
        return cls(raw=MappingProxyType(raw), quantities=tuple(quantities))

    def quantity(self, name: str) -> QuantityInfo | None:
        return next((q for q in self.quantities if q.name == name), None)
