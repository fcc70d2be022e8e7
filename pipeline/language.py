"""The language stage: which language an article is written in, and how sure we are.

langdetect (seeded, so the same text always gets the same answer) decides among alphabetic
languages; the script decides where it is unambiguous (Hangul is Korean, kana is Japanese,
Vietnamese has letters no other language uses), which matters for short titles and
snippets; the source's declared language is a prior that tips close calls, not the answer.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field

from langdetect import DetectorFactory, LangDetectException
from langdetect.detector_factory import PROFILES_DIRECTORY

from hpbase import scripts

UNDETERMINED = "und"

_SCRIPT_RANGES = (
    ("hangul", scripts.HANGUL),
    ("kana", scripts.KANA),
    ("han", scripts.HAN),
    ("thai", scripts.THAI),
    ("lao", scripts.LAO),
    ("khmer", scripts.KHMER),
    ("cyrillic", scripts.CYRILLIC),
    ("arabic", scripts.ARABIC),
)
_SCRIPT_LANGUAGE = {"hangul": "ko", "thai": "th", "lao": "lo", "khmer": "km"}
_SCRIPT_PATTERNS = {
    name: re.compile("[" + scripts.char_class(ranges) + "]")
    for name, ranges in _SCRIPT_RANGES
}
_LETTER = re.compile(r"[^\W\d_]")
# Letters only Vietnamese uses among languages written in Latin script.
_VIETNAMESE_ONLY = re.compile("[ăơưđĂƠƯĐ\u1ea0-\u1ef9]")


def script_counts(text: str) -> tuple[dict[str, int], int]:
    """Letters per script (``latin`` = letters of no other listed script) and the letter count."""
    letters = "".join(_LETTER.findall(text))
    n = len(letters)
    counts = {name: len(pattern.findall(letters)) for name, pattern in _SCRIPT_PATTERNS.items()}
    counts = {name: c for name, c in counts.items() if c}
    counts["latin"] = max(0, n - sum(counts.values()))
    return counts, n


@dataclass
class LanguageGuess:
    language: str
    probability: float
    method: str  # "script", "langdetect", "langdetect+prior", "empty"
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "language": self.language,
            "probability": round(self.probability, 4),
            "method": self.method,
            "alternatives": [[lang, round(p, 4)] for lang, p in self.alternatives],
        }


def _normalize_code(code: str) -> str:
    return code.split("-")[0].lower()


class LanguageDetector:
    """Detects the language of a text; deterministic and thread-safe."""

    def __init__(self, prior_weight: float = 3.0, max_chars: int = 2000) -> None:
        self.prior_weight = prior_weight
        self.max_chars = max_chars
        self._factory: DetectorFactory | None = None
        self._lock = threading.Lock()

    def _detector_factory(self) -> DetectorFactory:
        with self._lock:
            if self._factory is None:
                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                factory.seed = 0
                self._factory = factory
            return self._factory

    def detect(self, text: str, declared: str | None = None) -> LanguageGuess:
        """The most likely language of ``text`` (ISO 639-1), with its probability."""
        text = unicodedata.normalize("NFC", text[: self.max_chars])
        counts, n = script_counts(text)
        if not n:
            return LanguageGuess(UNDETERMINED, 0.0, "empty")
        by_script = self._by_script(counts, n)
        if by_script:
            return by_script
        vietnamese = len(_VIETNAMESE_ONLY.findall(text))
        if counts.get("latin", 0) >= n / 2 and vietnamese and (n <= 40 or vietnamese / n >= 0.02):
            return LanguageGuess("vi", min(0.99, 0.9 + vietnamese / n), "script")
        return self._langdetect(text, declared)

    def _by_script(self, counts: dict[str, int], n: int) -> LanguageGuess | None:
        han, kana = counts.get("han", 0), counts.get("kana", 0)
        if kana and (han + kana) / n >= 0.5 and kana / (han + kana) >= 0.05:
            return LanguageGuess("ja", (han + kana) / n, "script")
        if han / n >= 0.5 and not kana:
            return LanguageGuess("zh", han / n, "script")
        for script, lang in _SCRIPT_LANGUAGE.items():
            if counts.get(script, 0) / n >= 0.5:
                return LanguageGuess(lang, counts[script] / n, "script")
        return None

    def _langdetect(self, text: str, declared: str | None) -> LanguageGuess:
        detector = self._detector_factory().create()
        detector.append(text)
        try:
            probs = detector.get_probabilities()
        except LangDetectException:
            return LanguageGuess(UNDETERMINED, 0.0, "empty")
        merged: dict[str, float] = {}
        for item in probs:
            code = _normalize_code(item.lang)
            merged[code] = merged.get(code, 0.0) + item.prob
        method = "langdetect"
        if declared and declared in merged and self.prior_weight != 1.0:
            merged[declared] *= self.prior_weight
            total = sum(merged.values())
            merged = {k: v / total for k, v in merged.items()}
            method = "langdetect+prior"
        ranked = sorted(merged.items(), key=lambda kv: -kv[1])
        if not ranked:
            return LanguageGuess(UNDETERMINED, 0.0, "empty")
        best, p = ranked[0]
        return LanguageGuess(best, p, method, ranked[1:4])
