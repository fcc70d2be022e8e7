"""Figures in an article that contradict the office's reference facts (``config/facts.yaml``).

A conflict is a figure about one of the listed quantities (population, area, FDI attracted,
port throughput, GRDP growth...) found next to one of its keywords in the same sentence, in any
supported language and number format (1,234.5 · 1.234,5 · 1 234 · "4,6 triệu" · "460万" ·
"4.6 million" · "4,6 млн" · "46억"), converted to the quantity's unit, and further from the
reference that applies than the reference's tolerance. Each conflict carries the article's
span, its figure, the reference figure and the reference's source, so the rebuttal team can
answer with the official number.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from classifiers.terms import TermMatcher, make_term, normalize
from hpbase import scripts
from hpbase.configfiles import FactsFile

#: Languages that write 1.234,5 (comma decimal); the others write 1,234.5.
COMMA_DECIMAL = frozenset({"vi", "fr", "ru", "de", "es", "it", "pt", "id"})
#: Languages that may group thousands with spaces (1 234 567).
SPACE_GROUPS = frozenset({"fr", "ru"})

_SCALES: list[tuple[str, float]] = sorted(
    [
        ("nghìn", 1e3), ("ngàn", 1e3), ("triệu", 1e6), ("tỷ", 1e9), ("tỉ", 1e9),
        ("thousand", 1e3), ("million", 1e6), ("millions", 1e6), ("mln", 1e6), ("mn", 1e6), ("m", 1e6),
        ("billion", 1e9), ("billions", 1e9), ("bn", 1e9), ("b", 1e9),
        ("mille", 1e3), ("milliers", 1e3), ("milliard", 1e9), ("milliards", 1e9), ("md", 1e9), ("mds", 1e9),
        ("тыс", 1e3), ("тысяч", 1e3), ("тысячи", 1e3), ("млн", 1e6), ("миллион", 1e6), ("миллиона", 1e6),
        ("миллионов", 1e6), ("млрд", 1e9), ("миллиард", 1e9), ("миллиарда", 1e9), ("миллиардов", 1e9),
        ("百万", 1e6), ("千万", 1e7), ("万", 1e4), ("萬", 1e4), ("亿", 1e8), ("億", 1e8), ("千", 1e3),
        ("백만", 1e6), ("천만", 1e7), ("만", 1e4), ("억", 1e8), ("천", 1e3),
    ],
    key=lambda x: -len(x[0]),
)
_UNITS: list[tuple[str, str]] = sorted(
    [
        # persons
        ("người", "persons"), ("dân", "persons"), ("nhân khẩu", "persons"), ("people", "persons"),
        ("persons", "persons"), ("inhabitants", "persons"), ("residents", "persons"), ("habitants", "persons"),
        ("человек", "persons"), ("жителей", "persons"), ("人", "persons"), ("명", "persons"),
        # area
        ("km2", "km2"), ("km²", "km2"), ("km 2", "km2"), ("kilômét vuông", "km2"), ("ki-lô-mét vuông", "km2"),
        ("square kilometres", "km2"), ("square kilometers", "km2"), ("sq km", "km2"), ("км²", "km2"),
        ("км2", "km2"), ("кв. км", "km2"), ("квадратных километров", "km2"), ("平方公里", "km2"),
        ("平方千米", "km2"), ("平方キロ", "km2"), ("㎢", "km2"), ("제곱킬로미터", "km2"),
        # tonnes
        ("tấn", "tonnes"), ("tonnes", "tonnes"), ("tonne", "tonnes"), ("tons", "tonnes"), ("t", "tonnes"),
        ("тонн", "tonnes"), ("тонны", "tonnes"), ("т", "tonnes"), ("吨", "tonnes"), ("噸", "tonnes"),
        ("トン", "tonnes"), ("톤", "tonnes"),
        # containers
        ("teu", "teu"), ("teus", "teu"), ("evp", "teu"), ("дфэ", "teu"), ("标箱", "teu"), ("标准箱", "teu"),
        # money
        ("usd", "usd"), ("đô la mỹ", "usd"), ("đô la", "usd"), ("đô-la", "usd"), ("dollars", "usd"),
        ("dollar", "usd"), ("долларов", "usd"), ("долл", "usd"), ("美元", "usd"), ("ドル", "usd"),
        ("달러", "usd"), ("đồng", "vnd"), ("dong", "vnd"), ("vnd", "vnd"), ("₫", "vnd"),
        ("euros", "eur"), ("euro", "eur"),
        # percent
        ("%", "percent"), ("％", "percent"), ("phần trăm", "percent"), ("percent", "percent"),
        ("per cent", "percent"), ("pour cent", "percent"), ("процента", "percent"), ("процентов", "percent"),
        ("процент", "percent"), ("퍼센트", "percent"),
    ],
    key=lambda x: -len(x[0]),
)
_CURRENCY_BEFORE = re.compile(r"(US\$|USD|\$|€)\s?$", re.IGNORECASE)
_NUMBER_SPACED = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?![\d])")
_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?(?![\d])|(?<![\d.,])\d+(?:[.,]\d+)?(?![\d])")
_YEAR = re.compile(r"^(19[5-9]\d|20\d\d)$")
_SENTENCE = re.compile(r"(?<!\d)[.!?](?=\s|$)|[。！？\n;；]")
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class Figure:
    """A number found in the text, scaled and with the unit it was written with."""

    value: float
    unit: str  # persons, km2, tonnes, teu, usd, percent, vnd, eur, or "none"
    start: int
    end: int
    surface: str
    scaled: bool  # a scale word (million, triệu, 万...) followed it


@dataclass(frozen=True)
class Reference:
    value: float
    source: str
    date: str | None = None
    period: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    official: bool = False  # checked against its cited source; only official figures are compared

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Quantity:
    name: str
    label: str
    unit: str
    units: tuple[str, ...]
    references: tuple[Reference, ...]
    relative: float | None = None
    absolute: float | None = None
    window: int = 60
    needs_subject: bool = False
    labels: tuple[tuple[str, str], ...] = ()  # (language, label) pairs of facts.yaml's label

    def label_in(self, language: str) -> str:
        """The quantity's name in ``language`` (else English, else its key)."""
        labels = dict(self.labels)
        return labels.get(language) or labels.get("en") or self.label or self.name

    @property
    def annual(self) -> bool:
        return any(r.period is not None for r in self.references)

    def within(self, value: float, ref: Reference) -> bool:
        if self.absolute is not None and abs(value - ref.value) <= self.absolute:
            return True
        return self.relative is not None and ref.value and abs(value - ref.value) / abs(ref.value) <= self.relative

    def tolerance_text(self) -> str:
        if self.absolute is not None:
            return f"±{self.absolute:g} {self.unit}"
        return f"±{(self.relative or 0) * 100:g}%"


@dataclass(frozen=True)
class FactConflict:
    """A figure in the article that is off from the office's reference by more than tolerated."""

    quantity: str
    label: str
    article_value: float
    unit: str
    surface: str  # the figure as written (with its scale and unit)
    start: int  # text[start:end] == surface (NFC text)
    end: int
    sentence: str  # the sentence it was read from (evidence)
    reference_value: float
    reference_source: str
    reference_date: str | None
    reference_period: int | None
    tolerance: str
    deviation: float  # (article − reference) / reference
    extra: dict[str, Any] = field(default_factory=dict)

    def explain(self) -> str:
        when = f" for {self.reference_period}" if self.reference_period else ""
        return (
            f'{self.label}: article says "{self.surface}" (= {_fmt(self.article_value)} {self.unit}); '
            f"reference{when} {_fmt(self.reference_value)} {self.unit} ({self.reference_source}"
            + (f", {self.reference_date}" if self.reference_date else "")
            + f"); off by {self.deviation:+.0%}, tolerance {self.tolerance}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"


def parse_number(raw: str, language: str | None, scaled: bool = False) -> float | None:
    """The value of a written number, by the language's conventions (None if unreadable).

    ``scaled`` (a scale word follows) makes a lone separator before three digits a decimal
    point when the language is unknown ("4,600 triệu" is rare, "4,6 triệu" common)."""
    s = re.sub(r"[ \u00a0\u202f]", "", raw)
    lang = (language or "").split("-")[0].lower()
    dots, commas = s.count("."), s.count(",")
    try:
        if dots and commas:
            dec = "." if s.rfind(".") > s.rfind(",") else ","
            thou = "," if dec == "." else "."
            return float(s.replace(thou, "").replace(dec, "."))
        if dots + commas == 0:
            return float(s)
        sep = "." if dots else ","
        if dots + commas > 1:
            return float(s.replace(sep, ""))
        after = len(s) - s.index(sep) - 1
        if after != 3:
            return float(s.replace(sep, "."))
        if lang:
            comma_decimal = lang in COMMA_DECIMAL
            is_decimal = (sep == ",") == comma_decimal
        else:
            is_decimal = scaled
        return float(s.replace(sep, ".")) if is_decimal else float(s.replace(sep, ""))
    except ValueError:
        return None


def _read_suffix(text: str, pos: int, table: list[tuple[str, Any]]) -> tuple[Any, int] | None:
    """The entry of ``table`` written at ``text[pos:]`` (after optional spaces), and its end."""
    i = pos
    while i < len(text) and i - pos < 2 and text[i] in " \u00a0\u202f":
        i += 1
    low = text[i : i + 30].casefold()
    for word, value in table:
        if low.startswith(word):
            end = i + len(word)
            # a Latin/Cyrillic word must end there ("m" is not "members")
            if (word[-1].isalpha() and not _cjk(word[-1]) and end < len(text)
                    and _WORD_CHAR.match(text[end]) and not _cjk(text[end])):
                continue
            return value, end
    return None


def _cjk(ch: str) -> bool:
    return scripts.contains(scripts.CJK_FIGURES, ch)


def find_figures(text: str, language: str | None) -> list[Figure]:
    """Every number in ``text`` with its scale word and unit (years are left out)."""
    lang = (language or "").split("-")[0].lower()
    spans: list[tuple[int, int]] = []
    if not lang or lang in SPACE_GROUPS:
        spans = [(m.start(), m.end()) for m in _NUMBER_SPACED.finditer(text)]
    out: list[Figure] = []
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    numbers = spans + [(m.start(), m.end()) for m in _NUMBER.finditer(text) if m.start() not in covered]
    for s, e in sorted(numbers):
        if s > 0 and text[s - 1].isalpha() and not _cjk(text[s - 1]):
            continue  # part of a code or name: "A321", "lô 06-01" is fine, "COVID19" is not a figure
        raw = text[s:e]
        end = e
        scale = 1.0
        got = _read_suffix(text, end, _SCALES)
        # Korean/Chinese compound: 4억6천만 — take the first scale only (good enough to compare)
        if got:
            scale, end = got
        value = parse_number(raw, lang or None, scaled=got is not None)
        if value is None:
            continue
        unit = "none"
        got_unit = _read_suffix(text, end, _UNITS)
        if got_unit:
            unit, end = got_unit
        before = _CURRENCY_BEFORE.search(text[max(0, s - 4) : s])
        start = s
        if before and unit == "none":
            unit = "usd" if before.group(1) != "€" else "eur"
            start = s - len(before.group(0))
        if unit == "none" and scale == 1.0 and _YEAR.match(raw):
            continue  # a year, not a figure
        out.append(Figure(value * scale, unit, start, end, text[start:end], got is not None))
    return out


def _years(sentence: str) -> set[int]:
    return {int(m.group(0)) for m in re.finditer(r"(?<!\d)(?:19[5-9]\d|20\d\d)(?!\d)", sentence)}


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for m in _SENTENCE.finditer(text):
        if m.end() > start:
            spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _to_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class FactChecker:
    """Checks articles against the reference facts; build once with ``from_config``."""

    def __init__(self, quantities: list[Quantity], keywords: dict[str, dict[str, list[str]]],
                 subject_names: list[str], other_places: list[str], partial_cues: list[str],
                 max_chars: int = 200_000, plausible_ratio: float = 10.0) -> None:
        self.plausible_ratio = plausible_ratio
        self.quantities = {q.name: q for q in quantities}
        terms = []
        for qname, by_lang in keywords.items():
            for lang, words in by_lang.items():
                for w in words:
                    mode = "prefix" if lang == "ru" else None
                    terms.append(make_term(w, mode, qname))
        self._keywords = TermMatcher(terms)
        self._subject = TermMatcher(make_term(n, "prefix" if re.search("[А-я]", n) else None) for n in subject_names)
        self._others = TermMatcher(make_term(n) for n in other_places)
        self._partial = [normalize(c).casefold() for c in partial_cues]
        self.max_chars = max_chars

    @classmethod
    def from_config(cls, config_dir: Path) -> FactChecker:
        raw = dict(FactsFile.read(Path(config_dir) / "facts.yaml").raw)
        quantities, keywords = [], {}
        for name, q in (raw.get("quantities") or {}).items():
            label = q.get("label") or {}
            refs = tuple(
                Reference(float(r["value"]), str(r.get("source", "")), str(r["date"]) if r.get("date") else None,
                          int(r["period"]) if r.get("period") is not None else None,
                          _to_date(r.get("valid_from")), _to_date(r.get("valid_until")),
                          official=r.get("official") is True and bool(str(r.get("source", "")).strip()))
                for r in q.get("references") or ()
            )
            tol = q.get("tolerance") or {}
            quantities.append(Quantity(
                name, str(label.get("en") or name) if isinstance(label, dict) else str(label), str(q["unit"]),
                tuple(q.get("units") or (q["unit"],)), refs,
                float(tol["relative"]) if "relative" in tol else None,
                float(tol["absolute"]) if "absolute" in tol else None,
                int(q.get("window", 60)), bool(q.get("needs_subject", False)),
                tuple((str(k), str(v)) for k, v in label.items()) if isinstance(label, dict) else (),
            ))
            keywords[name] = q.get("keywords") or {}
        return cls(quantities, keywords, raw.get("subject_names") or [], raw.get("other_places") or [],
                   raw.get("partial_period_cues") or [], plausible_ratio=float(raw.get("plausible_ratio", 10)))

    def with_references(self, extra: Iterable[tuple[str, Reference]]) -> FactChecker:
        """This checker with more references, e.g. the office's official figures
        (``records.figures``), each as (quantity name, reference), put in front of the file's own
        so that a conflict cites them. A reference for a quantity the file does not define is
        left out (the caller checked the name when it was entered)."""
        added: dict[str, list[Reference]] = {}
        for name, ref in extra:
            if name in self.quantities:
                added.setdefault(name, []).append(ref)
        checker = copy.copy(self)
        checker.quantities = {name: dataclasses.replace(q, references=(*added.get(name, ()), *q.references))
                              for name, q in self.quantities.items()}
        return checker

    def without_official(self) -> list[str]:
        """The quantities with no official reference (only placeholders): never checked."""
        return [name for name, q in self.quantities.items() if not any(r.official for r in q.references)]

    def reference_counts(self) -> tuple[int, int]:
        """(official references, all references): placeholders are the difference."""
        refs = [r for q in self.quantities.values() for r in q.references]
        return sum(r.official for r in refs), len(refs)

    def check_facts(self, text: str, language: str | None, published: date | None = None) -> list[FactConflict]:
        """Conflicts between the article's figures and the reference facts, in text order.

        ``published`` picks the reference that applied then (population before/after the 2025
        merger) and the year of an annual figure whose sentence names none; without it, a
        point-in-time figure conflicts only if it matches no reference, and an annual figure
        needs an explicit year. Never raises on odd text."""
        text = normalize(text or "")[: self.max_chars]
        conflicts: list[FactConflict] = []
        for s0, s1 in _sentences(text):
            sentence = text[s0:s1]
            kws = self._keywords.find(sentence)
            if not kws:
                continue
            figures = find_figures(sentence, language)
            if not figures:
                continue
            mentions_city = bool(self._subject.find(sentence))
            if not mentions_city and self._others.find(sentence):
                continue
            low = sentence.casefold()
            done: set[str] = set()
            for kw in kws:
                q = self.quantities.get(kw.term.data)
                if q is None or q.name in done:
                    continue
                if q.needs_subject and not mentions_city:
                    continue
                fig = self._nearest(figures, kw.start, kw.end, q)
                if fig is None:
                    continue
                done.add(q.name)
                refs = self._candidates(q, sentence, low, fig, published)
                if not refs or any(q.within(fig.value, r) for r in refs):
                    continue
                ref = refs[0]
                if q.absolute is None and ref.value > 0 and fig.value > 0:
                    ratio = fig.value / ref.value
                    if ratio > self.plausible_ratio or ratio < 1 / self.plausible_ratio:
                        continue
                conflicts.append(FactConflict(
                    q.name, q.label, fig.value, q.unit, fig.surface, s0 + fig.start, s0 + fig.end,
                    sentence.strip(), ref.value, ref.source, ref.date, ref.period, q.tolerance_text(),
                    (fig.value - ref.value) / ref.value if ref.value else 0.0,
                ))
        return conflicts

    @staticmethod
    def _nearest(figures: list[Figure], k0: int, k1: int, q: Quantity) -> Figure | None:
        best, best_d = None, None
        for f in figures:
            if f.unit not in q.units:
                continue
            if f.unit == "none" and not f.scaled and f.value < 10_000:
                continue  # "population grew by 2" is not a population figure
            d = f.start - k1 if f.start >= k1 else (k0 - f.end) + 5  # prefer figures after the keyword
            if d < 0 or d > q.window:
                continue
            if best_d is None or d < best_d:
                best, best_d = f, d
        return best

    def _candidates(self, q: Quantity, sentence: str, low: str, fig: Figure,
                    published: date | None) -> list[Reference]:
        if q.annual:
            if any(c in low for c in self._partial):
                return []
            years = _years(sentence) - {int(fig.value)}
            if not years and published is not None:
                years = {published.year, published.year - 1}
            refs = [r for r in q.references if r.official and r.period in years]
            return sorted(refs, key=lambda r: -(r.period or 0))
        if published is not None:
            return [r for r in q.references if r.official and r.applies_on(published)]
        # unknown date: a figure matching any reference is not a conflict; report the latest
        return sorted((r for r in q.references if r.official), key=lambda r: r.valid_from or date.min, reverse=True)


@lru_cache(maxsize=8)
def _checker(config_dir: str) -> FactChecker:
    return FactChecker.from_config(Path(config_dir))


def check_facts(text: str, language: str | None, published: date | None = None, *,
                config_dir: Path = Path("config")) -> list[FactConflict]:
    """Conflicts with ``config_dir/facts.yaml`` (the checker is built once per directory)."""
    return _checker(str(Path(config_dir).resolve())).check_facts(text, language, published)
