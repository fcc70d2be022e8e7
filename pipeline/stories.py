"""Stories: articles about the same event, grouped under the id of their first article.

Two ways in:
- near-duplicates (syndicated or lightly edited copies): MinHash of word shingles, found
  through LSH bands, joined when their estimated Jaccard similarity is high;
- other write-ups of the same event within a few days: shared anchors (places from the
  city profile, distinctive numbers, title words) and a similar opening text; across
  languages, only shared numbers and places count, with a higher bar.

The story store is a small SQLite file owned by the pipeline, so stories work the same on
every index engine.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from hpbase.schema import Schema, migrate
from hpbase.text import fold
from index.db import connect
from index.text import WORD, bigrams, split_bigram_runs

NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs with Jaccard ≥ ~0.5 almost always share a band
ROWS = NUM_PERM // BANDS
_MASK = (1 << 31) - 1  # Mersenne prime modulus of the permutations (products stay within int64)
_A = np.array([int.from_bytes(hashlib.blake2b(f"a{i}".encode(), digest_size=4).digest(), "big") % _MASK | 1
               for i in range(NUM_PERM)], dtype=np.int64)
_B = np.array([int.from_bytes(hashlib.blake2b(f"b{i}".encode(), digest_size=4).digest(), "big") % _MASK
               for i in range(NUM_PERM)], dtype=np.int64)
_NUMBER = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?")
_STOP_WORDS = (  # frequent function words that make openings look alike
    "của và là các những được cho với trong này có một người đã sẽ không từ theo tại đến về khi như ở "
    "the and for with from that this have has are was were will said says into over after about their "
    "a an of to in on at by as is it its be or "
    "le la les l d de du des un une et en au aux dans pour avec sur est par qui que plus ce se sa son ses "
    "в и на с по из за к от о что как это для")
_STOP = frozenset(fold(w) for w in _STOP_WORDS.split(" "))


def tokens(text: str) -> list[str]:
    """Folded words; CJK/Thai runs as bigrams."""
    out: list[str] = []
    for is_bigram, piece in split_bigram_runs(fold(text)):
        out.extend(bigrams(piece) if is_bigram else (m.group(0) for m in WORD.finditer(piece)))
    return out


def _h(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "big")


def minhash(text: str, k: int = 3) -> list[int]:
    """The MinHash signature (NUM_PERM values) of the text's word k-shingles."""
    toks = tokens(text)
    shingles = {" ".join(toks[i:i + k]) for i in range(max(1, len(toks) - k + 1))} if toks else {""}
    hashes = np.fromiter((_h(s) % _MASK for s in shingles), dtype=np.int64, count=len(shingles))
    return ((_A[:, None] * hashes[None, :] + _B[:, None]) % _MASK).min(axis=1).tolist()


def jaccard(a: list[int], b: list[int]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / NUM_PERM


def numbers(text: str) -> set[str]:
    """Distinctive numbers (separators removed; years and small numbers left out)."""
    out = set()
    for m in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) < 2 or (len(digits) == 4 and digits[:2] in ("19", "20")):
            continue
        out.add(digits.lstrip("0") or "0")
    return out


def _vector(text: str) -> Counter:
    toks = [t for t in tokens(text) if t not in _STOP]
    return Counter(toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)])


def cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


@dataclass
class StoryMatch:
    story_id: str
    how: str  # new | near_duplicate | same_event
    score: float
    matched: str | None = None  # the article it was matched with


@dataclass
class StorySummary:
    story_id: str
    size: int
    outlets: list[str]
    languages: list[str]
    countries: list[str]
    first_seen: str
    last_seen: str
    title: str
    per_day: list[tuple[str, int]]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, date TEXT NOT NULL, language TEXT,
    outlet TEXT, country TEXT, title TEXT, opening TEXT, anchors TEXT, minhash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_story ON docs(story_id);
CREATE INDEX IF NOT EXISTS docs_date ON docs(date);
CREATE TABLE IF NOT EXISTS bands (band INTEGER NOT NULL, value INTEGER NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bands_value ON bands(band, value);
CREATE TABLE IF NOT EXISTS anchors (anchor TEXT NOT NULL, date TEXT NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS anchors_key ON anchors(anchor, date);
"""

#: The versioned schema (``hpbase.schema``): step 1 is the DDL of before versions.
SCHEMA = Schema("stories", (_SCHEMA,))


class StoryStore:
    """Assigns each article to a story and answers questions about stories."""

    def __init__(self, path: str | Path, *, window_days: int = 3, near_duplicate: float = 0.5,
                 same_event: float = 0.35) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()
        self._signatures: dict[tuple, list[int]] = {}
        self.window = timedelta(days=window_days)
        self.near_duplicate = near_duplicate
        self.same_event = same_event

    def _signature(self, article_id: str, title: str, text: str) -> list[int]:
        """The article's MinHash, computed once however often it is matched."""
        key = (article_id, hash(title), hash(text))
        sig = self._signatures.get(key)
        if sig is None:
            sig = minhash(f"{title}\n{text}")
            self._signatures[key] = sig
            while len(self._signatures) > 256:
                self._signatures.pop(next(iter(self._signatures)))
        return sig

    @staticmethod
    def _blob(sig: list[int]) -> bytes:
        return b"".join(x.to_bytes(8, "big") for x in sig)

    @staticmethod
    def _sig(blob: bytes) -> list[int]:
        return [int.from_bytes(blob[i:i + 8], "big") for i in range(0, len(blob), 8)]

    def match(self, *, article_id: str, title: str, text: str, date: datetime | None, language: str | None,
              places: list[str] = ()) -> StoryMatch:
        """The story an article would join, without recording anything (``hpmon analyze``)."""
        when = (date or datetime.now(UTC)).astimezone(UTC)
        with self._lock:
            row = self._conn.execute("SELECT story_id FROM docs WHERE article_id = ?", (article_id,)).fetchone()
            if row:
                return StoryMatch(row[0], "known", 1.0)
            sig = self._signature(article_id, title, text)
            return (self._near_duplicate(sig, article_id)
                    or self._same_event(article_id, title, text, when, language, places)
                    or StoryMatch(article_id, "new", 1.0))

    def divergence(self, story_id: str, article_id: str, title: str, text: str) -> tuple[float, str] | None:
        """How far an article's figures stray from what the rest of its story reports: when at
        least two other articles agree on figures (each in two thirds of them) and this one
        gives other figures and none of those, a score with the evidence; else None."""
        mine = numbers(f"{title}\n{text[:3000]}")
        if not mine:
            return None
        with self._lock:
            rows = self._conn.execute("SELECT anchors, outlet FROM docs WHERE story_id = ? AND article_id != ?",
                                      (story_id, article_id)).fetchall()
        if len(rows) < 2:
            return None
        counts: Counter = Counter()
        for anchors, _ in rows:
            counts.update({a[4:] for a in anchors.split("\n") if a.startswith("num:")})
        consensus = {n for n, c in counts.items() if c >= max(2, math.ceil(len(rows) * 2 / 3))}
        if not consensus or mine & consensus:
            return None
        outlets = sorted({o for _, o in rows if o})
        score = min(1.0, 0.5 + 0.1 * len(rows))
        evidence = (f"figures {', '.join(sorted(mine)[:5])} where {len(rows)} other articles of the story"
                    f" ({', '.join(outlets[:4])}) report {', '.join(sorted(consensus)[:5])}")
        return score, evidence

    def assign(self, *, article_id: str, title: str, text: str, date: datetime | None, language: str | None,
               outlet: str | None = None, country: str | None = None, places: list[str] = ()) -> StoryMatch:
        """The story of an article (recording it); the same answer when asked again."""
        when = (date or datetime.now(UTC)).astimezone(UTC)
        with self._lock:
            match = self.match(article_id=article_id, title=title, text=text, date=date, language=language,
                               places=places)
            if match.how == "known":
                return match
            sig = self._signature(article_id, title, text)
            story_id = match.story_id
            opening = f"{title}\n{text[:600]}"
            anchor_set = self._anchors(title, text, places)
            with self._conn:
                self._conn.execute(
                    "INSERT INTO docs(article_id, story_id, date, language, outlet, country, title, opening, anchors,"
                    " minhash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (article_id, story_id, when.isoformat(), language, outlet, country, title, opening,
                     "\n".join(sorted(anchor_set)), self._blob(sig)))
                self._conn.executemany(
                    "INSERT INTO bands(band, value, article_id) VALUES (?, ?, ?)",
                    [(b, _h(",".join(map(str, sig[b * ROWS:(b + 1) * ROWS]))) >> 1, article_id) for b in range(BANDS)])
                self._conn.executemany("INSERT INTO anchors(anchor, date, article_id) VALUES (?, ?, ?)",
                                       [(a, when.isoformat(), article_id) for a in anchor_set])
            return match

    @staticmethod
    def _anchors(title: str, text: str, places: list[str]) -> set[str]:
        anchors = {f"place:{fold(p)}" for p in places}
        anchors |= {f"num:{n}" for n in numbers(f"{title}\n{text[:3000]}")}
        place_words = {t for p in places for t in tokens(p)}
        anchors |= {f"word:{t}" for t in tokens(title)
                    if len(t) >= 4 and t not in _STOP and not t.isdigit() and t not in place_words}
        return anchors

    def _near_duplicate(self, sig: list[int], article_id: str) -> StoryMatch | None:
        candidates: set[str] = set()
        for b in range(BANDS):
            value = _h(",".join(map(str, sig[b * ROWS:(b + 1) * ROWS]))) >> 1
            candidates.update(r[0] for r in self._conn.execute(
                "SELECT article_id FROM bands WHERE band = ? AND value = ?", (b, value)))
        best: StoryMatch | None = None
        for cand in candidates - {article_id}:
            story_id, blob = self._conn.execute("SELECT story_id, minhash FROM docs WHERE article_id = ?",
                                                (cand,)).fetchone()
            score = jaccard(sig, self._sig(blob))
            if score >= self.near_duplicate and (best is None or score > best.score):
                best = StoryMatch(story_id, "near_duplicate", round(score, 3), cand)
        return best

    def _same_event(self, article_id: str, title: str, text: str, when: datetime, language: str | None,
                    places: list[str]) -> StoryMatch | None:
        anchors = self._anchors(title, text, places)
        if not anchors:
            return None
        lo, hi = (when - self.window).isoformat(), (when + self.window).isoformat()
        shared: Counter = Counter()
        marks = ",".join("?" * len(anchors))
        for (cand,) in self._conn.execute(
                f"SELECT article_id FROM anchors WHERE anchor IN ({marks}) AND date BETWEEN ? AND ?",
                [*anchors, lo, hi]):
            shared[cand] += 1
        mine = _vector(f"{title}\n{text[:600]}")
        best: StoryMatch | None = None
        for cand, n in shared.most_common(50):
            if cand == article_id or n < 2:
                continue
            story_id, lang, opening, cand_anchors = self._conn.execute(
                "SELECT story_id, language, opening, anchors FROM docs WHERE article_id = ?", (cand,)).fetchone()
            common = anchors & set(cand_anchors.split("\n"))
            nums = sum(a.startswith("num:") for a in common)
            place = sum(a.startswith("place:") for a in common)
            if lang == language:
                score = cosine(mine, _vector(opening))
                ok = score >= self.same_event and (nums or place or len(common) >= 3)
            else:  # across languages only numbers and places can be compared
                score = min(1.0, 0.25 * nums + 0.15 * place)
                ok = nums >= 2 and place >= 1
            if ok and (best is None or score > best.score):
                best = StoryMatch(story_id, "same_event", round(score, 3), cand)
        return best

    def story_of(self, article_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT story_id FROM docs WHERE article_id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def members(self, story_id: str) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT article_id FROM docs WHERE story_id = ? ORDER BY date, article_id", (story_id,))]

    def top(self, *, since: datetime | None = None, limit: int = 10) -> list[StorySummary]:
        """The biggest stories (by outlets, then countries, then articles) with articles since ``since``."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT story_id, article_id, date, language, outlet, country, title FROM docs WHERE story_id IN "
                "(SELECT story_id FROM docs WHERE date >= ?) ORDER BY date",
                ((since or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).isoformat(),)).fetchall()
        stories: dict[str, list[tuple]] = {}
        for row in rows:
            stories.setdefault(row[0], []).append(row)
        out = []
        for story_id, docs in stories.items():
            first = next((d for d in docs if d[1] == story_id), docs[0])
            out.append(StorySummary(
                story_id=story_id, size=len(docs),
                outlets=sorted({d[4] for d in docs if d[4]}), languages=sorted({d[3] for d in docs if d[3]}),
                countries=sorted({d[5] for d in docs if d[5]}), first_seen=docs[0][2], last_seen=docs[-1][2],
                title=first[6] or "", per_day=sorted(Counter(d[2][:10] for d in docs).items())))
        out.sort(key=lambda s: (-len(s.outlets), -len(s.countries), -s.size, s.first_seen))
        return out[:limit]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
