"""Canonical URLs: one spelling per page, so an article has one id however it was linked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Which query parameters are tracking is courlan's rule (``courlan.clean.TRACKERS_RE``, the one
# trafilatura uses): click ids (fbclid, gclid, msclkid...), prefixed campaign parameters
# (utm_*, pk_*, mtm_*, mc_*...) and words such as campaign, medium, referrer, xtor. That rule
# also matches a few names that select the page on real news sites, and those are kept:
# never merge two different articles into one id to save a duplicate fetch.
#   cid / catid / newsid / *_id ... (``tin-tuc.aspx?cid=101`` vs ``?cid=202``: two pages)
#   source, ref, kwd, keyword, session, uid, eid (a page, a search, a user's article list)
# A parameter whose name ends in "id" is content unless it is a known click id.
_CLICK_IDS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid", "twclid", "igshid", "clickid",
    "mc_cid", "mc_eid", "s_cid", "ocid", "cmpid", "_hsenc", "_hsmi", "mkt_tok",
})
# Pure trackers courlan's rule does not name (Alibaba spm, Zalo's share parameters, ATI/Comscore).
_MORE_TRACKERS = frozenset({
    "spm", "zarsrc", "zacc", "gidzl", "_ga", "_gl", "ref_src", "ref_url", "ito", "ns_mchannel", "ns_source",
    "ns_campaign", "ns_linkname", "ns_fee", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
    "at_custom4", "__twitter_impression", "wt.mc_id", "cmp", "sr_share", "share_from",
})
_MAY_SELECT_CONTENT = frozenset({"source", "ref", "referer", "referrer", "session", "keyword", "kwd", "uid", "eid",
                                 "campaign", "medium", "aff"})


def is_tracking_param(key: str) -> bool:
    """True for a query parameter that only tracks the visitor (never selects the page)."""
    from courlan.clean import TRACKERS_RE

    k = key.strip().lower()
    if k in _CLICK_IDS or k in _MORE_TRACKERS:
        return True
    if k in _MAY_SELECT_CONTENT or k.endswith("id"):
        return False
    return bool(TRACKERS_RE.search(k))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """The URL without tracking parameters (``is_tracking_param``) or fragment (a ``#!`` or ``#/``
    route is kept: it selects the page), with a lower-case host without its default port, and
    w3lib's sorted query and normalised percent-encoding. Every other parameter is kept."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port == _DEFAULT_PORTS.get(scheme):
        netloc = netloc.rsplit(":", 1)[0]
    fragment = parts.fragment if parts.fragment.startswith(("!", "/")) else ""
    cleaned = urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), fragment))
    return canonicalize_url(cleaned, keep_fragments=bool(fragment))


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host, ignoring a leading ``www.``."""
    ha = urlsplit(a).hostname or ""
    hb = urlsplit(b).hostname or ""
    return ha.removeprefix("www.") == hb.removeprefix("www.")


# Parameters that choose a view of the same article (AMP, mobile, print), not the article: a page
# reached with only these may take its bare canonical.
_VIEW_PARAMS = frozenset({"amp", "amp_js_v", "usqp", "output", "outputtype", "outputformat", "m", "mobile", "print",
                          "printable", "view", "viewtype", "format", "layout", "theme", "display"})


def resolve_canonical(page_url: str, declared: str | None) -> str:
    """The page's canonical URL: its ``rel=canonical`` when that points to a real page on the
    same site (not the home page, nor the page's own path without the query that selects the
    article — ``tin-tuc.aspx`` for ``tin-tuc.aspx?ID=5`` — as misconfigured sites do: either would
    give every article one id), else the page's own URL."""
    own = canonical_url(page_url)
    if not declared or not declared.startswith(("http://", "https://")):
        return own
    candidate = canonical_url(declared)
    if not same_site(own, candidate):
        return own
    own_parts, parts = urlsplit(own), urlsplit(candidate)
    if parts.path in ("", "/") and own_parts.path not in ("", "/"):
        return own
    if parts.path == own_parts.path and own_parts.query and not parts.query and not parts.fragment and \
            any(k.lower() not in _VIEW_PARAMS for k, _ in parse_qsl(own_parts.query, keep_blank_values=True)):
        return own  # the script without the parameters that select the article (already tracking-free)
    return candidate
