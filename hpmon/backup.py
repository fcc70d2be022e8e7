"""Backups, restores and the retention policy of a data directory.

``backup(settings, dest)`` copies, consistently while the service runs:

- every SQLite database in HOME (index, crawl state, stories, the office's records, the
  outbox...) through SQLite's online backup API, which copies a committed snapshot even while
  another process writes;
- the WARC archive: finished files as they are, the file a running crawl is appending to cut
  at its last complete record (a half-written record is not evidence);
- the models and every other file of HOME (settings file, evidence), except logs, the lock,
  the service's scratch files and SQLite's -wal/-shm companions;

and writes ``manifest.json`` with each file's size and sha256. A backup of a corrupt database
would be a corrupt backup that looks sound: before anything is written every database gets
SQLite's ``quick_check`` (as ``hpmon doctor`` runs it), and one that fails is refused by name
with the way out; a backup that fails part way (a full disk at DEST) is removed, so DEST never
holds half a backup. ``restore`` checks every hash
first, refuses while a service runs on the target HOME (and holds the lock itself meanwhile),
and removes stale -wal/-shm files so a restored database is exactly the copy.

Retention (``retention_plan``/``apply_retention``): full text older than
``retention_text_years`` is cleared (title, lead, metadata and reasons stay); WARC files older
than ``retention_warc_years`` are deleted unless they hold a page of an article in a case
(evidence is kept forever). Zero years means keep forever.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawlers.warc import complete_warc_length
from hpmon.doctor import check_database, database_paths
from hpmon.service import LOCK_FILE, RUN_DIR, InstanceLock
from hpmon.settings import Settings

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SQLITE_MAGIC = b"SQLite format 3\x00"
SKIP_DIRS = {"logs", RUN_DIR}
SKIP_SUFFIXES = ("-wal", "-shm", "-journal")
WARC_NAME = re.compile(r"^(?P<prefix>.+)-(?P<stamp>\d{14})-(?P<pid>\d+)\.warc\.gz$")
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why."""


@dataclass
class ManifestEntry:
    path: str  # relative to HOME, with /
    kind: str  # sqlite | warc | model | file
    size: int
    sha256: str


@dataclass
class Manifest:
    created_at: str
    hpmon_version: str
    home: str
    files: list[ManifestEntry] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(created_at=raw["created_at"], hpmon_version=raw["hpmon_version"], home=raw["home"],
                   files=[ManifestEntry(**f) for f in raw["files"]])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _home_files(home: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(home):
        rel_root = Path(root).relative_to(home)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".pre-restore")]
        for name in sorted(files):
            if name.endswith(SKIP_SUFFIXES) or (rel_root == Path(".") and name == LOCK_FILE):
                continue
            yield Path(root) / name


def _kind(rel: Path, path: Path) -> str:
    if _is_sqlite(path):
        return "sqlite"
    if rel.parts and rel.parts[0] == "warc":
        return "warc"
    if rel.parts and rel.parts[0] == "models":
        return "model"
    return "file"


def _copy_sqlite(src: Path, dest: Path) -> None:
    """A committed snapshot of a live database (SQLite's online backup API)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dest)
    try:
        source.backup(target, pages=4096)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal to carry along
    finally:
        target.close()
        source.close()


def _writer_alive(path: Path) -> bool:
    match = WARC_NAME.match(path.name)
    if not match:
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _copy_warc(src: Path, dest: Path) -> None:
    shutil.copyfile(src, dest)
    if _writer_alive(src):
        length = complete_warc_length(dest)
        with dest.open("r+b") as fh:
            fh.truncate(length)


def unsound_databases(settings: Settings) -> list[str]:
    """``name: reason`` for each database of HOME that fails SQLite's ``quick_check`` (or is not
    a database any more: an empty file, a garbled header); empty when every one is sound."""
    home = settings.home
    paths = dict.fromkeys(database_paths(settings))
    paths.update(dict.fromkeys(p for p in _home_files(home) if _is_sqlite(p)))
    problems = []
    for path in paths:
        try:
            problem = check_database(path)
        except OSError as exc:  # removed meanwhile, or unreadable
            if not path.exists():
                continue
            problem = f"cannot read: {exc}"
        if problem:
            problems.append(f"{path.relative_to(home).as_posix()}: {problem}")
    return problems


def backup(settings: Settings, dest: Path) -> Manifest:
    """Copy HOME into ``dest`` (new or empty) and write its manifest; returns the manifest.
    BackupError, with nothing written, when a database is corrupt; when a copy fails part way
    what was written is removed before the error is raised."""
    from hpmon import __version__

    home = settings.home
    if not home.is_dir():
        raise BackupError(f"no data directory at {home}")
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: back up into a new directory")
    if dest.resolve().is_relative_to(home.resolve()):
        raise BackupError(f"{dest} is inside the data directory {home}")
    unsound = unsound_databases(settings)
    if unsound:
        busy = all("database is locked" in u for u in unsound)
        if busy:
            raise BackupError("cannot check the databases, they are locked: " + "; ".join(unsound)
                              + ". Nothing was backed up; run `hpmon backup` again")
        raise BackupError("refusing to back up a corrupt database (a copy would be a corrupt backup that looks "
                          "sound): " + "; ".join(unsound) + f". Nothing was written to {dest}. Restore the data "
                          "directory from the last good backup with `hpmon restore BACKUP_DIR --force` (stop "
                          "`hpmon run` first), then back up again; `hpmon doctor --full` shows the damage")
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        return _backup_into(settings, dest, __version__)
    except BaseException:
        _remove_partial(dest, created)
        raise


def _remove_partial(dest: Path, created: bool) -> None:
    """Remove a backup that failed part way (``dest`` itself too when this backup created it)."""
    try:
        if created:
            shutil.rmtree(dest)
        else:  # it was empty: empty it again
            for child in dest.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    except OSError as exc:
        logger.error("could not remove the incomplete backup in %s: %s (delete it by hand)", dest, exc)
    else:
        logger.error("backup failed: the incomplete copy in %s was removed", dest)


def _backup_into(settings: Settings, dest: Path, version: str) -> Manifest:
    home = settings.home
    os.chmod(dest, 0o700)  # it holds the office's records
    manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"), hpmon_version=version,
                        home=str(home.resolve()))
    for path in _home_files(home):
        rel = path.relative_to(home)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        kind = _kind(rel, path)
        try:
            if kind == "sqlite":
                _copy_sqlite(path, target)
            elif kind == "warc" and path.name.endswith(".warc.gz"):
                _copy_warc(path, target)
            else:
                shutil.copyfile(path, target)
        except FileNotFoundError:  # removed meanwhile (a rotated scratch file): nothing to keep
            continue
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise BackupError(f"disk full at {dest} while copying {rel}: {exc}") from exc
            raise BackupError(f"{rel}: cannot copy the database: {exc}") from exc
        manifest.files.append(ManifestEntry(rel.as_posix(), kind, target.stat().st_size, sha256_file(target)))
        logger.info("backed up %s (%s)", rel, kind)
    (dest / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _through_link(root: Path, relative: Path) -> bool:
    """Whether the file or any folder on its way inside ``root`` is a symbolic link (restoring
    through one would read, or write, outside the backup and the data directory)."""
    path = root
    for part in relative.parts:
        path = path / part
        if path.is_symlink():
            return True
    return False


def verify(src: Path) -> tuple[Manifest, list[str]]:
    """The backup's manifest and the problems found checking every file against it."""
    manifest_path = src / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{src} has no {MANIFEST}: not an hpmon backup")
    manifest = Manifest.load(manifest_path)
    problems = []
    for entry in manifest.files:
        path = src / entry.path
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            problems.append(f"{entry.path}: path outside the backup")
        elif _through_link(src, Path(entry.path)):
            problems.append(f"{entry.path}: a symbolic link (a backup holds only plain files)")
        elif not path.is_file():
            problems.append(f"{entry.path}: missing")
        elif path.stat().st_size != entry.size:  # checked before hashing: a swollen file is not read
            problems.append(f"{entry.path}: sha256 differs from the manifest ({path.stat().st_size} bytes, "
                            f"the manifest says {entry.size}: not hashed)")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{entry.path}: sha256 differs from the manifest")
    return manifest, problems


def _copy_checked(src: Path, dest: Path, entry: ManifestEntry) -> None:
    """Copy one verified file again checking, as it is copied, its size and hash against the
    manifest (the backup may have changed since it was verified); BackupError when they differ."""
    digest, size = hashlib.sha256(), 0
    try:
        with src.open("rb") as fh, dest.open("wb") as out:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                if size > entry.size:
                    raise BackupError(f"{entry.path}: grew past the {entry.size} bytes of the manifest while restoring")
                digest.update(chunk)
                out.write(chunk)
        if size != entry.size or digest.hexdigest() != entry.sha256:
            raise BackupError(f"{entry.path}: changed since it was verified; restore stopped")
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def restore(settings: Settings, src: Path, *, force: bool = False) -> Manifest:
    """Put a verified backup into HOME; returns its manifest. Refuses while ``hpmon run`` holds
    HOME's lock, and over existing data unless ``force``."""
    manifest, problems = verify(src)
    if problems:
        raise BackupError("backup damaged, nothing restored: " + "; ".join(problems[:10]))
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    lock = InstanceLock(home)
    try:
        lock.acquire()
    except RuntimeError as exc:  # AlreadyRunning
        raise BackupError(f"refusing to restore: {exc}") from exc
    try:
        existing = [e.path for e in manifest.files if (home / e.path).exists()]
        if existing and not force:
            raise BackupError(f"{home} already has {len(existing)} of these files (e.g. {existing[0]}); "
                              "use --force to overwrite them")
        linked = [e.path for e in manifest.files if _through_link(home, Path(e.path))]
        if linked:
            raise BackupError(f"refusing to restore through a symbolic link in {home}: {linked[0]}")
        needed = sum(e.size for e in manifest.files)
        free = shutil.disk_usage(home).free
        if needed > free:
            raise BackupError(f"refusing to restore: the backup needs {needed} bytes, {home} has {free} free")
        for entry in manifest.files:
            target = home / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".restoring")
            _copy_checked(src / entry.path, tmp, entry)
            if entry.kind == "sqlite":
                for suffix in SKIP_SUFFIXES:
                    Path(str(target) + suffix).unlink(missing_ok=True)
            os.replace(tmp, target)
            logger.info("restored %s", entry.path)
    finally:
        lock.release()
    return manifest


# -- retention ------------------------------------------------------------------------------


@dataclass
class RetentionPlan:
    """What the retention policy would do now (and why each kept WARC file is kept)."""

    text_cutoff: str | None
    warc_cutoff: str | None
    clear_text: list[str] = field(default_factory=list)  # article ids
    delete_warc: list[str] = field(default_factory=list)  # file names
    keep_warc_for_cases: dict[str, list[str]] = field(default_factory=dict)  # file -> case article ids

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _years_ago(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def case_article_ids(app_db: Path) -> set[str]:
    """Articles in a rebuttal case (their evidence is kept forever)."""
    if not app_db.exists():
        return set()
    conn = sqlite3.connect(f"file:{app_db}?mode=ro", uri=True, timeout=10)
    ids: set[str] = set()
    try:
        for table in ("case_cases", "case_articles", "case_evidence"):
            try:
                ids.update(r[0] for r in conn.execute(f"SELECT article_id FROM {table}"))
            except sqlite3.OperationalError:
                continue
    finally:
        conn.close()
    return ids


def retention_plan(settings: Settings, text_years: int, warc_years: int, *, now: datetime | None = None,
                   backend: Any = None) -> RetentionPlan:
    """What to clear and delete under the policy (zero years: keep forever)."""
    from hpmon.app import open_backend

    now = now or datetime.now(UTC)
    text_cutoff = _years_ago(now, text_years) if text_years > 0 else None
    warc_cutoff = _years_ago(now, warc_years) if warc_years > 0 else None
    plan = RetentionPlan(text_cutoff=text_cutoff.isoformat() if text_cutoff else None,
                         warc_cutoff=warc_cutoff.isoformat() if warc_cutoff else None)
    if text_cutoff is None and warc_cutoff is None:
        return plan
    in_cases = case_article_ids(settings.app_db_path)
    warc_articles: dict[str, list[str]] = {}
    own = backend is None
    backend = backend or open_backend(settings)
    try:
        for article in backend.iter_articles():
            if article.warc_file:
                warc_articles.setdefault(article.warc_file, []).append(article.id)
            when = article.fetched_at or article.published_at
            if text_cutoff and when and when < text_cutoff and article.text and article.id not in in_cases:
                plan.clear_text.append(article.id)
    finally:
        if own:
            backend.close()
    if warc_cutoff and settings.warc_dir.is_dir():
        for path in sorted(settings.warc_dir.glob("*.warc.gz")):
            match = WARC_NAME.match(path.name)
            if not match:
                continue
            written = datetime.strptime(match["stamp"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            if written >= warc_cutoff:
                continue
            cases = [a for a in warc_articles.get(path.name, []) if a in in_cases]
            if cases:
                plan.keep_warc_for_cases[path.name] = cases
            else:
                plan.delete_warc.append(path.name)
    return plan


def apply_retention(settings: Settings, plan: RetentionPlan, *, backend: Any = None) -> dict[str, int]:
    """Carry out a plan: clear the texts (flag ``text_expired``), delete the WARC files; returns counts."""
    from hpmon.app import open_backend

    own = backend is None
    backend = backend or open_backend(settings)
    cleared = 0
    try:
        batch = []
        for article_id in plan.clear_text:
            article = backend.get(article_id)
            if article is None:
                continue
            flags = list(article.flags or [])
            if "text_expired" not in flags:
                flags.append("text_expired")
            batch.append(dataclasses.replace(article, text="", flags=flags))
            if len(batch) >= 200:
                cleared += len(backend.upsert(batch).written)
                batch = []
        if batch:
            cleared += len(backend.upsert(batch).written)
        backend.refresh()
    finally:
        if own:
            backend.close()
    deleted = 0
    for name in plan.delete_warc:
        (settings.warc_dir / name).unlink(missing_ok=True)
        deleted += 1
    return {"texts_cleared": cleared, "warc_deleted": deleted}
