"""An alert rule's query means what the same words mean on the search page: expanded through the
installation's thesaurus (index/thesaurus.py), so a rule "chủ quyền" matches the articles labelled
sovereignty that search finds, and "hai phong" every spelling of the city."""

from __future__ import annotations

import re
from pathlib import Path

from alerts.rules import load_rules, parse_rules
from index.query import SearchQuery
from index.sqlite import SqliteBackend
from index.thesaurus import Thesaurus


def _ids(page: str) -> set[str]:
    return set(re.findall(r'href="/articles/([^"]+)"', page))


def _rule(query: str, thesaurus=None):
    return parse_rules({"rules": [{"name": "r", "query": query, "recipients": ["x"]}]}, thesaurus=thesaurus)[0]


def test_a_rule_query_expands_as_search_does(settings):
    thesaurus = Thesaurus.of_installation(settings.config_dir, settings.city_path)
    backend = SqliteBackend(settings.index_path)
    try:
        for words in ("chủ quyền", "hai phong"):
            searched = backend.search(SearchQuery(text=words, thesaurus=thesaurus, limit=100))
            rule = _rule(words, thesaurus)
            by_rule = backend.search(rule.search_query(limit=100))
            assert {h.article.id for h in by_rule.hits} == {h.article.id for h in searched.hits}, words
            assert rule.parsed_query().is_expanded
            # in memory (a new batch) the rule matches exactly the articles the search finds
            everything = backend.search(SearchQuery(limit=1000)).hits
            matched = {h.article.id for h in everything if rule.text_matches(h.article)}
            assert matched == {h.article.id for h in searched.hits}, words
            # the words only, without the thesaurus, find fewer
            plain = _rule(words)
            assert {h.article.id for h in everything if plain.text_matches(h.article)} < matched, words
        sovereignty = {h.article.id for h in backend.search(SearchQuery(filters={"topic": ["sovereignty"]})).hits}
        rule = _rule("chủ quyền", thesaurus)
        assert sovereignty <= {h.article.id for h in everything if rule.text_matches(h.article)}
        quoted = _rule('"chủ quyền"', thesaurus)  # quotes switch the expansion off, as in search
        assert not quoted.parsed_query().is_expanded
    finally:
        backend.close()


def test_rules_loaded_with_the_city_profile_expand(settings):
    path = Path(settings.config_dir) / "alerts.yaml"
    path.write_text("version: 1\nrules:\n  - name: cq\n    query: chủ quyền\n    recipients: [x]\n", encoding="utf-8")
    assert load_rules(path, city=Path(settings.city_path))[0].parsed_query().has_labels
    assert not load_rules(path)[0].parsed_query().has_labels


def test_the_rule_test_page_lists_what_the_search_page_finds(client_for, settings):
    path = Path(settings.config_dir) / "alerts.yaml"
    path.write_text("version: 1\nrules:\n  - name: cq\n    query: chủ quyền\n    recipients: [x]\n"
                    "    max_article_age: null\n", encoding="utf-8")
    analyst = client_for("analyst")
    searched = _ids(analyst.get("/search?q=chủ+quyền").text)
    assert {"en-sea", "zh-sea"} <= searched  # through the label: neither article has the words
    tested = _ids(analyst.get("/alerts/rules/cq/test").text)
    assert tested == searched
