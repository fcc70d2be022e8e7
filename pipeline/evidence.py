"""Evidence for the rebuttal queue: freeze what a page said, export it, and watch for edits.

* ``enter_queue`` — the pipeline hook: an article at or above the risk threshold opens (or
  joins) its story's case, and its evidence is frozen at once: the WARC record of the page as
  fetched, byte for byte, and the text extracted from it, each with its SHA-256 and the fetch
  time, copied to ``<evidence_dir>/<case id>/``.
* ``export_case`` — one zip with the case, its audit trail, the frozen files and a
  ``manifest.json`` of SHA-256 hashes (``verify_export`` checks one).
* ``recheck`` — re-fetches the articles of the queue politely and records when one was edited
  (a unified diff of the text) or deleted (404/410) after it was first seen; every response
  is archived to WARC too.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from protego import Protego
from warcio.archiveiterator import ArchiveIterator

from crawlers.warc import WarcArchive
from guard.limits import TooLarge, hash_member, read_member, read_stream
from guard.net import HostPolicy, Refused, guarded_client
from index.article import Article
from pipeline.extract import decode_html, extract_article
from pipeline.outcome import Dropped
from records.cases import CaseArticle, CaseStore, EvidenceRecord, Recheck

log = logging.getLogger(__name__)

MANIFEST_FORMAT = "hpmon-evidence/1"
MAX_DIFF_CHARS = 200_000
MAX_ROBOTS_BYTES = 500_000
# What `verify_export` inflates at most: the manifest, and any one file of a bundle.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# A WARC record (its stored bytes, and its page as it inflates) is read up to this much: ten times
# the crawl's default page cap (``max_page_bytes``), as ``web.evidence`` serves records.
MAX_WARC_RECORD_BYTES = 50_000_000
MAX_BUNDLE_MEMBER_BYTES = 1024 * 1024 * 1024
# Cases whose articles `recheck` watches by default: everything but dismissed ones (an edit
# after a rebuttal was published matters too).
RECHECK_STATES = ("new", "triaged", "drafting", "awaiting_approval", "published")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def queue_threshold(config_dir: Path) -> float:
    """The risk score from which an article enters the queue (``config/risk.yaml``)."""
    from classifiers.risk import RiskConfig

    return RiskConfig.from_config(config_dir).queue_threshold


# -- reading a WARC record ---------------------------------------------------------------------


@dataclass(frozen=True)
class WarcCopy:
    """One WARC record: its exact bytes as stored (a gzip member, itself a valid .warc.gz),
    and what it holds."""

    raw: bytes
    url: str
    status: int | None
    content_type: str | None
    body: bytes
    warc_date: datetime | None


def read_warc_record(warc_dir: Path, warc_file: str, offset: int, *, max_bytes: int = MAX_WARC_RECORD_BYTES,
                     with_body: bool = True) -> WarcCopy | Dropped:
    """The record at ``offset`` of ``warc_dir/warc_file``, or why it cannot be read. Bounded:
    the record's stored bytes and its page body (decoded as it is read: a gzip member, a
    ``Content-Encoding``) are each read up to ``max_bytes`` in chunks, never whole; past it,
    ``too_large``. ``with_body=False`` (the web's download of the record) leaves the body unread
    (``body`` is then empty)."""
    path = Path(warc_dir) / Path(warc_file).name  # the name only: never leave the archive folder
    if not path.is_file():
        return Dropped("evidence", "warc_missing", f"WARC file not found: {path}")
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            iterator = ArchiveIterator(fh)
            record = next(iterator, None)
            if record is None:
                return Dropped("evidence", "warc_record_missing", f"no WARC record at {warc_file}:{offset}")
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
            date = record.rec_headers.get_header("WARC-Date")
            status = content_type = None
            if record.http_headers is not None:
                code = record.http_headers.get_statuscode()
                status = int(code) if code and code.isdigit() else None
                content_type = record.http_headers.get_header("Content-Type")
            body = read_stream(record.content_stream(), max_bytes, what="the record's page") if with_body else b""
            iterator.read_to_end(record)  # skipped in chunks, not held
            length = iterator.get_record_length()
            if length > max_bytes:
                raise TooLarge(f"the stored record is {length} bytes, more than {max_bytes}")
            fh.seek(offset)
            raw = fh.read(length)
    except TooLarge as exc:
        return Dropped("evidence", "too_large", f"{warc_file}:{offset}: {exc}, not read further")
    except Exception as exc:  # a truncated or corrupt archive
        return Dropped("evidence", "warc_unreadable", f"{type(exc).__name__}: {exc}")
    try:
        warc_date = datetime.fromisoformat(date.strip().replace("Z", "+00:00")) if date else None
    except ValueError:
        return Dropped("evidence", "warc_unreadable", f"{warc_file}:{offset}: WARC-Date {date[:40]!r} is not a date")
    if warc_date is not None and warc_date.tzinfo is None:
        warc_date = warc_date.replace(tzinfo=UTC)  # WARC dates are UTC (ISO 28500)
    return WarcCopy(raw, url, status, content_type, body, warc_date)


def page_text(body: bytes, content_type: str | None, url: str, *, timezone: str = "UTC") -> str | Dropped:
    """The text of a page as evidence compares it: its title, a blank line, its main text
    (the pipeline's own extraction, so versions of a page compare like with like)."""
    decoded = decode_html(body, content_type)
    if isinstance(decoded, Dropped):
        return decoded
    extracted = extract_article(decoded.html, url, timezone=timezone, min_chars=1)
    if isinstance(extracted, Dropped):
        return extracted
    return f"{extracted.title}\n\n{extracted.text}".strip() + "\n"


# -- freezing ------------------------------------------------------------------------------------


def _write_frozen(path: Path, data: bytes) -> None:
    """Write a file once, atomically, read-only: frozen evidence is never rewritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)


@dataclass
class Frozen:
    """What ``freeze_article`` kept, and what it could not (with reasons)."""

    case_id: int
    article_id: str
    records: list[EvidenceRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def freeze_article(case_store: CaseStore, case_id: int, article: Article, *, warc_dir: Path, evidence_dir: Path,
                   timezone: str = "UTC", actor: str = "hpmon") -> Frozen:
    """Freeze an article's evidence into the case (once: an article already frozen in the case
    is left alone). Without a WARC record, the indexed text is frozen and the gap recorded in
    the audit trail, so nobody believes there is a page copy when there is none."""
    frozen = Frozen(case_id, article.id)
    if any(r.kind in ("page_record", "page_text") for r in case_store.evidence(case_id, article.id)):
        return frozen
    now = datetime.now(UTC)
    text: str | None = None
    fetched_at = article.fetched_at
    detail: dict[str, Any] = {}
    copy: WarcCopy | Dropped | None = None
    if article.warc_file and article.warc_offset is not None:
        copy = read_warc_record(Path(warc_dir), article.warc_file, article.warc_offset)
        if isinstance(copy, Dropped):
            frozen.problems.append(str(copy))
        elif copy.url and copy.url != article.url:
            detail["fetched_url"] = copy.url  # the canonical URL differs from the fetched one
    else:
        frozen.problems.append("evidence/no_warc: the article has no WARC record (ingested text?)")
    if isinstance(copy, WarcCopy):
        fetched_at = copy.warc_date or fetched_at
        rel = f"{case_id}/{article.id}.{_stamp(now)}.warc.gz"
        _write_frozen(Path(evidence_dir) / rel, copy.raw)
        frozen.records.append(case_store.add_evidence(EvidenceRecord(
            None, case_id, article.id, "page_record", rel, sha256_bytes(copy.raw), len(copy.raw),
            copy.url or article.url, fetched_at, now,
            {"warc_file": article.warc_file, "warc_offset": article.warc_offset, "http_status": copy.status,
             "payload_sha256": sha256_bytes(copy.body), **detail}), actor=actor))
        extracted = page_text(copy.body, copy.content_type, copy.url or article.url, timezone=timezone)
        if isinstance(extracted, Dropped):
            frozen.problems.append(f"text from the WARC record: {extracted}")
        else:
            text = extracted
            detail["text_source"] = "warc"
    if text is None:
        text = f"{article.title}\n\n{article.text}".strip() + "\n"
        detail["text_source"] = "index"
    data = text.encode("utf-8")
    rel = f"{case_id}/{article.id}.{_stamp(now)}.txt"
    _write_frozen(Path(evidence_dir) / rel, data)
    frozen.records.append(case_store.add_evidence(EvidenceRecord(
        None, case_id, article.id, "page_text", rel, sha256_bytes(data), len(data), article.url, fetched_at, now,
        {"text_source": detail["text_source"]}), actor=actor))
    if frozen.problems:
        case_store.record_event(case_id, "evidence_incomplete",
                                {"article_id": article.id, "problems": frozen.problems}, actor=actor)
        log.warning("case %s: evidence of %s incomplete: %s", case_id, article.id, "; ".join(frozen.problems))
    return frozen


def enter_queue(case_store: CaseStore, article: Article, risk_score: float | None, threshold: float,
                warc_dir: Path, evidence_dir: Path, *, timezone: str = "UTC", actor: str = "hpmon") -> int | None:
    """The pipeline hook: the id of the case the article is in once it entered the rebuttal
    queue (its risk is at or above ``threshold``), its evidence frozen; None when its risk is
    below the threshold (or unknown). Idempotent: processing an article again changes nothing."""
    if risk_score is None or risk_score < threshold:
        return None
    opening = case_store.open_case_for(article, risk_score, actor=actor)
    freeze_article(case_store, opening.case.id, article, warc_dir=warc_dir, evidence_dir=evidence_dir,
                   timezone=timezone, actor=actor)
    return opening.case.id


# -- export --------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    path: Path
    files: int
    problems: list[str]


_README = """Hồ sơ bằng chứng hpmon / hpmon evidence bundle

manifest.json liệt kê mọi tệp trong gói cùng mã băm SHA-256; với tệp bằng chứng, "frozen_sha256"
là mã băm ghi lại lúc đóng băng (khi bài vào hàng đợi). Hai mã phải trùng nhau.
case.json: hồ sơ, các bài báo, ghi chú, các lần kiểm tra lại. audit.json: nhật ký thao tác.
evidence/: bản ghi WARC nguyên gốc của trang (đọc bằng warcio) và văn bản trích xuất.

manifest.json lists every file of the bundle with its SHA-256; for evidence files,
"frozen_sha256" is the hash recorded when it was frozen (when the article entered the queue).
Both must match. case.json: the case, its articles, notes and rechecks. audit.json: the audit
trail. evidence/: the original WARC records of the pages (readable with warcio) and their text.
"""


def export_case(case_store: CaseStore, case_id: int, zip_path: Path, *, evidence_dir: Path,
                documents: Iterable[dict[str, Any]] = ()) -> ExportResult:
    """Write the case's evidence bundle to ``zip_path``; returns it with any problem found (a
    frozen file missing, or whose bytes no longer match the hash taken when it was frozen —
    the file is still included and the manifest says so)."""
    case = case_store.get(case_id)
    problems: list[str] = []
    entries: list[dict[str, Any]] = []
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(zip_path.name + ".part")

    def add(zf: zipfile.ZipFile, name: str, data: bytes, **meta: Any) -> None:
        zf.writestr(name, data)
        entries.append({"path": name, "sha256": sha256_bytes(data), "size": len(data), **meta})

    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for record in case_store.evidence(case_id):
            source = Path(evidence_dir) / record.path
            if not source.is_file():
                problems.append(f"missing: {record.path}")
                continue
            data = source.read_bytes()
            intact = sha256_bytes(data) == record.sha256
            if not intact:
                problems.append(f"changed since frozen: {record.path}")
            add(zf, f"evidence/{record.path}", data, kind=record.kind, article_id=record.article_id, url=record.url,
                fetched_at=record.to_dict()["fetched_at"], frozen_at=record.to_dict()["frozen_at"],
                frozen_sha256=record.sha256, intact=intact)
        body = {
            "case": case.to_dict(),
            "articles": [a.to_dict(with_text=True) for a in case_store.articles(case_id)],
            "notes": [n.to_dict() for n in case_store.notes(case_id)],
            "documents": list(documents) or [{"id": d} for d in case_store.documents(case_id)],
            "evidence": [r.to_dict() for r in case_store.evidence(case_id)],
            "rechecks": [r.to_dict() for r in case_store.rechecks(case_id)],
        }
        add(zf, "case.json", json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"))
        add(zf, "audit.json", json.dumps([a.to_dict() for a in case_store.audit(case_id)], ensure_ascii=False,
                                         indent=2).encode("utf-8"))
        add(zf, "README.txt", _README.encode("utf-8"))
        manifest = {"format": MANIFEST_FORMAT, "case_id": case_id, "case_state": case.state,
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "problems": problems,
                    "files": entries}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    os.replace(tmp, zip_path)
    case_store.record_event(case_id, "evidence_exported", {"files": len(entries), "problems": problems,
                                                           "zip": zip_path.name})
    return ExportResult(zip_path, len(entries), problems)


def _declared_size(entry: dict[str, Any]) -> int | None:
    size = entry.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def verify_export(zip_path: Path) -> list[str]:
    """What is wrong with an evidence bundle (empty when every file is there and matches both
    the manifest and the hash taken when it was frozen). Members are hashed in chunks and never
    inflated past the size the manifest gives them (an 815 KB zip can hold gigabytes): a
    hostile bundle gets a reason, not all the memory."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"not a readable zip: {exc}"]
    with zf:
        try:
            manifest = json.loads(read_member(zf, "manifest.json", MAX_MANIFEST_BYTES))
        except KeyError:
            return ["manifest.json is missing"]
        except TooLarge as exc:
            return [f"manifest.json is too large: {exc}"]
        except (ValueError, zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            return [f"manifest.json is unreadable: {exc}"]
        entries = manifest.get("files", []) if isinstance(manifest, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("path"), str)
                                                    for e in entries):
            return ["manifest.json is malformed: no list of files with their paths"]
        names = set(zf.namelist()) - {"manifest.json"}
        listed = {e["path"] for e in entries}
        problems.extend(f"not in the manifest: {n}" for n in sorted(names - listed))
        for entry in entries:
            path, declared = entry["path"], _declared_size(entry)
            try:
                digest, size = hash_member(zf, path, MAX_BUNDLE_MEMBER_BYTES if declared is None
                                           else min(declared, MAX_BUNDLE_MEMBER_BYTES))
            except KeyError:
                problems.append(f"missing: {path}")
                continue
            except TooLarge:
                problems.append(f"larger than the manifest says ({declared} bytes), not read further: {path}"
                                if declared is not None else f"larger than {MAX_BUNDLE_MEMBER_BYTES} bytes: {path}")
                continue
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                problems.append(f"unreadable: {path}: {exc}")
                continue
            if declared is not None and size != declared:
                problems.append(f"size differs from the manifest ({size} != {declared}): {path}")
            if digest != entry.get("sha256"):
                problems.append(f"hash mismatch: {path}")
            if "frozen_sha256" in entry and digest != entry["frozen_sha256"]:
                problems.append(f"differs from the frozen copy: {path}")
    return problems


# -- fetching politely -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime

    @property
    def content_type(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "content-type"), None)


@dataclass(frozen=True)
class _Redirect:
    url: str


class PoliteFetcher:
    """GETs with the office's User-Agent, a timeout, a size cap, robots.txt and a delay between
    requests to one host, connecting only where the address policy allows (``guard.net``:
    no loopback, private or link-local address unless its host is in ``allow_hosts``).
    Redirects are followed one hop at a time: each hop's address and its host's robots.txt
    are checked again. Returns ``Fetched`` or ``Dropped`` (why), never raises for the
    network. Use as a context manager."""

    def __init__(self, *, user_agent: str, timeout: float = 30.0, max_bytes: int = 5_000_000,
                 delay: float = 1.0, obey_robots: bool = True, max_redirects: int = 5,
                 allow_hosts: Iterable[str] = (), policy: HostPolicy | None = None) -> None:
        self.user_agent = user_agent
        self.max_bytes = max_bytes
        self.delay = delay
        self.obey_robots = obey_robots
        self.max_redirects = max_redirects
        self.policy = policy or HostPolicy.from_allow_hosts(allow_hosts)
        self._client = guarded_client(self.policy, headers={"User-Agent": user_agent}, timeout=timeout,
                                      follow_redirects=False)
        self._last: dict[str, float] = {}
        # per origin: the parsed robots.txt (Protego, the parser Scrapy's crawl uses), True/False
        # for "all allowed" (4xx) / "none" (401, 403), or why it cannot be read now
        self._robots: dict[str, Protego | bool | Dropped] = {}

    def __enter__(self) -> PoliteFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None and self.delay > 0:
            pause = self.delay - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)
        self._last[host] = time.monotonic()

    def _once(self, url: str, max_bytes: int) -> Fetched | Dropped | _Redirect:
        """One request, no redirect followed: the response, why there is none, or where it points."""
        try:
            self.policy.check_url(url)
            self._wait(urlsplit(url).netloc)
            with self._client.stream("GET", url) as response:
                if response.has_redirect_location and response.next_request is not None:
                    return _Redirect(str(response.next_request.url))
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    return Dropped("fetch", "too_large", f"{declared} bytes > {max_bytes}")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        return Dropped("fetch", "too_large", f"more than {max_bytes} bytes")
                    chunks.append(chunk)
                return Fetched(str(response.url), response.status_code, response.reason_phrase,
                               list(response.headers.multi_items()), b"".join(chunks), datetime.now(UTC))
        except Refused as exc:
            log.warning("refused to fetch %s: %s", url[:300], exc)
            return Dropped("fetch", exc.reason, exc.detail)
        except httpx.TimeoutException as exc:
            return Dropped("fetch", "timeout", str(exc) or "timed out")
        except httpx.HTTPError as exc:
            return Dropped("fetch", "connection_error", f"{type(exc).__name__}: {exc}")

    def _refusal(self, url: str) -> Dropped | None:
        """Why the address policy refuses ``url`` (before robots.txt is even asked), or None."""
        try:
            host, port = self.policy.check_url(url)
            self.policy.vet(host, port)
        except Refused as exc:
            log.warning("refused to fetch %s: %s", url[:300], exc)
            return Dropped("fetch", exc.reason, exc.detail)
        except OSError:  # not resolvable: the request itself reports it
            return None
        return None

    def _get(self, url: str, max_bytes: int, *, robots: bool = False) -> Fetched | Dropped:
        """GET ``url`` following up to ``max_redirects`` redirects, each hop checked (address
        policy; robots.txt of its host when ``robots``)."""
        for _ in range(self.max_redirects + 1):
            refused = self._refusal(url)
            if refused:
                return refused
            if robots:
                allowed = self.allowed(url)
                if isinstance(allowed, Dropped):
                    return allowed
                if not allowed:
                    return Dropped("fetch", "robots", f"robots.txt forbids {url[:300]}")
            got = self._once(url, max_bytes)
            if not isinstance(got, _Redirect):
                return got
            url = got.url
        return Dropped("fetch", "redirect_loop", f"more than {self.max_redirects} redirects")

    def allowed(self, url: str) -> bool | Dropped:
        """Whether robots.txt lets us fetch ``url`` (a Dropped when it cannot be read: 5xx or
        network errors mean "not now", as search engines treat them)."""
        if not self.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(origin)
        if parser is None:
            got = self._get(origin + "/robots.txt", MAX_ROBOTS_BYTES)
            if isinstance(got, Dropped):
                parser = Dropped("robots", got.reason, f"robots.txt: {got.detail}")
            elif got.status in (401, 403):
                parser = False
            elif got.status >= 500:
                parser = Dropped("robots", "unavailable", f"robots.txt answered {got.status}")
            elif got.status >= 400:
                parser = True
            else:
                parser = Protego.parse(got.body.decode("utf-8", "replace"))
            self._robots[origin] = parser
        if isinstance(parser, Dropped | bool):
            return parser
        agent = self.user_agent.split()[0].split("/")[0] if self.user_agent.strip() else "*"
        return parser.can_fetch(url, agent)

    def get(self, url: str) -> Fetched | Dropped:
        """The response to a GET of ``url`` (any status), or why there is none."""
        if not url.startswith(("http://", "https://")):
            return Dropped("fetch", "not_http", f"not an http(s) URL: {url[:200]}")
        return self._get(url, self.max_bytes, robots=True)


# -- recheck ---------------------------------------------------------------------------------


def _latest_text(case_store: CaseStore, evidence_dir: Path, case_id: int,
                 article_id: str) -> tuple[str, EvidenceRecord] | Dropped | None:
    """The last version of the article's text the office kept (checked against its hash)."""
    texts = [r for r in case_store.evidence(case_id, article_id) if r.kind in ("page_text", "recheck_text")]
    if not texts:
        return None
    record = texts[-1]
    path = Path(evidence_dir) / record.path
    if not path.is_file():
        return Dropped("recheck", "evidence_missing", f"frozen text missing: {record.path}")
    data = path.read_bytes()
    if sha256_bytes(data) != record.sha256:
        return Dropped("recheck", "evidence_changed", f"frozen text no longer matches its hash: {record.path}")
    return data.decode("utf-8"), record


def text_diff(old: str, new: str, *, old_label: str, new_label: str) -> str:
    """A unified diff of two versions of a text (capped)."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label,
                                 lineterm="", n=2)
    diff = "\n".join(lines)
    return diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n[… diff truncated]"


def _freeze_response(case_store: CaseStore, archive: WarcArchive, fetched: Fetched, article: CaseArticle,
                     case_id: int, *, warc_dir: Path, evidence_dir: Path, outcome: str,
                     text: str | None) -> dict[str, Any]:
    """Archive a response to WARC and freeze the record (and its text) in the case."""
    name, offset = archive.write_response(fetched.url, fetched.status, fetched.reason, fetched.headers, fetched.body,
                                          fetched.fetched_at)
    now = datetime.now(UTC)
    info: dict[str, Any] = {"warc_file": name, "warc_offset": offset}
    copy = read_warc_record(Path(warc_dir), name, offset)
    if isinstance(copy, WarcCopy):
        rel = f"{case_id}/{article.article_id}.{_stamp(now)}.recheck.warc.gz"
        _write_frozen(Path(evidence_dir) / rel, copy.raw)
        case_store.add_evidence(EvidenceRecord(
            None, case_id, article.article_id, "recheck_record", rel, sha256_bytes(copy.raw), len(copy.raw),
            fetched.url, fetched.fetched_at, now, {**info, "http_status": fetched.status, "outcome": outcome,
                                                   "payload_sha256": sha256_bytes(fetched.body)}))
    if text is not None:
        data = text.encode("utf-8")
        rel = f"{case_id}/{article.article_id}.{_stamp(now)}.recheck.txt"
        _write_frozen(Path(evidence_dir) / rel, data)
        case_store.add_evidence(EvidenceRecord(
            None, case_id, article.article_id, "recheck_text", rel, sha256_bytes(data), len(data), fetched.url,
            fetched.fetched_at, now, {"outcome": outcome}))
    return info


def recheck_article(case_store: CaseStore, case_id: int, article: CaseArticle, fetcher: PoliteFetcher,
                    archive: WarcArchive, *, warc_dir: Path, evidence_dir: Path, timezone: str = "UTC") -> Recheck:
    """Re-fetch one article of a case and record what changed since the last version kept:
    ``unchanged``, ``edited`` (with the diff), ``deleted`` (404/410; ``still_deleted`` after
    the first time), ``first_copy`` (nothing was frozen before: this is the baseline) or
    ``error`` (why). Every response is archived to WARC; changed versions are frozen."""
    checked_at = datetime.now(UTC)

    def result(outcome: str, **kw: Any) -> Recheck:
        return case_store.add_recheck(Recheck(None, case_id, article.article_id, article.url, checked_at, outcome,
                                              **kw))

    fetched = fetcher.get(article.url)
    if isinstance(fetched, Dropped):
        return result("error", detail=str(fetched))
    previous_checks = case_store.rechecks(case_id, article.article_id)
    was_deleted = bool(previous_checks) and previous_checks[-1].outcome in ("deleted", "still_deleted")
    if fetched.status in (404, 410):
        outcome = "still_deleted" if was_deleted else "deleted"
        info = {}
        if outcome == "deleted":
            info = _freeze_response(case_store, archive, fetched, article, case_id, warc_dir=warc_dir,
                                    evidence_dir=evidence_dir, outcome=outcome, text=None)
        else:
            name, offset = archive.write_response(fetched.url, fetched.status, fetched.reason, fetched.headers,
                                                  fetched.body, fetched.fetched_at)
            info = {"warc_file": name, "warc_offset": offset}
        return result(outcome, http_status=fetched.status, final_url=fetched.url,
                      detail=f"HTTP {fetched.status}; WARC {info['warc_file']}:{info['warc_offset']}")
    if fetched.status >= 400:
        name, offset = archive.write_response(fetched.url, fetched.status, fetched.reason, fetched.headers,
                                              fetched.body, fetched.fetched_at)
        return result("error", http_status=fetched.status, final_url=fetched.url,
                      detail=f"HTTP {fetched.status} (not a deletion); WARC {name}:{offset}")
    extracted = page_text(fetched.body, fetched.content_type, fetched.url, timezone=timezone)
    new_text = "" if isinstance(extracted, Dropped) else extracted
    note = f"no article text on the page any more ({extracted})" if isinstance(extracted, Dropped) else None
    latest = _latest_text(case_store, evidence_dir, case_id, article.article_id)
    if isinstance(latest, Dropped):
        archive.write_response(fetched.url, fetched.status, fetched.reason, fetched.headers, fetched.body,
                               fetched.fetched_at)
        return result("error", http_status=fetched.status, final_url=fetched.url, detail=str(latest))
    digest = sha256_bytes(new_text.encode("utf-8"))
    moved = f"redirected to {fetched.url}" if fetched.url != article.url else None
    if latest is None:
        _freeze_response(case_store, archive, fetched, article, case_id, warc_dir=warc_dir,
                         evidence_dir=evidence_dir, outcome="first_copy", text=new_text)
        return result("first_copy", http_status=fetched.status, final_url=fetched.url, text_sha256=digest,
                      detail=note or moved)
    old_text, old_record = latest
    if old_text == new_text:
        name, offset = archive.write_response(fetched.url, fetched.status, fetched.reason, fetched.headers,
                                              fetched.body, fetched.fetched_at)
        detail = "; ".join(x for x in ("available again" if was_deleted else None, moved) if x) or None
        return result("unchanged", http_status=fetched.status, final_url=fetched.url, text_sha256=digest,
                      detail=detail)
    info = _freeze_response(case_store, archive, fetched, article, case_id, warc_dir=warc_dir,
                            evidence_dir=evidence_dir, outcome="edited", text=new_text)
    old_when = old_record.fetched_at or old_record.frozen_at
    diff = text_diff(old_text, new_text, old_label=f"{article.url} @ {old_when.isoformat(timespec='seconds')}",
                     new_label=f"{fetched.url} @ {fetched.fetched_at.isoformat(timespec='seconds')}")
    detail = "; ".join(x for x in (note, moved, "available again" if was_deleted else None,
                                   f"WARC {info['warc_file']}:{info['warc_offset']}") if x)
    return result("edited", http_status=fetched.status, final_url=fetched.url, text_sha256=digest, diff=diff,
                  detail=detail)


def recheck(case_store: CaseStore, *, warc_dir: Path, evidence_dir: Path, user_agent: str, timeout: float = 30.0,
            max_bytes: int = 5_000_000, delay: float = 1.0, obey_robots: bool = True, timezone: str = "UTC",
            case_ids: Iterable[int] | None = None, states: Iterable[str] = RECHECK_STATES,
            allow_hosts: Iterable[str] = ()) -> list[Recheck]:
    """Re-fetch the articles of the queue (the given cases, else every case in ``states``) and
    record for each whether it was edited or deleted since it was first seen; returns the
    rechecks in order. One request at a time, ``delay`` seconds apart per host; only public
    addresses and the hosts in ``allow_hosts`` are fetched, on every redirect hop."""
    cases = [case_store.get(i) for i in case_ids] if case_ids is not None else case_store.list(states=states,
                                                                                              limit=100_000)
    results: list[Recheck] = []
    archive = WarcArchive(warc_dir, prefix="hpmon-recheck")
    try:
        with PoliteFetcher(user_agent=user_agent, timeout=timeout, max_bytes=max_bytes, delay=delay,
                           obey_robots=obey_robots, allow_hosts=allow_hosts) as fetcher:
            for case in cases:
                for article in case_store.articles(case.id):
                    if not article.url.startswith(("http://", "https://")):
                        continue
                    results.append(recheck_article(case_store, case.id, article, fetcher, archive,
                                                   warc_dir=warc_dir, evidence_dir=evidence_dir, timezone=timezone))
    finally:
        archive.close()
    return results
