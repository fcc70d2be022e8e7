"""Page metadata (title, authors, publication time) and body on real news pages, beside trafilatura.

Two data sets from ``../shared/benchmarks`` (read in place, never copied):

- ``fundus/``: 119 news pages of 117 publishers with each publisher's expected title, authors,
  publication time and body (Fundus' per-site parsers, checked by its CI);
- ``trafilatura-eval/``: 102 pages in 19 languages with "with"/"without" body snippets and, for
  most, title, author and date.

Both systems start from the same text (``decode_html`` of the raw bytes) and are timed on the
extraction call alone (CPU time): hpmon's ``extract_article`` with the page's source timezone
(the default zone of its country, as ``config/sources.yaml`` gives it), and
``trafilatura.bare_extraction(html, url=url, with_metadata=True)``.

Scores (per page, then the share of pages):
- body F1: Fundus, F1 of the multisets of ``\\w+`` tokens (case-folded) of the body against the
  expected summary + section headlines + paragraphs; trafilatura-eval, upstream
  ``eval_common.py`` counting summed over pages (a "with" snippet found = TP, missing = FN, a
  "without" snippet found = FP), F1 of the sums;
- title exact: equal after NFC, dropping invisible format characters and collapsing whitespace;
- authors exact: the same set of names after NFC, whitespace collapse and case-folding, on pages
  that name authors; "no invented author": no author returned on pages that name none;
- day right: the calendar day of the publication in the ground truth's own offset (zone-less
  truth: the day in the source's zone — its country's, for trafilatura-eval the ccTLD's — else
  in the offset the page stated); time within 60 s: on pages whose expected time carries a UTC offset.

    .venv/bin/python -m bench.metadata_bench [--verbose]
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import base_parser, data_dir, md_table, skip, write_report

NAME = "metadata"
TITLE = "Page metadata: titles, authors, publication times and body (Fundus, trafilatura-eval)"

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


@dataclass
class Page:
    key: str
    url: str
    body: bytes
    country: str | None
    title: str | None = None
    authors: list[str] | None = None  # None: unknown; []: the page names none
    published: str | None = None  # None: unknown; "": the page has no date
    text: str | None = None  # Fundus body
    with_snippets: list[str] = field(default_factory=list)
    without_snippets: list[str] = field(default_factory=list)


@dataclass
class Result:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: datetime | date | None = None
    published_local: datetime | None = None  # as the page stated it (its own offset)
    date_source: str | None = None
    text: str = ""
    error: str | None = None


# --- data ---------------------------------------------------------------------------------


def _fundus_body(body: Any) -> str:
    if isinstance(body, str):
        try:
            body = ast.literal_eval(body)
        except (ValueError, SyntaxError):
            return body
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return "\n".join(parts)


def load_fundus(folder: Path) -> list[Page]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        e = truth[key]
        pages.append(Page(key=key, url=e.get("url") or "", body=gzip.decompress((folder / e["file"]).read_bytes()),
                          country=e.get("country"), title=e.get("title"), authors=list(e.get("authors") or []),
                          published=e.get("publishing_date"), text=_fundus_body(e.get("body") or {})))
    return pages


def _snippets(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            value = [value]
    return [s for s in (value or []) if s]


_GENERIC_CCTLDS = {"io", "co", "tv", "me", "fm", "ai", "ly", "cc", "ws", "to"}


def _tld_country(url: str) -> str | None:
    """The country a source at this URL would be declared with: its country-code TLD."""
    host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0].lower()
    tld = host.rsplit(".", 1)[-1]
    if "web.archive.org" in host or len(tld) != 2 or tld in _GENERIC_CCTLDS:
        return None
    return "GB" if tld == "uk" else tld.upper()


def load_trafilatura_eval(folder: Path) -> list[Page]:
    truth = json.loads((folder / "evaldata-subset.json").read_text(encoding="utf-8"))
    pages = []
    for url in sorted(truth):
        e = truth[url]
        author = e.get("author")
        authors = None if author is None else [a.strip() for a in re.split(r";|\|", author) if a.strip()]
        link = url.split("::", 1)[-1]
        # reports name a page by its file (html/<id>.html.gz), never by its URL
        pages.append(Page(key=Path(e["html"]).name.split(".")[0], url=link if link.startswith("http") else "",
                          country=_tld_country(link),
                          body=gzip.decompress((folder / e["html"]).read_bytes()), title=e.get("title") or None,
                          authors=authors, published=e.get("date"),
                          with_snippets=_snippets(e.get("with")), without_snippets=_snippets(e.get("without"))))
    return pages


def country_timezone(country: str | None) -> str:
    """The default zone of a country, as sources get it (crawlers.sources.country_timezone)."""
    if not country:
        return "UTC"
    from crawlers.sources import country_timezone as main_zone

    code = {"uk": "GB", "ind": "IN", "isl": "IS"}.get(country.lower(), country.upper())  # Fundus' folder names
    return main_zone(code) or "UTC"


# --- the systems ----------------------------------------------------------------------------


def _decode(body: bytes) -> str | None:
    from pipeline.extract import decode_html
    from pipeline.outcome import Dropped

    decoded = decode_html(body, None)
    return None if isinstance(decoded, Dropped) else decoded.html


ZONE_OVERRIDE: str | None = None  # --zone: one zone for every page (as before sources had zones)


def run_hpmon(html: str, page: Page) -> Result:
    from pipeline.extract import extract_article
    from pipeline.outcome import Dropped

    zone = ZONE_OVERRIDE or country_timezone(page.country)
    extracted = extract_article(html, page.url, timezone=zone, min_chars=80)
    if isinstance(extracted, Dropped):
        return Result(error=str(extracted))
    return Result(title=extracted.title, authors=list(extracted.authors), published=extracted.published_at,
                  published_local=getattr(extracted, "published_local", None),
                  date_source=getattr(extracted, "date_source", None), text=extracted.text)


TEXT_ONLY = "trafilatura, text only"


def run_trafilatura_text(html: str, page: Page) -> Result:
    """For the speed and body columns only: trafilatura without its metadata step."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=page.url or None, with_metadata=False)
    return Result(text=(doc.text or "") if doc else "", error=None if doc else "nothing extracted")


def run_trafilatura(html: str, page: Page) -> Result:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=page.url or None, with_metadata=True)
    if doc is None:
        return Result(error="nothing extracted")
    published = None
    if doc.date:
        try:
            published = datetime.fromisoformat(doc.date)
        except ValueError:
            published = None
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return Result(title=doc.title or "", authors=authors, published=published, text=doc.text or "")


# --- scoring --------------------------------------------------------------------------------


def norm(text: str | None) -> str:
    """NFC, invisible format characters (soft hyphen, zero-width space) dropped, whitespace collapsed."""
    text = "".join(c for c in unicodedata.normalize("NFC", text or "") if unicodedata.category(c) != "Cf")
    return _SPACE.sub(" ", text).strip()


def author_set(names: list[str]) -> set[str]:
    return {norm(n).casefold() for n in names if norm(n)}


def token_f1(truth: str, pred: str) -> float:
    t = Counter(tok.casefold() for tok in _TOKEN.findall(truth or ""))
    p = Counter(tok.casefold() for tok in _TOKEN.findall(pred or ""))
    if not t and not p:
        return 1.0
    common = sum((t & p).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def _expected_time(value: str) -> tuple[datetime | None, date | None]:
    """(the aware expected time or None when zone-less, the expected calendar day)."""
    value = value.strip()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return None, date.fromisoformat(value[:10])
        except ValueError:
            return None, None
    return (dt if dt.tzinfo else None), dt.date()


def _day_of(pred: datetime | date, expected: datetime | None) -> date:
    if isinstance(pred, datetime):
        if pred.tzinfo is not None and expected is not None:
            return pred.astimezone(expected.tzinfo).date()
        if pred.tzinfo is not None:  # zone-less truth: the day as the page states it
            return pred.date()
        return pred.date()
    return pred


def score_page(page: Page, r: Result, local_zone: str) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    s: dict[str, Any] = {}
    if page.text is not None:
        s["body_f1"] = token_f1(page.text, r.text)
    if page.with_snippets or page.without_snippets:
        text = norm(r.text)
        tp = sum(1 for w in page.with_snippets if norm(w) in text)
        s["snippets"] = (tp, len(page.with_snippets) - tp, sum(1 for w in page.without_snippets if norm(w) in text))
    if page.title:
        s["title_exact"] = norm(r.title) == norm(page.title)
    if page.authors:
        s["authors_exact"] = author_set(r.authors) == author_set(page.authors)
        got, want = author_set(r.authors), author_set(page.authors)
        s["author_tp"], s["author_fp"], s["author_fn"] = len(got & want), len(got - want), len(want - got)
    elif page.authors == []:
        s["no_invented_author"] = not r.authors
    if page.published:
        expected, day = _expected_time(page.published)
        if day is not None:
            pred = r.published
            if isinstance(pred, datetime) and pred.tzinfo is not None and expected is None:
                if page.country or r.published_local is None:  # zone-less truth: the source's local day
                    pred = pred.astimezone(ZoneInfo(local_zone))
                else:  # source zone unknown: the day in the offset the page stated
                    pred = r.published_local
            s["day_right"] = pred is not None and _day_of(pred, expected) == day
        if expected is not None:
            ok = isinstance(r.published, datetime) and r.published.tzinfo is not None \
                and abs(r.published - expected) <= timedelta(seconds=60)
            s["time_60s"] = ok
            if isinstance(r.published, datetime) and r.published.tzinfo is not None:
                s["time_error_h"] = round((r.published - expected).total_seconds() / 3600, 2)
    return s


def summarise(scores: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("body_f1",):
        values = [s[key] for s in scores if key in s]
        if values:
            out["body_f1"] = sum(values) / len(values)
    snippets = [s["snippets"] for s in scores if "snippets" in s]
    if snippets:
        tp, fn, fp = (sum(x[i] for x in snippets) for i in range(3))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out["body_f1"] = 2 * p * r / (p + r) if p + r else 0.0
        out["body_precision"], out["body_recall"] = p, r
    for key in ("title_exact", "authors_exact", "no_invented_author", "day_right", "time_60s"):
        values = [s[key] for s in scores if key in s]
        out[key] = sum(values) / len(values) if values else None
        out[f"{key}_n"] = len(values)
    tp, fp, fn = (sum(s.get(k, 0) for s in scores) for k in ("author_tp", "author_fp", "author_fn"))
    out["author_precision"] = tp / (tp + fp) if tp + fp else None
    out["author_recall"] = tp / (tp + fn) if tp + fn else None
    return out


def failures(page: Page, s: dict[str, Any]) -> list[str]:
    fails = [k for k in ("title_exact", "authors_exact", "no_invented_author", "day_right", "time_60s")
             if s.get(k) is False]
    if s.get("body_f1") is not None and s["body_f1"] < 0.5:
        fails.append(f"body_f1 {s['body_f1']:.2f}")
    if s.get("time_60s") is False and "time_error_h" in s:
        fails[fails.index("time_60s")] = f"time_60s ({s['time_error_h']:+g} h)"
    return fails


def run_set(label: str, pages: list[Page], verbose: bool) -> dict[str, Any]:
    systems = {"hpmon": run_hpmon, "trafilatura": run_trafilatura, TEXT_ONLY: run_trafilatura_text}
    htmls = {p.key: _decode(p.body) for p in pages}
    first = next(p for p in pages if htmls[p.key])
    for fn in systems.values():  # warm-up: imports, lazy tables
        fn(htmls[first.key], first)
    out: dict[str, Any] = {}
    for name, fn in systems.items():
        results: dict[str, Result] = {}
        cpu = 0.0
        for p in pages:
            html = htmls[p.key]
            if html is None:
                results[p.key] = Result(error="undecodable")
                continue
            start = time.process_time()
            try:
                results[p.key] = fn(html, p)
            except Exception as exc:  # a crash is a failure of that page, not of the run
                results[p.key] = Result(error=f"{type(exc).__name__}: {exc}")
            cpu += time.process_time() - start
        scores = {p.key: score_page(p, results[p.key], country_timezone(p.country)) for p in pages}
        summary = summarise(list(scores.values()))
        if name == TEXT_ONLY:
            summary = {"body_f1": summary.get("body_f1")}
        summary["cpu_seconds"] = cpu
        summary["pages_per_second"] = len(pages) / cpu if cpu else None
        summary["errors"] = {k: r.error for k, r in results.items() if r.error}
        if name != TEXT_ONLY:
            summary["failing"] = {k: f for p in pages if (f := failures(p, scores[p.key])) for k in [p.key]}
        if name == "hpmon":
            summary["date_sources"] = dict(Counter(r.date_source or "none" for r in results.values()))
        out[name] = summary
        print(f"  {label} / {name}: " + ", ".join(
            f"{k} {v:.3f}" for k, v in summary.items() if isinstance(v, float) and not k.endswith("_n")))
        if verbose and name == "hpmon":
            for p in pages:
                f = summary["failing"].get(p.key)
                if f:
                    r = results[p.key]
                    print(f"    {p.key}: {f}\n      title {r.title!r} / {p.title!r}\n      authors {r.authors} / "
                          f"{p.authors}\n      date {r.published} [{r.date_source}] / {p.published}")
    return out


def _fmt(v: Any) -> Any:
    return None if v is None else (round(v, 3) if isinstance(v, float) else v)


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print each failing page with what was found")
    parser.add_argument("--zone", help="read every zone-less time in this zone instead of the source's")
    args = parser.parse_args(argv)
    global ZONE_OVERRIDE
    ZONE_OVERRIDE = args.zone
    root = args.data or data_dir("")
    fundus, traf = root / "fundus", root / "trafilatura-eval"
    have_fundus = (fundus / "ground-truth.json").exists()
    have_traf = (traf / "evaldata-subset.json").exists()
    if not have_fundus and not have_traf:
        skip(NAME, TITLE, f"data folders {fundus} and {traf} absent", args.results)
    sets: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    if have_fundus:
        pages = load_fundus(fundus)
        counts["fundus"] = len(pages)
        print(f"{NAME}: fundus, {len(pages)} pages")
        sets["fundus"] = run_set("fundus", pages, args.verbose)
    if have_traf:
        pages = load_trafilatura_eval(traf)
        counts["trafilatura-eval"] = len(pages)
        print(f"{NAME}: trafilatura-eval, {len(pages)} pages")
        sets["trafilatura-eval"] = run_set("trafilatura-eval", pages, args.verbose)

    columns = [("body F1", "body_f1"), ("title exact", "title_exact"), ("authors exact", "authors_exact"),
               ("author P", "author_precision"), ("author R", "author_recall"),
               ("no invented author", "no_invented_author"), ("day right", "day_right"),
               ("time ≤ 60 s", "time_60s"), ("pages/s (CPU)", "pages_per_second")]
    md = [__doc__.split("\n\n", 1)[1].split("    .venv")[0].strip(), ""]
    for set_name, systems in sets.items():
        hp, tr = systems["hpmon"], systems["trafilatura"]
        md += [f"## {set_name} ({counts[set_name]} pages)", ""]
        rows = [[name] + [_fmt(m.get(key)) if name != TEXT_ONLY or key in ("body_f1", "pages_per_second") else None
                          for _, key in columns] for name, m in systems.items()]
        rows.append(["pages scored"] + [hp.get(f"{key}_n", "") for _, key in columns[:-1]] + [""])
        md += [md_table(["system"] + [c for c, _ in columns], rows), ""]
        if hp.get("pages_per_second") and tr.get("pages_per_second"):
            md.append(f"hpmon CPU time / trafilatura with metadata: "
                      f"{tr['pages_per_second'] / hp['pages_per_second']:.2f}×; / trafilatura text only: "
                      f"{systems[TEXT_ONLY]['pages_per_second'] / hp['pages_per_second']:.2f}×.")
        md.append("hpmon's date origins: " + ", ".join(f"{k} {v}" for k, v in sorted(hp["date_sources"].items())))
        md += ["", f"### Pages hpmon fails ({len(hp['failing'])})", ""]
        md += [f"- `{k}`: {', '.join(f)}" for k, f in sorted(hp["failing"].items())] or ["none"]
        if hp["errors"]:
            md += ["", "Pages hpmon dropped:"] + [f"- `{k}`: {why}" for k, why in sorted(hp["errors"].items())]
        md.append("")
    write_report(NAME, {"title": TITLE, "data": str(root), "pages": counts, "sets": sets}, "\n".join(md),
                 args.results)


if __name__ == "__main__":
    main()
