"""Bearer tokens of the HTTP API: what each may touch (profiles) and do (scopes).

A token is shown once, when it is made: ``lg_<id>_<secret>``. Only the SHA-256
of the secret is stored (the secret is 32 random bytes, so a slow hash adds
nothing), and it is compared in constant time. A token names its profiles, or
is an admin's and reaches every profile; it expires (90 days unless told).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from linkgen.errors import InvalidInput, NotFound
from linkgen.records import iso, now
from linkgen.store.database import Database

SCOPES = {
    "profile:read": "read profiles, links, history and publish status",
    "profile:write": "change a profile's fields, undo, ask for a purge",
    "links:write": "add, change, move, show, hide and remove links",
    "stats:read": "read views and clicks",
}
ADMIN_SCOPE = "admin"  # an admin token: every profile, and may create profiles
PREFIX = "lg_"
DEFAULT_EXPIRY = timedelta(days=90)
_LAST_USED_EVERY = 60.0  # seconds between writes of a token's last use
_SPAN = re.compile(r"^(\d{1,5})([hdw])$")


class Token(NamedTuple):
    id: str
    name: str
    scopes: frozenset[str]
    is_admin: bool
    profile_ids: frozenset[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None

    def may_see(self, profile_id: str) -> bool:
        return self.is_admin or profile_id in self.profile_ids


def parse_scopes(raw: str) -> frozenset[str]:
    scopes = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise InvalidInput(
            f"scope: {', '.join(unknown)} is not a scope; the scopes are {', '.join(SCOPES)}"
        )
    if not scopes:
        raise InvalidInput(f"scope: name at least one of {', '.join(SCOPES)}")
    return scopes


def parse_expiry(raw: str) -> timedelta | None:
    """``90d``, ``12h``, ``4w`` or ``never``."""
    if raw == "never":
        return None
    found = _SPAN.match(raw)
    if not found or int(found[1]) == 0:
        raise InvalidInput("expires: give a span such as 12h, 90d or 4w, or 'never'")
    unit = {"h": "hours", "d": "days", "w": "weeks"}[found[2]]
    return timedelta(**{unit: int(found[1])})


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Tokens:
    """The only code that touches the token tables (in the content database)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._used: dict[str, float] = {}  # token id -> when its last use was written

    def add(
        self,
        name: str,
        scopes: frozenset[str],
        profile_ids: list[str],
        *,
        admin: bool = False,
        expires_in: timedelta | None = DEFAULT_EXPIRY,
    ) -> tuple[Token, str]:
        """A new token and its text (shown once, never stored)."""
        if not admin and not profile_ids:
            raise InvalidInput("profile: name the profiles the token may reach, or --admin")
        if not 1 <= len(name) <= 80 or not name.isprintable():
            raise InvalidInput("name: 1 to 80 printable characters")
        moment = now()
        expires = iso(moment + expires_in) if expires_in else None
        secret = secrets.token_urlsafe(32)
        with self.database.writing():
            token_id = self.database.issue_id("token")
            self.database.conn.execute(
                "INSERT INTO api_tokens (id, secret_hash, name, scopes, is_admin, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_id, _digest(secret), name, " ".join(sorted(scopes)), int(admin),
                 iso(moment), expires),
            )  # fmt: skip
            self.database.conn.executemany(
                "INSERT OR IGNORE INTO api_token_profiles (token_id, profile_id) VALUES (?, ?)",
                [(token_id, profile_id) for profile_id in profile_ids],
            )
        return self.get(token_id), f"{PREFIX}{token_id}_{secret}"

    def get(self, token_id: str) -> Token:
        row = self.database.conn.execute(_ONE, (token_id,)).fetchone()
        if row is None:
            raise NotFound(f"no token '{token_id}'")
        return _token(row[1:])

    def all(self) -> list[Token]:
        rows = self.database.conn.execute(f"{_SELECT} ORDER BY t.created_at, t.id").fetchall()
        return [_token(row[1:]) for row in rows]

    def remove(self, token_id: str) -> None:
        with self.database.writing():
            cursor = self.database.conn.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,))
            if cursor.rowcount == 0:
                raise NotFound(f"no token '{token_id}'")

    def authenticate(self, text: str) -> Token | None:
        """The token ``text`` is, if it is one, not expired and not removed."""
        token_id, _, secret = text.removeprefix(PREFIX).partition("_")
        if not text.startswith(PREFIX) or not token_id or not secret or len(text) > 200:
            return None
        row = self.database.conn.execute(_ONE, (token_id,)).fetchone()  # one query a request
        if row is None or not secrets.compare_digest(row[0], _digest(secret)):
            return None
        token = _token(row[1:])
        if token.expires_at is not None and token.expires_at <= iso(now()):
            return None
        self._note_use(token_id)
        return token

    def _note_use(self, token_id: str) -> None:
        """Record when a token was last used, at most once a minute per process and
        thread, from a thread of its own (a request never waits on a write lock)."""
        clock = time.monotonic()
        if clock - self._used.get(token_id, -_LAST_USED_EVERY) < _LAST_USED_EVERY:
            return
        self._used[token_id] = clock
        args = (self.database.path, token_id, iso(now()))
        threading.Thread(target=_write_use, args=args, daemon=True).start()


def _write_use(path: Path, token_id: str, stamp: str) -> None:
    with contextlib.suppress(sqlite3.Error):  # advisory: a busy database skips one note
        conn = sqlite3.connect(str(path), timeout=10)
        try:
            with conn:
                conn.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (stamp, token_id)
                )
        finally:
            conn.close()


_SELECT = (
    "SELECT t.secret_hash, t.id, t.name, t.scopes, t.is_admin, t.created_at, t.expires_at, "
    "t.last_used_at, (SELECT group_concat(profile_id, ' ') FROM api_token_profiles p "
    "WHERE p.token_id = t.id) FROM api_tokens t"
)
_ONE = f"{_SELECT} WHERE t.id = ?"


def _token(row: tuple[Any, ...]) -> Token:
    return Token(
        id=row[0],
        name=row[1],
        scopes=frozenset(row[2].split()),
        is_admin=bool(row[3]),
        created_at=row[4],
        expires_at=row[5],
        last_used_at=row[6],
        profile_ids=frozenset((row[7] or "").split()),
    )


def expires_text(token: Token, moment: datetime | None = None) -> str:
    if token.expires_at is None:
        return "never"
    return ("expired " if token.expires_at <= iso(moment or now()) else "") + token.expires_at
