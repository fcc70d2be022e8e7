"""Canonical URLs: one spelling per page, so an article has one id however it was linked."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only track the visitor; never part of the page's identity.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "ref", "ref_src", "ref_url", "cmpid", "ito", "at_medium", "at_campaign", "ns_mchannel",
    "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "rss", "from", "spm", "share", "s_cid", "ocid",
    "cid", "zarsrc", "zacc", "gidzl",
})


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k.startswith(("utm_", "pk_", "mtm_", "hsa_")) or k in TRACKING_PARAMS


def canonical_url(url: str) -> str:
    """The URL without tracking parameters or fragment, with a lower-case host, sorted query
    and normalised percent-encoding (w3lib)."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    cleaned = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))
    return canonicalize_url(cleaned)


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host, ignoring a leading ``www.``."""
    ha = urlsplit(a).hostname or ""
    hb = urlsplit(b).hostname or ""
    return ha.removeprefix("www.") == hb.removeprefix("www.")


def resolve_canonical(page_url: str, declared: str | None) -> str:
    """The page's canonical URL: its ``rel=canonical`` when that points to a real page on the
    same site (not the home page, as misconfigured sites do), else the page's own URL."""
    own = canonical_url(page_url)
    if not declared or not declared.startswith(("http://", "https://")):
        return own
    candidate = canonical_url(declared)
    if not same_site(own, candidate):
        return own
    if urlsplit(candidate).path in ("", "/") and urlsplit(own).path not in ("", "/"):
        return own
    return candidate
