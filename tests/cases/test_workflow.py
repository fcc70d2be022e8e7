"""The rebuttal workflow: every transition, the approval step, reasons, the audit trail."""

from __future__ import annotations

import sqlite3

import pytest

from records.cases import APPROVER_ROLE, STATES, TRANSITIONS, CaseStore, WorkflowError
from tests.cases.conftest import make_article

APPROVER = frozenset({APPROVER_ROLE})
URL = "https://sotttt.haiphong.gov.vn/phan-bac/hoang-sa"


def _case_in(store: CaseStore, state: str, url: str = "https://example.com/a", *, rebuttal: bool = True) -> int:
    """A case brought to ``state`` through allowed moves only (with a rebuttal written once
    drafting, unless ``rebuttal`` is False)."""
    case_id = store.open_case_for(make_article(url)).case.id
    if state == "new":
        return case_id
    if state == "dismissed":
        store.move(case_id, "dismissed", actor="lan", reason="trùng lặp")
        return case_id
    store.move(case_id, "triaged", actor="lan")
    if state == "triaged":
        return case_id
    store.move(case_id, "drafting", actor="lan")
    if rebuttal:
        store.set_rebuttal(case_id, claim="Hoàng Sa thuộc Trung Quốc", verdict="false",
                           rebuttal="Việt Nam có đầy đủ bằng chứng lịch sử và pháp lý.", actor="lan")
    if state == "drafting":
        return case_id
    store.move(case_id, "awaiting_approval", actor="lan")
    if state == "awaiting_approval":
        return case_id
    store.move(case_id, "published", actor="minh", roles=APPROVER, published_url=URL)
    assert state == "published"
    return case_id


PAIRS = [(a, b) for a in STATES for b in STATES]


@pytest.mark.parametrize(("frm", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_is_allowed_exactly_when_the_rule_book_says(store: CaseStore, frm: str, to: str) -> None:
    case_id = _case_in(store, frm)
    audit_before = store.audit(case_id)
    allowed = to in TRANSITIONS[frm]
    if allowed:
        case = store.move(case_id, to, actor="minh", roles=APPROVER, reason="lý do", published_url=URL)
        assert case.state == to
        last = store.audit(case_id)[-1]
        assert (last.actor, last.from_state, last.to_state) == ("minh", frm, to)
        assert len(store.audit(case_id)) == len(audit_before) + 1
    else:
        with pytest.raises(WorkflowError) as info:
            store.move(case_id, to, actor="minh", roles=APPROVER, reason="lý do", published_url=URL)
        assert info.value.code in ("forbidden_transition", "publish_without_approval")
        assert store.get(case_id).state == frm
        assert store.audit(case_id) == audit_before


def test_published_and_only_published_is_reached_from_awaiting_approval() -> None:
    sources = [s for s, targets in TRANSITIONS.items() if "published" in targets]
    assert sources == ["awaiting_approval"]
    assert TRANSITIONS["published"] == frozenset()


@pytest.mark.parametrize("frm", ["new", "triaged", "drafting"])
def test_publish_without_approval_is_refused_even_for_an_approver(store: CaseStore, frm: str) -> None:
    case_id = _case_in(store, frm)
    with pytest.raises(WorkflowError) as info:
        store.move(case_id, "published", actor="minh", roles=APPROVER, published_url=URL)
    assert info.value.code == "publish_without_approval"
    assert "phê duyệt" in str(info.value)
    assert store.get(case_id).state == frm


def test_publish_by_someone_without_the_approver_role_is_refused(store: CaseStore) -> None:
    case_id = _case_in(store, "awaiting_approval")
    with pytest.raises(WorkflowError) as info:
        store.move(case_id, "published", actor="lan", roles={"analyst"}, published_url=URL)
    assert info.value.code == "not_approver"
    assert store.get(case_id).state == "awaiting_approval"
    assert store.get(case_id).approved_by is None


def test_publish_needs_the_url_of_the_rebuttal(store: CaseStore) -> None:
    case_id = _case_in(store, "awaiting_approval")
    for bad in (None, "", "javascript:alert(1)"):
        with pytest.raises(WorkflowError) as info:
            store.move(case_id, "published", actor="minh", roles=APPROVER, published_url=bad)
        assert info.value.code == "no_published_url"
    case = store.move(case_id, "published", actor="minh", roles=APPROVER, published_url=URL)
    assert (case.approved_by, case.published_url) == ("minh", URL)
    assert case.published_at is not None and case.approved_at is not None
    last = store.audit(case_id)[-1]
    assert last.action == "approved_published" and last.detail["published_url"] == URL


@pytest.mark.parametrize("frm", ["new", "triaged", "drafting", "awaiting_approval"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_dismissal_without_a_reason_is_refused(store: CaseStore, frm: str, reason: str | None) -> None:
    case_id = _case_in(store, frm)
    audit = store.audit(case_id)
    with pytest.raises(WorkflowError) as info:
        store.move(case_id, "dismissed", actor="lan", reason=reason)
    assert info.value.code == "reason_required"
    assert store.get(case_id).state == frm
    assert store.audit(case_id) == audit


def test_dismissal_keeps_its_reason_and_reopening_needs_one_too(store: CaseStore) -> None:
    case_id = _case_in(store, "new")
    case = store.move(case_id, "dismissed", actor="lan", reason="Bài trung lập, không cần phản bác")
    assert case.dismiss_reason == "Bài trung lập, không cần phản bác"
    assert store.audit(case_id)[-1].detail["reason"] == "Bài trung lập, không cần phản bác"
    with pytest.raises(WorkflowError) as info:
        store.move(case_id, "triaged", actor="minh")
    assert info.value.code == "reason_required"
    case = store.move(case_id, "triaged", actor="minh", reason="Có thêm bài đăng lại")
    assert case.state == "triaged" and case.dismiss_reason is None


def test_submitting_for_approval_needs_a_rebuttal(store: CaseStore) -> None:
    case_id = _case_in(store, "drafting", rebuttal=False)
    with pytest.raises(WorkflowError) as info:
        store.move(case_id, "awaiting_approval", actor="lan")
    assert info.value.code == "no_rebuttal"
    store.set_rebuttal(case_id, claim="c", verdict="misleading", rebuttal="r", actor="lan")
    case = store.move(case_id, "awaiting_approval", actor="lan")
    assert case.submitted_by == "lan"


def test_rebuttal_under_approval_cannot_be_changed_without_returning_it(store: CaseStore) -> None:
    case_id = _case_in(store, "awaiting_approval")
    with pytest.raises(WorkflowError) as info:
        store.set_rebuttal(case_id, claim="khác", verdict="false", rebuttal="khác", actor="lan")
    assert info.value.code == "rebuttal_locked"
    store.move(case_id, "drafting", actor="minh", reason="Bổ sung dẫn chứng bản đồ")
    case = store.set_rebuttal(case_id, claim="khác", verdict="distorted", rebuttal="bản mới", actor="lan")
    assert (case.verdict, case.rebuttal) == ("distorted", "bản mới")


def test_unknown_verdict_state_and_priority_are_refused(store: CaseStore) -> None:
    case_id = _case_in(store, "drafting")
    with pytest.raises(WorkflowError):
        store.set_rebuttal(case_id, claim="c", verdict="true-ish", rebuttal="r", actor="lan")
    with pytest.raises(WorkflowError):
        store.move(case_id, "archived", actor="lan")
    with pytest.raises(WorkflowError):
        store.set_priority(case_id, "whenever", actor="lan")


def test_every_action_is_in_the_audit_trail_with_who_what_and_from_which_state(store: CaseStore) -> None:
    case_id = _case_in(store, "new")
    store.assign(case_id, "lan", actor="minh")
    store.set_priority(case_id, "urgent", actor="minh")
    store.add_note(case_id, "Cần bản đồ An Nam Đại Quốc Họa Đồ", actor="lan")
    store.move(case_id, "triaged", actor="lan")
    store.link_document(case_id, 7, actor="lan")
    trail = store.audit(case_id)
    assert [(a.action, a.actor, a.from_state, a.to_state) for a in trail] == [
        ("opened", "hpmon", None, "new"),
        ("assigned", "minh", "new", "new"),
        ("priority_set", "minh", "new", "new"),
        ("note_added", "lan", "new", "new"),
        ("moved", "lan", "new", "triaged"),
        ("document_linked", "lan", "triaged", "triaged"),
    ]
    assert trail[1].detail == {"from": None, "to": "lan"}
    assert all(a.at is not None for a in trail)
    case = store.get(case_id)
    assert (case.assignee, case.priority) == ("lan", "urgent")
    assert store.documents(case_id) == [7]


def test_an_action_without_an_actor_is_refused(store: CaseStore) -> None:
    case_id = _case_in(store, "new")
    with pytest.raises(WorkflowError) as info:
        store.move(case_id, "triaged", actor=" ")
    assert info.value.code == "no_actor"


def test_empty_note_is_refused(store: CaseStore) -> None:
    case_id = _case_in(store, "new")
    with pytest.raises(WorkflowError):
        store.add_note(case_id, "  \n ", actor="lan")


def test_audit_trail_cannot_be_rewritten(store: CaseStore) -> None:
    case_id = _case_in(store, "triaged")
    conn = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE case_audit SET actor = 'someone else' WHERE case_id = ?", (case_id,))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM case_audit WHERE case_id = ?", (case_id,))
    finally:
        conn.close()
    assert {a.actor for a in store.audit(case_id)} == {"hpmon", "lan"}


def test_queue_entry_is_idempotent_per_article_and_per_story(store: CaseStore) -> None:
    first = make_article("https://foreign.example/a", story_id="story-1", risk=0.5)
    opened = store.open_case_for(first)
    assert opened.created and opened.article_added
    again = store.open_case_for(first)
    assert (again.case.id, again.created, again.article_added) == (opened.case.id, False, False)
    same_story = make_article("https://other.example/b", story_id="story-1", risk=0.8)
    joined = store.open_case_for(same_story)
    assert (joined.case.id, joined.created, joined.article_added) == (opened.case.id, False, True)
    assert joined.case.risk_score == 0.8  # the highest risk of the story
    assert [a.article_id for a in store.articles(opened.case.id)] == [first.id, same_story.id]
    assert [a.role for a in store.articles(opened.case.id)] == ["primary", "story"]
    other = store.open_case_for(make_article("https://foreign.example/c", story_id="story-2"))
    assert other.created and other.case.id != opened.case.id
    assert len(store.list(states=None)) == 2
    assert [a.action for a in store.audit(opened.case.id)] == ["opened", "article_added"]


def test_a_dismissed_story_stays_dismissed_when_another_article_arrives(store: CaseStore) -> None:
    opened = store.open_case_for(make_article("https://x.example/1", story_id="s"))
    store.move(opened.case.id, "dismissed", actor="lan", reason="không cần phản bác")
    joined = store.open_case_for(make_article("https://x.example/2", story_id="s"))
    assert joined.case.id == opened.case.id and joined.case.state == "dismissed" and joined.article_added


def test_new_cases_get_priority_and_due_time_from_their_risk(store: CaseStore) -> None:
    urgent = store.open_case_for(make_article("https://x.example/u", risk=0.8)).case
    normal = store.open_case_for(make_article("https://x.example/n", risk=0.35)).case
    assert (urgent.priority, normal.priority) == ("urgent", "normal")
    assert (urgent.due_at - urgent.created_at).total_seconds() == 4 * 3600
    assert (normal.due_at - normal.created_at).total_seconds() == 72 * 3600
    assert [c.id for c in store.list()] == [urgent.id, normal.id]  # most urgent first
