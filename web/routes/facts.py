"""The reference figures page: every quantity of config/facts.yaml, which figures are official and
which are only placeholders (never compared with articles), and, for admins, entering an official
figure with its source document or retiring one (``records.figures``)."""

from __future__ import annotations

import math
from datetime import date

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from hpbase.configfiles import ConfigFileError, FactsFile
from records.figures import FigureError
from web.guard import page
from web.params import RecordId, parse_day
from web.render import render

router = APIRouter()


def _facts_file(request: Request) -> FactsFile | None:
    try:
        return FactsFile.read(request.app.state.ctx.settings.config_dir / "facts.yaml")
    except ConfigFileError:
        return None


def _page(request: Request, *, status_code: int = 200, error_key: str | None = None,
          message_key: str | None = None, form: dict | None = None) -> Response:
    ctx = request.app.state.ctx
    facts = _facts_file(request)
    figures = ctx.services["figures"].list(include_retired=True)
    quantities = facts.quantities if facts is not None else ()
    by_quantity = {q.name: [f for f in figures if f.quantity == q.name] for q in quantities}
    missing = [q for q in quantities if not q.official and not any(f.active for f in by_quantity[q.name])]
    library = ctx.services.get("library")
    documents = library.list(limit=200) if library is not None else []
    return render(request, "facts.html", status_code=status_code, quantities=quantities, by_quantity=by_quantity,
                  missing=missing, broken_file=facts is None, documents=documents,
                  documents_by_id={d.id: d for d in documents}, error_key=error_key, message_key=message_key,
                  form=form or {}, number=lambda v: format_decimal(v, "#,##0.###", locale=request.state.lang))


@page(router, "/facts", role="analyst")
def facts_page(request: Request) -> Response:
    return _page(request, message_key="facts.saved" if request.query_params.get("saved") else None)


def _number(value: str, lang: str) -> float:
    """A figure as the reader types it (``4.700.000`` or ``3.194,72`` in Vietnamese,
    ``4,700,000`` in English; spaces as separators allowed); NaN when it is not a number."""
    text = "".join(value.split())
    try:
        return float(parse_decimal(text, locale=lang))
    except (NumberFormatError, ValueError):
        try:
            return float(text)
        except ValueError:
            return math.nan


def _optional_day(value: str) -> date | None:
    return parse_day(value) if value.strip() else None


@page(router, "/facts", role="admin", methods=("POST",))
def add_figure(request: Request, quantity: str = Form("", max_length=100), value: str = Form("", max_length=40),
               period: str = Form("", max_length=10), valid_from: str = Form("", max_length=20),
               valid_until: str = Form("", max_length=20), source: str = Form("", max_length=2000),
               source_date: str = Form("", max_length=20), document_id: str = Form("", max_length=20)) -> Response:
    form = {"quantity": quantity, "value": value, "period": period, "valid_from": valid_from,
            "valid_until": valid_until, "source": source, "source_date": source_date, "document_id": document_id}
    facts = _facts_file(request)
    if facts is None:
        return _page(request, status_code=400, error_key="facts.error.file", form=form)
    number = _number(value, request.state.lang)
    try:
        year = int(period) if period.strip() else None
        days = [_optional_day(v) for v in (valid_from, valid_until, source_date)]
        doc = int(document_id) if document_id.strip() else None
    except ValueError:
        return _page(request, status_code=400, error_key="facts.error.date", form=form)
    library = request.app.state.ctx.services.get("library")
    if doc is not None and (library is None or library.get(doc) is None):
        return _page(request, status_code=400, error_key="facts.error.document", form=form)
    try:
        request.app.state.ctx.services["figures"].add(
            quantity=quantity, value=number, source=source, known={q.name for q in facts.quantities}, period=year,
            valid_from=days[0], valid_until=days[1], source_date=days[2], document_id=doc,
            entered_by=request.state.user.username)
    except FigureError as exc:
        return _page(request, status_code=400, error_key=str(exc), form=form)
    return RedirectResponse("/facts?saved=1", status_code=303)


@page(router, "/facts/{figure_id}/retire", role="admin", methods=("POST",))
def retire_figure(request: Request, figure_id: RecordId) -> Response:
    if not request.app.state.ctx.services["figures"].retire(figure_id, by=request.state.user.username):
        raise HTTPException(404)
    return RedirectResponse("/facts", status_code=303)
