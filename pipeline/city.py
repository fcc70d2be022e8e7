"""The city profile (``config/cities/<id>.yaml``): the gazetteer that says what is about the city.

The code knows no city: names in every language, places with their validity dates (the
map changes: on 1 July 2025 Hải Dương merged into Hải Phòng), ambiguous names that need
context, and known confusions all come from the profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from classifiers.terms import TermMatcher, make_term


class ProfileError(ValueError):
    """The city profile is invalid; the message says where."""


@dataclass(frozen=True)
class Entry:
    """One gazetteer term and what it means."""

    term: str
    kind: str  # "name" for the city itself, else the place kind (island, district, port...)
    weight: float = 1.0
    langs: tuple[str, ...] = ()
    ambiguous: bool = False
    context: tuple[str, ...] = ()
    window: int = 30
    valid_from: date | None = None
    valid_until: date | None = None
    match: str | None = None  # word | prefix | substring; None = by script

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Confusion:
    terms: frozenset[str]
    preceded_by: TermMatcher | None
    followed_by: TermMatcher | None
    reason: str


@dataclass(frozen=True)
class Watch:
    """The national themes followed even where the city is not named (the profile's ``watch``).

    An article is watch coverage when one of ``themes`` is flagged on it in context (the
    sensitive stage decides that) and the country is a party: named (``country_names``, in
    any language), implied by a feature only it claims among the flagged terms (a sovereignty
    term of severity ``claimed_severity`` or more: Hoàng Sa, the Spratlys...), or the article is
    in one of ``home_languages`` (Vietnamese press writes about Vietnam)."""

    themes: tuple[str, ...] = ()
    country_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    claimed_severity: int = 3
    home_languages: tuple[str, ...] = ()
    search_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per language, for search sources
    matcher: TermMatcher | None = None

    def names_country(self, text: str) -> bool:
        return bool(self.matcher and self.matcher.find(text))


@dataclass
class CityProfile:
    id: str
    country: str
    timezone: str
    display_name: dict[str, str]
    threshold: float
    entries: list[Entry]
    confusions: list[Confusion] = field(default_factory=list)
    watch: Watch = field(default_factory=Watch)
    matcher: TermMatcher = field(init=False)

    def __post_init__(self) -> None:
        self.matcher = TermMatcher(make_term(e.term, e.match, e) for e in self.entries)

    def names_for(self, lang: str | None) -> list[str]:
        """The city's own names usable in a search for ``lang`` (unambiguous ones first)."""
        names = [e for e in self.entries if e.kind == "name" and (not lang or not e.langs or lang in e.langs)]
        names.sort(key=lambda e: e.ambiguous)
        seen: list[str] = []
        for e in names:
            if e.term not in seen:
                seen.append(e.term)
        return seen


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _date(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ProfileError(f"{where}: bad date {value!r}") from exc


def _watch(raw: Any, where: str) -> Watch:
    if raw is None:
        return Watch()
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: watch must be a mapping")
    names = raw.get("country_names") or {}
    if not isinstance(names, dict):
        raise ProfileError(f"{where}: watch.country_names must map languages to names")
    by_lang: dict[str, tuple[str, ...]] = {}
    terms = []
    for lang, items in names.items():
        found = []
        for item in _as_list(items):
            term, mode = (item.get("term"), item.get("match")) if isinstance(item, dict) else (item, None)
            if not term or mode not in (None, "word", "prefix", "substring"):
                raise ProfileError(f"{where}: watch.country_names.{lang}: bad entry {item!r}")
            found.append(str(term))
            terms.append(make_term(str(term), mode))
        by_lang[str(lang)] = tuple(found)
    return Watch(themes=tuple(str(t) for t in _as_list(raw.get("themes"))), country_names=by_lang,
                 claimed_severity=int(raw.get("claimed_severity", 3)),
                 home_languages=tuple(str(x) for x in _as_list(raw.get("home_languages"))),
                 search_terms={str(lang): tuple(str(t) for t in _as_list(terms))
                               for lang, terms in (raw.get("search_terms") or {}).items()},
                 matcher=TermMatcher(terms) if terms else None)


def boundary_names(profile: CityProfile) -> list[str]:
    """Proper names a lexicon term must not straddle in unspaced scripts: the city's names and
    places and the country's names (南海 inside 越南海防 is neither the sea nor a hit)."""
    names = {e.term for e in profile.entries}
    names.update(n for items in profile.watch.country_names.values() for n in items)
    return sorted(names)


def load_profile(path: str | Path) -> CityProfile:
    """Read and validate a city profile YAML file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: not a mapping")
    entries: list[Entry] = []
    for section, default_kind in (("names", "name"), ("places", "place")):
        for i, item in enumerate(raw.get(section) or []):
            where = f"{path.name}: {section}[{i}]"
            if isinstance(item, str):
                item = {"term": item}
            if not isinstance(item, dict) or not item.get("term"):
                raise ProfileError(f"{where}: needs a 'term'")
            weight = float(item.get("weight", 1.0))
            if not 0 < weight <= 1:
                raise ProfileError(f"{where}: weight must be in (0, 1]")
            kind = "name" if section == "names" else str(item.get("kind", default_kind))
            entry = Entry(
                term=str(item["term"]),
                kind=kind,
                weight=weight,
                langs=tuple(_as_list(item.get("lang"))),
                ambiguous=bool(item.get("ambiguous", False)),
                context=tuple(str(c) for c in _as_list(item.get("context"))),
                window=int(item.get("window", 30)),
                valid_from=_date(item.get("valid_from"), where),
                valid_until=_date(item.get("valid_until"), where),
                match=item.get("match"),
            )
            if entry.match not in (None, "word", "prefix", "substring"):
                raise ProfileError(f"{where}: match must be word, prefix or substring")
            entries.append(entry)
    if not entries:
        raise ProfileError(f"{path}: no names or places")
    confusions = []
    for i, item in enumerate(raw.get("confusions") or []):
        where = f"{path.name}: confusions[{i}]"
        if not isinstance(item, dict) or not item.get("terms"):
            raise ProfileError(f"{where}: needs 'terms'")
        before = [make_term(str(t)) for t in _as_list(item.get("preceded_by"))]
        after = [make_term(str(t)) for t in _as_list(item.get("followed_by"))]
        confusions.append(
            Confusion(
                terms=frozenset(str(t) for t in _as_list(item["terms"])),
                preceded_by=TermMatcher(before) if before else None,
                followed_by=TermMatcher(after) if after else None,
                reason=str(item.get("reason", "known confusion")),
            )
        )
    return CityProfile(
        watch=_watch(raw.get("watch"), path.name),
        id=str(raw.get("id", path.stem)),
        country=str(raw.get("country", "")).upper(),
        timezone=str(raw.get("timezone", "UTC")),
        display_name=dict(raw.get("display_name") or {}),
        threshold=float(raw.get("threshold", 0.5)),
        entries=entries,
        confusions=confusions,
    )
