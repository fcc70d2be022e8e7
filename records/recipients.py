"""Recipient lists the office manages in the web app: a name (what alert rules write under
``recipients:``) and its e-mail addresses, kept in the office's SQLite file with who changed them
last. The alert engine reads them with the lists of the settings (``recipients``), a list here
winning over a settings list of the same name; the settings keep the secrets (SMTP password,
webhook key) and may still hold lists, read-only in the web app."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from hpbase.clock import iso, utcnow
from hpbase.schema import Schema, migrate
from index.db import connect

#: a list's name: what a rule names (``alerts.rules`` accepts the same shape of name)
NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
#: an address as hpmon sends to it: local@domain, no spaces, no display name
ADDRESS = re.compile(r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
MAX_ADDRESSES = 200
MAX_LISTS = 200

_SCHEMA = """
CREATE TABLE office_recipient_lists (name TEXT PRIMARY KEY, addresses TEXT NOT NULL,
    updated_by TEXT NOT NULL, updated_at TEXT NOT NULL);
"""

#: The versioned schema (``hpbase.schema``).
SCHEMA = Schema("recipient_lists", (_SCHEMA,))


class RecipientError(ValueError):
    """A list that cannot be saved; ``key`` is the reason's catalogue key, ``value`` what is wrong."""

    def __init__(self, key: str, value: str = "") -> None:
        super().__init__(f"{key}: {value}" if value else key)
        self.key, self.value = key, value


@dataclass(frozen=True)
class RecipientList:
    name: str
    addresses: tuple[str, ...]
    updated_by: str
    updated_at: str


def parse_addresses(text: str) -> list[str]:
    """The addresses of a form's text (one a line, or separated by commas or semicolons), each
    checked, duplicates dropped (case-insensitively), in the order given. Raises RecipientError."""
    out: dict[str, str] = {}
    for raw in re.split(r"[\s,;]+", text or ""):
        address = raw.strip()
        if not address:
            continue
        if not ADDRESS.match(address):
            raise RecipientError("recipients.error.address", address[:120])
        out.setdefault(address.lower(), address)
    if len(out) > MAX_ADDRESSES:
        raise RecipientError("recipients.error.too_many", str(MAX_ADDRESSES))
    return list(out.values())


class RecipientLists:
    """The office's recipient lists (table ``office_recipient_lists`` of ``app.sqlite``)."""

    def __init__(self, path: str | Path) -> None:
        self._conn = connect(path)
        migrate(self._conn, SCHEMA)
        self._lock = threading.RLock()

    def lists(self) -> list[RecipientList]:
        with self._lock:
            rows = self._conn.execute("SELECT name, addresses, updated_by, updated_at FROM office_recipient_lists "
                                      "ORDER BY name").fetchall()
        return [RecipientList(r[0], tuple(json.loads(r[1])), r[2], r[3]) for r in rows]

    def get(self, name: str) -> RecipientList | None:
        return next((x for x in self.lists() if x.name == name), None)

    def as_settings(self) -> dict[str, list[str]]:
        """The lists as the setting ``recipients`` holds them (name -> addresses)."""
        return {x.name: list(x.addresses) for x in self.lists()}

    def save(self, name: str, addresses: list[str], *, by: str) -> RecipientList:
        """Create or replace the list ``name``. Raises RecipientError for a bad name or address."""
        name = (name or "").strip()
        if not NAME.match(name):
            raise RecipientError("recipients.error.name", name[:80])
        checked = parse_addresses("\n".join(addresses))
        with self._lock, self._conn:
            exists = self._conn.execute("SELECT 1 FROM office_recipient_lists WHERE name = ?", (name,)).fetchone()
            count = self._conn.execute("SELECT count(*) FROM office_recipient_lists").fetchone()[0]
            if not exists and count >= MAX_LISTS:
                raise RecipientError("recipients.error.too_many_lists", str(MAX_LISTS))
            self._conn.execute(
                "INSERT INTO office_recipient_lists(name, addresses, updated_by, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET addresses = excluded.addresses, updated_by = excluded.updated_by, "
                "updated_at = excluded.updated_at",
                (name, json.dumps(checked), by, iso(utcnow())))
        saved = self.get(name)
        assert saved is not None
        return saved

    def delete(self, name: str) -> bool:
        with self._lock, self._conn:
            cur = self._conn.execute("DELETE FROM office_recipient_lists WHERE name = ?", (name,))
        return cur.rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def office_recipients(path: str | Path, settings_lists: dict[str, list[str]]) -> dict[str, list[str]]:
    """The recipient lists alerts go to: the settings' lists, then the office's lists (a list the
    office keeps wins over a settings list of the same name). A missing file adds nothing."""
    path = Path(path)
    if not path.is_file():
        return dict(settings_lists)
    store = RecipientLists(path)
    try:
        return {**settings_lists, **store.as_settings()}
    finally:
        store.close()
