"""Search by meaning: the other names of what a query names, and the labels it names.

Built from configuration (the city profile, the label taxonomy and the lexicons), used by the query
parser (``index.query.parse_query``), so both engines expand a query the same way:

- an **entity** with several names (the city: ``Hải Phòng``, ``Haiphong``, ``Haïphong``, ``海防``,
  ``ハイフォン``...; the country: ``Việt Nam``, ``Vietnam``, ``越南``..., the first of each language of
  the profile's ``watch.country_names``) is found by any of them;
- a **label** (a topic or a sensitive theme) is named by its key, its vi/en name (or one part of it:
  "Du lịch, văn hóa, thể thao" has three) or one of its lexicon terms: a query naming it also
  matches the articles carrying the label, ranked below the articles that contain the words;
- the **vocabulary** of all those names and terms splits a run of Vietnamese syllables into words
  (longest match first): ``hải phòng đồ sơn`` is two words, ``da nang`` stays one.

Matching is on the folded form (``index.text.fold``): case and diacritics do not matter.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from hpbase.configfiles import ConfigFileError, TopicsFile
from hpbase.text import fold
from index.text import WORD

log = logging.getLogger(__name__)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser reads the lexicons 10x faster
Label = tuple[str, str]
# labels that name nothing in particular: a query for "khác" / "other" is not a request for them
_CATCH_ALL_LABELS = frozenset({"other"})
_NAME_PART_SEPARATORS = (",", ";", " và ", " and ", " & ", "/")


def key(text: str) -> str:
    """The form phrases are compared in: folded words separated by one space."""
    return " ".join(WORD.findall(fold(unicodedata.normalize("NFC", text))))


class Thesaurus:
    """Names of entities, names and terms of labels, and the vocabulary they make."""

    def __init__(self) -> None:
        self._groups: list[list[tuple[str, bool]]] = []  # each entity: (name, matched as a prefix)
        self._group_of: dict[str, list[int]] = {}
        self._labels: dict[str, list[Label]] = {}
        self._vocabulary: set[str] = set()
        self._longest = 1

    # -- building --------------------------------------------------------------------------

    def add_entity(self, names: Iterable[tuple[str, bool] | str]) -> None:
        """One entity and all its names (``(name, prefix)``; ``prefix``: its last word may continue)."""
        group: list[tuple[str, bool]] = []
        seen: set[tuple[str, bool]] = set()
        for item in names:
            name, prefix = (item, False) if isinstance(item, str) else item
            k = key(name)
            if not k or (k, prefix) in seen:
                continue
            seen.add((k, prefix))
            group.append((name, prefix))
        if len(group) < 2:
            return
        index = len(self._groups)
        self._groups.append(group)
        for name, _ in group:
            self._group_of.setdefault(key(name), []).append(index)
        self.add_words(name for name, _ in group)

    def add_label(self, facet: str, value: str, terms: Iterable[str]) -> None:
        """Terms that name the label ``value`` of ``facet`` (``topic``, ``theme``)."""
        if value in _CATCH_ALL_LABELS:
            return
        for term in [value.replace("_", " "), *terms]:
            k = key(term)
            if k and (facet, value) not in self._labels.setdefault(k, []):
                self._labels[k].append((facet, value))
            self.add_words([term])

    def add_words(self, terms: Iterable[str]) -> None:
        """Known words (names, terms) used to split a run of Vietnamese syllables."""
        for term in terms:
            k = key(term)
            if " " in k:
                self._vocabulary.add(k)
                self._longest = max(self._longest, k.count(" ") + 1)

    # -- reading ---------------------------------------------------------------------------

    def lookup(self, phrase: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Label, ...]]:
        """(other names, other names matched as a prefix, labels) of what ``phrase`` names."""
        k = key(phrase)
        names: list[str] = []
        prefixes: list[str] = []
        for index in self._group_of.get(k, []):
            for name, prefix in self._groups[index]:
                target = prefixes if prefix else names
                # a prefix name is kept even when it is the user's word: the stem may continue
                if (prefix or key(name) != k) and name not in target:
                    target.append(name)
        return tuple(names), tuple(prefixes), tuple(self._labels.get(k, ()))

    def segment(self, words: list[str]) -> list[str]:
        """A run of Vietnamese syllables grouped into phrases: the longest known word at each
        position; the syllables between known words stay together as one phrase."""
        keys = [key(w) for w in words]
        out: list[str] = []
        pending: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 1, -1):
                if " ".join(keys[i:i + n]) in self._vocabulary:
                    if pending:
                        out.append(" ".join(pending))
                        pending = []
                    out.append(" ".join(words[i:i + n]))
                    i += n
                    break
            else:
                pending.append(words[i])
                i += 1
        if pending:
            out.append(" ".join(pending))
        return out

    def __len__(self) -> int:
        return len(self._groups) + len(self._labels)

    # -- from configuration -------------------------------------------------------------------

    @classmethod
    def from_config(cls, *, city: Path | None = None, taxonomy: Path | None = None,
                    lexicons: Iterable[tuple[str, Path]] = ()) -> Thesaurus:
        """The thesaurus of the city profile (``city``: its names and the country's names are
        entities, its places are vocabulary), the label names of ``taxonomy`` (config/topics.yaml)
        and lexicons (``("topic", config/lexicons/topics.yaml)``, ``("theme", .../sensitive.yaml)``).
        A missing or unreadable file is logged and left out: search still works on the text."""
        thesaurus = cls()
        if city is not None and (raw := _read(city)) is not None:
            thesaurus._add_city(raw)
        if taxonomy is not None and (labels := _read_taxonomy(taxonomy)) is not None:
            for entries, facet in ((labels.topics, "topic"), (labels.themes, "theme")):
                for item in entries:
                    names = list((item.name or {}).values())
                    thesaurus.add_label(facet, item.label, [*names, *_name_parts(names)])
        for facet, path in lexicons:
            raw = _read(path)
            if raw is None:
                continue
            labels = raw.get("themes") or raw.get("topics") or {}
            for label, by_lang in labels.items():
                if isinstance(by_lang, dict):
                    thesaurus.add_label(facet, str(label), [t for items in by_lang.values() for t, _ in
                                                            _terms(items)])
        return thesaurus

    @classmethod
    def of_installation(cls, config_dir: Path, city: Path) -> Thesaurus:
        """The thesaurus of an installation's configuration folder and city profile (the label names
        in topics.yaml, the lexicons in lexicons/), read again when one of the files changes."""
        config_dir = Path(config_dir)
        files = (Path(city), config_dir / "topics.yaml", config_dir / "lexicons" / "topics.yaml",
                 config_dir / "lexicons" / "sensitive.yaml")
        stamp = tuple(f.stat().st_mtime_ns if f.is_file() else 0 for f in files)
        return _installation(files, stamp)

    def _add_city(self, raw: dict[str, Any]) -> None:
        names = [*_terms(raw.get("names")), *((str(v), False) for v in (raw.get("display_name") or {}).values())]
        self.add_entity(names)
        watch = raw.get("watch") or {}
        # the first name of each language is the country's name; the others (its capital, adjectives)
        # tell the watch stage that the country is a party, but are not names of it: "hà nội" must
        # not find every article about Vietnam
        country = [terms[0] for items in (watch.get("country_names") or {}).values() if (terms := _terms(items))]
        self.add_entity(country)
        self.add_words(t for items in (watch.get("country_names") or {}).values() for t, _ in _terms(items))
        self.add_words(t for t, _ in _terms(raw.get("places")))
        # places written in several languages: entries sharing an `entity` key are one entity
        # (e.g. `entity: cat_ba` on "Cát Bà", "吉婆", "カットバ島" and "깟바")
        entities: dict[str, list[tuple[str, bool]]] = {}
        for item in raw.get("places") or []:
            if isinstance(item, dict) and item.get("term") and item.get("entity"):
                entities.setdefault(str(item["entity"]), []).append((str(item["term"]), item.get("match") == "prefix"))
        for names in entities.values():
            self.add_entity(names)


@lru_cache(maxsize=4)
def _installation(files: tuple[Path, Path, Path, Path], stamp: tuple[int, ...]) -> Thesaurus:
    city, taxonomy, topics, sensitive = files
    return Thesaurus.from_config(city=city, taxonomy=taxonomy, lexicons=[("topic", topics), ("theme", sensitive)])


def _read_taxonomy(path: Path) -> TopicsFile | None:
    try:
        taxonomy = TopicsFile.read(Path(path))
    except ConfigFileError as exc:
        log.warning("search thesaurus: %s left out (%s)", path, exc)
        return None
    if not taxonomy.exists:
        log.warning("search thesaurus: %s left out (no such file)", path)
        return None
    return taxonomy


def _read(path: Path) -> dict[str, Any] | None:
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        log.warning("search thesaurus: %s left out (%s)", path, exc)
        return None
    return raw if isinstance(raw, dict) else None


def _terms(items: Any) -> list[tuple[str, bool]]:
    """(term, matched as a prefix) of a config list whose items are strings or {term, match}."""
    out: list[tuple[str, bool]] = []
    for item in items or []:
        if isinstance(item, dict) and item.get("term"):
            out.append((str(item["term"]), item.get("match") == "prefix"))
        elif isinstance(item, str):
            out.append((item, False))
    return out


def _name_parts(names: list[str]) -> list[str]:
    """The parts of label names ("Du lịch, văn hóa, thể thao" -> "Du lịch", "văn hóa", "thể thao")."""
    parts: list[str] = []
    for name in names:
        pieces = [name]
        for sep in _NAME_PART_SEPARATORS:
            pieces = [p for piece in pieces for p in piece.split(sep)]
        parts.extend(p.strip() for p in pieces if p.strip() and p.strip() != name)
    return parts
