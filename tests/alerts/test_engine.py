"""Rules evaluated on indexed batches: the right rules fire, nothing fires twice, copies fold
into the first alert, spikes fire on a spike and not on a normal day, and a rule's query
means exactly what `hpmon search` means."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
import yaml

from alerts.engine import AlertEngine, match_article
from alerts.rules import parse_rules
from tests.alerts.conftest import CONFIG, RECIPIENTS, fixture_batch, make_article, syndicated_copy


def fired(engine: AlertEngine) -> dict[str, set[str]]:
    """rule -> the first article of each of its alerts (spike alerts as 'spike')."""
    out: dict[str, set[str]] = defaultdict(set)
    for alert in engine.log.alerts(limit=1000):
        out[alert.rule].add(alert.members[0]["id"] if alert.members else alert.story_key)
    return dict(out)


def story_alerts(engine: AlertEngine, ids: list[int]) -> list[int]:
    """The alerts among ``ids`` raised by match rules (the spike rule counts volumes, not stories)."""
    return [i for i in ids if engine.log.get_alert(i).kind == "match"]


def test_default_rules_fire_on_foreign_sensitive_and_risky_articles_only(setup):
    new = setup.index_and_process(fixture_batch())

    assert fired(setup.engine) == {
        "sovereignty_foreign": {"en-sov", "zh-sansha"},
        "high_risk": {"en-sov", "zh-sansha"},
        "rights_religion_ethnicity_foreign": {"en-rights"},
    }
    assert len(new) == 5


def test_each_alert_goes_to_every_address_of_its_lists_and_its_webhook(setup):
    setup.index_and_process(fixture_batch())

    by_rule = {a.rule: a for a in setup.engine.log.alerts(limit=100) if a.members[0]["id"] == "en-sov"}
    sov = {(d.channel, d.target) for d in setup.engine.log.deliveries(by_rule["sovereignty_foreign"].id)}
    risk = {(d.channel, d.target) for d in setup.engine.log.deliveries(by_rule["high_risk"].id)}
    assert sov == {("email", "trucban@sotttt.test"), ("email", "lanhdao@sotttt.test"),
                   ("email", "ngoaivu@songoaivu.test"), ("webhook", "oncall_webhook")}
    assert risk == {("email", "trucban@sotttt.test"), ("email", "lanhdao@sotttt.test"),
                    ("webhook", "oncall_webhook")}


def test_the_same_batch_processed_twice_fires_nothing_new(setup):
    batch = fixture_batch()
    first = setup.index_and_process(batch)
    setup.engine.deliver_pending()
    mails = len(setup.smtp.messages)

    second = setup.index_and_process(batch)
    setup.engine.deliver_pending()

    assert first and second == []
    assert len(setup.engine.log.alerts(limit=1000)) == len(first)
    assert len(setup.smtp.messages) == mails


def test_a_syndicated_copy_folds_into_the_first_alert_instead_of_a_new_message(setup):
    batch = fixture_batch()
    setup.index_and_process(batch)
    setup.engine.deliver_pending()
    sent_before = len(setup.smtp.messages)
    hooks_before = len(setup.hooks.requests)
    original = next(a for a in batch if a.id == "en-sov")

    copies = [syndicated_copy(original, "copy-1", "Daily Courier", "SG"),
              syndicated_copy(original, "copy-2", "Pacific Times", "AU")]
    assert story_alerts(setup.engine, setup.index_and_process(copies)) == []
    setup.engine.deliver_pending()

    alert = next(a for a in setup.engine.log.alerts(rule="sovereignty_foreign") if a.story_key == original.story_id)
    assert [m["id"] for m in alert.members] == ["en-sov", "copy-1", "copy-2"]
    assert alert.updated_at > alert.created_at or alert.updated_at == setup.clock()
    subjects = [m["Subject"] for _, m in setup.smtp.messages[sent_before:]]
    assert not [s for s in subjects if "Bach Long Vi" in s]
    assert not [r for r in setup.hooks.requests[hooks_before:] if r.json["kind"] == "match"]


def test_copies_folded_before_sending_are_counted_in_the_message(setup):
    batch = fixture_batch()
    original = next(a for a in batch if a.id == "en-sov")
    setup.index_and_process(batch)
    setup.index_and_process([syndicated_copy(original, f"copy-{n}", outlet, "SG")
                             for n, outlet in enumerate(["Courier", "Tribune", "Herald", "Post"])])

    setup.engine.deliver_pending()

    subjects = [m["Subject"] for rcpt, m in setup.smtp.messages
                if rcpt == "ngoaivu@songoaivu.test" and "Bach Long Vi" in m["Subject"]]
    assert len(subjects) == 1
    assert subjects[0].endswith("(và 4 báo khác)")


def test_a_copy_after_the_throttle_window_raises_a_new_alert(setup):
    batch = fixture_batch()
    setup.index_and_process(batch)
    original = next(a for a in batch if a.id == "en-sov")

    setup.clock.advance(timedelta(hours=25))
    late = syndicated_copy(original, "copy-late", "Late Gazette", "US", now=setup.clock())
    new = setup.index_and_process([late])

    rules = {setup.engine.log.get_alert(i).rule for i in new}
    assert rules == {"sovereignty_foreign", "high_risk"}


def test_an_old_article_found_by_a_backfill_does_not_alert(setup):
    old = make_article("old-sov", title="Survey ship near Haiphong", text="Old story about Bach Long Vi.",
                       language="en", outlet="Global Wire", country="GB", scope="foreign", themes=["sovereignty"],
                       risk=0.5, hours_ago=24 * 30)
    assert setup.index_and_process([old]) == []


# -- the volume spike -----------------------------------------------------------------------


def negative_foreign(n: int, start_hours_ago: float, spacing_hours: float, prefix: str, now) -> list:
    return [make_article(f"{prefix}-{i}", title=f"Critical report {prefix} {i} on Haiphong",
                         text="Foreign outlet criticises the city.", language="en", outlet=f"Outlet {i % 7}",
                         country="US", scope="foreign", sentiment="negative", risk=0.1,
                         hours_ago=start_hours_ago + i * spacing_hours, now=now) for i in range(n)]


def with_baseline(setup, now) -> None:
    """Fourteen ordinary days: 8 negative foreign articles a day (2 per 6 hours), plus domestic noise."""
    setup.backend.upsert(negative_foreign(112, 6.5, 3.0, "base", now))
    setup.backend.upsert([make_article(f"dom-{i}", title=f"Tin trong nước {i}", text="Bài tiêu cực trong nước.",
                                       language="vi", outlet="Báo A", country="VN", scope="domestic",
                                       sentiment="negative", hours_ago=0.1 * i, now=now) for i in range(30)])


def test_the_spike_rule_fires_on_a_spike_with_both_numbers_in_the_alert(setup):
    now = setup.clock()
    with_baseline(setup, now)
    spike = negative_foreign(20, 0.1, 0.25, "spike", now)

    new = setup.index_and_process(spike)
    setup.engine.deliver_pending()

    alerts = [setup.engine.log.get_alert(i) for i in new]
    spikes = [a for a in alerts if a.rule == "negative_foreign_spike"]
    assert len(spikes) == 1
    numbers = spikes[0].payload["spike"]
    assert (numbers["current"], numbers["baseline_total"], numbers["baseline"]) == (20, 112, 2.0)
    mail = next(m for rcpt, m in setup.smtp.messages
                if rcpt == "trucban@sotttt.test" and "tăng đột biến" in m["Subject"])
    assert "20 bài trong 6 giờ (bình thường ~2)" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "20 bài" in body and "~2 bài (tổng 112 bài trong 14 ngày)" in body


def test_the_spike_rule_stays_quiet_on_a_normal_day(setup):
    now = setup.clock()
    with_baseline(setup, now)
    normal_day = negative_foreign(3, 0.5, 1.5, "today", now)

    new = setup.index_and_process(normal_day)

    assert [setup.engine.log.get_alert(i).rule for i in new if
            setup.engine.log.get_alert(i).rule == "negative_foreign_spike"] == []
    check = setup.engine.check_spike(setup.engine.rule("negative_foreign_spike"))
    assert check is not None and (check.current, check.fired) == (3, False)


def test_a_continuing_spike_alerts_once_per_throttle_window(setup):
    now = setup.clock()
    with_baseline(setup, now)
    setup.index_and_process(negative_foreign(20, 0.1, 0.25, "spike", now))
    setup.clock.advance(timedelta(hours=1))
    setup.index_and_process(negative_foreign(10, 0.1, 0.05, "more", setup.clock()))

    assert len(setup.engine.log.alerts(rule="negative_foreign_spike")) == 1


# -- query semantics --------------------------------------------------------------------------

QUERIES = ['"hai phong"', "haiphong OR 海防", 'Haiphong -"land eviction"', "cảng Lạch", "三沙", "-tourism",
           '"bach long vi" OR "hoàng sa"', "gulf tonkin", "lach huyen OR cat ba", ""]


@pytest.mark.parametrize("query", QUERIES)
def test_a_rule_query_matches_what_search_finds(backend, query):
    batch = fixture_batch()
    backend.upsert(batch)
    rule = parse_rules({"rules": [{"name": "q", "query": query, "recipients": ["x"]}]})[0]

    by_engine = {a.id for a in batch if match_article(rule, a) is not None}
    by_search = {h.article.id for h in backend.search(rule.search_query(limit=100)).hits}

    assert by_engine == by_search


def test_a_rule_query_and_filters_combine_like_search_filters(backend):
    batch = fixture_batch()
    backend.upsert(batch)
    rule = parse_rules({"rules": [{"name": "q", "query": "haiphong OR 海防", "recipients": ["x"],
                                   "filters": {"languages": ["zh", "en"], "countries": ["cn", "gb"],
                                               "sentiment": "negative", "min_risk": 0.4}}]})[0]

    by_engine = {a.id for a in batch if match_article(rule, a) is not None}
    by_search = {h.article.id for h in backend.search(rule.search_query(limit=100)).hits}

    assert by_engine == by_search == {"en-sov", "zh-sansha"}


def test_the_snippet_marks_the_terms_the_query_matched(backend):
    rule = parse_rules({"rules": [{"name": "q", "query": '"Gulf of Tonkin"', "recipients": ["x"]}]})[0]
    article = fixture_batch()[1]

    snippet = match_article(rule, article)

    assert snippet is not None
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["Gulf of Tonkin"]


def test_alerts_test_lists_the_stored_articles_a_rule_would_have_matched(setup):
    setup.backend.upsert(fixture_batch())

    result = setup.engine.test_rule(setup.engine.rule("high_risk"))

    assert {h.article.id for h in result.hits} == {"en-sov", "zh-sansha"}


def test_a_recipient_name_missing_from_the_settings_is_recorded_as_a_failed_delivery(tmp_path, backend,
                                                                                     smtp_server, webhook_server,
                                                                                     clock):
    from tests.alerts.conftest import build_engine

    engine = build_engine(tmp_path, backend, smtp_server, webhook_server, clock,
                          recipients={"sotttt_oncall": RECIPIENTS["sotttt_oncall"]})
    backend.upsert(fixture_batch())
    [alert_id, *_] = engine.process_batch(fixture_batch()[1:2])

    failed = [d for d in engine.log.deliveries(alert_id) if d.state == "failed"]
    assert [(d.recipient, d.last_error) for d in failed] == [
        ("songoaivu_oncall", "no recipient list or webhook named 'songoaivu_oncall' in the settings")]
    engine.close()


def test_the_shipped_rules_name_recipients_but_hold_no_address_or_url():
    data = yaml.safe_load((CONFIG / "alerts.yaml").read_text(encoding="utf-8"))
    rules = parse_rules(data, thresholds={"queue_threshold": 0.3})

    def strings(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield str(k)
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)
        else:
            yield str(node)

    assert [s for s in strings(data) if "@" in s or "://" in s] == []
    assert {ref.name for r in rules for ref in r.recipients} == {"sotttt_oncall", "songoaivu_oncall",
                                                                 "oncall_webhook"}
