"""Users, sessions, CSRF tokens and login throttling of the web app.

Everything lives in the office's SQLite file (``settings.app_db_path``) in the tables
``web_users``, ``web_sessions``, ``web_login_throttle`` and ``web_login_attempts`` (the audit of
password checks). Passwords are hashed with argon2id;
session tokens are random and only their SHA-256 is stored, so a copy of the database does not
let anyone log in. CSRF tokens are an HMAC of the session (or of a pre-login cookie) with the
app's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hpbase.clock import iso, utcnow
from hpbase.schema import Schema, migrate
from index.db import connect, immediate_transaction

log = logging.getLogger(__name__)

ROLES = ("viewer", "analyst", "admin")
ROLE_RANK = {"public": 0, "viewer": 1, "analyst": 2, "admin": 3}
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
ATTEMPTS_KEPT = timedelta(days=7)  # the audit of password checks (web_login_attempts)

# Step 1 is the schema as the first user store wrote it (IF NOT EXISTS: such a file is adopted as
# it is); each later change is a step appended at the end, never an edit of an old one.
_STEP_1 = """
CREATE TABLE IF NOT EXISTS web_users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES web_users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions(user_id);
CREATE TABLE IF NOT EXISTS web_login_attempts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS web_login_attempts_user ON web_login_attempts(username, at);
CREATE INDEX IF NOT EXISTS web_login_attempts_ip ON web_login_attempts(ip, at);
"""

# step 2: the login throttle's counters (IF NOT EXISTS: files written before versions may have
# them already)
_STEP_2 = """
CREATE TABLE IF NOT EXISTS web_login_throttle (
    key TEXT PRIMARY KEY,               -- 'pair:<username>|<address>' or 'addr:<address>'
    failures INTEGER NOT NULL DEFAULT 0,
    last_failure REAL NOT NULL DEFAULT 0,   -- Unix time
    next_allowed REAL NOT NULL DEFAULT 0,   -- Unix time: no password check before it
    refused INTEGER NOT NULL DEFAULT 0,     -- attempts refused (too early) since the last failure
    last_success REAL NOT NULL DEFAULT 0    -- pairs only
);
"""

SCHEMA = Schema("web_users", (_STEP_1, _STEP_2))


@dataclass(frozen=True)
class LoginThrottle:
    """Progressive delays of password checks, never a lock-out.

    Two counters are kept: one per (username, address) pair and one per address. There is none
    per username alone, so failures from one address never delay the same user anywhere else.
    The first ``free_per_pair`` (``free_per_address``) failures cost nothing; each further one
    doubles the wait before the next password check of that pair (address), from ``base_delay``
    up to ``max_pair_delay`` (``max_address_delay``). An attempt that comes before the wait is
    over is answered 429 with ``Retry-After`` and its password is not checked (and it does not
    prolong the wait); one that comes after it is checked, so a correct password always gets in
    once the wait is over. A pair that logged in successfully within ``known_pair_for`` is not
    held by its address's counter (a user who logged in from an office's NAT before is not
    delayed by another machine behind it). A browser that logged in as the user before and
    shows its device cookie (:func:`device_token`) is counted on a counter of its own instead of
    the pair's and the address's: whoever guesses at that user from the same address cannot
    delay it. Counters are forgotten ``forget_after`` seconds after their last failure."""

    free_per_pair: int = 5
    free_per_address: int = 20
    base_delay: float = 1.0
    max_pair_delay: float = 900.0
    max_address_delay: float = 60.0
    forget_after: float = 86400.0
    known_pair_for: float = 30 * 86400.0

    def delay(self, failures: int, *, pair: bool) -> float:
        """Seconds to wait after the ``failures``-th failure before the next check."""
        free = self.free_per_pair if pair else self.free_per_address
        if failures < free:
            return 0.0
        cap = self.max_pair_delay if pair else self.max_address_delay
        return min(cap, self.base_delay * 2.0 ** min(failures - free, 60))


@dataclass(frozen=True)
class _Reservation:
    pair_key: str
    addr_key: str
    addr_prior: tuple[int, float, float] | None  # (failures, last_failure, next_allowed) before
    addr_reserved_next: float
    pair_failures: int
    addr_failures: int
    wait_after: float


@dataclass(frozen=True)
class LoginResult:
    """The outcome of one login attempt: ``user`` when the password was right; ``retry_after``
    (seconds) when the attempt came too early and the password was not checked."""

    user: User | None
    retry_after: float | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None


class UserError(ValueError):
    """A user operation was refused; the message is a catalogue key (``users.error.*``)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    disabled: bool
    created_at: str

    def has_role(self, role: str) -> bool:
        """True when this user's role is at least ``role`` (viewer < analyst < admin)."""
        return not self.disabled and ROLE_RANK[self.role] >= ROLE_RANK[role]


def _iso(dt: datetime) -> str:
    """The user store's form of a time: UTC microseconds with a ``Z`` (they compare as text)."""
    return iso(dt, timespec="microseconds", offset="Z")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_username(username: str) -> str:
    """The username, stripped; raises UserError when it is empty, too long or has odd characters."""
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserError("users.error.bad_username")
    return name


def check_password(password: str) -> str:
    """The password when it is long enough; raises UserError otherwise."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError("users.error.short_password")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError("users.error.long_password")
    return password


class UserStore:
    """Users, sessions and login attempts in one SQLite file (thread-safe)."""

    def __init__(self, path: str | Path, *, hasher: PasswordHasher | None = None,
                 throttle: LoginThrottle | None = None) -> None:
        """``hasher``: argon2id with its library defaults unless given (tests pass cheaper parameters);
        ``throttle``: the login delays (:class:`LoginThrottle` defaults unless given)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path, foreign_keys=True)
        migrate(self._conn, SCHEMA)
        # the throttle's check-and-count runs in BEGIN IMMEDIATE transactions of its own connection,
        # so it is atomic across threads and processes (several `hpmon serve` workers)
        self._tconn = connect(self.path, autocommit=True)
        self.throttle = throttle or LoginThrottle()
        self._lock = threading.RLock()
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """A hash verified against when the user does not exist, so timing does not reveal usernames."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    # -- users -----------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str) -> User:
        """Create a user; returns it. Raises UserError for a taken name, bad role or weak password."""
        name = check_username(username)
        if role not in ROLES:
            raise UserError("users.error.bad_role")
        digest = self._hasher.hash(check_password(password))
        now = _iso(utcnow())
        try:
            with self._lock, self._conn:
                self._conn.execute(
                    "INSERT INTO web_users(username, password_hash, role, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?)", (name, digest, role, now, now))
        except sqlite3.IntegrityError as exc:
            raise UserError("users.error.exists") from exc
        log.info("web user added: %s (%s)", name, role)
        user = self.get_by_name(name)
        assert user is not None
        return user

    def _user(self, row) -> User:
        return User(id=row[0], username=row[1], role=row[2], disabled=bool(row[3]), created_at=row[4])

    def get(self, user_id: int) -> User | None:
        with self._lock:
            row = self._conn.execute("SELECT id, username, role, disabled, created_at FROM web_users WHERE id = ?",
                                     (user_id,)).fetchone()
        return self._user(row) if row else None

    def get_by_name(self, username: str) -> User | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, username, role, disabled, created_at FROM web_users WHERE username = ?",
                (username.strip(),)).fetchone()
        return self._user(row) if row else None

    def list_users(self) -> list[User]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, username, role, disabled, created_at FROM web_users ORDER BY username").fetchall()
        return [self._user(r) for r in rows]

    def set_role(self, username: str, role: str) -> User:
        """Change a user's role; returns the user. Raises UserError when unknown."""
        if role not in ROLES:
            raise UserError("users.error.bad_role")
        return self._update(username, "role = ?", (role,))

    def set_password(self, username: str, password: str) -> User:
        """Replace a password and end the user's sessions; returns the user."""
        digest = self._hasher.hash(check_password(password))
        user = self._update(username, "password_hash = ?", (digest,))
        self.end_sessions(user.id)
        return user

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disable (and log out) or re-enable a user; returns the user."""
        user = self._update(username, "disabled = ?", (int(disabled),))
        if disabled:
            self.end_sessions(user.id)
        return user

    def _update(self, username: str, assignment: str, params: tuple) -> User:
        with self._lock, self._conn:
            cur = self._conn.execute(f"UPDATE web_users SET {assignment}, updated_at = ? WHERE username = ?",
                                     (*params, _iso(utcnow()), username.strip()))
        if cur.rowcount == 0:
            raise UserError("users.error.unknown")
        user = self.get_by_name(username)
        assert user is not None
        log.info("web user changed: %s (%s)", user.username, assignment.split(" ")[0])
        return user

    def count_admins(self) -> int:
        with self._lock:
            return self._conn.execute(
                "SELECT count(*) FROM web_users WHERE role = 'admin' AND disabled = 0").fetchone()[0]

    # -- login -------------------------------------------------------------------------------

    def login(self, username: str, password: str, ip: str, *, device: str | None = None) -> LoginResult:
        """One login attempt from address ``ip``. Too early for this pair or address (see
        :class:`LoginThrottle`): refused with ``retry_after``, the password unchecked. Otherwise the
        password is checked (the attempt is counted as a failure first, in one transaction with the
        check of the waits, so parallel guesses cannot exceed the budget; a success takes it back)
        and the result recorded in ``web_login_attempts``. ``device``: the id of a valid device
        cookie of this user (:func:`device_valid`): the attempt is counted on that device alone."""
        name = username.strip()
        key_name = name.lower()[:64]
        ip = (ip or "unknown")[:100]
        reservation = self._reserve(key_name, ip, device)
        if isinstance(reservation, float):
            log.info("web login for %r from %s refused unchecked: %.1f s to wait", key_name, ip, reservation)
            return LoginResult(None, retry_after=reservation)
        user_row = None
        with self._lock:
            user_row = self._conn.execute(
                "SELECT id, password_hash, disabled FROM web_users WHERE username = ?", (name,)).fetchone()
        ok = False
        try:
            self._hasher.verify(user_row[1] if user_row else self._dummy_hash, password[:MAX_PASSWORD_CHARS])
            ok = user_row is not None and not user_row[2]
        except (VerificationError, InvalidHashError):
            ok = False
        with self._lock, self._conn:
            self._conn.execute("INSERT INTO web_login_attempts(username, ip, at, ok) VALUES (?, ?, ?, ?)",
                               (key_name, ip, _iso(utcnow()), int(ok)))
            self._conn.execute("DELETE FROM web_login_attempts WHERE at < ?", (_iso(utcnow() - ATTEMPTS_KEPT),))
        if not ok:
            log.warning("failed web login for %r from %s: failure %d of this user from this address, %d from "
                        "this address; next password check in %.1f s", key_name, ip, reservation.pair_failures,
                        reservation.addr_failures, reservation.wait_after)
            return LoginResult(None)
        self._release(reservation)
        if self._hasher.check_needs_rehash(user_row[1]):
            with self._lock, self._conn:
                self._conn.execute("UPDATE web_users SET password_hash = ? WHERE id = ?",
                                   (self._hasher.hash(password), user_row[0]))
        return LoginResult(self.get(user_row[0]))

    def authenticate(self, username: str, password: str, ip: str) -> User | None:
        """The user when the attempt was allowed and the password right, else None (see :meth:`login`)."""
        return self.login(username, password, ip).user

    def _reserve(self, key_name: str, ip: str, device: str | None = None) -> _Reservation | float:
        """Seconds to wait when either wait is not over (and the attempt counted as refused), else
        the attempt counted as a failure of the pair (or device) and of the address."""
        policy = self.throttle
        pair_key = f"device:{key_name}|{device}" if device else f"pair:{key_name}|{ip}"
        addr_key = f"addr:{ip}"
        now = time.time()
        with self._lock, immediate_transaction(self._tconn) as conn:
            rows = {r[0]: r[1:] for r in conn.execute(
                "SELECT key, failures, last_failure, next_allowed, last_success FROM web_login_throttle "
                "WHERE key IN (?, ?)", (pair_key, addr_key))}
            pair, addr = rows.get(pair_key), rows.get(addr_key)
            known = bool(device) or (pair is not None and now - pair[3] < policy.known_pair_for)
            waits = [r[2] - now for r, counts in ((pair, True), (addr, not known))
                     if counts and r is not None and now - r[1] < policy.forget_after]
            wait = max(waits, default=0.0)
            if wait > 0:
                conn.execute("UPDATE web_login_throttle SET refused = refused + 1 WHERE key IN (?, ?)",
                             (pair_key, addr_key))
                return wait

            def fresh(row) -> int:
                return row[0] if row is not None and now - row[1] < policy.forget_after else 0

            pair_failures, addr_failures = fresh(pair) + 1, fresh(addr) + 1
            pair_next = now + policy.delay(pair_failures, pair=True)
            addr_next = now + policy.delay(addr_failures, pair=False)
            for key, failures, next_allowed in ((pair_key, pair_failures, pair_next),
                                                (addr_key, addr_failures, addr_next)):
                conn.execute(
                    "INSERT INTO web_login_throttle(key, failures, last_failure, next_allowed, refused) "
                    "VALUES (?, ?, ?, ?, 0) ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, "
                    "last_failure = excluded.last_failure, next_allowed = excluded.next_allowed, refused = 0",
                    (key, failures, now, next_allowed))
            conn.execute("DELETE FROM web_login_throttle WHERE last_failure < ? AND last_success < ?",
                         (now - policy.forget_after, now - policy.known_pair_for))
        waits_after = [pair_next - now] + ([] if known else [addr_next - now])
        return _Reservation(pair_key, addr_key, addr[:3] if addr is not None else None, addr_next,
                            pair_failures, addr_failures, max(waits_after))

    def _release(self, reservation: _Reservation) -> None:
        """A success: the pair starts afresh (and is known); the address gets its attempt back."""
        now = time.time()
        prior_failures, prior_last, prior_next = reservation.addr_prior or (0, 0.0, 0.0)
        with self._lock, immediate_transaction(self._tconn) as conn:
            conn.execute("UPDATE web_login_throttle SET failures = 0, next_allowed = 0, refused = 0, "
                         "last_success = ? WHERE key = ?", (now, reservation.pair_key))
            conn.execute(
                "UPDATE web_login_throttle SET failures = max(failures - 1, 0), "
                "next_allowed = CASE WHEN next_allowed = ? THEN ? ELSE next_allowed END, "
                "last_failure = CASE WHEN next_allowed = ? THEN ? ELSE last_failure END WHERE key = ?",
                (reservation.addr_reserved_next, prior_next, reservation.addr_reserved_next, prior_last,
                 reservation.addr_key))

    def recent_failures(self, limit: int = 50) -> list[dict]:
        """Failed password checks of the last day for the admins, by username and address: count,
        last time, attempts refused as too early, and the current wait (seconds)."""
        since = _iso(utcnow() - timedelta(days=1))
        now = time.time()
        with self._lock:
            rows = self._conn.execute(
                "SELECT a.username, a.ip, count(*), max(a.at), coalesce(p.refused, 0), "
                "max(coalesce(p.next_allowed, 0), coalesce(d.next_allowed, 0)) "
                "FROM web_login_attempts a "
                "LEFT JOIN web_login_throttle p ON p.key = 'pair:' || a.username || '|' || a.ip "
                "LEFT JOIN web_login_throttle d ON d.key = 'addr:' || a.ip "
                "WHERE a.ok = 0 AND a.at >= ? GROUP BY a.username, a.ip ORDER BY max(a.at) DESC LIMIT ?",
                (since, limit)).fetchall()
        return [{"username": r[0], "ip": r[1], "failures": r[2], "last_at": r[3], "refused": r[4],
                 "wait": max(0.0, r[5] - now)} for r in rows]

    # -- sessions ----------------------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new session token for the user (to put in the cookie; only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._lock, self._conn:
            self._conn.execute("INSERT INTO web_sessions(token_hash, user_id, created_at, expires_at) "
                               "VALUES (?, ?, ?, ?)", (hash_token(token), user.id, _iso(now),
                                                       _iso(now + SESSION_LIFETIME)))
            self._conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", (_iso(now),))
        return token

    def session_user(self, token: str | None) -> User | None:
        """The enabled user of a live session, else None."""
        if not token or len(token) > 100:
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT u.id, u.username, u.role, u.disabled, u.created_at FROM web_sessions s "
                "JOIN web_users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
                (hash_token(token), _iso(utcnow()))).fetchone()
        if not row or row[3]:
            return None
        return self._user(row)

    def end_session(self, token: str | None) -> None:
        if token:
            with self._lock, self._conn:
                self._conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (hash_token(token),))

    def end_sessions(self, user_id: int) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM web_sessions WHERE user_id = ?", (user_id,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self._tconn.close()


DEVICE_LIFETIME = timedelta(days=180)


def device_token(secret: bytes, username: str, device_id: str | None = None) -> str:
    """The device cookie given to a browser at a successful login: a random id and an HMAC binding
    it to the username, so only the server can make one and it counts for that user only."""
    device_id = device_id or secrets.token_hex(12)
    mac = hmac.new(secret, f"device:{username.strip().lower()}:{device_id}".encode(), hashlib.sha256).hexdigest()
    return f"{device_id}.{mac}"


def device_valid(secret: bytes, token: str | None, username: str) -> str | None:
    """The device id when ``token`` is a device cookie of ``username``, else None."""
    if not token or token.count(".") != 1 or len(token) > 200:
        return None
    device_id = token.split(".", 1)[0]
    if not device_id or not all(c in "0123456789abcdef" for c in device_id):
        return None
    return device_id if hmac.compare_digest(device_token(secret, username, device_id), token) else None


def csrf_token(secret: bytes, binding: str, nonce: str | None = None) -> str:
    """A CSRF token for a session or pre-login cookie value: a fresh nonce and its HMAC, so only the
    server can make one and no two pages carry the same bytes (compressed pages leak nothing)."""
    nonce = nonce or secrets.token_hex(8)
    mac = hmac.new(secret, f"csrf:{binding}:{nonce}".encode(), hashlib.sha256).hexdigest()
    return f"{nonce}.{mac}"


def csrf_valid(secret: bytes, binding: str | None, token: str | None) -> bool:
    """True when ``token`` was made by :func:`csrf_token` for ``binding`` (constant-time comparison)."""
    if not binding or not token or token.count(".") != 1 or len(token) > 200:
        return False
    nonce = token.split(".", 1)[0]
    return hmac.compare_digest(csrf_token(secret, binding, nonce), token)


def load_secret_key(configured: str | None, home: Path) -> bytes:
    """The key signing CSRF tokens: the configured one, else one generated once into
    ``home/web_secret.key`` (mode 0600) so it survives restarts."""
    if configured:
        return configured.encode("utf-8")
    path = home / "web_secret.key"
    if path.is_file():
        return path.read_bytes().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    path.touch(mode=0o600)
    path.write_bytes(key)
    return key
