"""Sensitive themes of an article (sovereignty, religion, ethnicity, democracy, human rights,
hostile framing, contested naming), each raised by lexicon findings an analyst can check.

Terms and their severity come from ``config/lexicons/sensitive.yaml``; the rule that turns
findings into themes, the phrases that show a term means something else, and the rebuttal cues
come from ``config/risk.yaml`` (section ``sensitive``). Every match is a finding, with its exact
span; a theme is raised only when its findings pass the rule (one term of severity ≥ 2, several
weak terms, a weak term in the title, or a weak term in an article whose topic is the theme's
subject), because a weak term such as 南海 is also a district of Foshan.

Spans refer to the NFC-normalised title/text (what :func:`classifiers.terms.normalize` returns);
for text that is already NFC, as crawled text almost always is, that is the input itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from classifiers.terms import Match, Term, TermMatcher, make_term, normalize
from hpbase import scripts
from hpbase.configfiles import RiskFile

THEMES = (
    "sovereignty",
    "contested_naming",
    "hostile_framing",
    "human_rights",
    "democracy",
    "religion",
    "ethnicity",
)
LANGUAGES = ("vi", "en", "zh", "ja", "ko", "ru", "fr", "th", "de", "es", "it", "pt", "id", "ar", "uk", "pl", "he")
_LATIN = frozenset({"vi", "en", "fr", "de", "es", "it", "pt", "id", "pl"})
_NONSPACED = frozenset({"zh", "ja", "ko", "th"})

_HAN = re.compile("[" + scripts.char_class((scripts.CJK_EXT_A_AND_UNIFIED, scripts.CJK_COMPAT)) + "]")
_KANA = re.compile("[" + scripts.char_class((scripts.KANA_BLOCKS, scripts.HALFWIDTH_KANA)) + "]")
_HANGUL = re.compile("[" + scripts.char_class(scripts.HANGUL) + "]")
_CYRILLIC = re.compile("[" + scripts.char_class(scripts.CYRILLIC_BASIC) + "]")
_THAI = re.compile("[" + scripts.char_class(scripts.THAI) + "]")
_ASCII_WORD = re.compile(r"[A-Za-z]{3,}")
_VIETNAMESE = re.compile(
    r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĂÂĐÊÔƠƯẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ]"
)
_UNSPACED = re.compile("[" + scripts.char_class(scripts.UNSPACED_NAMES) + "]")
_SENTENCE_END = re.compile(r"[.!?。！？\n;；]")
# Same-length replacements, so spans found in the folded text are spans of the original.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
_HAS_APOSTROPHE = re.compile("[\u2019\u2018\u02bc\uff07]")
_OPEN_QUOTES = "\"'“‘«「『〈《„‹"
_CLOSE_QUOTES = "\"'”’»」』〉》“›"

Field = Literal["title", "text"]


@dataclass(frozen=True)
class Finding:
    """One lexicon term found in the article: which theme it speaks for, how strongly, where."""

    theme: str
    term: str  # the lexicon entry
    severity: int  # 1..3, from the lexicon
    field: Field
    start: int  # text[start:end] == surface, in the NFC-normalised field
    end: int
    surface: str  # the text as written
    term_language: str  # the lexicon list the term came from
    rebuttal: str | None = None  # the cue ("so-called", "bác bỏ", a quotation mark) when refuted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ThemeEvidence:
    """Why a theme was raised: its strongest severity and the distinct terms behind it."""

    theme: str
    max_severity: int
    terms: tuple[str, ...]
    rule: str  # "severity>=2", "weak terms x3", "weak term in title", "weak term with topic T"
    all_rebuttals: bool
    implied_by: str | None = None  # the theme whose findings raised this one (theme_implies)

    @property
    def strength(self) -> tuple[int, int]:
        return (self.max_severity, len(self.terms))


@dataclass
class SensitiveResult:
    """The article's sensitive themes, strongest first, and every finding (raised or not)."""

    themes: list[str]
    findings: list[Finding]
    evidence: dict[str, ThemeEvidence] = field(default_factory=dict)
    truncated: bool = False
    # candidate themes the context decision cleared (a passing mention), with its probability
    cleared: dict[str, dict[str, Any]] = field(default_factory=dict)

    def findings_for(self, theme: str) -> list[Finding]:
        """The findings behind ``theme`` (for an implied theme, those of the theme implying it)."""
        ev = self.evidence.get(theme)
        source = ev.implied_by if ev is not None and ev.implied_by else theme
        return [f for f in self.findings if f.theme == source]

    def to_dict(self) -> dict[str, Any]:
        return {
            "themes": list(self.themes),
            "findings": [f.to_dict() for f in self.findings],
            "evidence": {t: asdict(e) for t, e in self.evidence.items()},
            "cleared": self.cleared,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class ThemeRule:
    min_severity: int = 2
    min_weak_terms: int = 2
    weak_term_in_title: bool = True
    title_rule_exempt: tuple[str, ...] = ()
    # theme -> article topics with which one weak term of the theme is enough
    weak_term_with_topic: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Entry:
    theme: str
    term: str
    severity: int
    language: str


class SensitiveDetector:
    """Finds sensitive-theme terms in an article and decides its themes (see module doc).

    Build it once (``from_config``); matchers for each combination of languages are built on
    first use and kept, so ``detect`` costs one pass of a prepared matcher per field.
    """

    def __init__(
        self,
        lexicon: dict[str, dict[str, list[dict[str, Any]]]],
        rule: ThemeRule | None = None,
        not_when_inside: dict[str, list[str]] | None = None,
        rebuttal_cues: dict[str, list[str]] | None = None,
        rebuttal_window: int = 60,
        rebuttal_window_cjk: int = 20,
        quotes_count: bool = True,
        max_chars: int = 200_000,
        theme_implies: dict[str, list[str]] | None = None,
        boundary_names: Iterable[str] = (),
    ) -> None:
        self.rule = rule or ThemeRule()
        # proper names a term in an unspaced script must not straddle (南海 in 越南海防)
        unspaced = [n for n in boundary_names if _UNSPACED.search(n)]
        self._boundaries = TermMatcher(make_term(n, "substring") for n in unspaced) if unspaced else None
        self._title_exempt = {normalize(t).casefold() for t in self.rule.title_rule_exempt}
        self.theme_implies = {k: list(v) for k, v in (theme_implies or {}).items()}
        self.max_chars = max_chars
        self.rebuttal_window = rebuttal_window
        self.rebuttal_window_cjk = rebuttal_window_cjk
        self.quotes_count = quotes_count
        self._terms_by_lang: dict[str, list[Term]] = {}
        self._vi_marked: list[Term] = []  # Vietnamese terms written with Vietnamese letters
        self._build_terms(lexicon)
        self._not_inside = {
            normalize(k).casefold(): [normalize(p).translate(_APOSTROPHES).casefold() for p in v]
            for k, v in (not_when_inside or {}).items()
        }
        cues = rebuttal_cues or {}
        self._cues_all = sorted({normalize(c).casefold() for cs in cues.values() for c in cs}, key=len, reverse=True)
        self._matchers: dict[tuple[str, ...], TermMatcher] = {}

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config_dir: Path, boundary_names: Iterable[str] = ()) -> SensitiveDetector:
        """A detector from ``config_dir/lexicons/sensitive.yaml`` and ``config_dir/risk.yaml``;
        ``boundary_names`` are the city profile's names (``pipeline.city.boundary_names``)."""
        config_dir = Path(config_dir)
        lexicon = yaml.safe_load((config_dir / "lexicons" / "sensitive.yaml").read_text(encoding="utf-8"))
        risk_path = config_dir / "risk.yaml"
        section: dict[str, Any] = dict(RiskFile.read(risk_path).sensitive)
        rule_cfg = dict(section.get("theme_rule") or {})
        rule_cfg["title_rule_exempt"] = tuple(rule_cfg.get("title_rule_exempt") or ())
        rule_cfg["weak_term_with_topic"] = {str(theme): tuple(topics or ()) for theme, topics
                                            in (rule_cfg.get("weak_term_with_topic") or {}).items()}
        rule = ThemeRule(**rule_cfg)
        rebuttal = section.get("rebuttal") or {}
        return cls(
            lexicon.get("themes") or {},
            rule=rule,
            not_when_inside=section.get("not_when_inside") or {},
            rebuttal_cues=rebuttal.get("cues") or {},
            rebuttal_window=int(rebuttal.get("window_chars", 60)),
            rebuttal_window_cjk=int(rebuttal.get("window_chars_cjk", 20)),
            quotes_count=bool(rebuttal.get("quotes_count", True)),
            max_chars=int(section.get("max_chars", 200_000)),
            theme_implies=section.get("theme_implies") or {},
            boundary_names=boundary_names,
        )

    def _build_terms(self, lexicon: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
        # One Term per (language, text, mode); a term listed under two themes (Xisha under
        # sovereignty and contested_naming) carries both entries, so both findings share a span.
        grouped: dict[str, dict[tuple[str, str], tuple[str, str | None, list[_Entry]]]] = {}
        for theme, by_lang in lexicon.items():
            for lang, items in (by_lang or {}).items():
                for item in items or ():
                    text = normalize(str(item["term"]).strip()).translate(_APOSTROPHES)
                    mode = item.get("match")
                    entry = _Entry(theme, text, int(item.get("severity", 1)), lang)
                    key = (text.casefold(), mode or "")
                    slot = grouped.setdefault(lang, {}).setdefault(key, (text, mode, []))
                    slot[2].append(entry)
        for lang, slots in grouped.items():
            terms = []
            for text, mode, entries in slots.values():
                terms.append(make_term(text, mode, tuple(_dedupe_entries(entries))))
            self._terms_by_lang[lang] = terms
            if lang == "vi":
                self._vi_marked = [t for t in terms if _VIETNAMESE.search(t.text)]

    def _matcher(self, langs: tuple[str, ...]) -> TermMatcher:
        matcher = self._matchers.get(langs)
        if matcher is None:
            terms: list[Term] = []
            seen: set[tuple[str, str]] = set()
            for lang in langs:
                source = self._vi_marked if lang == "vi+" else self._terms_by_lang.get(lang, [])
                for term in source:
                    key = (term.text.casefold(), term.mode)
                    if key not in seen:  # the first language listed wins (the article's own)
                        seen.add(key)
                        terms.append(term)
            matcher = TermMatcher(terms)
            self._matchers[langs] = matcher
        return matcher

    def languages_for(self, text: str, language: str | None) -> tuple[str, ...]:
        """The lexicon lists to apply, the article's own language first (it wins when two lists
        hold the same term), then those of other scripts found in the text: a Chinese name quoted
        in an English story, an English term in a Chinese one, Vietnamese names with diacritics.
        Unknown language: every list."""
        lang = (language or "").split("-")[0].split("_")[0].lower()
        if lang not in self._terms_by_lang:
            return tuple(sorted(self._terms_by_lang))
        langs = {lang}
        if _KANA.search(text):
            langs.add("ja")
        elif _HAN.search(text) and lang != "ja":
            langs.add("zh")
        if _HANGUL.search(text):
            langs.add("ko")
        if _CYRILLIC.search(text):
            langs.add("ru")
        if _THAI.search(text):
            langs.add("th")
        if lang not in _LATIN and _ASCII_WORD.search(text):
            langs.add("en")
        if lang != "vi" and _VIETNAMESE.search(text):
            langs.add("vi+")
        langs.discard(lang)
        return (lang, *sorted(langs & (set(self._terms_by_lang) | {"vi+"})))

    # -- detection ---------------------------------------------------------------------------

    def detect(self, title: str, text: str, language: str | None,
               topics: Iterable[str] | None = None) -> SensitiveResult:
        """The article's themes (strongest first) and all findings with exact spans. ``topics``
        (the article's topics, from the topic classifier) let one weak term raise a theme whose
        subject the article is about (``theme_rule.weak_term_with_topic``).

        Never raises on odd input: ``None``/empty fields are treated as empty, text beyond
        ``max_chars`` is not scanned (``truncated`` says so)."""
        title = normalize(title or "")
        text = normalize(text or "")
        truncated = False
        if len(title) > self.max_chars:
            title, truncated = title[: self.max_chars], True
        budget = max(0, self.max_chars - len(title))
        if len(text) > budget:
            text, truncated = text[:budget], True
        langs = self.languages_for(title + "\n" + text, language)
        matcher = self._matcher(langs)
        findings: list[Finding] = []
        for field_name, body in (("title", title), ("text", text)):
            if body:
                findings.extend(self._findings(field_name, body, matcher))
        themes, evidence = self._decide(findings, set(topics or ()))
        return SensitiveResult(themes, findings, evidence, truncated)

    def _findings(self, field_name: Field, body: str, matcher: TermMatcher) -> list[Finding]:
        folded = body.translate(_APOSTROPHES) if _HAS_APOSTROPHE.search(body) else body
        out: list[Finding] = []
        lowered: str | None = None
        names: list[Match] | None = None
        for m in matcher.find(folded):
            entries: tuple[_Entry, ...] = m.term.data
            surface = body[m.start : m.end]
            if self._boundaries is not None and _UNSPACED.match(surface):
                if names is None:
                    names = self._boundaries.find(folded)
                if any(_straddles(m, n) for n in names):
                    continue
            if self._not_inside:
                if lowered is None:
                    lowered = folded.casefold()
                    if len(lowered) != len(folded):  # casefold changed lengths (ß): compare as is
                        lowered = folded
                if self._inside_excluded(lowered, m, entries[0].term.casefold()):
                    continue
            cue = self._rebuttal_cue(body, m)
            for e in entries:
                out.append(Finding(e.theme, e.term, e.severity, field_name, m.start, m.end, surface, e.language, cue))
        return out

    def _inside_excluded(self, lowered: str, m: Match, term_key: str) -> bool:
        phrases = self._not_inside.get(term_key)
        if not phrases:
            return False
        for phrase in phrases:
            lo = max(0, m.start - len(phrase))
            pos = lowered.find(phrase, lo, m.end + len(phrase))
            while pos != -1 and pos < m.end:
                if pos <= m.start and pos + len(phrase) >= m.end:
                    return True
                pos = lowered.find(phrase, pos + 1, m.end + len(phrase))
        return False

    def _rebuttal_cue(self, body: str, m: Match) -> str | None:
        if self.quotes_count and m.start > 0 and m.end < len(body):
            before, after = body[m.start - 1], body[m.end]
            if before in _OPEN_QUOTES and after in _CLOSE_QUOTES:
                return before + after
        if not self._cues_all:
            return None
        cjk = any(_HAN.match(c) or _HANGUL.match(c) or _KANA.match(c) or _THAI.match(c) for c in m.surface[:2])
        window = self.rebuttal_window_cjk if cjk else self.rebuttal_window
        lo = max(0, m.start - window)
        hi = min(len(body), m.end + window)
        left = body[lo : m.start]
        right = body[m.end : hi]
        # stay inside the sentence
        ends = list(_SENTENCE_END.finditer(left))
        if ends:
            left = left[ends[-1].end() :]
        end = _SENTENCE_END.search(right)
        if end:
            right = right[: end.start()]
        context = (left + " \u0000 " + right).casefold()
        for cue in self._cues_all:
            if cue in context:
                return cue
        return None

    def _decide(self, findings: Iterable[Finding],
                topics: set[str] | frozenset[str] = frozenset()) -> tuple[list[str], dict[str, ThemeEvidence]]:
        by_theme: dict[str, list[Finding]] = {}
        for f in findings:
            by_theme.setdefault(f.theme, []).append(f)
        rule = self.rule
        evidence: dict[str, ThemeEvidence] = {}
        for theme, fs in by_theme.items():
            max_sev = max(f.severity for f in fs)
            terms = tuple(dict.fromkeys(f.term for f in sorted(fs, key=lambda f: -f.severity)))
            weak_terms = {f.term for f in fs if f.severity < rule.min_severity}
            why = None
            if max_sev >= rule.min_severity:
                why = f"severity>={rule.min_severity}"
            elif len(weak_terms) >= rule.min_weak_terms:
                why = f"weak terms x{len(weak_terms)}"
            elif rule.weak_term_in_title and any(
                f.field == "title" and f.term.casefold() not in self._title_exempt for f in fs
            ):
                why = "weak term in title"
            elif topics & set(rule.weak_term_with_topic.get(theme, ())):
                why = f"weak term with topic {sorted(topics & set(rule.weak_term_with_topic[theme]))[0]}"
            if why:
                strong = [f for f in fs if f.severity == max_sev]
                evidence[theme] = ThemeEvidence(theme, max_sev, terms, why, all(f.rebuttal for f in strong))
        for source, implied in self.theme_implies.items():
            if source in evidence:
                for theme in implied:
                    if theme not in evidence:
                        ev = evidence[source]
                        evidence[theme] = ThemeEvidence(theme, ev.max_severity, ev.terms, f"implied by {source}",
                                                        ev.all_rebuttals, implied_by=source)
        order = {t: i for i, t in enumerate(THEMES)}
        themes = sorted(evidence, key=lambda t: (-evidence[t].max_severity, -len(evidence[t].terms), order.get(t, 99)))
        return themes, evidence


def _straddles(m: Match, name: Match) -> bool:
    """Whether a match crosses a name's edge (starts or ends inside it without covering it)."""
    return (name.start < m.start < name.end < m.end) or (m.start < name.start < m.end < name.end)


def _dedupe_entries(entries: list[_Entry]) -> list[_Entry]:
    best: dict[str, _Entry] = {}
    for e in entries:
        if e.theme not in best or e.severity > best[e.theme].severity:
            best[e.theme] = e
    return list(best.values())
