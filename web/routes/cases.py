"""The rebuttal queue: a board of cases by state, and the case page with its articles, notes,
evidence, suggested library documents, audit trail and the allowed state changes only."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from records.cases import (
    APPROVER_ROLE,
    PRIORITIES,
    STATES,
    TRANSITIONS,
    VERDICTS,
    CaseNotFound,
    CaseStore,
    WorkflowError,
)
from web.guard import page
from web.params import MAX_ID, RecordId, parse_day
from web.render import render

router = APIRouter()
BOARD_LIMIT = 200


def _store(request: Request) -> CaseStore:
    return request.app.state.ctx.services["cases"]


def approver_roles(request: Request) -> frozenset[str]:
    """The workflow roles of the user: admins, and users named in the ``approvers`` setting, approve."""
    user = request.state.user
    approvers = getattr(request.app.state.ctx.settings, "approvers", None) or []
    return frozenset({APPROVER_ROLE}) if user.has_role("admin") or user.username in approvers else frozenset()


@page(router, "/cases", role="viewer")
def board(request: Request, assignee: str = "", priority: str = "") -> Response:
    store = _store(request)
    cases = store.list(assignee=assignee or None, limit=BOARD_LIMIT * len(STATES))
    if priority in PRIORITIES:
        cases = [c for c in cases if c.priority == priority]
    columns = {state: [c for c in cases if c.state == state][:BOARD_LIMIT] for state in STATES}
    assignees = sorted({c.assignee for c in store.list(limit=2000) if c.assignee})
    now = datetime.now(ZoneInfo("UTC"))
    return render(request, "cases.html", columns=columns, counts=store.counts(), assignees=assignees,
                  assignee=assignee, priority=priority if priority in PRIORITIES else "", priorities=PRIORITIES,
                  now=now)


def _case_page(request: Request, case_id: RecordId, *, status_code: int = 200, error: str | None = None) -> Response:
    ctx = request.app.state.ctx
    store = _store(request)
    try:
        case = store.get(case_id)
    except CaseNotFound as exc:
        raise HTTPException(404) from exc
    library = ctx.services.get("library")
    text = store.case_text(case.id)
    linked = [d for d in (library.get(i) for i in store.documents(case.id)) if d is not None] if library else []
    suggested = library.similar(text, 5) if library else []
    roles = approver_roles(request)
    allowed = sorted(TRANSITIONS[case.state], key=STATES.index)
    if APPROVER_ROLE not in roles:
        allowed = [s for s in allowed if s != "published"]
    return render(
        request, "case.html", status_code=status_code, case=case, articles=store.articles(case.id),
        notes=store.notes(case.id), evidence=store.evidence(case.id), rechecks=store.rechecks(case.id),
        audit=store.audit(case.id), linked=linked, suggested=suggested,
        similar=store.similar_cases(text, 5, exclude=case.id), allowed=allowed, priorities=PRIORITIES,
        verdicts=VERDICTS, users=[u.username for u in ctx.users.list_users() if not u.disabled],
        error=error, now=datetime.now(ZoneInfo("UTC")),
    )


@page(router, "/cases/{case_id}", role="viewer")
def case_page(request: Request, case_id: RecordId) -> Response:
    return _case_page(request, case_id)


def _act(request: Request, case_id: RecordId, action) -> Response:
    """Run a workflow action; on a refusal show the case page with the reason in the user's language."""
    try:
        action(_store(request), request.state.user.username)
    except CaseNotFound as exc:
        raise HTTPException(404) from exc
    except WorkflowError as exc:
        return _case_page(request, case_id, status_code=400, error=exc.en if request.state.lang == "en" else exc.vi)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@page(router, "/cases/{case_id}/move", role="analyst", methods=("POST",))
def move(request: Request, case_id: RecordId, state: str = Form(..., max_length=40),
         reason: str = Form("", max_length=2000),
         published_url: str = Form("", max_length=2000)) -> Response:
    roles = approver_roles(request)
    return _act(request, case_id, lambda s, who: s.move(case_id, state, actor=who, roles=roles, reason=reason or None,
                                                         published_url=published_url or None))


@page(router, "/cases/{case_id}/assign", role="analyst", methods=("POST",))
def assign(request: Request, case_id: RecordId, assignee: str = Form("", max_length=200),
           priority: str = Form("", max_length=20), due: str = Form("", max_length=20)) -> Response:
    tz = ZoneInfo(request.app.state.ctx.timezone)

    def action(store: CaseStore, who: str) -> None:
        case = store.get(case_id)
        if (assignee or None) != case.assignee:
            store.assign(case_id, assignee or None, actor=who)
        due_at = None
        if due:
            try:
                due_at = datetime.combine(parse_day(due[:10]), time(17, 0), tz)
            except ValueError as exc:
                raise WorkflowError("bad_due", "Hạn xử lý không hợp lệ", "the due date is not valid") from exc
        if priority and (priority != case.priority or due_at):
            store.set_priority(case_id, priority, actor=who, due_at=due_at)
        elif due_at:
            store.set_due(case_id, due_at, actor=who)

    return _act(request, case_id, action)


@page(router, "/cases/{case_id}/note", role="analyst", methods=("POST",))
def note(request: Request, case_id: RecordId, text: str = Form("", max_length=20000)) -> Response:
    return _act(request, case_id, lambda s, who: s.add_note(case_id, text, actor=who))


@page(router, "/cases/{case_id}/rebuttal", role="analyst", methods=("POST",))
def rebuttal(request: Request, case_id: RecordId, claim: str = Form("", max_length=100000),
             verdict: str = Form("", max_length=40), text: str = Form("", max_length=100000),
             language: str = Form("vi", max_length=5)) -> Response:
    return _act(request, case_id, lambda s, who: s.set_rebuttal(case_id, claim=claim, verdict=verdict, rebuttal=text,
                                                                actor=who, language=language if language in (
                                                                    "vi", "en") else "vi"))


@page(router, "/cases/{case_id}/documents", role="analyst", methods=("POST",))
def link_document(request: Request, case_id: RecordId, document_id: int = Form(..., ge=1, le=MAX_ID)) -> Response:
    library = request.app.state.ctx.services.get("library")
    if library is None or library.get(document_id) is None:
        raise HTTPException(404)
    return _act(request, case_id, lambda s, who: s.link_document(case_id, document_id, actor=who))


@page(router, "/cases/{case_id}/evidence/{evidence_id}", role="viewer")
def evidence_file(request: Request, case_id: RecordId, evidence_id: RecordId) -> Response:
    store = _store(request)
    record = next((e for e in store.evidence(case_id) if e.id == evidence_id), None)
    if record is None:
        raise HTTPException(404)
    base = (Path(request.app.state.ctx.settings.home) / "evidence").resolve()
    path = (base / record.path).resolve()
    if base not in path.parents or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type="application/octet-stream", filename=path.name,
                        headers={"X-Content-SHA256": record.sha256})
