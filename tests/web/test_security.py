"""Login, sessions, CSRF, rate limiting, headers and escaping of hostile crawled content."""

from __future__ import annotations

from .conftest import PASSWORD, XSS_TITLE, csrf_of, login


def test_login_sets_an_httponly_samesite_session_cookie_without_secure_over_http(client_for):
    client = client_for(None)
    response = login(client, "viewer")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "hpmon_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_behind_an_https_proxy(client_for):
    client = client_for(None)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token},
                           headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_wrong_password_is_refused_and_the_token_never_appears_in_urls(client_for):
    client = client_for(None)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "viewer", "password": "wrong password!", "csrf_token": token})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.text
    ok = login(client, "viewer")
    assert "token" not in ok.headers["location"] and "session" not in ok.headers["location"]


def test_a_post_without_csrf_token_is_refused_even_for_an_admin(client_for):
    client = client_for("admin")
    response = client.post("/users", data={"username": "intruder", "password": "x" * 12, "role": "admin"})
    assert response.status_code == 403
    assert "biểu mẫu không hợp lệ" in response.text
    assert all(u.username != "intruder" for u in client.app.state.ctx.users.list_users())


def test_a_csrf_token_of_another_session_is_refused(client_for):
    other = client_for("analyst")
    foreign_token = csrf_of(other.get("/search").text)
    client = client_for("admin")
    response = client.post("/users", data={"username": "intruder", "password": "x" * 12, "role": "admin",
                                           "csrf_token": foreign_token})
    assert response.status_code == 403
    good = client.post("/users", data={"username": "newcomer", "password": "x" * 12, "role": "viewer",
                                       "csrf_token": csrf_of(client.get("/users").text)}, follow_redirects=False)
    assert good.status_code == 303


def test_login_without_csrf_token_is_refused(client_for):
    client = client_for(None)
    response = client.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert response.status_code == 403
    assert "hpmon_session" not in response.headers.get("set-cookie", "")


def test_disabling_a_user_ends_their_session(client_for):
    viewer = client_for("viewer")
    assert viewer.get("/search").status_code == 200
    admin = client_for("admin")
    target = admin.app.state.ctx.users.get_by_name("viewer")
    token = csrf_of(admin.get("/users").text)
    assert admin.post(f"/users/{target.id}/disable", data={"csrf_token": token},
                      follow_redirects=False).status_code == 303
    assert viewer.get("/search", follow_redirects=False).headers["location"].startswith("/login")
    assert login(client_for(None), "viewer").status_code == 401


def test_every_page_has_the_security_headers(client_for):
    client = client_for("viewer")
    for url in ("/login", "/search", "/articles/reasoned", "/static/app.css"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_hostile_title_and_text_are_escaped_on_the_search_and_article_pages(client_for):
    client = client_for("viewer")
    for url in ("/search?q=hai+phong", "/articles/xss-article", "/search?q=%3Cscript%3E"):
        html = client.get(url).text
        assert "<script>window.__pwned" not in html
        assert "onerror=\"window" not in html and "<img src=x" not in html and "<svg onload" not in html
        assert '<b onmouseover' not in html
    article = client.get("/articles/xss-article").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in article
    assert 'href="javascript:' not in article  # a javascript: URL is never made a link
    assert "&lt;script&gt;e()&lt;/script&gt;" in article  # risk reasons too


def test_hostile_title_is_escaped_in_the_search_results_with_highlights(client_for):
    client = client_for("viewer")
    html = client.get("/search", params={"q": "pwned"}).text
    assert XSS_TITLE not in html
    assert "<mark>" in html  # the match is marked, inside escaped text


def test_anonymous_users_are_sent_to_login_and_come_back(client_for):
    client = client_for(None)
    response = client.get("/search?q=cang", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    token = csrf_of(client.get(response.headers["location"]).text)
    back = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token,
                                       "next": "/search?q=cang"}, follow_redirects=False)
    assert back.headers["location"] == "/search?q=cang"


def test_login_never_redirects_to_another_site(client_for):
    client = client_for(None)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/search"


def test_passwords_are_stored_as_argon2_hashes(settings, app):
    import sqlite3

    rows = sqlite3.connect(settings.app_db_path).execute("SELECT password_hash FROM web_users").fetchall()
    assert rows and all(r[0].startswith("$argon2id$") for r in rows)
    assert all(PASSWORD not in r[0] for r in rows)
