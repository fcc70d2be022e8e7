"""The search page, its exports, and saved searches."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from index.query import Expansion, QuerySyntaxError, SearchQuery
from index.thesaurus import Thesaurus
from records.subscriptions import SubscriptionError, Subscriptions
from web.chart import choose_interval, fill_days, next_bucket, volume_svg
from web.export import csv_lines, jsonl_lines
from web.guard import page
from web.params import RecordId
from web.render import render
from web.saved import rule_of_search
from web.searchform import FILTER_PARAMS, PAGE_SIZE, SearchForm

router = APIRouter()

# filter param -> the taxonomy kind naming its values (others are shown as they are)
NAMED_VALUES = {"topic": "topics", "sentiment": "sentiments", "theme": "themes"}
#: ``copies=all`` lists every copy of a story; by default a page shows one hit per story
COPIES_PARAM, COPIES_ALL = "copies", "all"
MAX_COPIES = 500  # copies read to name a page's stories' outlets and languages


def _form(request: Request) -> SearchForm:
    return SearchForm.from_params(list(request.query_params.multi_items()))


def _query(request: Request, form: SearchForm, **kwargs) -> SearchQuery:
    """The form's index query, expanded with the installation's thesaurus."""
    ctx = request.app.state.ctx
    query = form.to_query(ctx.timezone, **kwargs)
    query.thesaurus = Thesaurus.of_installation(ctx.settings.config_dir, ctx.settings.city_path)
    return query


def _expansion_lines(request: Request, form: SearchForm, expansions: tuple[Expansion, ...]) -> list[dict]:
    """What the search also looked for, per phrase, in the reader's language, with a link to the
    query in quotes (which searches the words only)."""
    ctx = request.app.state.ctx
    lang = request.state.lang
    kinds = {"topic": ("topics", "search.also_topic"), "theme": ("themes", "search.also_theme")}
    lines = []
    for exp in expansions:
        labels = [ctx.catalogues.gettext(lang, kinds[facet][1], name=ctx.taxonomy.name(kinds[facet][0], value, lang))
                  for facet, value in exp.labels if facet in kinds]
        href = None
        if exp.phrase in form.q:  # the phrase as typed (a run of syllables typed with one space each)
            exact = form.q.replace(exp.phrase, f'"{exp.phrase}"', 1)
            href = "/search?" + urlencode([("q", exact), *[p for p in form.params(with_page=False) if p[0] != "q"]])
        lines.append({"phrase": exp.phrase, "names": list(exp.names), "labels": labels, "exact_href": href})
    return lines


def _matched_by_label(request: Request, result, labels) -> dict[str, str]:
    """For each hit found only through a label the query names (no word of it in the snippet), the
    sentence saying which label, so the analyst sees why it is listed."""
    ctx = request.app.state.ctx
    lang = request.state.lang
    kinds = {"topic": ("topics", "search.also_topic"), "theme": ("themes", "search.also_theme")}
    out: dict[str, str] = {}
    for hit in result.hits if result else []:
        if hit.snippet.spans:
            continue
        carried = [ctx.catalogues.gettext(lang, kinds[f][1], name=ctx.taxonomy.name(kinds[f][0], v, lang))
                   for f, v in labels if f in kinds and v in hit.article.facet_values(f)]
        if carried:
            out[hit.article.id] = ctx.catalogues.gettext(lang, "search.via_label", labels=", ".join(carried))
    return out


def group_hits(hits: list) -> list[tuple]:
    """The page's hits with the copies of one story folded under its best-ranked copy: (lead hit,
    the page's other hits of its story), in rank order. A hit without a story stands alone. The page
    keeps its hits (shown compactly under their lead), so paging by article stays exact."""
    groups: list[tuple] = []
    by_story: dict[str, list] = {}
    for hit in hits:
        story = hit.article.story_id
        if story and story in by_story:
            by_story[story].append(hit)
            continue
        folded: list = []
        if story:
            by_story[story] = folded
        groups.append((hit, folded))
    return groups


def _story_copies(request: Request, query: SearchQuery, groups: list[tuple]) -> dict[str, dict]:
    """For each story on the page with more than one copy, what the search found of it: how many
    copies match the query (on any page), in how many outlets and languages. The engines have no
    collapse in the ``Backend`` protocol, so this is one more search, narrowed to the page's
    stories (``story`` is a facet of both engines)."""
    stories = list(dict.fromkeys(lead.article.story_id for lead, _ in groups if lead.article.story_id))
    if not stories:
        return {}
    copies_query = SearchQuery(text=query.text, filters={**query.filters, "story": stories}, since=query.since,
                               until=query.until, min_risk=query.min_risk, sort="date", limit=MAX_COPIES,
                               facets=True, facet_size=len(stories), thesaurus=query.thesaurus)
    result = request.app.state.ctx.backend.search(copies_query)
    counts = dict(result.facets.get("story", []))
    outlets: dict[str, set] = {s: set() for s in stories}
    languages: dict[str, set] = {s: set() for s in stories}
    for hit in result.hits:
        a = hit.article
        if a.story_id in outlets:
            outlets[a.story_id].add(a.outlet or a.source_id)
            if a.language:
                languages[a.story_id].add(a.language)
    return {story: {"count": counts[story], "outlets": len(outlets[story]), "languages": len(languages[story])}
            for story in stories if counts.get(story, 0) > 1}


def _bar_link(form: SearchForm, interval: str):
    """The URL a histogram bar leads to: this search narrowed to the bar's day (month, year)."""
    def link(key: str) -> str:
        first = date.fromisoformat(key)
        following = next_bucket(first, interval)
        last = following - timedelta(days=1) if following else date.max
        params = [p for p in form.params(with_page=False) if p[0] not in ("since", "until")]
        return "/search?" + urlencode([*params, ("since", first.isoformat()), ("until", last.isoformat())])
    return link


def _facet_groups(form: SearchForm, facets: dict[str, list[tuple[str, int]]]) -> list[dict]:
    """The filter groups of the sidebar: each value with its count, selected ones always listed."""
    groups = []
    for param, facet in FILTER_PARAMS.items():
        counts = dict(facets.get(facet, []))
        values = list(counts.items())
        for selected in form.filters.get(param, []):
            if selected not in counts:
                values.append((selected, 0))
        groups.append({"param": param, "facet": facet, "kind": NAMED_VALUES.get(param),
                       "values": [{"value": v, "count": n, "selected": form.is_selected(param, v)}
                                  for v, n in values]})
    return groups


@page(router, "/search", role="viewer")
def search_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = _form(request)
    error_keys = list(form.errors)
    result = None
    chart = None
    expansions: list[dict] = []
    via_label: dict[str, str] = {}
    partial_keys: list[str] = []
    every_copy = request.query_params.get(COPIES_PARAM) == COPIES_ALL
    groups: list[tuple] = []
    copies: dict[str, dict] = {}
    try:
        query = _query(request, form, facets=True)
        expansions = _expansion_lines(request, form, query.parsed.expansions)
        result = ctx.backend.search(query)
        via_label = _matched_by_label(request, result, [lb for c in query.parsed.must for lb in c.labels])
        groups = [(h, []) for h in result.hits] if every_copy else group_hits(result.hits)
        if not every_copy:
            copies = _story_copies(request, query, groups)
        if result.timed_out:
            partial_keys.append("search.partial")
        counts = ctx.backend.histogram(query, interval="day", timezone=ctx.timezone)
        # a partial day histogram is drawn per day (its keys are days), not asked again per month
        interval = "day" if getattr(counts, "timed_out", False) else choose_interval(counts)
        if interval != "day":
            counts = ctx.backend.histogram(query, interval=interval, timezone=ctx.timezone)
        if getattr(counts, "timed_out", False):
            partial_keys.append("search.chart_partial")
        t = ctx.catalogues.gettext
        chart = volume_svg(fill_days(counts, interval), t(request.state.lang, "search.chart_title"),
                           t(request.state.lang, "search.chart_bar"), link=_bar_link(form, interval),
                           link_label=t(request.state.lang, "search.chart_bar_link"))
    except QuerySyntaxError:
        error_keys.append("search.error.syntax")
    except Exception as exc:  # the engine timed out or is down: say so on the page
        if type(exc).__name__ not in ("QueryTimeout", "ConnectionError", "ConnectionTimeout", "TransportError"):
            raise
        error_keys.append("search.error.engine")
    user = request.state.user
    total = result.total if result else 0
    pages = max(1, -(-total // PAGE_SIZE))
    base_params = form.params(with_page=False)
    keep = ((COPIES_PARAM, COPIES_ALL),) if every_copy else ()  # the toggle stays on across pages
    return render(
        request, "search.html", form=form, result=result, chart=chart, error_keys=error_keys,
        expansions=expansions, partial_keys=partial_keys, via_label=via_label,
        groups=_facet_groups(form, result.facets if result else {}), total=total, pages=pages,
        hit_groups=groups, copies=copies, every_copy=every_copy,
        copies_toggle="/search?" + urlencode(base_params + ([] if every_copy else [(COPIES_PARAM, COPIES_ALL)])),
        page_links=_page_links(form, pages, keep), query_string=urlencode(base_params),
        saved=ctx.saved.for_user(user.id), today=date.today().isoformat(),
        subscribed=_subscribed(request, user.id),
        remove_links=[(k, v, urlencode(form.params(drop=(k, v), with_page=False)))
                      for k, vals in form.filters.items() for v in vals],
    )


def _page_links(form: SearchForm, pages: int,
                keep: tuple[tuple[str, str], ...] = ()) -> list[tuple[int | None, str]]:
    """(page number, URL) around the current page; None marks a gap. ``keep``: parameters of the
    page that are not the form's (the copies toggle)."""
    wanted = sorted({1, pages, *range(max(1, form.page - 2), min(pages, form.page + 2) + 1)})
    links: list[tuple[int | None, str]] = []
    previous = 0
    for n in wanted:
        if n - previous > 1:
            links.append((None, ""))
        links.append((n, "/search?" + urlencode([*form.params(page=n), *keep])))
        previous = n
    return links


def _export(request: Request, kind: str) -> Response:
    ctx = request.app.state.ctx
    form = _form(request)
    try:
        query = _query(request, form, offset=0)
        query.parsed  # noqa: B018 - raises on bad syntax before streaming starts
    except QuerySyntaxError:
        return render(request, "error.html", status_code=400, message_key="search.error.syntax")
    stamp = date.today().isoformat()
    if kind == "csv":
        return StreamingResponse(csv_lines(ctx.backend, query), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="hpmon-{stamp}.csv"'})
    return StreamingResponse(jsonl_lines(ctx.backend, query), media_type="application/x-ndjson; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="hpmon-{stamp}.jsonl"'})


@page(router, "/search/export.csv", role="viewer")
def export_csv(request: Request) -> Response:
    return _export(request, "csv")


@page(router, "/search/export.jsonl", role="viewer")
def export_jsonl(request: Request) -> Response:
    return _export(request, "jsonl")


@page(router, "/saved", role="analyst", methods=("POST",))
def save_search(request: Request, name: str = Form(..., min_length=1, max_length=120),
                query_string: str = Form("", max_length=4000)) -> Response:
    from urllib.parse import parse_qsl

    ctx = request.app.state.ctx
    form = SearchForm.from_params(parse_qsl(query_string))
    # a search is checked when it is saved, so that opening it later never fails
    if form.errors:
        return render(request, "error.html", status_code=400, message_key=next(iter(form.errors)))
    try:
        _query(request, form).parsed  # noqa: B018 - raises on bad syntax
    except QuerySyntaxError:
        return render(request, "error.html", status_code=400, message_key="search.error.syntax")
    saved = ctx.saved.add(request.state.user.id, name, form.params(with_page=False))
    if saved is None:
        return render(request, "error.html", status_code=400, message_key="saved.too_many")
    return RedirectResponse("/search?" + urlencode(saved.params), status_code=303)


@page(router, "/saved/{saved_id}/delete", role="analyst", methods=("POST",))
def delete_saved(request: Request, saved_id: RecordId) -> Response:
    request.app.state.ctx.saved.delete(request.state.user.id, saved_id)
    return RedirectResponse("/search", status_code=303)


# -- subscriptions to saved searches (records.subscriptions: alert rules owned by their user) ------


def _subscriptions(request: Request) -> Subscriptions:
    return Subscriptions(request.app.state.ctx.settings.app_db_path)


def _subscribed(request: Request, user_id: int) -> dict[int, list]:
    """The user's subscriptions by the saved search they follow (none without the alerts page)."""
    if not request.app.state.ctx.features.get("alerts"):
        return {}
    store = _subscriptions(request)
    try:
        subs = store.for_user(user_id)
    finally:
        store.close()
    out: dict[int, list] = {}
    for sub in subs:
        out.setdefault(sub.saved_id, []).append(sub)
    return out


@page(router, "/saved/{saved_id}/subscribe", role="analyst", methods=("POST",))
def subscribe(request: Request, saved_id: RecordId, email: str = Form("", max_length=320),
              mode: str = Form("instant", max_length=20)) -> Response:
    """Follow a saved search by e-mail: an alert rule of the user's own (its query and filters),
    matched and delivered by the alert machinery like every rule."""
    from alerts.rules import RuleError, parse_rules
    from web.alerts_file import thresholds

    ctx = request.app.state.ctx
    user = request.state.user
    saved = ctx.saved.get(user.id, saved_id)
    if saved is None or not request.app.state.ctx.features.get("alerts"):
        return render(request, "error.html", status_code=404, message_key="error.not_found")
    store = _subscriptions(request)
    try:
        sub = store.add(user_id=user.id, username=user.username, saved_id=saved.id, name=saved.name,
                        rule=rule_of_search(saved.params), email=email, mode=mode, language=request.state.lang)
        try:  # what the engine will read: refused now rather than skipped later
            parse_rules({"rules": [sub.as_rule()]}, source="subscription", thresholds=thresholds(ctx.settings))
        except RuleError:
            store.delete(user.id, sub.id)
            return render(request, "error.html", status_code=400, message_key="search.error.syntax")
    except SubscriptionError as exc:
        return render(request, "error.html", status_code=400, message_key=exc.key)
    finally:
        store.close()
    return RedirectResponse("/search?" + urlencode(saved.params), status_code=303)


@page(router, "/subscriptions/{sub_id}/delete", role="analyst", methods=("POST",))
def unsubscribe(request: Request, sub_id: RecordId) -> Response:
    store = _subscriptions(request)
    try:
        store.delete(request.state.user.id, sub_id)
    finally:
        store.close()
    return RedirectResponse("/search", status_code=303)
