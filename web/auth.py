"""Users, sessions, CSRF tokens and login rate limiting of the web app.

Everything lives in the office's SQLite file (``settings.app_db_path``) in the tables
``web_users``, ``web_sessions`` and ``web_login_attempts``. Passwords are hashed with argon2id;
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from index.db import connect

log = logging.getLogger(__name__)

ROLES = ("viewer", "analyst", "admin")
ROLE_RANK = {"public": 0, "viewer": 1, "analyst": 2, "admin": 3}
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
# Login rate limits: failures within the window before further attempts are refused.
RATE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20

_SCHEMA = """
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


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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

    def __init__(self, path: str | Path, *, hasher: PasswordHasher | None = None) -> None:
        """``hasher``: argon2id with its library defaults unless given (tests pass cheaper parameters)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = connect(self.path, foreign_keys=True)
        self._conn.executescript(_SCHEMA)
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
        now = _iso(_now())
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
                                     (*params, _iso(_now()), username.strip()))
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

    def is_rate_limited(self, username: str, ip: str) -> bool:
        """True when too many failed logins came recently for this username or from this address."""
        since = _iso(_now() - RATE_WINDOW)
        with self._lock:
            by_user = self._conn.execute(
                "SELECT count(*) FROM web_login_attempts WHERE username = ? AND at >= ? AND ok = 0",
                (username.strip().lower(), since)).fetchone()[0]
            by_ip = self._conn.execute(
                "SELECT count(*) FROM web_login_attempts WHERE ip = ? AND at >= ? AND ok = 0",
                (ip, since)).fetchone()[0]
        return by_user >= MAX_FAILURES_PER_USER or by_ip >= MAX_FAILURES_PER_IP

    def authenticate(self, username: str, password: str, ip: str) -> User | None:
        """The user when the password is right and the account enabled, else None. Every attempt is
        recorded (for rate limiting); callers check ``is_rate_limited`` first."""
        user_row = None
        with self._lock:
            user_row = self._conn.execute(
                "SELECT id, password_hash, disabled FROM web_users WHERE username = ?",
                (username.strip(),)).fetchone()
        ok = False
        try:
            self._hasher.verify(user_row[1] if user_row else self._dummy_hash, password[:MAX_PASSWORD_CHARS])
            ok = user_row is not None and not user_row[2]
        except (VerificationError, InvalidHashError):
            ok = False
        with self._lock, self._conn:
            self._conn.execute("INSERT INTO web_login_attempts(username, ip, at, ok) VALUES (?, ?, ?, ?)",
                               (username.strip().lower()[:64], ip, _iso(_now()), int(ok)))
            self._conn.execute("DELETE FROM web_login_attempts WHERE at < ?", (_iso(_now() - timedelta(days=7)),))
        if not ok:
            log.info("failed web login from %s", ip)
            return None
        if self._hasher.check_needs_rehash(user_row[1]):
            with self._lock, self._conn:
                self._conn.execute("UPDATE web_users SET password_hash = ? WHERE id = ?",
                                   (self._hasher.hash(password), user_row[0]))
        return self.get(user_row[0])

    # -- sessions ----------------------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new session token for the user (to put in the cookie; only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = _now()
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
                (hash_token(token), _iso(_now()))).fetchone()
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
