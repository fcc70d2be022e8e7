"""The search page's parameters: read from the URL, turned into a ``SearchQuery``, and written back
into links (paging, removing a filter, export, saved searches)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from index.query import SearchQuery
from web.params import LEGACY_RISK_PARAM, RISK_PARAM, parse_day, risk_from_legacy, risk_from_points, risk_to_points

# URL parameter -> facet of the index (FACET_FIELDS), in the order the filters are shown.
FILTER_PARAMS: dict[str, str] = {
    "lang": "language",
    "country": "country",
    "scope": "scope",
    "coverage": "coverage",
    "source": "source",
    "outlet": "outlet",
    "topic": "topic",
    "sentiment": "sentiment",
    "theme": "theme",
}
PAGE_SIZE = 20
MAX_PAGE = 500  # deeper pages are refused: refine the query instead
MAX_QUERY_CHARS = 500
MAX_VALUES_PER_FILTER = 50


@dataclass
class SearchForm:
    """What the user asked for, validated; ``errors`` holds catalogue keys of what was ignored."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # param name -> values
    since: date | None = None
    until: date | None = None
    min_risk: float | None = None  # score in [0, 1]; the URL says points (``risk=72``), see web.params
    sort: str = "relevance"
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: list[tuple[str, str]]) -> SearchForm:
        """A form from URL parameters (multi-valued); bad values are dropped and noted in ``errors``."""
        form = cls()
        has_points = False  # ``risk`` wins over the old ``min_risk``, whatever their order
        for key, raw in params:
            value = raw.strip()
            if key == "q":
                form.q = value[:MAX_QUERY_CHARS]
            elif key in FILTER_PARAMS and value:
                values = form.filters.setdefault(key, [])
                if value not in values and len(values) < MAX_VALUES_PER_FILTER:
                    values.append(value[:100])
            elif key in ("since", "until") and value:
                try:
                    setattr(form, key, parse_day(value))
                except ValueError:
                    form.errors.append("search.error.bad_date")
            elif key == RISK_PARAM and value:
                try:
                    form.min_risk = risk_from_points(value)
                    has_points = True
                except ValueError:
                    form.errors.append("search.error.bad_risk")
            elif key == LEGACY_RISK_PARAM and value:  # links and saved searches of before: 0..1
                try:
                    legacy = risk_from_legacy(value)
                except ValueError:
                    form.errors.append("search.error.bad_risk")
                    continue
                if not has_points:  # to the nearest point, as every later link writes it
                    form.min_risk = risk_to_points(legacy) / 100
            elif key == "sort" and value in ("relevance", "date"):
                form.sort = value
            elif key == "page" and value:
                try:
                    form.page = min(max(1, int(value)), MAX_PAGE)
                except ValueError:
                    form.page = 1
        return form

    def to_query(self, timezone: str, *, limit: int = PAGE_SIZE, offset: int | None = None,
                 facets: bool = False) -> SearchQuery:
        """The index query: dates are whole days in the city's time zone."""
        tz = ZoneInfo(timezone)
        since = datetime.combine(self.since, time.min, tz).astimezone(UTC) if self.since else None
        until = datetime.combine(self.until, time.max, tz).astimezone(UTC) if self.until else None
        return SearchQuery(
            text=self.q, filters={FILTER_PARAMS[k]: v for k, v in self.filters.items()}, since=since, until=until,
            min_risk=self.min_risk, sort=self.sort,  # type: ignore[arg-type]
            limit=limit, offset=(self.page - 1) * PAGE_SIZE if offset is None else offset, facets=facets,
            facet_size=30,
        )

    def params(self, *, page: int | None = None, drop: tuple[str, str] | None = None,
               with_page: bool = True) -> list[tuple[str, str]]:
        """URL parameters for this form (another page, or without one filter value)."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        for key, values in self.filters.items():
            out.extend((key, v) for v in values if (key, v) != drop)
        if self.since:
            out.append(("since", self.since.isoformat()))
        if self.until:
            out.append(("until", self.until.isoformat()))
        if self.min_risk is not None:
            out.append((RISK_PARAM, str(risk_to_points(self.min_risk))))
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        page = self.page if page is None else page
        if with_page and page > 1:
            out.append(("page", str(page)))
        return out

    @property
    def risk_points(self) -> int | None:
        """The minimum risk as the form shows it (points out of 100), or None."""
        return None if self.min_risk is None else risk_to_points(self.min_risk)

    def is_selected(self, key: str, value: str) -> bool:
        return value in self.filters.get(key, [])

    @property
    def is_empty(self) -> bool:
        return not self.params(with_page=False)
