"""Evidence frozen when an article enters the queue, and the exported bundle."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipeline.evidence import enter_queue, export_case, queue_threshold, verify_export
from records.cases import CaseStore
from tests.cases.conftest import SOVEREIGNTY_VI_HTML, archive_page, make_article

URL = "https://baonuocngoai.example/bien-dong/tau-trung-quoc-hoang-sa"
REPO = Path(__file__).resolve().parents[2]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _queued(store: CaseStore, warc_dir: Path, evidence_dir: Path, *, url: str = URL, story: str = "s1",
            risk: float = 0.62) -> tuple[int, object]:
    body = SOVEREIGNTY_VI_HTML.encode("utf-8")
    warc = archive_page(warc_dir, url, body, fetched_at=datetime(2026, 11, 14, 13, 0, tzinfo=UTC))
    article = make_article(url, title="Tàu Trung Quốc hoạt động trái phép ở quần đảo Hoàng Sa",
                           text="Một tàu khảo sát của Trung Quốc...", story_id=story, risk=risk, warc=warc)
    case_id = enter_queue(store, article, article.risk_score, 0.30, warc_dir, evidence_dir)
    assert case_id is not None
    return case_id, article


def test_article_entering_the_queue_freezes_its_warc_record_and_text_with_hashes(
        store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    case_id, article = _queued(store, warc_dir, evidence_dir)
    records = {r.kind: r for r in store.evidence(case_id)}
    assert set(records) == {"page_record", "page_text"}
    record, text = records["page_record"], records["page_text"]
    assert record.path.startswith(f"{case_id}/") and text.path.startswith(f"{case_id}/")

    raw = (evidence_dir / record.path).read_bytes()
    assert _sha(raw) == record.sha256 and len(raw) == record.size
    # the copy is the exact record of the crawl's WARC file, byte for byte
    original = (warc_dir / article.warc_file).read_bytes()[article.warc_offset:article.warc_offset + len(raw)]
    assert raw == original
    # ... and a valid WARC on its own, with the page as fetched
    rec = next(iter(ArchiveIterator(io.BytesIO(raw))))
    assert rec.rec_headers.get_header("WARC-Target-URI") == URL
    assert rec.content_stream().read() == SOVEREIGNTY_VI_HTML.encode("utf-8")
    assert record.fetched_at == datetime(2026, 11, 14, 13, 0, tzinfo=UTC)
    assert record.detail["payload_sha256"] == _sha(SOVEREIGNTY_VI_HTML.encode("utf-8"))

    frozen_text = (evidence_dir / text.path).read_bytes()
    assert _sha(frozen_text) == text.sha256
    decoded = frozen_text.decode("utf-8")
    assert decoded.startswith("Tàu Trung Quốc hoạt động trái phép ở quần đảo Hoàng Sa\n\n")
    assert "thành phố Tam Sa" in decoded and "<p>" not in decoded
    assert text.detail["text_source"] == "warc"
    # frozen files are read-only, and the audit trail says what was frozen
    assert not os.access(evidence_dir / record.path, os.W_OK) or os.geteuid() == 0
    frozen = [a for a in store.audit(case_id) if a.action == "evidence_frozen"]
    assert {a.detail["sha256"] for a in frozen} == {record.sha256, text.sha256}


def test_below_the_threshold_nothing_is_queued_or_frozen(store: CaseStore, warc_dir: Path,
                                                         evidence_dir: Path) -> None:
    article = make_article(URL, risk=0.29)
    assert enter_queue(store, article, 0.29, 0.30, warc_dir, evidence_dir) is None
    assert enter_queue(store, article, None, 0.30, warc_dir, evidence_dir) is None
    assert store.list(states=None) == []
    assert not evidence_dir.exists()


def test_at_the_threshold_the_article_is_queued(store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    article = make_article(URL, risk=0.30)
    assert enter_queue(store, article, 0.30, 0.30, warc_dir, evidence_dir) is not None


def test_threshold_comes_from_the_risk_configuration() -> None:
    assert queue_threshold(REPO / "config") == 0.30


def test_entering_the_queue_twice_freezes_once(store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    case_id, article = _queued(store, warc_dir, evidence_dir)
    again = enter_queue(store, article, article.risk_score, 0.30, warc_dir, evidence_dir)
    assert again == case_id
    assert len(store.evidence(case_id)) == 2
    assert len(list((evidence_dir / str(case_id)).iterdir())) == 2


def test_another_article_of_the_story_joins_the_case_with_its_own_evidence(
        store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    case_id, first = _queued(store, warc_dir, evidence_dir)
    second_id, second = _queued(store, warc_dir, evidence_dir, url=URL + "-ban-dang-lai")
    assert second_id == case_id
    assert {r.article_id for r in store.evidence(case_id)} == {first.id, second.id}
    assert len(store.evidence(case_id)) == 4


def test_article_without_a_warc_record_freezes_its_text_and_says_what_is_missing(
        store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    article = make_article("urn:hpmon:pasted", title="Bài dán tay", text="Nội dung về Hoàng Sa.")
    case_id = enter_queue(store, article, 0.7, 0.30, warc_dir, evidence_dir)
    records = store.evidence(case_id)
    assert [r.kind for r in records] == ["page_text"]
    assert (evidence_dir / records[0].path).read_text(encoding="utf-8") == "Bài dán tay\n\nNội dung về Hoàng Sa.\n"
    assert records[0].detail["text_source"] == "index"
    gap = [a for a in store.audit(case_id) if a.action == "evidence_incomplete"]
    assert gap and "no_warc" in gap[0].detail["problems"][0]


def test_a_missing_warc_file_is_recorded_not_raised(store: CaseStore, warc_dir: Path, evidence_dir: Path) -> None:
    article = make_article(URL, warc=("hpmon-gone.warc.gz", 0))
    case_id = enter_queue(store, article, 0.7, 0.30, warc_dir, evidence_dir)
    assert [r.kind for r in store.evidence(case_id)] == ["page_text"]
    gap = [a for a in store.audit(case_id) if a.action == "evidence_incomplete"][0]
    assert "warc_missing" in gap.detail["problems"][0]


def test_exported_zip_holds_evidence_case_and_audit_and_its_manifest_verifies(
        store: CaseStore, warc_dir: Path, evidence_dir: Path, tmp_path: Path) -> None:
    case_id, article = _queued(store, warc_dir, evidence_dir)
    store.add_note(case_id, "Đối chiếu với tuyên bố của Bộ Ngoại giao", actor="lan")
    result = export_case(store, case_id, tmp_path / "out" / "case.zip", evidence_dir=evidence_dir)
    assert result.problems == []
    assert verify_export(result.path) == []
    with zipfile.ZipFile(result.path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
        assert {"case.json", "audit.json", "manifest.json", "README.txt"} <= names
        by_path = {e["path"]: e for e in manifest["files"]}
        assert set(by_path) == names - {"manifest.json"}
        for entry in manifest["files"]:
            assert _sha(zf.read(entry["path"])) == entry["sha256"]
        for record in store.evidence(case_id):
            entry = by_path[f"evidence/{record.path}"]
            assert entry["frozen_sha256"] == record.sha256 == entry["sha256"]
            assert entry["intact"] is True and entry["url"] == URL
        case = json.loads(zf.read("case.json"))
        assert case["case"]["id"] == case_id and case["articles"][0]["url"] == URL
        assert case["notes"][0]["text"] == "Đối chiếu với tuyên bố của Bộ Ngoại giao"
        audit = json.loads(zf.read("audit.json"))
        assert [a["action"] for a in audit][:1] == ["opened"]
    assert store.audit(case_id)[-1].action == "evidence_exported"


def test_export_flags_evidence_changed_after_it_was_frozen(store: CaseStore, warc_dir: Path, evidence_dir: Path,
                                                           tmp_path: Path) -> None:
    case_id, _ = _queued(store, warc_dir, evidence_dir)
    text = next(r for r in store.evidence(case_id) if r.kind == "page_text")
    path = evidence_dir / text.path
    os.chmod(path, 0o644)
    path.write_text("Nội dung đã bị sửa", encoding="utf-8")
    result = export_case(store, case_id, tmp_path / "case.zip", evidence_dir=evidence_dir)
    assert result.problems == [f"changed since frozen: {text.path}"]
    assert verify_export(result.path) == [f"differs from the frozen copy: evidence/{text.path}"]


def test_verify_detects_a_bundle_altered_after_export(store: CaseStore, warc_dir: Path, evidence_dir: Path,
                                                      tmp_path: Path) -> None:
    case_id, _ = _queued(store, warc_dir, evidence_dir)
    good = export_case(store, case_id, tmp_path / "good.zip", evidence_dir=evidence_dir).path
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "case.json":
                data = data.replace("Hoàng Sa".encode(), "Tây Sa".encode())
            dst.writestr(item, data)
        dst.writestr("extra.txt", b"added later")
    problems = verify_export(bad)
    assert "hash mismatch: case.json" in problems and "not in the manifest: extra.txt" in problems
