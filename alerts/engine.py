"""Evaluating alert rules on each newly indexed batch, and handing alerts to delivery.

A rule's query means exactly what ``hpmon search`` means: the query is parsed by
``index.query.parse_query`` and its phrases are found with ``index.highlight.find_spans`` (the
functions the backends and the highlighter use), in the same fields (title, lead, text); its
filters are ``SearchQuery`` facets. Once per story per rule: a copy of a story already alerted
within the rule's throttle window is folded into that alert instead of making a new message.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.channels import EmailChannel, WebhookChannel
from alerts.delivery import AlertLog, Deliverer, DeliveryReport, DeliverySpec, RetryPolicy
from alerts.i18n import load_label_names
from alerts.mail import SmtpConfig
from alerts.render import Renderer
from alerts.rules import Rule, RuleError, load_rules, parse_rules, read_risk_thresholds
from hpbase.clock import utcnow
from index.article import Article
from index.backend import Backend
from index.highlight import find_spans, make_snippet
from index.query import ParsedQuery, SearchQuery, SearchResult, Snippet, parse_query
from records.recipients import office_recipients
from records.subscriptions import subscription_rules

logger = logging.getLogger(__name__)

TITLE_MAX = 300
TRANSLATIONS_MAX = 4  # languages of an article's title translations kept in an alert
TEXT_MAX = 200
SNIPPET_WIDTH = 300
EVIDENCE_MAX = 300
REASONS_MAX = 6
URL_MAX = 2000
SPIKE_SAMPLES = 5


# -- matching (search semantics) --------------------------------------------------------------


def _fields(article: Article) -> list[str]:
    return [unicodedata.normalize("NFC", t) for t in (article.title, article.lead, article.text) if t]


def _clause_matches(phrases: tuple[str, ...], fields: list[str]) -> bool:
    return any(find_spans(text, [phrase]) for phrase in phrases for text in fields)


def text_matches(parsed: ParsedQuery, article: Article) -> bool:
    """Whether the article's title, lead or text satisfy the parsed query as search does:
    every clause has a phrase in some field, no excluded phrase occurs anywhere."""
    fields = _fields(article)
    if any(not _clause_matches(c.phrases, fields) for c in parsed.must):
        return False
    return not any(_clause_matches(c.phrases, fields) for c in parsed.must_not)


def filters_match(query: SearchQuery, article: Article) -> bool:
    """Whether the article passes the query's facet filters, dates and minimum risk, as a backend
    would filter it (any listed value of a facet matches; a missing risk never passes)."""
    for facet, accepted in query.filters.items():
        if not set(article.facet_values(facet)) & set(accepted):
            return False
    if query.min_risk is not None and (article.risk_score is None or article.risk_score < query.min_risk):
        return False
    date = article.date
    if query.since and (date is None or date < query.since):
        return False
    return not (query.until and (date is None or date > query.until))


def finding_terms(article: Article, themes: tuple[str, ...] = ()) -> list[str]:
    """The sensitive terms found in the article (of ``themes``, or all), as written: what a
    theme rule "matched", to highlight when the rule has no query words."""
    sensitive = (article.reasons or {}).get("sensitive") or {}
    findings = sensitive.get("findings") if isinstance(sensitive, dict) else None
    terms: dict[str, None] = {}
    for f in findings or []:
        if isinstance(f, dict) and isinstance(f.get("surface"), str) and (not themes or f.get("theme") in themes):
            terms[f["surface"][:100]] = None
    return list(terms)[:30]


def match_article(rule: Rule, article: Article) -> Snippet | None:
    """The snippet when the article matches the rule (else None), with what made it match marked:
    the query's phrases, and the sensitive terms of the rule's themes (of any theme when the rule
    has neither query words nor themes, e.g. a risk rule)."""
    query = rule.search_query()
    if not filters_match(query, article):
        return None
    parsed = parse_query(rule.query)
    if not text_matches(parsed, article):
        return None
    phrases = parsed.positive_phrases()
    if rule.filters.themes or not phrases:  # the themes matched, or the risk behind them
        phrases += finding_terms(article, rule.filters.themes)
    texts = [unicodedata.normalize("NFC", t or "") for t in (article.text, article.lead, article.title)]
    return make_snippet(texts, phrases, width=SNIPPET_WIDTH)


def _cap(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def article_summary(article: Article, snippet: Snippet | None = None) -> dict[str, Any]:
    """What an alert shows of an article, capped (crawled text is hostile), as stored in the log."""
    risk = (article.reasons or {}).get("risk") or {}
    reasons = risk.get("reasons") if isinstance(risk, dict) else None
    summary: dict[str, Any] = {
        "id": article.id, "title": _cap(article.title, TITLE_MAX), "url": _cap(article.url, URL_MAX),
        "language": article.language, "outlet": _cap(article.outlet, 120) or None, "source_id": article.source_id,
        "country": article.country, "scope": article.scope,
        "date": article.date.astimezone(UTC).isoformat() if article.date else None,
        "story_id": article.story_id, "themes": list(article.sensitive_themes or []),
        "topics": list(article.topics or []), "sentiment": article.sentiment, "risk_score": article.risk_score,
        "reasons": [{"kind": _cap(str(r.get("kind", "")), 60), "evidence": _cap(str(r.get("evidence", "")),
                                                                                  EVIDENCE_MAX),
                     "weight": r.get("weight")} for r in (reasons or [])[:REASONS_MAX] if isinstance(r, dict)],
    }
    translations = {str(lang)[:16]: _cap(t.get("title"), TITLE_MAX)
                    for lang, t in list((article.translations or {}).items())[:TRANSLATIONS_MAX]
                    if isinstance(t, dict) and isinstance(t.get("title"), str) and t.get("title").strip()}
    if translations:  # machine translations of the title, by language (Article.translations)
        summary["translations"] = translations
    if snippet is not None:
        summary["snippet"] = {"text": snippet.text, "spans": [list(s) for s in snippet.spans]}
    return summary


def member_summary(article: Article) -> dict[str, Any]:
    """The short record of a folded copy: enough for "and 4 more outlets" with links."""
    return {"title": _cap(article.title, TITLE_MAX), "outlet": _cap(article.outlet, 120) or article.source_id,
            "country": article.country, "language": article.language, "url": _cap(article.url, URL_MAX)}


# -- the engine -------------------------------------------------------------------------------


def _subscriptions(db_path: Path, thresholds: dict[str, float],
                   taken: set[str]) -> tuple[list[Rule], dict[str, list[str]]]:
    """The subscriptions' rules and addresses; one that no longer reads as a rule (or whose name a
    rule of the file took) is skipped with the reason logged, never stopping the other alerts."""
    raw, addresses = subscription_rules(db_path)
    rules: list[Rule] = []
    for item in raw:
        if item["name"] in taken:
            logger.error("subscription %s skipped: alerts.yaml has a rule of that name", item["name"])
            continue
        try:
            rules.extend(parse_rules({"rules": [item]}, source="subscriptions", thresholds=thresholds))
        except RuleError as exc:
            logger.error("subscription %s skipped: %s", item["name"], exc)
    return rules, {r.name: addresses[r.name] for r in rules if r.name in addresses}



@dataclass
class SpikeCheck:
    """Counts behind a spike decision (shown by ``alerts test`` and put in the alert)."""

    rule: str
    current: int
    baseline_total: int
    baseline: float  # expected hits per window
    threshold: float
    fired: bool


class AlertEngine:
    """Rules + alert log + channels: ``process_batch`` after each indexing run, then
    ``deliver_pending`` (also on its own, to retry what waits)."""

    def __init__(self, rules: list[Rule], backend: Backend | None, log: AlertLog, deliverer: Deliverer, *,
                 recipients: dict[str, list[str]], webhooks: dict[str, str],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.rules = rules
        self.backend = backend
        self.log = log
        self.deliverer = deliverer
        self.recipients = recipients
        self.webhooks = webhooks
        self.clock = clock

    @classmethod
    def from_values(cls, *, rules_path: Path, backend: Backend | None, db_path: Path, smtp: SmtpConfig | None,
                    recipients: dict[str, list[str]], webhooks: dict[str, str], webhook_secret: str | None,
                    base_url: str, timezone: str = "Asia/Ho_Chi_Minh", taxonomy_path: Path | None = None,
                    risk_path: Path | None = None, webhook_timeout: float = 10.0, allow_hosts: Iterable[str] = (),
                    policy: RetryPolicy | None = None, clock: Callable[[], datetime] = utcnow) -> AlertEngine:
        """The engine built from plain values (the CLI and the crawl pass them from the settings).
        ``recipients`` are the settings' lists; the lists the office keeps in its records
        (``records.recipients``, in the file of the alert log, edited in the web app) are added,
        winning over a settings list of the same name, and the analysts' subscriptions to saved
        searches (``records.subscriptions``) are added as rules of their own, each with its
        subscriber's address. Raises RuleError when the rules file is wrong."""
        thresholds = read_risk_thresholds(risk_path)
        rules = load_rules(rules_path, thresholds=thresholds)
        recipients = office_recipients(db_path, recipients)
        subscribed, addresses = _subscriptions(db_path, thresholds, {r.name for r in rules})
        rules, recipients = [*rules, *subscribed], {**recipients, **addresses}
        renderer = Renderer(base_url=base_url, timezone=timezone, labels=load_label_names(taxonomy_path),
                            rule_labels={r.name: r.label for r in rules})
        log = AlertLog(db_path, clock=clock)
        channels = {"email": EmailChannel(smtp, renderer),
                    "webhook": WebhookChannel(webhooks, webhook_secret, renderer, timeout=webhook_timeout,
                                              allow_hosts=allow_hosts)}
        deliverer = Deliverer(log, channels, policy=policy)  # type: ignore[arg-type]
        return cls(rules, backend, log, deliverer, recipients=recipients, webhooks=webhooks, clock=clock)

    def close(self) -> None:
        self.log.close()

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    # -- evaluation ------------------------------------------------------------------------

    def deliveries_for(self, rule: Rule) -> list[DeliverySpec]:
        """One delivery per address of each named list (e-mail) and per named webhook. A name the
        settings do not know becomes a failed delivery with the reason, never silence."""
        specs: list[DeliverySpec] = []
        for ref in rule.recipients:
            language = ref.language or rule.language
            known = False
            if ref.name in self.recipients:
                known = True
                if "email" in rule.channels:
                    for address in dict.fromkeys(a.strip() for a in self.recipients[ref.name] if a.strip()):
                        specs.append(DeliverySpec("email", address, ref.name, language))
            if ref.name in self.webhooks:
                known = True
                if "webhook" in rule.channels:
                    specs.append(DeliverySpec("webhook", ref.name, ref.name, language))
            if not known:
                specs.append(DeliverySpec("email", f"unknown:{ref.name}", ref.name, language,
                                          problem=f"no recipient list or webhook named {ref.name!r} in the settings"))
        return specs

    def process_batch(self, articles: Iterable[Article]) -> list[int]:
        """Evaluate every rule on newly indexed articles and log the alerts they raise (before
        anything is sent). Returns the ids of NEW alerts; copies folded into an existing alert
        update it instead. Safe to call twice with the same batch: nothing fires twice."""
        now = self.clock()
        new: list[int] = []
        batch = list(articles)
        match_rules = [r for r in self.rules if r.enabled and r.kind == "match"]
        for article in batch:
            with self.log.transaction():  # the article's alerts are written together, or not at all
                new.extend(i for i in (self._consider(rule, article, now) for rule in match_rules) if i is not None)
        new.extend(self._spikes(now))
        if new:
            logger.info("%d new alerts from a batch of %d articles", len(new), len(batch))
        return new

    def _spikes(self, now: datetime) -> list[int]:
        """The ids of the spike alerts raised now by the enabled spike rules."""
        new: list[int] = []
        for rule in self.rules:
            if rule.enabled and rule.kind == "spike":
                check = self.check_spike(rule, now)
                if check and check.fired:
                    alert_id = self._spike_alert(rule, check, now)
                    if alert_id is not None:
                        new.append(alert_id)
        return new

    def _consider(self, rule: Rule, article: Article, now: datetime) -> int | None:
        if rule.max_article_age is not None and article.date is not None and now - article.date > rule.max_article_age:
            return None
        snippet = match_article(rule, article)
        if snippet is None or self.log.rule_has_article(rule.name, article.id):
            return None
        story_key = article.story_id or article.duplicate_of or article.id
        existing = self.log.open_alert(rule.name, story_key, now - rule.throttle)
        if existing is not None:
            if self.log.add_member(existing, rule.name, article.id, member_summary(article)):
                logger.info("rule %s: %s folded into alert %s (story %s)", rule.name, article.id, existing, story_key)
            return None
        payload = {"rule_label": rule.label, "article": article_summary(article, snippet)}
        alert_id = self.log.create_alert(
            rule=rule.name, kind="match", story_key=story_key, severity=rule.severity, payload=payload,
            members=[(article.id, member_summary(article))], deliveries=self.deliveries_for(rule))
        logger.info("rule %s: alert %s for article %s", rule.name, alert_id, article.id)
        return alert_id

    def evaluate_waiting(self, also: Iterable[Article] = (), *, page: int = 500) -> int:
        """Evaluate the rules on every article indexed and not evaluated yet (the durable mark in
        the alert log, in the order they were indexed, whatever their publication date), and on
        ``also`` (articles handed over directly), then set each one's mark. An article indexed just
        before a kill is evaluated here by the next round. Returns how many articles were
        evaluated; nothing fires twice.

        Each article's alert rows (new alerts with their deliveries, folded copies) and its mark
        are written in one transaction, the rules' "already alerted" checks read inside it: a kill
        leaves the article either evaluated with its alerts or waiting with none of them, and two
        evaluators at once (a crawl's alert step and ``alerts deliver``) evaluate it once."""
        now = self.clock()
        match_rules = [r for r in self.rules if r.enabled and r.kind == "match"]
        evaluated: set[str] = set()
        new = 0
        while True:
            waiting = [w for w in self.log.awaiting_evaluation(page) if w[0] not in evaluated]
            if not waiting:
                break
            for article_id, indexed_at, doc in waiting:
                evaluated.add(article_id)
                try:
                    article = Article.from_dict(doc)
                except (TypeError, ValueError, KeyError) as exc:  # a record we cannot read: say so, go on
                    logger.error("alert evaluation skipped for %s: unreadable record: %s", article_id, exc)
                    self.log.mark_evaluated(article_id, indexed_at)
                    continue
                with self.log.transaction():
                    if not self.log.is_waiting(article_id, indexed_at):
                        continue  # another evaluator did it meanwhile
                    new += sum(self._consider(rule, article, now) is not None for rule in match_rules)
                    self.log.mark_evaluated(article_id, indexed_at)
        for article in also:
            if article.id not in evaluated:
                evaluated.add(article.id)
                with self.log.transaction():
                    new += sum(self._consider(rule, article, now) is not None for rule in match_rules)
                    self.log.mark_evaluated(article.id)
        new += len(self._spikes(now))
        if evaluated:
            logger.info("rules evaluated on %d articles: %d new alerts", len(evaluated), new)
        return len(evaluated)

    # -- spikes ----------------------------------------------------------------------------

    def check_spike(self, rule: Rule, now: datetime | None = None) -> SpikeCheck | None:
        """Hits of the rule in the last window versus its baseline, from the backend's search
        (None without a backend or spike parameters)."""
        if self.backend is None or rule.spike is None:
            return None
        now = now or self.clock()
        p = rule.spike
        start = now - p.window
        current = self.backend.search(rule.search_query(since=start, until=now, limit=1)).total
        baseline_total = self.backend.search(
            rule.search_query(since=start - p.baseline, until=start - timedelta(seconds=1), limit=1)).total
        baseline = baseline_total * (p.window / p.baseline)
        threshold = max(float(p.min_count), p.factor * max(baseline, p.min_baseline))
        return SpikeCheck(rule.name, current, baseline_total, round(baseline, 2), round(threshold, 2),
                          current >= threshold)

    def _spike_alert(self, rule: Rule, check: SpikeCheck, now: datetime) -> int | None:
        if self.log.open_alert(rule.name, "spike", now - rule.throttle) is not None:
            return None
        assert rule.spike is not None and self.backend is not None
        samples = self.backend.search(rule.search_query(since=now - rule.spike.window, until=now,
                                                        limit=SPIKE_SAMPLES, sort="date"))
        payload = {"rule_label": rule.label, "spike": {
            "current": check.current, "baseline": check.baseline, "baseline_total": check.baseline_total,
            "baseline_days": round(rule.spike.baseline / timedelta(days=1), 2),
            "window_hours": round(rule.spike.window / timedelta(hours=1), 2), "factor": rule.spike.factor,
            "min_count": rule.spike.min_count, "threshold": check.threshold,
            "samples": [article_summary(h.article) for h in samples.hits],
        }}
        with self.log.transaction():  # checked again under the write lock: two evaluators at once alert once
            if self.log.open_alert(rule.name, "spike", now - rule.throttle) is not None:
                return None
            alert_id = self.log.create_alert(rule=rule.name, kind="spike", story_key="spike",
                                             severity=rule.severity, payload=payload, members=[],
                                             deliveries=self.deliveries_for(rule))
        logger.info("rule %s: spike alert %s (%d vs baseline %.2f)", rule.name, alert_id, check.current,
                    check.baseline)
        return alert_id

    # -- what a rule would match, and delivery -----------------------------------------------

    def test_rule(self, rule: Rule, *, limit: int = 20, since: datetime | None = None) -> SearchResult:
        """The stored articles the rule would have matched (a ``SearchResult``, newest first)."""
        if self.backend is None:
            raise RuntimeError("no index to test the rule against")
        return self.backend.search(rule.search_query(since=since, limit=limit, sort="date"))

    def deliver_pending(self, *, ignore_backoff: bool = False) -> DeliveryReport:
        """Send what waits in the alert log (new alerts and due retries); returns the counts."""
        return self.deliverer.deliver_pending(ignore_backoff=ignore_backoff)
