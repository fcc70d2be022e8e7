"""Login throttling: progressive delays per (user, address) and per address, never a lock-out.

The app runs in a real uvicorn on 127.0.0.1 with ``--proxy-headers`` trusting 127.0.0.1, as it
does behind nginx or Caddy, so each test client can come from its own address
(``X-Forwarded-For``)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from web.auth import LoginThrottle, UserStore

from .conftest import PASSWORD, cheap_hasher, csrf_of

WRONG = "bad guess 12345"


@pytest.fixture
def server(app):
    """The app served by uvicorn on a free port of 127.0.0.1; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                            lifespan="off", limit_concurrency=200)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv.should_exit = True
    thread.join(10)
    sock.close()


def throttle(app, **kw) -> None:
    app.state.ctx.users.throttle = LoginThrottle(**kw)


class Browser:
    """One client at one address: fetches the login form (CSRF cookie and token), then posts."""

    def __init__(self, base: str, address: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"X-Forwarded-For": address}, timeout=60)
        self.token = csrf_of(self.http.get("/login").text)

    def post(self, username: str, password: str) -> httpx.Response:
        return self.http.post("/login", data={"username": username, "password": password, "next": "/search",
                                              "csrf_token": self.token}, follow_redirects=False)

    def close(self) -> None:
        self.http.close()


def login_once(base: str, address: str, username: str, password: str) -> httpx.Response:
    browser = Browser(base, address)
    try:
        return browser.post(username, password)
    finally:
        browser.close()


def checks(app, username: str | None = None, ip: str | None = None) -> int:
    """Password checks recorded in the audit table (refused attempts are not checked)."""
    store = app.state.ctx.users
    with store._lock:
        return store._conn.execute(
            "SELECT count(*) FROM web_login_attempts WHERE (? IS NULL OR username = ?) AND (? IS NULL OR ip = ?)",
            (username, username, ip, ip)).fetchone()[0]


def test_thirty_parallel_guesses_get_exactly_the_budget_of_password_checks(app, server):
    throttle(app, free_per_pair=5, base_delay=60.0)
    browsers = [Browser(server, "203.0.113.7") for _ in range(30)]
    barrier = threading.Barrier(30)

    def guess(browser: Browser) -> int:
        barrier.wait()
        return browser.post("analyst", WRONG).status_code

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(guess, browsers))
    for b in browsers:
        b.close()
    assert codes.count(401) == 5, codes
    assert codes.count(429) == 25, codes
    assert checks(app, "analyst", "203.0.113.7") == 5
    # the same user from another address is not held at all
    assert login_once(server, "198.51.100.20", "analyst", PASSWORD).status_code == 303


def test_parallel_guesses_through_two_stores_on_one_file_stay_within_the_budget(settings):
    """Two `hpmon serve` workers share the SQLite file: the check-and-count is one transaction."""
    stores = [UserStore(settings.app_db_path, hasher=cheap_hasher(), throttle=LoginThrottle(base_delay=60.0))
              for _ in range(2)]
    barrier = threading.Barrier(30)

    def guess(n: int) -> bool:
        barrier.wait()
        return not stores[n % 2].login("viewer", WRONG, "192.0.2.9").throttled

    with ThreadPoolExecutor(30) as pool:
        checked = sum(pool.map(guess, range(30)))
    for s in stores:
        s.close()
    assert checked == 5


def pair_state(app, username: str, ip: str) -> tuple[int, float, float]:
    """(failures, last failure, next check allowed) of a (username, address) counter."""
    store = app.state.ctx.users
    with store._lock:
        return store._conn.execute("SELECT failures, last_failure, next_allowed FROM web_login_throttle "
                                   "WHERE key = ?", (f"pair:{username}|{ip}",)).fetchone()


def test_a_correct_password_is_refused_only_while_the_wait_runs_and_never_checked_then(app, server):
    throttle(app, free_per_pair=3, base_delay=4.0)
    attacker = Browser(server, "203.0.113.8")
    for _ in range(3):
        assert attacker.post("viewer", WRONG).status_code == 401
    _, _, next_allowed = pair_state(app, "viewer", "203.0.113.8")
    early = attacker.post("viewer", PASSWORD)
    assert time.time() < next_allowed, "the machine stalled for the whole wait"
    assert early.status_code == 429
    assert 1 <= int(early.headers["Retry-After"]) <= 4
    assert "Quá nhiều lần đăng nhập sai" in early.text
    assert checks(app, "viewer", "203.0.113.8") == 3  # the early attempt's password was not checked
    # attempts that come too early do not prolong the wait (or an attacker could hold it forever)
    while time.time() < next_allowed - 2.0:
        assert attacker.post("viewer", WRONG).status_code == 429
        time.sleep(0.2)
    assert pair_state(app, "viewer", "203.0.113.8") == (3, pytest.approx(next_allowed - 4.0), next_allowed)
    time.sleep(max(0.0, next_allowed - time.time()) + 0.05)
    ok = attacker.post("viewer", PASSWORD)
    assert ok.status_code == 303 and ok.headers["location"] == "/search"
    attacker.close()


def test_the_wait_doubles_with_each_failure_and_a_success_clears_it(app, server):
    throttle(app, free_per_pair=1, base_delay=0.3)
    browser = Browser(server, "203.0.113.9")
    delays = []
    for _ in range(4):
        assert browser.post("admin", WRONG).status_code == 401
        _, last_failure, next_allowed = pair_state(app, "admin", "203.0.113.9")
        delays.append(round(next_allowed - last_failure, 6))
        time.sleep(max(0.0, next_allowed - time.time()) + 0.02)
    assert delays == [0.3, 0.6, 1.2, 2.4]
    assert browser.post("admin", PASSWORD).status_code == 303
    browser.close()
    # after a success the pair starts afresh: one free failure, then the shortest wait again
    assert pair_state(app, "admin", "203.0.113.9")[0] == 0
    assert login_once(server, "203.0.113.9", "admin", WRONG).status_code == 401
    failures, last_failure, next_allowed = pair_state(app, "admin", "203.0.113.9")
    assert failures == 1 and round(next_allowed - last_failure, 6) == 0.3


def test_failures_from_one_address_never_hold_another_address(app, server):
    throttle(app, free_per_pair=2, free_per_address=4, base_delay=60.0)
    for n in range(6):
        login_once(server, "203.0.113.10", f"guess{n}", WRONG)
    # the address is held for every username, including a real user who never logged in from it
    held = login_once(server, "203.0.113.10", "viewer", PASSWORD)
    assert held.status_code == 429
    # the same users from other addresses: no wait, and failures there are counted separately
    assert login_once(server, "198.51.100.30", "viewer", PASSWORD).status_code == 303
    assert login_once(server, "198.51.100.31", "guess0", WRONG).status_code == 401


def test_a_user_known_at_an_address_is_not_held_by_others_failing_from_it(app, server):
    """An office NAT: the analyst logged in from it before, then someone behind it sprays guesses."""
    throttle(app, free_per_pair=3, free_per_address=4, base_delay=60.0)
    assert login_once(server, "192.0.2.50", "analyst", PASSWORD).status_code == 303
    for n in range(8):
        login_once(server, "192.0.2.50", f"someone{n}", WRONG)
    assert login_once(server, "192.0.2.50", "viewer", PASSWORD).status_code == 429  # not known here
    assert login_once(server, "192.0.2.50", "analyst", PASSWORD).status_code == 303


def test_failures_are_logged_and_listed_for_admins(app, server, client_for, caplog):
    throttle(app, free_per_pair=3, base_delay=60.0)
    with caplog.at_level(logging.WARNING, logger="web.auth"):
        for _ in range(3):
            login_once(server, "203.0.113.77", "viewer", WRONG)
    lines = [r.getMessage() for r in caplog.records if "failed web login" in r.getMessage()]
    assert len(lines) == 3 and "203.0.113.77" in lines[-1] and "'viewer'" in lines[-1]
    login_once(server, "203.0.113.77", "viewer", WRONG)  # refused: too early
    admin = client_for("admin")
    html = admin.get("/users").text
    table = html[html.index("failed-logins"):]
    row = table[table.index("203.0.113.77") - 200:table.index("203.0.113.77") + 300]
    assert "viewer" in row and "<td>3</td>" in row and "<td>1</td>" in row
    assert client_for("analyst").get("/users").status_code == 403


def test_the_password_change_form_is_throttled_the_same_way(app, client_for):
    throttle(app, free_per_pair=2, base_delay=60.0)
    client = client_for("viewer")
    from .conftest import csrf_of as token_of

    def change(current: str):
        return client.post("/account/password", data={"current": current, "new": "another long password",
                                                      "confirm": "another long password",
                                                      "csrf_token": token_of(client.get("/account").text)},
                           follow_redirects=False)

    assert change(WRONG).status_code == 400
    assert change(WRONG).status_code == 400
    refused = change(PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 59


def test_a_browser_that_logged_in_before_is_not_held_by_guesses_from_its_own_address(app, server):
    """Someone behind the same NAT guesses at the analyst's password: the pair (analyst, address)
    is held, but the analyst's own browser, with the device cookie of its last login, is not."""
    throttle(app, free_per_pair=3, free_per_address=50, base_delay=60.0)
    own = Browser(server, "192.0.2.60")
    assert own.post("analyst", PASSWORD).status_code == 303
    device = own.http.cookies.get("hpmon_device")
    assert device and "." in device
    own.http.post("/logout", data={"csrf_token": csrf_of(own.http.get("/account").text)})
    for _ in range(6):
        login_once(server, "192.0.2.60", "analyst", WRONG)
    assert login_once(server, "192.0.2.60", "analyst", PASSWORD).status_code == 429  # a browser without it
    own.token = csrf_of(own.http.get("/login").text)
    assert own.post("analyst", PASSWORD).status_code == 303
    own.close()
    # the cookie counts for its own user only, and a forged one for nothing
    for _ in range(4):
        login_once(server, "192.0.2.60", "viewer", WRONG)
    forged = device[:-1] + ("0" if device[-1] != "0" else "1")
    for username, cookie in (("viewer", device), ("analyst", forged)):
        other = Browser(server, "192.0.2.60")
        other.http.cookies.set("hpmon_device", cookie)
        other.token = csrf_of(other.http.get("/login").text)
        assert other.post(username, PASSWORD).status_code == 429, (username, cookie)
        other.close()
