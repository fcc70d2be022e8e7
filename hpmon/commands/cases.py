"""CLI of the rebuttal work: ``hpmon cases``, ``hpmon evidence``, ``hpmon recheck`` and
``hpmon library``. Every command reads the office's SQLite file (``settings.app_db_path``).

Who acts is ``--by`` (default: the login name); who may approve (publish) is the ``approvers``
setting. Crawled text is printed as plain text, never as console markup.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from hpmon.settings import Settings
from hpmon.term import console, err
from index.query import QuerySyntaxError
from records.cases import (
    APPROVER_ROLE,
    OPEN_STATES,
    PRIORITIES,
    PRIORITY_LABELS,
    STATE_LABELS,
    STATES,
    VERDICTS,
    Case,
    CaseNotFound,
    CaseStore,
    WorkflowError,
    json_ld,
)
from records.library import KIND_LABELS, KINDS, LibraryStore


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def evidence_dir(settings: Settings) -> Path:
    """Where frozen evidence lives: HOME/evidence/<case id>/."""
    return settings.home / "evidence"


def _actor(by: str | None) -> str:
    return (by or "").strip() or getpass.getuser()


def _roles(settings: Settings, actor: str) -> frozenset[str]:
    """The roles the actor holds on the command line: ``approver`` when listed in the
    ``approvers`` setting."""
    approvers = getattr(settings, "approvers", None) or []
    return frozenset({APPROVER_ROLE}) if actor in approvers else frozenset()


@contextmanager
def _store(ctx: click.Context) -> Iterator[CaseStore]:
    settings = _settings(ctx)
    settings.home.mkdir(parents=True, exist_ok=True)
    store = CaseStore(settings.app_db_path)
    try:
        yield store
    except CaseNotFound as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    except WorkflowError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


@contextmanager
def _library(ctx: click.Context) -> Iterator[LibraryStore]:
    settings = _settings(ctx)
    settings.home.mkdir(parents=True, exist_ok=True)
    store = LibraryStore(settings.app_db_path)
    try:
        yield store
    finally:
        store.close()


def _state(state: str) -> str:
    return f"{STATE_LABELS[state]['vi']} ({state})"


def _when(dt: datetime | None, tz: str = "Asia/Ho_Chi_Minh") -> str:
    if dt is None:
        return "—"
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _tz(settings: Settings) -> str:
    try:
        from hpmon.app import load_city

        return load_city(settings).timezone
    except Exception:  # no city profile: dates in UTC
        return "UTC"


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


by_option = click.option("--by", help="Who does this (default: your login name).")


# -- hpmon cases ---------------------------------------------------------------------------


@click.group()
def cases() -> None:
    """Hồ sơ phản bác (rebuttal queue): list, show, assign, move, note, link, export."""


@cases.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(STATES), help="Only this state (repeatable).")
@click.option("--all", "all_states", is_flag=True, help="Every state (default: open cases only).")
@click.option("--assignee", help="Only cases given to this person.")
@click.option("--overdue", is_flag=True, help="Only open cases past their due time.")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def cases_list(ctx: click.Context, states: tuple[str, ...], all_states: bool, assignee: str | None, overdue: bool,
               limit: int, as_json: bool) -> None:
    """Danh sách hồ sơ, khẩn nhất trước (cases, most urgent first)."""
    tz = _tz(_settings(ctx))
    with _store(ctx) as store:
        chosen = list(states) or (None if all_states else list(OPEN_STATES))
        rows = store.list(states=chosen, assignee=assignee, overdue=overdue, limit=limit)
        counts = store.counts()
        if as_json:
            _echo_json({"cases": [c.to_dict() for c in rows], "counts": counts})
            return
        now = datetime.now(UTC)
        table = Table(title="Hồ sơ phản bác — rebuttal cases")
        for col in ("#", "Trạng thái / state", "Ưu tiên / priority", "Hạn / due", "Rủi ro / risk", "Người xử lý",
                    "Bài / article"):
            table.add_column(col)
        for c in rows:
            due = Text(_when(c.due_at, tz), style="bold red" if c.overdue(now) else "")
            table.add_row(str(c.id), _state(c.state), PRIORITY_LABELS[c.priority]["vi"], due,
                          f"{c.risk_score:.2f}" if c.risk_score is not None else "—", Text(c.assignee or "—"),
                          Text(c.title[:90]))
        console.print(table)
        console.print(" · ".join(f"{STATE_LABELS[s]['vi']}: {n}" for s, n in counts.items()))


def _case_detail(store: CaseStore, library: LibraryStore, case: Case, *, suggestions: int) -> dict[str, Any]:
    text = store.case_text(case.id)
    docs = [library.get(d) for d in store.documents(case.id)]
    return {
        "case": case.to_dict(),
        "articles": [a.to_dict() for a in store.articles(case.id)],
        "notes": [n.to_dict() for n in store.notes(case.id)],
        "documents": [d.to_dict(with_text=False) for d in docs if d is not None],
        "evidence": [e.to_dict() for e in store.evidence(case.id)],
        "rechecks": [r.to_dict() for r in store.rechecks(case.id)],
        "audit": [a.to_dict() for a in store.audit(case.id)],
        "suggested_documents": [s.__dict__ for s in library.similar(text, suggestions)] if suggestions else [],
        "similar_cases": [{"id": c.id, "title": c.title, "state": c.state, "score": score, "terms": terms}
                          for c, score, terms in store.similar_cases(text, suggestions, exclude=case.id)]
        if suggestions else [],
    }


@cases.command("show")
@click.argument("case_id", type=int)
@click.option("--suggestions", default=5, show_default=True, help="How many library documents and cases to suggest.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cases_show(ctx: click.Context, case_id: int, suggestions: int, as_json: bool) -> None:
    """Chi tiết một hồ sơ: bài, bằng chứng, ghi chú, nhật ký, tài liệu gợi ý (one case in full)."""
    tz = _tz(_settings(ctx))
    with _store(ctx) as store, _library(ctx) as library:
        case = store.get(case_id)
        detail = _case_detail(store, library, case, suggestions=suggestions)
        if as_json:
            _echo_json(detail)
            return
        console.print(Text(f"Hồ sơ #{case.id}: {case.title}", style="bold"))
        console.print(Text(case.url))
        console.print(f"Trạng thái / state: {_state(case.state)} · ưu tiên / priority: "
                      f"{PRIORITY_LABELS[case.priority]['vi']} · hạn / due: {_when(case.due_at, tz)} · rủi ro / risk: "
                      + (f"{case.risk_score:.2f}" if case.risk_score is not None else "—"))
        console.print(Text(f"Người xử lý / assignee: {case.assignee or '—'}"))
        if case.dismiss_reason:
            console.print(Text(f"Lý do bỏ qua / dismissed because: {case.dismiss_reason}"))
        for reason in case.risk_reasons[:6]:
            evidence_text = str(reason.get("evidence"))[:160]
            console.print(Text(f"  • {reason.get('kind')} ({reason.get('weight')}): {evidence_text}"))
        if case.claim:
            console.print(Text(f"\nThông tin bị phản bác / claim: {case.claim}"))
            console.print(Text(f"Kết luận / verdict: {VERDICTS[case.verdict or 'misleading'][1]} ({case.verdict})"))
            console.print(Text(case.rebuttal or ""))
        if case.published_url:
            console.print(Text(f"Đã đăng / published: {case.published_url} ({case.approved_by}, "
                               f"{_when(case.published_at, tz)})"))
        console.print("\n[bold]Bài báo / articles[/]")
        for a in detail["articles"]:
            console.print(Text(f"  [{a['role']}] {a['title'][:100]} — {a['outlet'] or ''} {a['url']}"))
        console.print("\n[bold]Bằng chứng / evidence[/]")
        for e in store.evidence(case.id):
            console.print(Text(f"  {e.kind:15} {e.path}  sha256 {e.sha256[:16]}…  fetched {_when(e.fetched_at, tz)}"))
        rechecks = store.rechecks(case.id)
        if rechecks:
            console.print("\n[bold]Kiểm tra lại / rechecks[/]")
            for r in rechecks[-10:]:
                console.print(Text(f"  {_when(r.checked_at, tz)} {r.outcome:13} {r.http_status or ''} {r.url}"))
        if detail["notes"]:
            console.print("\n[bold]Ghi chú / notes[/]")
            for n in detail["notes"]:
                console.print(Text(f"  {n['created_at']} {n['author']}: {n['text']}"))
        if detail["documents"]:
            console.print("\n[bold]Tài liệu đã gắn / linked documents[/]")
            for d in detail["documents"]:
                console.print(Text(f"  #{d['id']} [{d['kind']}] {d['title']}"))
        if detail["suggested_documents"]:
            console.print("\n[bold]Tài liệu gợi ý / suggested documents[/]")
            for s in detail["suggested_documents"]:
                console.print(Text(f"  #{s['id']} [{s['kind']}] {s['title']}  ({', '.join(s['terms'][:6])})"))
        if detail["similar_cases"]:
            console.print("\n[bold]Hồ sơ tương tự / similar cases[/]")
            for s in detail["similar_cases"]:
                console.print(Text(f"  #{s['id']} {_state(s['state'])} {s['title'][:90]}"))
        console.print("\n[bold]Nhật ký / audit trail[/]")
        for a in store.audit(case.id):
            move = f"{a.from_state or '∅'} → {a.to_state}" if a.from_state != a.to_state else (a.to_state or "")
            console.print(Text(f"  {_when(a.at, tz)} {a.actor}: {a.action} [{move}] "
                               f"{json.dumps(a.detail, ensure_ascii=False)[:160]}"))


@cases.command("assign")
@click.argument("case_id", type=int)
@click.argument("assignee", required=False)
@click.option("--none", "unassign", is_flag=True, help="Remove the assignee.")
@click.option("--priority", type=click.Choice(PRIORITIES), help="Also set the priority.")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
              help="Also set the due time (city time).")
@by_option
@click.pass_context
def cases_assign(ctx: click.Context, case_id: int, assignee: str | None, unassign: bool, priority: str | None,
                 due: datetime | None, by: str | None) -> None:
    """Giao hồ sơ cho một người, đặt ưu tiên và hạn (assign, set priority and due time)."""
    if not assignee and not unassign and not priority and not due:
        raise click.UsageError("give an ASSIGNEE, --none, --priority or --due")
    actor = _actor(by)
    with _store(ctx) as store:
        case = store.get(case_id)
        if assignee or unassign:
            case = store.assign(case_id, None if unassign else assignee, actor=actor)
        if due is not None:
            from zoneinfo import ZoneInfo

            due = due.replace(tzinfo=ZoneInfo(_tz(_settings(ctx))))
        if priority:
            case = store.set_priority(case_id, priority, actor=actor, due_at=due)
        elif due is not None:
            case = store.set_due(case_id, due, actor=actor)
        console.print(Text(f"Hồ sơ #{case.id}: người xử lý {case.assignee or '—'}, ưu tiên "
                           f"{PRIORITY_LABELS[case.priority]['vi']}, hạn {_when(case.due_at, _tz(_settings(ctx)))}"))


@cases.command("move")
@click.argument("case_id", type=int)
@click.argument("state", type=click.Choice(STATES))
@click.option("--reason", help="Why (required to dismiss or reopen).")
@click.option("--url", "published_url", help="Where the rebuttal was published (required to publish).")
@by_option
@click.pass_context
def cases_move(ctx: click.Context, case_id: int, state: str, reason: str | None, published_url: str | None,
               by: str | None) -> None:
    """Chuyển trạng thái hồ sơ theo quy trình (move a case; publishing is the approval step)."""
    actor = _actor(by)
    with _store(ctx) as store:
        before = store.get(case_id).state
        case = store.move(case_id, state, actor=actor, roles=_roles(_settings(ctx), actor), reason=reason,
                          published_url=published_url)
        console.print(f"Hồ sơ #{case.id}: {_state(before)} → {_state(case.state)}")


@cases.command("rebuttal")
@click.argument("case_id", type=int)
@click.option("--claim", required=True, help="The claim being answered.")
@click.option("--verdict", required=True, type=click.Choice(list(VERDICTS)))
@click.option("--text", "body", help="The rebuttal text.")
@click.option("--file", "body_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Read the rebuttal text from a file.")
@click.option("--language", default="vi", show_default=True)
@by_option
@click.pass_context
def cases_rebuttal(ctx: click.Context, case_id: int, claim: str, verdict: str, body: str | None,
                   body_file: Path | None, language: str, by: str | None) -> None:
    """Soạn nội dung phản bác (write the rebuttal: claim, verdict, text)."""
    if bool(body) == bool(body_file):
        raise click.UsageError("give the text with --text or --file (one of them)")
    text = body if body else body_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    with _store(ctx) as store:
        case = store.set_rebuttal(case_id, claim=claim, verdict=verdict, rebuttal=text, actor=_actor(by),
                                  language=language)
        console.print(f"Hồ sơ #{case.id}: đã ghi nội dung phản bác ({VERDICTS[verdict][1]}).")


@cases.command("note")
@click.argument("case_id", type=int)
@click.argument("text")
@by_option
@click.pass_context
def cases_note(ctx: click.Context, case_id: int, text: str, by: str | None) -> None:
    """Thêm ghi chú (add a note)."""
    with _store(ctx) as store:
        note = store.add_note(case_id, text, actor=_actor(by))
        console.print(f"Hồ sơ #{case_id}: đã thêm ghi chú #{note.id}.")


@cases.command("link")
@click.argument("case_id", type=int)
@click.argument("article_ids", nargs=-1)
@click.option("--story", is_flag=True, help="Gather every indexed article of the case's story.")
@click.option("--doc", "doc_ids", multiple=True, type=int, help="Link a library document (repeatable).")
@by_option
@click.pass_context
def cases_link(ctx: click.Context, case_id: int, article_ids: tuple[str, ...], story: bool, doc_ids: tuple[int, ...],
               by: str | None) -> None:
    """Gắn bài báo cùng sự việc hoặc tài liệu vào hồ sơ (link articles of the story, documents)."""
    if not article_ids and not story and not doc_ids:
        raise click.UsageError("give ARTICLE_IDS, --story or --doc")
    settings = _settings(ctx)
    actor = _actor(by)
    from hpmon.app import open_backend

    with _store(ctx) as store, _library(ctx) as library:
        case = store.get(case_id)
        missing_docs = [d for d in doc_ids if library.get(d) is None]
        if missing_docs:
            raise click.ClickException(f"không có tài liệu / no library document: {missing_docs}")
        articles = []
        if article_ids or story:
            backend = open_backend(settings)
            try:
                for aid in article_ids:
                    article = backend.get(aid)
                    if article is None:
                        raise click.ClickException(f"không có bài / no article {aid} in the index")
                    articles.append(article)
                if story:
                    story_id = case.story_id or case.article_id
                    articles.extend(a for a in backend.iter_articles()
                                    if a.id != case.article_id and (a.story_id == story_id or a.duplicate_of
                                                                    == case.article_id))
            finally:
                backend.close()
        added = sum(store.link_article(case_id, a, actor=actor, role="story" if story else "linked")
                    for a in articles)
        linked = sum(store.link_document(case_id, d, actor=actor) for d in doc_ids)
        console.print(f"Hồ sơ #{case_id}: thêm {added} bài, {linked} tài liệu (added {added} articles, "
                      f"{linked} documents).")


@cases.command("export-claimreview")
@click.argument("case_id", type=int)
@click.option("--out", "output", type=click.Path(path_type=Path, dir_okay=False), help="Write to a file.")
@click.option("--author", help="The office's name (default: from the city profile).")
@click.option("--author-url", help="The office's web site.")
@click.pass_context
def cases_export_claimreview(ctx: click.Context, case_id: int, output: Path | None, author: str | None,
                             author_url: str | None) -> None:
    """Xuất phản bác đã đăng dạng schema.org ClaimReview JSON-LD."""
    settings = _settings(ctx)
    if not author:
        try:
            from hpmon.app import load_city

            author = f"Thông tin đối ngoại thành phố {load_city(settings).display_name.get('vi', settings.city)}"
        except Exception:
            author = "Thông tin đối ngoại"
    with _store(ctx) as store:
        data = store.claim_review(case_id, author_name=author, author_url=author_url, timezone=_tz(settings))
    text = json_ld(data)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"Đã ghi / written: {output}")
    else:
        click.echo(text)


# -- hpmon evidence ------------------------------------------------------------------------


@click.group()
def evidence() -> None:
    """Bằng chứng đã lưu (frozen evidence): export a case's bundle, verify one."""


@evidence.command("export")
@click.argument("case_id", type=int)
@click.option("--out", "output", type=click.Path(path_type=Path, dir_okay=False),
              help="Zip to write (default: HOME/exports/case-<id>-<time>.zip).")
@click.pass_context
def evidence_export(ctx: click.Context, case_id: int, output: Path | None) -> None:
    """Xuất gói bằng chứng của hồ sơ (zip with the evidence, case, audit trail and manifest)."""
    from pipeline.evidence import export_case

    settings = _settings(ctx)
    output = output or settings.home / "exports" / f"case-{case_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.zip"
    with _store(ctx) as store, _library(ctx) as library:
        store.get(case_id)
        docs = [d.to_dict(with_text=False) for d in (library.get(i) for i in store.documents(case_id)) if d]
        result = export_case(store, case_id, output, evidence_dir=evidence_dir(settings), documents=docs)
    console.print(Text(f"Đã xuất {result.files} tệp / exported {result.files} files: {result.path}"))
    for problem in result.problems:
        err.print(Text(f"Cảnh báo / warning: {problem}", style="red"))
    if result.problems:
        ctx.exit(1)


@evidence.command("verify")
@click.argument("zip_path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def evidence_verify(zip_path: Path) -> None:
    """Kiểm tra mã băm của một gói bằng chứng (verify a bundle's hashes)."""
    from pipeline.evidence import verify_export

    problems = verify_export(zip_path)
    for problem in problems:
        err.print(Text(problem, style="red"))
    if problems:
        raise click.ClickException(f"{len(problems)} vấn đề / problems")
    console.print("Toàn vẹn / intact: mọi mã băm khớp (every hash matches).")


# -- hpmon recheck -------------------------------------------------------------------------


@click.command()
@click.option("--case", "case_ids", multiple=True, type=int, help="Only this case (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def recheck(ctx: click.Context, case_ids: tuple[int, ...], as_json: bool) -> None:
    """Tải lại các bài trong hàng đợi, ghi nhận bài bị sửa hoặc gỡ (re-fetch queued articles)."""
    from pipeline.evidence import recheck as run_recheck

    settings = _settings(ctx)
    with _store(ctx) as store:
        results = run_recheck(
            store, warc_dir=settings.warc_dir, evidence_dir=evidence_dir(settings), user_agent=settings.user_agent,
            timeout=settings.download_timeout, max_bytes=settings.max_page_bytes, delay=settings.download_delay,
            obey_robots=settings.obey_robots, timezone=_tz(settings), case_ids=list(case_ids) or None,
            allow_hosts=settings.fetch_allow_hosts)
    if as_json:
        _echo_json([r.to_dict() for r in results])
        return
    labels = {"unchanged": "không đổi", "edited": "BỊ SỬA", "deleted": "BỊ GỠ", "still_deleted": "vẫn bị gỡ",
              "first_copy": "bản đầu", "error": "lỗi"}
    table = Table(title="Kiểm tra lại / recheck")
    for col in ("#", "Kết quả / outcome", "HTTP", "URL", "Chi tiết / detail"):
        table.add_column(col)
    for r in results:
        style = "bold red" if r.outcome in ("edited", "deleted") else ""
        table.add_row(str(r.case_id), Text(f"{labels.get(r.outcome, r.outcome)} ({r.outcome})", style=style),
                      str(r.http_status or ""), Text(r.url), Text((r.detail or "")[:80]))
    console.print(table)
    for r in results:
        if r.outcome == "edited" and r.diff:
            console.print(Text(f"\n#{r.case_id} {r.url}", style="bold"))
            console.print(Text(r.diff[:4000]))


# -- hpmon library -------------------------------------------------------------------------


@click.group()
def library() -> None:
    """Thư viện tư liệu (evidence library): official statements, maps, records, prior rebuttals."""


@library.command("add")
@click.argument("source")
@click.option("--kind", required=True, type=click.Choice(KINDS),
              help="statement, map, record or rebuttal (prior rebuttal).")
@click.option("--title", help="Title (default: from the document).")
@click.option("--language", help="Language code (default: detected).")
@by_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def library_add(ctx: click.Context, source: str, kind: str, title: str | None, language: str | None, by: str | None,
                as_json: bool) -> None:
    """Thêm tài liệu (PDF, HTML, văn bản) từ tệp hoặc URL (add a document from a FILE or URL)."""
    from pipeline.library_docs import load_document
    from pipeline.outcome import Dropped

    settings = _settings(ctx)
    doc = load_document(source, title=title, language=language, user_agent=settings.user_agent,
                        timeout=settings.download_timeout, allow_hosts=settings.fetch_allow_hosts)
    if isinstance(doc, Dropped):
        raise click.ClickException(f"không thêm được / not added: {doc}")
    with _library(ctx) as store:
        added, new = store.add(title=doc.title, text=doc.text, kind=kind, source=doc.source, language=doc.language,
                               added_by=_actor(by), meta={"format": doc.format, "extractor": doc.extractor})
    if as_json:
        _echo_json({"document": added.to_dict(with_text=False), "new": new})
        return
    what = "Đã thêm / added" if new else "Đã có sẵn / already in the library"
    console.print(Text(f"{what}: #{added.id} [{KIND_LABELS[added.kind]['vi']}] {added.title} "
                       f"({added.language or '?'}, {len(added.text)} ký tự / chars, {doc.extractor})"))


@library.command("list")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def library_list(ctx: click.Context, kind: str | None, limit: int, as_json: bool) -> None:
    """Danh sách tài liệu, mới nhất trước (documents, newest first)."""
    with _library(ctx) as store:
        docs = store.list(kind=kind, limit=limit)
    if as_json:
        _echo_json([d.to_dict(with_text=False) for d in docs])
        return
    table = Table(title="Thư viện tư liệu — evidence library")
    for col in ("#", "Loại / kind", "Ngôn ngữ", "Tiêu đề / title", "Nguồn / source", "Thêm lúc / added"):
        table.add_column(col)
    for d in docs:
        table.add_row(str(d.id), KIND_LABELS[d.kind]["vi"], d.language or "—", Text(d.title[:80]),
                      Text(d.source[-60:]), _when(d.added_at))
    console.print(table)


@library.command("search")
@click.argument("query")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def library_search(ctx: click.Context, query: str, kind: str | None, limit: int, as_json: bool) -> None:
    """Tìm trong thư viện (search the library: words ANDed, "phrases", -exclude, a OR b)."""
    with _library(ctx) as store:
        try:
            hits = store.search(query, limit=limit, kind=kind)
        except QuerySyntaxError as exc:
            raise click.ClickException(f"truy vấn không hợp lệ / bad query: {exc}") from exc
    if as_json:
        _echo_json([h.__dict__ for h in hits])
        return
    if not hits:
        console.print("Không tìm thấy / nothing found.")
    for h in hits:
        console.print(Text(f"#{h.id} [{KIND_LABELS.get(h.kind or '', {}).get('vi', h.kind)}] {h.title}  ({h.score})"))
