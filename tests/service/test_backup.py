"""Backups while the data is being written, restores that refuse to clobber a running
service, and the retention policy that keeps case evidence forever."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from hpmon.backup import BackupError, backup, restore, retention_plan, verify
from hpmon.service import InstanceLock
from hpmon.settings import Settings
from index.article import Article
from index.sqlite import SqliteBackend


def _settings(home) -> Settings:
    return Settings(home=home)


def _article(n: int, fetched: datetime, warc: str) -> Article:
    return Article(id=f"a{n}", url=f"https://example.vn/{n}.html", source_id="fx", title=f"Hải Phòng {n}",
                   text=f"Bài {n} về Hải Phòng. " * 20, language="vi", fetched_at=fetched, published_at=fetched,
                   warc_file=warc, warc_offset=0)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    (home / "warc").mkdir(parents=True)
    (home / "models").mkdir()
    (home / "models" / "topics.json").write_text('{"weights": [1, 2, 3]}')
    (home / "warc" / "hpmon-20200101000000-1.warc.gz").write_bytes(b"old evidence")
    (home / "warc" / "hpmon-20200102000000-1.warc.gz").write_bytes(b"old, no case")
    (home / "logs").mkdir()
    (home / "logs" / "hpmon.log").write_text("not backed up")
    with sqlite3.connect(home / "hpmon.sqlite") as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE case_cases (id INTEGER PRIMARY KEY, article_id TEXT)")
        conn.execute("INSERT INTO case_cases(article_id) VALUES ('a1')")
        conn.execute("CREATE TABLE writes (n INTEGER)")
    backend = SqliteBackend(home / "index.sqlite")
    old = datetime(2020, 1, 1, tzinfo=UTC)
    backend.upsert([_article(1, old, "hpmon-20200101000000-1.warc.gz"),
                    _article(2, old + timedelta(days=1), "hpmon-20200102000000-1.warc.gz"),
                    _article(3, datetime.now(UTC), "hpmon-20200102000000-1.warc.gz")])
    backend.close()
    return home


def test_backup_while_writing_gives_consistent_databases_and_a_verified_manifest(home, tmp_path):
    stop = threading.Event()

    def writer():
        conn = sqlite3.connect(home / "hpmon.sqlite", timeout=30)
        n = 0
        while not stop.is_set():
            with conn:
                conn.execute("INSERT INTO writes(n) VALUES (?)", (n,))
            n += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = backup(_settings(home), tmp_path / "bk")
    finally:
        stop.set()
        thread.join()
    names = {f.path: f.kind for f in manifest.files}
    assert names["index.sqlite"] == names["hpmon.sqlite"] == "sqlite"
    assert names["models/topics.json"] == "model" and names["warc/hpmon-20200101000000-1.warc.gz"] == "warc"
    assert not any(p.startswith("logs/") or p.endswith(("-wal", "-shm")) for p in names)
    for name in ("index.sqlite", "hpmon.sqlite"):
        with sqlite3.connect(tmp_path / "bk" / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    _, problems = verify(tmp_path / "bk")
    assert problems == []
    assert json.loads((tmp_path / "bk" / "manifest.json").read_text())["files"]


def test_restore_refuses_while_the_service_holds_the_lock(home, tmp_path):
    backup(_settings(home), tmp_path / "bk")
    target = tmp_path / "target"
    target.mkdir()
    with InstanceLock(target), pytest.raises(BackupError, match="refusing to restore"):
        restore(_settings(target), tmp_path / "bk")
    restored = restore(_settings(target), tmp_path / "bk")
    assert (target / "models" / "topics.json").read_text() == '{"weights": [1, 2, 3]}'
    assert len(restored.files) == len(list(f for f in restored.files))
    backend = SqliteBackend(target / "index.sqlite")
    assert backend.count() == 3
    backend.close()
    with pytest.raises(BackupError, match="--force"):
        restore(_settings(target), tmp_path / "bk")
    restore(_settings(target), tmp_path / "bk", force=True)


def test_a_damaged_backup_restores_nothing(home, tmp_path):
    backup(_settings(home), tmp_path / "bk")
    (tmp_path / "bk" / "models" / "topics.json").write_text("tampered")
    target = tmp_path / "target"
    with pytest.raises(BackupError, match="models/topics.json: sha256 differs"):
        restore(_settings(target), tmp_path / "bk")
    assert not (target / "index.sqlite").exists()


def test_restore_refuses_symbolic_links_in_the_backup_and_in_the_target(home, tmp_path):
    import hashlib
    import shutil

    secret = tmp_path / "outside-secret.txt"
    secret.write_text("not hpmon's")
    backup(_settings(home), tmp_path / "bk")
    # a backup whose file is a link to a file outside it (with a matching checksum)
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    entry = next(e for e in manifest["files"] if e["path"].startswith("models/"))
    (tmp_path / "bk" / entry["path"]).unlink()
    (tmp_path / "bk" / entry["path"]).symlink_to(secret)
    entry["sha256"] = hashlib.sha256(secret.read_bytes()).hexdigest()
    (tmp_path / "bk" / "manifest.json").write_text(json.dumps(manifest))
    target = tmp_path / "target"
    with pytest.raises(BackupError, match="symbolic link"):
        restore(_settings(target), tmp_path / "bk")
    assert not (target / "index.sqlite").exists()
    # a clean backup, but the target's models folder is a link elsewhere
    shutil.rmtree(tmp_path / "bk")
    backup(_settings(home), tmp_path / "bk2")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target2 = tmp_path / "target2"
    target2.mkdir()
    (target2 / "models").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BackupError, match="symbolic link"):
        restore(_settings(target2), tmp_path / "bk2")
    assert list(elsewhere.iterdir()) == []


def test_retention_clears_old_text_and_keeps_warc_of_case_articles(home):
    plan = retention_plan(_settings(home), text_years=5, warc_years=2, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert plan.clear_text == ["a2"]  # a1 is in a case, a3 is recent
    assert plan.delete_warc == ["hpmon-20200102000000-1.warc.gz"]  # written in 2020, no case article
    assert plan.keep_warc_for_cases == {"hpmon-20200101000000-1.warc.gz": ["a1"]}


def test_applying_retention_clears_text_and_deletes_files_but_keeps_cases(home):
    from hpmon.backup import apply_retention

    settings = _settings(home)
    plan = retention_plan(settings, text_years=5, warc_years=2, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert apply_retention(settings, plan) == {"texts_cleared": 1, "warc_deleted": 1}
    backend = SqliteBackend(home / "index.sqlite")
    try:
        assert backend.get("a2").text == "" and "text_expired" in backend.get("a2").flags
        assert backend.get("a2").title == "Hải Phòng 2"
        assert backend.get("a1").text and backend.get("a3").text
    finally:
        backend.close()
    assert (home / "warc" / "hpmon-20200101000000-1.warc.gz").exists()
    assert not (home / "warc" / "hpmon-20200102000000-1.warc.gz").exists()
