"""Machine translation of foreign coverage: the ``Translator`` protocol, its two offline engines
and the stage that translates a kept article's title and lead (docs/translation.md).

- ``ArgosEngine``: CTranslate2 models with their sentencepiece tokenizer, in the Argos Translate
  package format (``.argosmodel``: a zip of ``<dir>/metadata.json``, ``<dir>/model/``,
  ``<dir>/sentencepiece.model``), installed by ``install_package`` into
  ``<home>/translation/<from>-<to>/``. A pair with no model of its own goes through English
  when X→en and en→Y are installed.
- ``LibreTranslateEngine``: a LibreTranslate server (``POST /translate``).

Translation never stops an article: ``TranslationStage.apply`` records what it could translate in
``Article.translations`` and why it could not in ``Article.reasons["translation"]``, logs the
reason, and after an engine failure leaves the engine alone for a while instead of waiting on it
for every article.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import stat
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx

from guard.limits import TooLarge, read_member
from index.article import Article

if TYPE_CHECKING:
    import ctranslate2
    import sentencepiece

log = logging.getLogger(__name__)

PIVOT = "en"
MODELS_FOLDER = "translation"  # under the data directory: <home>/translation/<from>-<to>/
ENGINES = ("auto", "argos", "libretranslate", "off")
METADATA = "metadata.json"
SENTENCEPIECE = "sentencepiece.model"
MODEL_DIR = "model"
MAX_PACKAGE_BYTES = 4 * 1024**3  # uncompressed; the largest OPUS-MT / Argos models are well under 1 GiB
MAX_MEMBERS = 10_000
_CODE = re.compile(r"^[a-z]{2,3}$")
# the end of a sentence: Latin/Cyrillic punctuation before a space, or a CJK/Thai full stop
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])")


class TranslationError(RuntimeError):
    """An engine could not translate: no model for the pair, a broken model, a server that
    refused or did not answer. The message is the reason, for the log and the article's reasons."""

    def __init__(self, message: str, *, unavailable: bool = False):
        super().__init__(message)
        self.unavailable = unavailable  # the engine itself is down (not just this pair or input)


class PackageError(ValueError):
    """A translation package that cannot be installed; the message says why."""


@runtime_checkable
class Translator(Protocol):
    """A machine-translation engine."""

    name: str

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """``texts`` translated from ``source`` into ``target`` (ISO 639-1 codes), one output per
        input, in order. Raises ``TranslationError`` with the reason when it cannot."""
        ...

    def pairs(self) -> set[tuple[str, str]]:
        """The (source, target) pairs the engine translates directly."""
        ...

    def model(self, source: str, target: str) -> str:
        """The model (or route of models) that translates this pair, as recorded with a
        translation."""
        ...


def base_language(code: str | None) -> str | None:
    """The ISO 639-1 code a language tag is translated as: ``zh-cn`` → ``zh``, ``pt_BR`` → ``pt``;
    None for no language."""
    if not code:
        return None
    return re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0] or None


def split_sentences(text: str) -> list[str]:
    """A text's sentences (the models are trained on sentences; a long lead is translated one
    sentence at a time). Blank pieces are dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


# -- installed Argos packages ---------------------------------------------------------------------


@dataclass(frozen=True)
class InstalledPair:
    """One installed model: its pair, folder and what its metadata says about it."""

    source: str
    target: str
    path: Path
    name: str  # the package's own name and version, for the record
    target_prefix: str = ""

    @property
    def key(self) -> str:
        return f"{self.source}-{self.target}"


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{METADATA} is not readable JSON: {exc}") from exc
    return _checked_metadata(data)


def _checked_metadata(data: Any) -> dict[str, Any]:
    """The metadata when it names a valid pair; ``PackageError`` with the reason otherwise."""
    if not isinstance(data, dict):
        raise PackageError(f"{METADATA} is not a JSON object")
    for key in ("from_code", "to_code"):
        value = data.get(key)
        if not isinstance(value, str) or not _CODE.match(value):
            raise PackageError(f"{METADATA} has no valid {key} (a 2- or 3-letter language code): {value!r}")
    if data["from_code"] == data["to_code"]:
        raise PackageError(f"{METADATA} translates {data['from_code']} into itself")
    return data


def _pair_from(folder: Path) -> InstalledPair:
    data = _read_metadata(folder / METADATA)
    version = data.get("package_version")
    name = str(data.get("name") or f"{data['from_code']}-{data['to_code']}")
    return InstalledPair(source=data["from_code"], target=data["to_code"], path=folder,
                         name=f"{name} {version}" if version else name,
                         target_prefix=str(data.get("target_prefix") or ""))


def installed_pairs(directory: Path) -> list[InstalledPair]:
    """The models installed in ``directory`` (``<home>/translation``), sorted by pair. A folder
    that is not a complete package is skipped with a logged reason."""
    if not directory.is_dir():
        return []
    found = []
    for folder in sorted(directory.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            found.append(_pair_from(folder))
        except PackageError as exc:
            log.warning("translation model %s skipped: %s", folder, exc)
    return found


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member may not be unpacked (an absolute path, a parent reference, a link)."""
    name = info.filename
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return f"member {name!r} has an absolute or non-portable path"
    parts = PurePosixPath(name).parts
    if any(part in ("..", "") for part in parts):
        return f"member {name!r} points outside the package"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"member {name!r} is a symbolic link"
    return None


def _top_folder(members: list[zipfile.ZipInfo]) -> str:
    tops = {PurePosixPath(m.filename).parts[0] for m in members}
    if len(tops) != 1:
        raise PackageError(f"a package holds one folder; this one has {len(tops)} top-level entries "
                           f"({', '.join(sorted(tops)[:5])})")
    top = tops.pop()
    if not any(m.filename.startswith(top + "/") for m in members):
        raise PackageError("a package holds one folder; this one holds a single file")
    return top


def _unpack(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo], top: str, dest: Path) -> None:
    total = 0
    for info in members:
        relative = PurePosixPath(info.filename).relative_to(top)
        target = dest.joinpath(*relative.parts) if relative.parts else dest
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, target.open("wb") as out:
            while chunk := src.read(1 << 20):
                total += len(chunk)
                if total > MAX_PACKAGE_BYTES:
                    raise PackageError(f"the package expands beyond {MAX_PACKAGE_BYTES // 1024**3} GiB")
                out.write(chunk)


def _check_loads(folder: Path) -> None:
    """Load the model and the tokenizer once, so a broken package is refused at install time."""
    import ctranslate2
    import sentencepiece

    try:
        sentencepiece.SentencePieceProcessor(model_file=str(folder / SENTENCEPIECE))
    except (OSError, RuntimeError) as exc:
        raise PackageError(f"{SENTENCEPIECE} is not a sentencepiece model: {exc}") from exc
    try:
        ctranslate2.Translator(str(folder / MODEL_DIR), device="cpu", inter_threads=1, intra_threads=1)
    except (OSError, RuntimeError, ValueError) as exc:
        raise PackageError(f"{MODEL_DIR}/ is not a CTranslate2 model: {exc}") from exc


def install_package(file: Path, directory: Path) -> InstalledPair:
    """Check an ``.argosmodel`` file and unpack it into ``directory/<from>-<to>/`` (replacing
    that pair's model, which is kept until the new one is complete). Returns the installed pair;
    raises ``PackageError`` with the reason for a file that is not a zip, a member that would
    land outside the folder, a missing part or a model that does not load."""
    try:
        zf = zipfile.ZipFile(file)
    except FileNotFoundError as exc:
        raise PackageError(f"no such file: {file}") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError(f"{file} is not a zip archive (an .argosmodel package is one): {exc}") from exc
    with zf:
        members = zf.infolist()
        if not members:
            raise PackageError(f"{file} is an empty archive")
        if len(members) > MAX_MEMBERS:
            raise PackageError(f"{file} holds {len(members)} files (at most {MAX_MEMBERS})")
        for info in members:
            if problem := _member_problem(info):
                raise PackageError(problem)
        top = _top_folder(members)
        names = {m.filename.rstrip("/") for m in members}
        for part, what in ((METADATA, "the metadata"), (SENTENCEPIECE, "the sentencepiece tokenizer"),
                           (f"{MODEL_DIR}/model.bin", "the CTranslate2 model")):
            if f"{top}/{part}" not in names:
                raise PackageError(f"{file} has no {top}/{part} ({what})")
        try:
            data = _checked_metadata(json.loads(read_member(zf, f"{top}/{METADATA}", 1_000_000).decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, TooLarge) as exc:
            raise PackageError(f"{METADATA} is not readable JSON: {exc}") from exc
        directory.mkdir(parents=True, exist_ok=True)
        key = f"{data['from_code']}-{data['to_code']}"
        staging = directory / f".installing-{key}-{uuid.uuid4().hex[:8]}"
        try:
            _unpack(zf, members, top, staging)
            _check_loads(staging)
            final, old = directory / key, directory / f".old-{key}-{uuid.uuid4().hex[:8]}"
            if final.exists():
                final.rename(old)
            staging.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        except (zipfile.BadZipFile, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise PackageError(f"{file} could not be unpacked: {exc}") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return _pair_from(directory / key)


def remove_pair(directory: Path, key: str) -> bool:
    """Remove an installed pair (``zh-en``); False when it is not installed."""
    folder = directory / key
    if not re.match(r"^[a-z]{2,3}-[a-z]{2,3}$", key) or not (folder / METADATA).is_file():
        return False
    shutil.rmtree(folder)
    return True


# -- the engines ------------------------------------------------------------------------------


@dataclass
class _Loaded:
    translator: ctranslate2.Translator
    tokenizer: sentencepiece.SentencePieceProcessor


class ArgosEngine:
    """CTranslate2 + sentencepiece models in the Argos Translate package format, loaded once per
    pair when first needed (each crawl worker loads its own)."""

    name = "argos"

    def __init__(self, directory: Path, *, beam_size: int = 2, max_decoding_length: int = 256,
                 threads: int = 1, batch_size: int = 16) -> None:
        self.directory = directory
        self.beam_size = beam_size
        self.max_decoding_length = max_decoding_length
        self.threads = threads
        self.batch_size = batch_size
        self._installed: dict[tuple[str, str], InstalledPair] | None = None
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._lock = threading.Lock()

    def _pairs(self) -> dict[tuple[str, str], InstalledPair]:
        if self._installed is None:
            self._installed = {(p.source, p.target): p for p in installed_pairs(self.directory)}
        return self._installed

    def pairs(self) -> set[tuple[str, str]]:
        return set(self._pairs())

    def route(self, source: str, target: str) -> list[InstalledPair]:
        """The models that take ``source`` to ``target``: its own, else through English.
        Raises ``TranslationError`` when neither is installed."""
        installed = self._pairs()
        if (source, target) in installed:
            return [installed[(source, target)]]
        if (source, PIVOT) in installed and (PIVOT, target) in installed:
            return [installed[(source, PIVOT)], installed[(PIVOT, target)]]
        have = ", ".join(sorted(p.key for p in installed.values())) or "none"
        raise TranslationError(f"no model for {source}→{target} nor {source}→{PIVOT}→{target} "
                               f"(installed: {have})")

    def model(self, source: str, target: str) -> str:
        return " + ".join(p.name for p in self.route(source, target))

    def _load(self, pair: InstalledPair) -> _Loaded:
        with self._lock:
            loaded = self._loaded.get((pair.source, pair.target))
            if loaded is None:
                import ctranslate2
                import sentencepiece

                try:
                    loaded = _Loaded(
                        translator=ctranslate2.Translator(str(pair.path / MODEL_DIR), device="cpu",
                                                          inter_threads=1, intra_threads=self.threads),
                        tokenizer=sentencepiece.SentencePieceProcessor(model_file=str(pair.path / SENTENCEPIECE)))
                except (OSError, RuntimeError, ValueError) as exc:
                    raise TranslationError(f"model {pair.key} does not load: {exc}") from exc
                self._loaded[(pair.source, pair.target)] = loaded
            return loaded

    def _hop(self, pair: InstalledPair, texts: list[str]) -> list[str]:
        loaded = self._load(pair)
        # every text is cut into sentences; the sentences of all texts go through in batches
        pieces: list[list[str]] = []
        owners: list[int] = []
        for n, text in enumerate(texts):
            for sentence in split_sentences(text):
                pieces.append(loaded.tokenizer.encode(sentence, out_type=str))
                owners.append(n)
        if not pieces:
            return ["" for _ in texts]
        prefix = [[pair.target_prefix] for _ in pieces] if pair.target_prefix else None
        try:
            results = loaded.translator.translate_batch(
                pieces, target_prefix=prefix, beam_size=self.beam_size, max_batch_size=self.batch_size,
                max_decoding_length=self.max_decoding_length, replace_unknowns=True)
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(f"model {pair.key} failed: {exc}") from exc
        out: list[list[str]] = [[] for _ in texts]
        for owner, result in zip(owners, results, strict=True):
            tokens = result.hypotheses[0] if result.hypotheses else []
            if pair.target_prefix and tokens[:1] == [pair.target_prefix]:
                tokens = tokens[1:]
            out[owner].append(loaded.tokenizer.decode(tokens).strip())
        return [" ".join(s for s in sentences if s) for sentences in out]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        result = list(texts)
        for pair in self.route(source, target):
            result = self._hop(pair, result)
        return result


class LibreTranslateEngine:
    """A LibreTranslate server (``POST /translate`` with ``q, source, target, format, api_key``)."""

    name = "libretranslate"

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False,
                                              headers={"User-Agent": "hpmon translation"})
        self._pairs: set[tuple[str, str]] | None = None

    def _call(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self._client.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except httpx.TimeoutException as exc:
            raise TranslationError(f"LibreTranslate at {self.url} did not answer within {self.timeout:g} s",
                                   unavailable=True) from exc
        except httpx.HTTPError as exc:
            raise TranslationError(f"LibreTranslate at {self.url} unreachable: {exc}", unavailable=True) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            said = body.get("error") if isinstance(body, dict) else None
            raise TranslationError(f"LibreTranslate answered {response.status_code}"
                                   + (f": {str(said)[:200]}" if said else ""),
                                   unavailable=response.status_code in (401, 403, 429) or response.status_code >= 500)
        if body is None:
            raise TranslationError("LibreTranslate answered something that is not JSON")
        return body

    def pairs(self) -> set[tuple[str, str]]:
        if self._pairs is None:
            languages = self._call("GET", "/languages")
            found = set()
            for entry in languages if isinstance(languages, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                    for target in entry.get("targets") or []:
                        if isinstance(target, str) and target != entry["code"]:
                            found.add((entry["code"], target))
            self._pairs = found
        return self._pairs

    def model(self, source: str, target: str) -> str:
        return self.url

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if not texts:
            return []
        payload: dict[str, Any] = {"q": list(texts), "source": source, "target": target, "format": "text"}
        if self.api_key:
            payload["api_key"] = self.api_key
        body = self._call("POST", "/translate", json=payload)
        translated = body.get("translatedText") if isinstance(body, dict) else None
        if isinstance(translated, str) and len(texts) == 1:
            translated = [translated]
        if not isinstance(translated, list) or len(translated) != len(texts) \
                or not all(isinstance(t, str) for t in translated):
            raise TranslationError("LibreTranslate's answer has no translatedText for every text")
        return translated

    def close(self) -> None:
        self._client.close()


# -- choosing the engine ------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineChoice:
    """The engine the settings select, or None with the reason there is none."""

    translator: Translator | None
    reason: str = ""


def selected_engine(engine: str, directory: Path, libretranslate_url: str | None) -> tuple[str | None, str]:
    """Which engine the settings select (``argos``, ``libretranslate`` or None) and, for None,
    the reason; cheap enough for every page that says whether translation is on."""
    if engine not in ENGINES:
        return None, f"unknown translation engine {engine!r} (one of {', '.join(ENGINES)})"
    if engine == "off":
        return None, "translation is switched off (translation_engine = \"off\")"
    if engine in ("argos", "auto") and installed_pairs(directory):
        return "argos", ""
    if engine in ("libretranslate", "auto") and libretranslate_url:
        return "libretranslate", ""
    if engine == "libretranslate":
        return None, "translation_engine is \"libretranslate\" but libretranslate_url is not set"
    return None, (f"no translation model installed in {directory} (hpmon translate install FILE; "
                  "docs/translation.md) and no libretranslate_url set")


def choose_engine(engine: str, directory: Path, *, libretranslate_url: str | None = None,
                  api_key: str | None = None, timeout: float = 10.0) -> EngineChoice:
    """The translator of the settings: ``argos`` (the models in ``directory``), ``libretranslate``
    (the server at ``libretranslate_url``), ``auto`` (the installed models if any, else the
    server if one is set) or ``off``. Without one, the reason says what to do."""
    name, reason = selected_engine(engine, directory, libretranslate_url)
    if name == "argos":
        return EngineChoice(ArgosEngine(directory))
    if name == "libretranslate":
        return EngineChoice(LibreTranslateEngine(libretranslate_url or "", api_key=api_key, timeout=timeout))
    return EngineChoice(None, reason)


# -- the stage ------------------------------------------------------------------------------------


@dataclass
class TranslationStage:
    """Translates a kept article's title and lead into each target language it is not written
    in. ``cooldown`` seconds after the engine itself failed (down, timed out), articles are not
    sent to it (recorded as skipped) so a dead server never slows the crawl."""

    translator: Translator
    targets: list[str] = field(default_factory=lambda: ["vi"])
    max_chars: int = 1500
    cooldown: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _down_until: float = 0.0
    _down_reason: str = ""

    def apply(self, article: Article) -> dict[str, str]:
        """Fill ``article.translations`` (``{"vi": {"title", "lead", "engine", "model"}}``) for
        every target language the article is not written in. Returns the failures by target
        language (also in ``article.reasons["translation"]`` and the log); never raises for an
        engine's failure."""
        source = base_language(article.language)
        failures: dict[str, str] = {}
        if source is None:
            return failures
        for target in dict.fromkeys(base_language(t) for t in self.targets):
            if not target or target == source:
                continue
            try:
                article.translations[target] = self._translate(article, source, target)
            except TranslationError as exc:
                failures[target] = str(exc)
                if exc.unavailable:
                    self._down_until, self._down_reason = self.clock() + self.cooldown, str(exc)
                log.warning("translation of %s %s→%s skipped: %s", article.id, source, target, exc)
            except Exception as exc:  # noqa: BLE001 - an engine's bug must not lose the article
                failures[target] = f"{type(exc).__name__}: {exc}"
                log.exception("translation of %s %s→%s failed", article.id, source, target)
        if failures:
            article.reasons["translation"] = {"engine": self.translator.name, "failed": failures}
        else:
            article.reasons.pop("translation", None)
        return failures

    def _translate(self, article: Article, source: str, target: str) -> dict[str, str]:
        if self.clock() < self._down_until:
            raise TranslationError(f"engine skipped after a failure: {self._down_reason}")
        texts = [_capped(article.title, self.max_chars), _capped(article.lead, self.max_chars)]
        wanted = [t for t in texts if t]
        if not wanted:
            raise TranslationError("nothing to translate (no title or lead)")
        model = self.translator.model(source, target)
        done = iter(self.translator.translate(wanted, source, target))
        title, lead = (next(done) if t else "" for t in texts)
        return {"title": title, "lead": lead, "engine": self.translator.name, "model": model}


def _capped(text: str, limit: int) -> str:
    """The text cut at the last sentence end (else the last space) before ``limit`` characters."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?…。！？]", cut)]
    if ends and ends[-1] > limit // 2:
        return cut[:ends[-1]]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def shown_translation(article: Article, languages: Iterable[str]) -> tuple[str, dict[str, str]] | None:
    """The translation to show beside the original: the first of ``languages`` (the reader's,
    then Vietnamese) the article has one in and is not written in, as (language, translation)."""
    written = base_language(article.language)
    for language in languages:
        entry = (article.translations or {}).get(language)
        if language != written and isinstance(entry, dict) and entry.get("title"):
            return language, entry
    return None
