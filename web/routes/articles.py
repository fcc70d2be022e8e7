"""The article page: metadata, full text, every label with its reasons, the story, the preserved
evidence, and the analysts' correction of topics and sentiment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from index.article import FACET_FIELDS, Article
from index.backend import Backend
from index.query import SearchQuery
from pipeline.translate import MODELS_FOLDER, base_language, selected_engine, shown_translation
from records.labels import SENTIMENTS, CorrectionError, apply_correction
from web.evidence import EvidenceError, read_warc_record
from web.guard import page
from web.params import MAX_ID
from web.render import render

router = APIRouter()

STORY_LIMIT = 50
STORY_SCAN_CAP = 20_000  # without a story filter in the index, at most this many articles are scanned


def story_articles(backend: Backend, article: Article) -> tuple[list[Article], bool]:
    """The other articles of the article's story (newest first) and whether the list may be incomplete.

    Uses a ``story`` filter when the index offers one; otherwise scans the stored articles (capped)."""
    if not article.story_id:
        return [], False
    if "story" in FACET_FIELDS:
        result = backend.search(SearchQuery(filters={"story": [article.story_id]}, sort="date",
                                            limit=STORY_LIMIT + 1))
        others = [h.article for h in result.hits if h.article.id != article.id]
        return others[:STORY_LIMIT], result.total > STORY_LIMIT + 1
    others: list[Article] = []
    incomplete = False
    for n, candidate in enumerate(backend.iter_articles()):
        if n >= STORY_SCAN_CAP:
            incomplete = True
            break
        if candidate.story_id == article.story_id and candidate.id != article.id:
            others.append(candidate)
    others.sort(key=lambda a: a.date.timestamp() if a.date else 0, reverse=True)
    return others[:STORY_LIMIT], incomplete or len(others) > STORY_LIMIT


def _text_spans(article: Article) -> list[tuple[int, int]]:
    """Spans of the text to mark: sensitive findings and the city's names found by relevance."""
    spans: list[tuple[int, int]] = []
    for finding in (article.reasons.get("sensitive") or {}).get("findings") or []:
        if finding.get("field") == "text" and isinstance(finding.get("start"), int):
            spans.append((finding["start"], finding["end"]))
    for hit in (article.reasons.get("relevance") or {}).get("hits") or []:
        if hit.get("field") == "text" and isinstance(hit.get("start"), int):
            spans.append((hit["start"], hit["end"]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _translation(request: Request, article: Article) -> dict:
    """What the article page says about translation: the machine translation to show beside the
    original, or (for a foreign article without one) that no engine is configured, or that it failed."""
    reader = request.state.lang
    said = {"translation": None, "translation_lang": None, "translation_notice": False, "translation_failed": False}
    shown = shown_translation(article, [reader, "vi"])
    if shown is not None:
        return {**said, "translation_lang": shown[0], "translation": shown[1]}
    written = base_language(article.language)
    if written is None or written in (reader, "vi"):
        return said
    settings = request.app.state.ctx.settings
    engine, _ = selected_engine(getattr(settings, "translation_engine", "auto"), settings.home / MODELS_FOLDER,
                                getattr(settings, "libretranslate_url", None))
    if engine is None:
        return {**said, "translation_notice": True}
    return {**said, "translation_failed": bool((article.reasons or {}).get("translation"))}


def _get(request: Request, article_id: str) -> Article:
    if len(article_id) > 100:
        raise HTTPException(404)
    article = request.app.state.ctx.backend.get(article_id)
    if article is None:
        raise HTTPException(404)
    return article


def _article_page(request: Request, article: Article, *, status_code: int = 200, error_key: str | None = None,
                  saved: bool = False) -> Response:
    ctx = request.app.state.ctx
    story, story_incomplete = story_articles(ctx.backend, article)
    evidence, evidence_error = None, None
    try:
        evidence = read_warc_record(ctx.settings.warc_dir, article.warc_file, article.warc_offset)
    except EvidenceError as exc:
        evidence_error = str(exc)
    safe_url = article.url if article.url.startswith(("http://", "https://")) else None
    cases = ctx.services.get("cases")
    case = cases.case_for_article(article.id) if cases is not None else None
    article_cases = [case] if case is not None else []
    return render(
        request, "article.html", status_code=status_code, article=article, story=story,
        story_incomplete=story_incomplete, evidence=evidence, evidence_error=evidence_error, safe_url=safe_url,
        text_spans=_text_spans(article), history=ctx.labels.history(article.id), topics=list(ctx.taxonomy.topics),
        sentiments=SENTIMENTS, error_key=error_key, saved=saved, article_cases=article_cases,
        **_translation(request, article),
    )


@page(router, "/articles/{article_id}", role="viewer")
def article_page(request: Request, article_id: str, saved: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Response:
    return _article_page(request, _get(request, article_id), saved=bool(saved))


@page(router, "/articles/{article_id}/warc", role="viewer")
def article_warc(request: Request, article_id: str) -> Response:
    ctx = request.app.state.ctx
    article = _get(request, article_id)
    try:
        record = read_warc_record(ctx.settings.warc_dir, article.warc_file, article.warc_offset)
    except EvidenceError as exc:
        return render(request, "error.html", status_code=404, message_key=str(exc))
    suffix = ".warc.gz" if record.file_name.endswith(".gz") else ".warc"
    return Response(record.data, media_type="application/warc",
                    headers={"Content-Disposition": f'attachment; filename="{article.id}{suffix}"',
                             "X-Content-SHA256": record.sha256})


@page(router, "/articles/{article_id}/labels", role="analyst", methods=("POST",))
async def correct_labels(request: Request, article_id: str, sentiment: str = Form("", max_length=20),
                         note: str = Form("", max_length=2000)) -> Response:
    ctx = request.app.state.ctx
    article = _get(request, article_id)
    form = await request.form()
    topics = [str(t) for t in form.getlist("topics")][:10]
    if not topics:
        return _article_page(request, article, status_code=400, error_key="label.need_topic")
    new_sentiment = sentiment or None
    changed_topics = topics != (article.topics or [])
    changed_sentiment = new_sentiment is not None and new_sentiment != article.sentiment
    if not changed_topics and not changed_sentiment:  # a confirmation: record both as they are
        changed_topics, changed_sentiment = True, new_sentiment is not None
    try:
        apply_correction(ctx.backend, ctx.labels, article.id, topics=topics if changed_topics else None,
                         sentiment=new_sentiment if changed_sentiment else None, user=request.state.user.username,
                         note=note.strip(), known_topics=set(ctx.taxonomy.topics) or None)
    except CorrectionError:
        return _article_page(request, article, status_code=400, error_key="label.invalid")
    return RedirectResponse(f"/articles/{article.id}?saved=1#labels", status_code=303)
