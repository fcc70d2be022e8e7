"""Finding terms (names, places, lexicon entries) in text, in any script, Unicode-correctly.

Rules, the same for every list of terms hpmon matches (city profile, lexicons):

- text and terms are NFC-normalised and compared case-insensitively;
- Vietnamese tone placement does not matter (``hoà`` = ``hòa``, ``thuỷ`` = ``thủy``);
- ``word`` mode (default for alphabetic scripts): whole words; the words of a multi-word term
  may be separated only by spaces or hyphens (or by the punctuation the term itself has, as
  in ``TP. Hải Phòng``). A term written with diacritics matches text with the same letters;
  text written entirely without diacritics (``hai phong``) matches the term's bare form, but
  text with *other* diacritics does not (``Hải Phong``, a person's name, is not ``Hải Phòng``);
- ``prefix`` mode: like ``word`` but the last word may continue (inflection: Хайфон → Хайфоне);
- ``substring`` mode (default for Chinese, Japanese, Korean and Thai): anywhere in the text.

When matches overlap, the leftmost, then the longest, wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from hpbase import scripts
from hpbase.text import strip_marks

MatchMode = Literal["word", "prefix", "substring"]

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_WORD = re.compile(r"[^\W_]+")
_SPACE_GAP = re.compile(r"^[\s\-‐‑–]*$")
_MAX_INFLECTION = 6  # letters a prefix-mode term's last word may grow by


def _is_nonspaced(ch: str) -> bool:
    return scripts.contains(scripts.NONSPACED_OPEN, ch)


@lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """Case- and tone-placement-insensitive key of one word (its letters, then its tone marks)."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    tones = "".join(sorted(c for c in decomposed if c in _TONE_MARKS))
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return base + ("|" + tones if tones else "")


@lru_cache(maxsize=65536)
def bare_key(word: str) -> str:
    """The word without any diacritics (đ → d), case-folded."""
    return strip_marks(word, marks="all")


@lru_cache(maxsize=65536)
def is_bare(word: str) -> bool:
    """True when the word carries no diacritics at all (it may be an unaccented spelling)."""
    return bare_key(word) == word.casefold()


def normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Term:
    """A term to find, with whatever the owner attaches (weight, kind, label, severity...)."""

    text: str
    mode: MatchMode
    data: Any = None
    words: tuple[str, ...] = field(default=(), compare=False)
    gaps: tuple[str, ...] = field(default=(), compare=False)


def make_term(text: str, mode: MatchMode | None = None, data: Any = None) -> Term:
    """A Term; the mode defaults to ``substring`` for non-spaced scripts, else ``word``."""
    text = normalize(text.strip())
    if not text:
        raise ValueError("empty term")
    if mode is None:
        mode = "substring" if any(_is_nonspaced(c) for c in text) else "word"
    if mode == "substring":
        return Term(text, mode, data)
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if not spans:
        raise ValueError(f"term {text!r} has no letters or digits")
    words = tuple(text[s:e] for s, e in spans)
    gaps = tuple(text[spans[i][1] : spans[i + 1][0]].strip() for i in range(len(spans) - 1))
    return Term(text, mode, data, words, gaps)


@dataclass(frozen=True)
class Match:
    term: Term
    start: int
    end: int
    surface: str  # the text as written in the document


def _word_routes(text_word: str, term_word: str, prefix: bool) -> set[str]:
    """How a text word matches a term word: ``exact`` (same letters and tones, case and tone
    placement aside) and/or ``bare`` (the text word has no diacritics and equals the term's
    bare form). A multi-word match must use one route for all its words."""
    routes = set()
    tk, xk = word_key(term_word), word_key(text_word)
    if xk == tk or (prefix and xk.startswith(tk) and len(xk) - len(tk) <= _MAX_INFLECTION):
        routes.add("exact")
    if is_bare(text_word):
        tb, xb = bare_key(term_word), text_word.casefold()
        if xb == tb or (prefix and xb.startswith(tb) and len(xb) - len(tb) <= _MAX_INFLECTION):
            routes.add("bare")
    return routes


class TermMatcher:
    """Finds every occurrence of a fixed list of terms in texts (see module rules)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = list(terms)
        # candidates are looked up by their first word, or first two words (many terms share
        # a first syllable in Vietnamese: "biển Đông", "biển đảo"...)
        self._by_first: dict[str, list[Term]] = {}
        self._by_pair: dict[tuple[str, str], list[Term]] = {}
        self._prefix_by_start: dict[str, list[Term]] = {}
        self._substring: list[Term] = []
        for term in self.terms:
            if term.mode == "substring":
                self._substring.append(term)
            elif term.mode == "prefix" and len(term.words) == 1:
                self._prefix_by_start.setdefault(bare_key(term.words[0])[:3], []).append(term)
            elif len(term.words) >= 2 and not (term.mode == "prefix" and len(term.words) == 2):
                self._by_pair.setdefault((bare_key(term.words[0]), bare_key(term.words[1])), []).append(term)
            else:
                self._by_first.setdefault(bare_key(term.words[0]), []).append(term)

    def find(self, text: str) -> list[Match]:
        """All non-overlapping matches in ``text`` (NFC), leftmost then longest first."""
        text = normalize(text)
        candidates: list[Match] = []
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        bares = [bare_key(text[s:e]) for s, e in words]
        for i, (s, e) in enumerate(words):
            word = text[s:e]
            bare = bares[i]
            pair = self._by_pair.get((bare, bares[i + 1]), ()) if i + 1 < len(words) else ()
            for term in (*self._by_first.get(bare, ()), *pair):
                end = self._match_at(text, words, i, term)
                if end is not None:
                    candidates.append(Match(term, s, end, text[s:end]))
            for term in self._prefix_by_start.get(bare[:3], ()):
                if _word_routes(word, term.words[0], prefix=True):
                    candidates.append(Match(term, s, e, word))
        if self._substring:
            folded = text.casefold() if len(text.casefold()) == len(text) else text
            for term in self._substring:
                needle = term.text.casefold() if folded is not text else term.text
                pos = folded.find(needle)
                while pos != -1:
                    candidates.append(Match(term, pos, pos + len(needle), text[pos : pos + len(needle)]))
                    pos = folded.find(needle, pos + 1)
        candidates.sort(key=lambda m: (m.start, -(m.end - m.start)))
        chosen: list[Match] = []
        last_end = -1
        for m in candidates:
            if m.start >= last_end:
                chosen.append(m)
                last_end = m.end
        return chosen

    @staticmethod
    def _match_at(text: str, words: list[tuple[int, int]], i: int, term: Term) -> int | None:
        n = len(term.words)
        if i + n > len(words):
            return None
        routes = {"exact", "bare"}
        for k in range(n):
            s, e = words[i + k]
            last = k == n - 1
            routes &= _word_routes(text[s:e], term.words[k], prefix=last and term.mode == "prefix")
            if not routes:
                return None
            if k:
                gap = text[words[i + k - 1][1] : s]
                if not (_SPACE_GAP.match(gap) or (term.gaps[k - 1] and gap.strip() == term.gaps[k - 1])):
                    return None
        return words[i + n - 1][1]


def adjacent(text: str, match: Match, others: TermMatcher, side: Literal["before", "after"]) -> Match | None:
    """A match of ``others`` right before (or after) ``match``, separated by spaces at most."""
    if side == "before":
        window_start = max(0, match.start - 40)
        for m in others.find(text[window_start : match.start]):
            if not text[window_start + m.end : match.start].strip():
                return m
        return None
    window = text[match.end : match.end + 40]
    for m in others.find(window):
        if not window[: m.start].strip():
            return m
        break
    return None
