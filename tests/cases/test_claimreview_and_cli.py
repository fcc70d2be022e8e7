"""ClaimReview JSON-LD of a published rebuttal, and the `hpmon cases/evidence/library` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpmon.commands.cases import cases, evidence, library
from hpmon.settings import Settings
from pipeline.evidence import enter_queue, verify_export
from records.cases import APPROVER_ROLE, CaseStore, WorkflowError, json_ld
from tests.cases.conftest import SOVEREIGNTY_VI_HTML, archive_page, make_article

ARTICLE_URL = "https://baonuocngoai.example/bien-dong/tam-sa"
REBUTTAL_URL = "https://thongtindoingoai.haiphong.gov.vn/phan-bac/tam-sa"


def _published(store: CaseStore) -> int:
    article = make_article(ARTICLE_URL, title="Trung Quốc nói về 'thành phố Tam Sa'", outlet="Báo Nước Ngoài")
    case_id = store.open_case_for(article).case.id
    store.open_case_for(make_article(ARTICLE_URL + "-2", story_id=article.story_id, outlet="Trang Khác"))
    store.move(case_id, "triaged", actor="lan")
    store.move(case_id, "drafting", actor="lan")
    store.set_rebuttal(case_id, claim="Quần đảo Hoàng Sa thuộc cái gọi là thành phố Tam Sa của Trung Quốc",
                       verdict="false", rebuttal="Hoàng Sa là lãnh thổ của Việt Nam; bằng chứng lịch sử và pháp lý...",
                       actor="lan")
    store.move(case_id, "awaiting_approval", actor="lan")
    store.move(case_id, "published", actor="minh", roles={APPROVER_ROLE}, published_url=REBUTTAL_URL)
    return case_id


def test_claimreview_of_a_published_rebuttal_has_the_required_fields(store: CaseStore) -> None:
    case_id = _published(store)
    data = json.loads(json.dumps(store.claim_review(case_id, author_name="Thông tin đối ngoại Hải Phòng",
                                                    author_url="https://haiphong.gov.vn",
                                                    timezone="Asia/Ho_Chi_Minh")))
    assert data["@context"] == "https://schema.org" and data["@type"] == "ClaimReview"
    assert data["url"] == REBUTTAL_URL
    assert data["claimReviewed"].startswith("Quần đảo Hoàng Sa thuộc")
    assert data["author"] == {"@type": "Organization", "name": "Thông tin đối ngoại Hải Phòng",
                              "url": "https://haiphong.gov.vn"}
    assert len(data["datePublished"]) == 10 and data["datePublished"][4] == "-"
    rating = data["reviewRating"]
    assert rating["@type"] == "Rating" and rating["alternateName"] == "Sai sự thật"
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    item = data["itemReviewed"]
    assert item["@type"] == "Claim" and item["url"] == ARTICLE_URL
    assert item["firstAppearance"]["url"] == ARTICLE_URL
    assert [a["url"] for a in item["appearance"]] == [ARTICLE_URL, ARTICLE_URL + "-2"]
    assert item["author"] == {"@type": "Organization", "name": "Báo Nước Ngoài"}


def test_claimreview_json_is_safe_to_embed_in_a_script_element(store: CaseStore) -> None:
    hostile = 'Báo </script><svg onload=alert(1)> & <!-- x'
    article = make_article(ARTICLE_URL, title="Tam Sa", outlet=hostile)
    case_id = store.open_case_for(article).case.id
    for state in ("triaged", "drafting"):
        store.move(case_id, state, actor="lan")
    store.set_rebuttal(case_id, claim="Claim </SCRIPT> with <b>markup</b>", verdict="false", rebuttal="…", actor="lan")
    store.move(case_id, "awaiting_approval", actor="lan")
    store.move(case_id, "published", actor="minh", roles={APPROVER_ROLE}, published_url=REBUTTAL_URL)
    data = store.claim_review(case_id, author_name="x")
    text = json_ld(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data  # the same data, only escaped
    assert data["itemReviewed"]["author"]["name"] == hostile


def test_claimreview_is_refused_before_publication(store: CaseStore) -> None:
    case_id = store.open_case_for(make_article(ARTICLE_URL)).case.id
    with pytest.raises(WorkflowError) as info:
        store.claim_review(case_id, author_name="x")
    assert info.value.code == "not_published"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def _run(group, args: list[str], settings: Settings, ok: bool = True):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(group, args, obj={"settings": settings}, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_cases_commands_walk_a_case_through_the_workflow(settings: Settings, tmp_path: Path) -> None:
    settings.home.mkdir(parents=True)
    store = CaseStore(settings.app_db_path)
    warc = archive_page(settings.warc_dir, ARTICLE_URL, SOVEREIGNTY_VI_HTML.encode("utf-8"))
    article = make_article(ARTICLE_URL, title="Tàu [bold]lạ[/bold] ở Hoàng Sa", warc=warc)
    case_id = enter_queue(store, article, 0.7, 0.3, settings.warc_dir, settings.home / "evidence")
    store.close()
    doc = tmp_path / "tuyen-bo.txt"
    doc.write_text("Tuyên bố về chủ quyền Hoàng Sa\n\nViệt Nam phản đối cái gọi là thành phố Tam Sa.", encoding="utf-8")

    added = json.loads(_run(library, ["add", str(doc), "--kind", "statement", "--by", "lan", "--json"],
                            settings).output)
    assert added["new"] and added["document"]["language"] == "vi"
    doc_id = added["document"]["id"]
    assert "Tuyên bố về chủ quyền Hoàng Sa" in _run(library, ["list"], settings).output
    assert json.loads(_run(library, ["search", "tam sa", "--json"], settings).output)[0]["id"] == doc_id

    listed = json.loads(_run(cases, ["list", "--json"], settings).output)
    assert [c["id"] for c in listed["cases"]] == [case_id] and listed["counts"]["new"] == 1
    out = _run(cases, ["list"], settings).output
    assert "[bold]lạ[/bold]" in out  # crawled text is printed as text, never as console markup

    _run(cases, ["assign", str(case_id), "lan", "--priority", "urgent", "--by", "minh"], settings)
    _run(cases, ["note", str(case_id), "Đối chiếu tuyên bố 2024", "--by", "lan"], settings)
    _run(cases, ["link", str(case_id), "--doc", str(doc_id), "--by", "lan"], settings)
    refused = _run(cases, ["move", str(case_id), "dismissed", "--by", "lan"], settings, ok=False)
    assert refused.exit_code != 0 and "cần nêu lý do" in refused.output
    _run(cases, ["move", str(case_id), "triaged", "--by", "lan"], settings)
    _run(cases, ["move", str(case_id), "drafting", "--by", "lan"], settings)
    _run(cases, ["rebuttal", str(case_id), "--claim", "Hoàng Sa thuộc Tam Sa", "--verdict", "false",
                 "--text", "Hoàng Sa là của Việt Nam.", "--by", "lan"], settings)
    _run(cases, ["move", str(case_id), "awaiting_approval", "--by", "lan"], settings)
    not_approver = _run(cases, ["move", str(case_id), "published", "--url", REBUTTAL_URL, "--by", "lan"], settings,
                        ok=False)
    assert not_approver.exit_code != 0 and "không có quyền phê duyệt" in not_approver.output

    shown = json.loads(_run(cases, ["show", str(case_id), "--json"], settings).output)
    assert shown["case"]["assignee"] == "lan" and shown["case"]["priority"] == "urgent"
    assert shown["case"]["state"] == "awaiting_approval"
    assert [d["id"] for d in shown["documents"]] == [doc_id]
    assert shown["suggested_documents"][0]["id"] == doc_id
    assert {e["kind"] for e in shown["evidence"]} == {"page_record", "page_text"}
    assert [a["action"] for a in shown["audit"]][-1] == "moved"
    text_view = _run(cases, ["show", str(case_id)], settings).output
    assert "Chờ phê duyệt" in text_view and "Nhật ký" in text_view

    refused = _run(cases, ["export-claimreview", str(case_id)], settings, ok=False)
    assert refused.exit_code != 0
    store = CaseStore(settings.app_db_path)
    store.move(case_id, "published", actor="minh", roles={APPROVER_ROLE}, published_url=REBUTTAL_URL)
    store.close()
    jsonld = json.loads(_run(cases, ["export-claimreview", str(case_id), "--author", "Sở TT&TT"], settings).output)
    assert jsonld["@type"] == "ClaimReview" and jsonld["author"]["name"] == "Sở TT&TT"

    bundle = tmp_path / "case.zip"
    _run(evidence, ["export", str(case_id), "--out", str(bundle)], settings)
    assert verify_export(bundle) == []
    assert "intact" in _run(evidence, ["verify", str(bundle)], settings).output


def test_unknown_case_is_a_clear_error(settings: Settings) -> None:
    result = _run(cases, ["show", "999"], settings, ok=False)
    assert result.exit_code != 0 and "999" in result.output
