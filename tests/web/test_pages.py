"""What analysts see and do on each page, through the real app and stores."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawlers.state import CrawlState
from records.labels import LabelStore

from .conftest import csrf_of, login


def test_search_without_diacritics_finds_vietnamese_articles_with_highlights(client_for):
    client = client_for("viewer")
    html = client.get("/search", params={"q": "cang lach huyen"}).text
    assert "Cảng Lạch Huyện đón tàu container lớn nhất" in html
    assert "<mark>Cảng Lạch Huyện</mark>" in html or "<mark>cảng Lạch Huyện</mark>" in html


def test_filters_show_facet_counts_and_narrow_the_results(client_for):
    client = client_for("viewer")
    everything = client.get("/search").text
    total = int(re.search(r"<strong>(\d+)</strong>", everything).group(1))
    assert re.search(r'value="foreign"[^>]*>\s*<span class="name">Báo chí nước ngoài</span> <span class="count">\d+',
                     everything)
    foreign = client.get("/search", params={"scope": "foreign", "lang": "en"}).text
    n = int(re.search(r"<strong>(\d+)</strong>", foreign).group(1))
    assert 0 < n < total
    assert "Haiphong port throughput hits record" in foreign
    assert "Cảng Lạch Huyện" not in foreign
    assert 'class="chip"' in foreign  # the active filters, each removable


def test_the_volume_chart_is_inline_svg_with_one_bar_per_day(client_for):
    client = client_for("viewer")
    html = client.get("/search", params={"q": "hai phong", "since": "2026-10-10", "until": "2026-10-20"}).text
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S).group(0)
    assert svg.count("<rect") >= 2
    assert "2026-10-20" in svg


def test_dates_are_shown_in_ho_chi_minh_time(client_for):
    client = client_for("viewer")
    html = client.get("/articles/reasoned").text
    assert "22/10/2026 09:00" in html  # 02:00 UTC


def test_english_switch_changes_every_label(client_for):
    client = client_for("viewer")
    token = csrf_of(client.get("/search").text)
    client.post("/lang", data={"lang": "en", "next": "/search", "csrf_token": token})
    html = client.get("/search").text
    assert "Saved searches" in html and "Tìm kiếm đã lưu" not in html
    assert 'lang="en"' in html


def test_paging_and_sort_by_date(client_for):
    client = client_for("viewer")
    first = client.get("/search", params={"sort": "date"}).text
    second = client.get("/search", params={"sort": "date", "page": 2}).text
    ids_first = set(re.findall(r'href="/articles/([\w-]+)"', first))
    ids_second = set(re.findall(r'href="/articles/([\w-]+)"', second))
    assert ids_first and ids_second and not ids_first & ids_second
    assert 'aria-current="page">2<' in second


def test_export_csv_and_jsonl_of_the_current_query(client_for):
    client = client_for("viewer")
    response = client.get("/search/export.csv", params={"q": "hai phong", "lang": "vi"})
    assert response.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows and all(r["language"] == "vi" for r in rows)
    jsonl = client.get("/search/export.jsonl", params={"q": "hai phong", "lang": "vi"}).text.splitlines()
    assert {json.loads(line)["id"] for line in jsonl} == {r["id"] for r in rows}


def test_csv_export_defuses_spreadsheet_formulas(client_for):
    client = client_for("analyst")
    ctx = client.app.state.ctx
    article = ctx.backend.get("vi-port")
    article.title = "=HYPERLINK(\"http://evil\")"
    ctx.backend.upsert([article])
    rows = list(csv.DictReader(io.StringIO(client.get("/search/export.csv").text.lstrip("\ufeff"))))
    title = next(r["title"] for r in rows if r["id"] == "vi-port")
    assert title.startswith("'=")


def test_saved_searches_belong_to_their_user(client_for):
    analyst = client_for("analyst")
    token = csrf_of(analyst.get("/search?q=cang").text)
    response = analyst.post("/saved", data={"name": "Tìm cảng của tôi", "query_string": "q=cang&lang=vi",
                                            "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and "q=cang" in response.headers["location"]
    assert "Tìm cảng của tôi" in analyst.get("/search").text
    assert "Tìm cảng của tôi" not in client_for("admin").get("/search").text
    viewer = client_for("viewer")
    assert "Lưu tìm kiếm này" not in viewer.get("/search?q=cang").text  # viewers cannot save


def test_article_page_shows_labels_with_reasons_story_and_evidence(client_for, settings):
    client = client_for("viewer")
    html = client.get("/articles/reasoned").text
    assert "Chủ quyền biển đảo, biên giới" in html  # topic name from config/topics.yaml
    assert "<mark>Hoàng Sa</mark>" in html  # the sensitive finding marked in the text
    assert "Chuyển mã từ phông cũ" in html and "TCVN3" in html  # the text is a conversion of the archived bytes
    assert "Chuyển mã từ phông cũ" not in client.get("/articles/vi-port").text
    from hpmon.settings import DEFAULT_CONFIG_DIR
    from web.i18n import load_taxonomy

    theme = load_taxonomy(DEFAULT_CONFIG_DIR / "topics.yaml").name("themes", "sovereignty", "vi")
    assert f"<strong>Chủ đề nhạy cảm: {theme}</strong>" in html and "theme:sovereignty" not in html  # as in the digest
    assert re.search(r"[0-9a-f]{64}", html)
    for other in ("vi-port", "en-port", "zh-port"):
        assert f'href="/articles/{other}"' in html  # the rest of the story
    record = client.get("/articles/reasoned/warc")
    assert record.headers["content-type"] == "application/warc"
    assert hashlib.sha256(record.content).hexdigest() in html
    assert b"WARC-Target-URI: https://news.example/reasoned" in gzip.decompress(record.content)


def test_analyst_corrects_labels_into_the_shared_store(client_for, settings):
    client = client_for("analyst")
    token = csrf_of(client.get("/articles/vi-port").text)
    response = client.post("/articles/vi-port/labels", data={"topics": ["investment", "port_logistics"],
                                                             "sentiment": "positive", "note": "rõ ràng",
                                                             "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    article = client.app.state.ctx.backend.get("vi-port")
    assert article.topics == ["investment", "port_logistics"] and article.sentiment == "positive"
    store = LabelStore(settings.app_db_path)
    history = store.history("vi-port")
    store.close()
    assert history[-1].user == "analyst" and history[-1].note == "rõ ràng"
    page = client.get("/articles/vi-port").text
    assert "Lịch sử sửa nhãn" in page
    # the reasons show the analyst's labels at once, the classifier's proposal kept apart
    reasons = page[page.index('id="reasons"'):] if 'id="reasons"' in page else page
    corrected = re.findall(r'<p class="small corrected">(.*?)</p>', reasons, re.S)
    assert len(corrected) == 2 and "do analyst sửa" in corrected[0] and "Đầu tư" in corrected[0]
    assert "Tích cực" in corrected[1] and "do analyst sửa" in corrected[1]


def test_an_unknown_topic_is_refused(client_for):
    client = client_for("analyst")
    token = csrf_of(client.get("/articles/vi-port").text)
    response = client.post("/articles/vi-port/labels", data={"topics": ["made_up"], "csrf_token": token})
    assert response.status_code == 400
    assert client.app.state.ctx.backend.get("vi-port").topics == ["port_logistics"]


def test_case_moves_only_through_allowed_states(client_for):
    client = client_for("analyst")
    ctx = client.app.state.ctx
    case = ctx.services["cases"].open_case_for(ctx.backend.get("reasoned"), 0.75).case
    page = client.get(f"/cases/{case.id}").text
    assert 'data-move="triaged"' in page and 'data-move="published"' not in page

    def post(path, **data):
        data["csrf_token"] = csrf_of(client.get(f"/cases/{case.id}").text)
        return client.post(f"/cases/{case.id}/{path}", data=data, follow_redirects=False)

    assert post("move", state="published", published_url="https://x.vn/a").status_code == 400
    assert post("move", state="triaged").status_code == 303
    assert post("note", text="Cần đối chiếu bản đồ").status_code == 303
    assert post("move", state="drafting").status_code == 303
    refused = post("move", state="awaiting_approval")
    assert refused.status_code == 400 and "Chưa có nội dung phản bác" in refused.text
    assert post("rebuttal", claim="Sai về chủ quyền", verdict="false", text="Hoàng Sa là của Việt Nam.").status_code \
        == 303
    assert post("move", state="awaiting_approval").status_code == 303
    assert post("move", state="published", published_url="https://x.vn/a").status_code == 400  # analyst ≠ approver
    board = client.get("/cases").text
    assert "Chờ phê duyệt" in board and f"/cases/{case.id}" in board
    admin = client_for("admin")
    token = csrf_of(admin.get(f"/cases/{case.id}").text)
    assert admin.post(f"/cases/{case.id}/move", data={"state": "published", "published_url": "https://x.vn/a",
                                                      "csrf_token": token}, follow_redirects=False).status_code == 303
    final = client.get(f"/cases/{case.id}").text
    assert "Đã đăng phản bác" in final and "Cần đối chiếu bản đồ" in final
    audit = ctx.services["cases"].audit(case.id)
    assert [a.to_state for a in audit if a.action in ("moved", "approved_published")] == [
        "triaged", "drafting", "awaiting_approval", "published"]


def test_sources_page_shows_health_and_runs(client_for, settings):
    state = CrawlState(settings.state_path)
    run = state.start_run()
    state.source_succeeded("vnexpress", new_articles=3)
    state.source_failed("broken-feed", "timeout", "https://broken.example/rss", run)
    state.source_failed("broken-feed", "dns_error", "https://broken.example/rss", run)
    state.finish_run(run, {"sources": [{"source": "vnexpress", "fetched": 10, "new": 3, "relevant": 2, "failed": 0},
                                       {"source": "broken-feed", "fetched": 0, "new": 0, "relevant": 0, "failed": 2}]})
    state.close()
    html = client_for("viewer").get("/sources").text
    assert "broken-feed" in html and "dns_error" in html
    assert re.search(r'class="num bad">2<', html)  # the error streak
    assert re.search(r'<td class="num"[^>]*>10</td>', html)


def test_admin_manages_users(client_for):
    admin = client_for("admin")
    token = csrf_of(admin.get("/users").text)
    assert admin.post("/users", data={"username": "linh", "password": "mật khẩu đủ dài", "role": "analyst",
                                      "csrf_token": token}, follow_redirects=False).status_code == 303
    users = admin.app.state.ctx.users
    linh = users.get_by_name("linh")
    assert linh.role == "analyst"
    token = csrf_of(admin.get("/users").text)
    admin.post(f"/users/{linh.id}/role", data={"role": "viewer", "csrf_token": token})
    assert users.get_by_name("linh").role == "viewer"
    me = users.get_by_name("admin")
    token = csrf_of(admin.get("/users").text)
    refused = admin.post(f"/users/{me.id}/role", data={"role": "viewer", "csrf_token": token})
    assert refused.status_code == 400  # the last admin keeps the role
    token = csrf_of(admin.get("/users").text)
    admin.post(f"/users/{linh.id}/password", data={"password": "một mật khẩu mới", "csrf_token": token})
    assert login(client_for(None), "linh", "một mật khẩu mới").status_code == 303


def test_alert_rule_created_from_a_saved_search_is_written_and_testable(client_for, settings):
    admin = client_for("admin")
    ctx = admin.app.state.ctx
    saved = ctx.saved.add(ctx.users.get_by_name("admin").id, "Biển Đông", [("q", "hoang sa"), ("scope", "domestic")])
    form = admin.get(f"/alerts/new?saved={saved.id}").text
    assert 'value="hoang sa"' in form
    token = csrf_of(form)
    response = admin.post("/alerts/rules", data={"name": "hoang_sa_domestic", "label_vi": "Hoàng Sa trong nước",
                                                 "query": "hoang sa", "scope": "domestic", "severity": "high",
                                                 "recipients": "sotttt_oncall", "enabled": "on",
                                                 "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    from alerts.rules import load_rules

    rules = {r.name: r for r in load_rules(Path(settings.config_dir) / "alerts.yaml",
                                           thresholds={"queue_threshold": 0.6})}
    assert rules["hoang_sa_domestic"].filters.scope == "domestic"
    assert "high_risk" in rules  # the other rules are kept
    tested = admin.get("/alerts/rules/hoang_sa_domestic/test").text
    assert 'href="/articles/reasoned"' in tested
    token = csrf_of(admin.get("/alerts/new").text)
    bad = admin.post("/alerts/rules", data={"name": "Bad Name", "label_vi": "x", "recipients": "a",
                                            "csrf_token": token})
    assert bad.status_code == 400


def test_every_message_key_used_exists_in_both_catalogues():
    root = Path(__file__).resolve().parents[2] / "web"
    from web.i18n import Catalogues

    catalogues = Catalogues()  # vi.json and the further catalogues of the language (vi.codes.json)
    vi, en = catalogues.messages["vi"], catalogues.messages["en"]
    assert set(vi) == set(en)
    used = set()
    for path in [*(root / "templates").glob("*.html")]:
        used |= set(re.findall(r"""\bt\(["']([a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    for path in root.rglob("*.py"):
        used |= set(re.findall(r"""["']((?:error|search|label|login|account|users|saved|evidence|sources)"""
                               r"""\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    used = {k for k in used if not k.endswith(".") and not k.endswith(".html")}
    missing = sorted(k for k in used if k not in vi)
    assert not missing, missing


def test_templates_hold_no_text_outside_the_catalogues():
    root = Path(__file__).resolve().parents[2] / "web" / "templates"
    for path in root.glob("*.html"):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|<[^>]+>|&\w+;", " ", path.read_text(encoding="utf-8"), flags=re.S)
        allowed = ("hpmon", "CSV", "JSON", "Lines", "English", "Tiếng", "Việt", "SHA", "narrow")
        words = [w for w in re.findall(r"[^\W\d_]{3,}", text) if w not in allowed]
        assert not words, f"{path.name}: {words[:10]}"


def test_users_cli_adds_lists_and_disables(settings):
    from hpmon.commands.serve import users

    runner = CliRunner()
    result = runner.invoke(users, ["add", "minh", "--role", "analyst", "--password", "mot mat khau dai"],
                           obj={"settings": settings})
    assert result.exit_code == 0, result.output
    listed = runner.invoke(users, ["list"], obj={"settings": settings})
    assert "minh" in listed.output and "analyst" in listed.output
    assert runner.invoke(users, ["disable", "minh"], obj={"settings": settings}).exit_code == 0
    short = runner.invoke(users, ["add", "x", "--password", "short"], obj={"settings": settings})
    assert short.exit_code != 0 and "at least 10" in short.output


def test_digest_archive_lists_the_digests_sent(settings, tmp_path):
    from datetime import date

    from fastapi.testclient import TestClient

    from alerts.digest.log import DigestLog
    from index.sqlite import SqliteBackend
    from web.app import create_app

    from .conftest import cheap_hasher, login

    log = DigestLog(settings.app_db_path)
    log.record("songoaivu", date(2026, 10, 21), "<m1@hpmon>", ["a@example.org", "b@example.org"])
    log.close()
    with TestClient(create_app(settings, SqliteBackend(settings.index_path), password_hasher=cheap_hasher())) as c:
        login(c, "viewer")
        page = c.get("/digests").text
    assert "2026-10-21" in page and "Bản tin đã gửi" in page


@pytest.mark.parametrize("query_string", ["q=cang&since=0001-01-01", "q=cang&until=9999-12-31", 'q="cang',
                                          "q=cang&min_risk=7"])
def test_a_search_is_checked_when_it_is_saved(client_for, query_string):
    analyst = client_for("analyst")
    token = csrf_of(analyst.get("/search?q=cang").text)
    response = analyst.post("/saved", data={"name": "Hỏng", "query_string": query_string, "csrf_token": token},
                            follow_redirects=False)
    assert response.status_code == 400
    assert "Hỏng" not in analyst.get("/search").text
