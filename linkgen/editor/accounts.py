"""Who may edit which profile in the web editor: accounts, sign-in, sessions.

- An account is an e-mail address, a password hashed with argon2id, and the
  profiles it may edit (an admin may edit all). `linkgen user add` creates
  one and prints a one-time link to set the password; only the link's hash
  is stored, it expires, and it works once.
- A sign-in checks the password (in constant time, also for unknown
  addresses: no account enumeration by timing) and is refused for a while
  after repeated failures, per account and per address, with a delay that
  doubles with each failure.
- A session is a random token in a cookie; the database keeps its hash, its
  CSRF token and its expiry, so signing out (or changing the password)
  revokes it on the server — a copied cookie stops working.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from linkgen import rules
from linkgen.errors import Conflict, InvalidInput, LinkgenError, NotFound
from linkgen.records import iso, now

if TYPE_CHECKING:
    from argon2 import PasswordHasher

SIGN_IN_LINK_HOURS = 48
SESSION_DAYS = 14
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
FREE_FAILURES = 5  # then: 1 s, 2 s, 4 s, … up to MAX_DELAY before the next try
MAX_DELAY = 15 * 60.0
FREE_RESETS = 3  # password-reset e-mails per address before each next one waits longer
FAILURES_FORGOTTEN_AFTER = 24 * 3600.0


class SignInRefused(LinkgenError):
    """Wrong e-mail or password (never says which)."""


class TooManyAttempts(LinkgenError):
    """Too many failed sign-ins: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


class User(NamedTuple):
    id: str
    email: str
    is_admin: bool
    has_password: bool
    time_zone: str = "UTC"  # where the editor shows and reads this account's times


class Session(NamedTuple):
    user: User
    csrf: str
    expires_at: str


def throttle_key(address: str) -> str:
    """The address failed sign-ins count against: an IPv6 address by its /64 (one
    host holds a whole /64 and could take a new address per attempt)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, RFC 9106's low-memory profile


_UNKNOWN_USER_HASH: str | None = None


def email_address(raw: str) -> str:
    try:
        return rules.email(raw)
    except ValueError as exc:
        raise InvalidInput(f"email: {exc}") from None


def time_zone(raw: str) -> str:
    """An IANA time zone name the system knows (Europe/Berlin, America/New_York, UTC)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = raw.strip()
    try:
        if not name or len(name) > 64 or ".." in name or name.startswith("/"):
            raise ValueError
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"time_zone: '{raw[:40]}' is not a time zone; use a name such as Europe/Berlin, "
            "America/New_York or UTC"
        ) from None
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"password: at most {MAX_PASSWORD} characters")
    return password


class Accounts:
    """The only code that touches the accounts tables (in the content database)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction, taken up front (no lock upgrade to fail later)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- accounts -----------------------------------------------------------------

    def add_user(
        self, email: str, profile_ids: list[str], *, admin: bool = False
    ) -> tuple[User, str]:
        """Create an account; returns it and the one-time token that sets its password."""
        address = email_address(email)
        user_id = secrets.token_hex(8)
        with self._writing():
            try:
                self.conn.execute(
                    "INSERT INTO users (id, email, is_admin, created_at) VALUES (?, ?, ?, ?)",
                    (user_id, address, int(admin), iso(now())),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"email: {address} already has an account") from None
            self.conn.executemany(
                "INSERT OR IGNORE INTO user_profiles VALUES (?, ?)",
                [(user_id, pid) for pid in profile_ids],
            )
            token = self._sign_in_link(user_id)
        return User(user_id, address, admin, False), token

    def sign_in_link(self, email: str) -> str:
        """A new one-time link for an existing account (a forgotten password)."""
        user = self.user_by_email(email)
        with self._writing():
            return self._sign_in_link(user.id)

    def reset_link(self, email: str, address: str) -> tuple[User, str] | None:
        """A one-time link for a forgotten password, or None for an unknown address.

        Counted like a failed sign-in, per address asked for and per client
        address, known or not (so the answer and the limit tell nothing): after
        FREE_RESETS, each next one waits longer (TooManyAttempts).
        """
        keys = (f"reset:{email.strip().lower()[:254]}", f"reset-addr:{throttle_key(address)}")
        from linkgen.editor.metrics import RESETS

        with self._writing():
            self._count_attempt(keys, FREE_RESETS, RESETS)
            try:
                found = self._find("email", email_address(email))
            except InvalidInput:
                found = None
            if found is None:
                RESETS.labels("unknown").inc()
                return None
            return found, self._sign_in_link(found.id)

    def _sign_in_link(self, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        expires = iso(now() + timedelta(hours=SIGN_IN_LINK_HOURS))
        self.conn.execute(
            "INSERT INTO sign_in_links VALUES (?, ?, ?, NULL)",
            (_hash_token(token), user_id, expires),
        )
        return token

    def user_by_email(self, email: str) -> User:
        found = self._find("email", email_address(email))
        if found is None:
            raise NotFound(f"no account for {email}")
        return found

    def users(self) -> list[tuple[User, list[str]]]:
        rows = self.conn.execute(
            "SELECT u.id, u.email, u.is_admin, u.password_hash IS NOT NULL, "
            "group_concat(p.username, ' ') FROM users u "
            "LEFT JOIN user_profiles up ON up.user_id = u.id "
            "LEFT JOIN profiles p ON p.id = up.profile_id GROUP BY u.id ORDER BY u.email"
        ).fetchall()
        return [
            (User(r[0], r[1], bool(r[2]), bool(r[3])), sorted((r[4] or "").split())) for r in rows
        ]

    def remove_user(self, email: str) -> None:
        user = self.user_by_email(email)
        with self._writing():
            self.conn.execute("DELETE FROM user_profiles WHERE user_id = ?", (user.id,))
            self.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
            self.conn.execute("DELETE FROM sign_in_links WHERE user_id = ?", (user.id,))
            self.conn.execute("DELETE FROM users WHERE id = ?", (user.id,))

    def may_edit(self, user: User, profile_id: str) -> bool:
        if user.is_admin:
            return True
        row = self.conn.execute(
            "SELECT 1 FROM user_profiles WHERE user_id = ? AND profile_id = ?",
            (user.id, profile_id),
        ).fetchone()
        return row is not None

    # -- passwords ----------------------------------------------------------------

    def set_password_with_link(self, token: str, password: str) -> User:
        """Use a one-time link: set the password; the link stops working."""
        check_password(password)
        hashed = _hasher().hash(password)
        with self._writing():
            row = self.conn.execute(
                "SELECT user_id FROM sign_in_links WHERE token_hash = ? AND used_at IS NULL "
                "AND expires_at > ?",
                (_hash_token(token), iso(now())),
            ).fetchone()
            if row is None:
                raise InvalidInput("this link has expired or was already used; ask for a new one")
            self.conn.execute(
                "UPDATE sign_in_links SET used_at = ? WHERE token_hash = ?",
                (iso(now()), _hash_token(token)),
            )
            self._store_password(row[0], hashed)
        return self._user(row[0])

    def change_password(self, user: User, current: str, new: str) -> None:
        """Needs the current password; every session of the account is revoked."""
        self._verify(user.email, current)
        check_password(new)
        hashed = _hasher().hash(new)
        with self._writing():
            self._store_password(user.id, hashed)

    def _store_password(self, user_id: str, hashed: str) -> None:
        stamp = iso(now())
        self.conn.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
            (hashed, stamp, user_id),
        )
        self.conn.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            (stamp, user_id),
        )

    # -- signing in ---------------------------------------------------------------

    def sign_in(self, email: str, password: str, address: str) -> tuple[str, Session]:
        """A new session (cookie token, session) or an error; failures slow down."""
        keys = (f"email:{email.strip().lower()[:254]}", f"addr:{throttle_key(address)}")
        # The attempt is counted before the slow hash, in one transaction with the
        # check: attempts sent in parallel queue here, and the sixth is refused
        # however they arrive. A success forgives them.
        from linkgen.editor.metrics import SIGN_INS

        with self._writing():
            self._count_attempt(keys, FREE_FAILURES, SIGN_INS)
        try:
            user = self._verify(email, password)
        except SignInRefused:
            SIGN_INS.labels("refused").inc()
            raise
        SIGN_INS.labels("ok").inc()
        with self._writing():
            self.conn.execute(
                "DELETE FROM sign_in_failures WHERE key IN (?, ?)", keys
            )  # a success forgives
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(24)
            expires = iso(now() + timedelta(days=SESSION_DAYS))
            self.conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
                (_hash_token(token), user.id, csrf, iso(now()), expires),
            )
        return token, Session(user, csrf, expires)

    def _verify(self, email: str, password: str) -> User:
        from argon2.exceptions import InvalidHashError, VerificationError

        global _UNKNOWN_USER_HASH
        hasher = _hasher()
        row = self.conn.execute(
            "SELECT id, password_hash FROM users WHERE email = ?", (email.strip().lower(),)
        ).fetchone()
        if row is None or row[1] is None:
            # The same work as a real check, so timing does not tell who has an account.
            if _UNKNOWN_USER_HASH is None:
                _UNKNOWN_USER_HASH = hasher.hash(secrets.token_urlsafe(16))
            with suppress(VerificationError, InvalidHashError):
                hasher.verify(_UNKNOWN_USER_HASH, password[:MAX_PASSWORD])
            raise SignInRefused("wrong e-mail or password")
        try:
            hasher.verify(row[1], password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            raise SignInRefused("wrong e-mail or password") from None
        return self._user(row[0])

    def _count_attempt(self, keys: tuple[str, str], free: int, outcomes: Any) -> None:
        """Refuse (TooManyAttempts, counted as throttled in ``outcomes``) while any of
        ``keys`` must still wait; else count this attempt against each of them."""
        wait = max(self._wait(key, free) for key in keys)
        if wait > 0:
            outcomes.labels("throttled").inc()
            raise TooManyAttempts(wait)
        for key in keys:
            self._fail(key)

    def _wait(self, key: str, free: int = FREE_FAILURES) -> float:
        row = self.conn.execute(
            "SELECT failures, last_at FROM sign_in_failures WHERE key = ?", (key,)
        ).fetchone()
        if row is None or row[0] < free:
            return 0.0
        delay = min(2.0 ** (int(row[0]) - free), MAX_DELAY)
        return max(0.0, float(row[1]) + delay - time.time())

    def _fail(self, key: str) -> None:
        stamp = time.time()
        # What is a day old counts for nothing: it goes, address and all.
        self.conn.execute(
            "DELETE FROM sign_in_failures WHERE last_at < ?", (stamp - FAILURES_FORGOTTEN_AFTER,)
        )
        self.conn.execute(
            "INSERT INTO sign_in_failures VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET "
            "failures = CASE WHEN ? - last_at > ? THEN 1 ELSE failures + 1 END, last_at = ?",
            (key, stamp, stamp, FAILURES_FORGOTTEN_AFTER, stamp),
        )

    # -- sessions -----------------------------------------------------------------

    def session(self, token: str) -> Session | None:
        """The live session of a cookie token; None if unknown, expired or revoked."""
        row = self.conn.execute(
            "SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = ? "
            "AND revoked_at IS NULL AND expires_at > ?",
            (_hash_token(token), iso(now())),
        ).fetchone()
        if row is None:
            return None
        return Session(self._user(row[0]), row[1], row[2])

    def sign_out(self, token: str) -> None:
        with self._writing():
            self.conn.execute(
                "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
                (iso(now()), _hash_token(token)),
            )

    def _user(self, user_id: str) -> User:
        found = self._find("id", user_id)
        assert found is not None  # ids come from rows that reference an account
        return found

    def _find(self, column: Literal["id", "email"], value: str) -> User | None:
        row = self.conn.execute(
            f"SELECT id, email, is_admin, password_hash IS NOT NULL, coalesce(time_zone, 'UTC') "
            f"FROM users WHERE {column} = ?",
            (value,),
        ).fetchone()
        return None if row is None else User(row[0], row[1], bool(row[2]), bool(row[3]), row[4])

    def set_time_zone(self, user: User, name: str) -> str:
        """Keep ``name`` (an IANA time zone, e.g. Europe/Berlin) as the account's."""
        zone = time_zone(name)
        with self._writing():
            self.conn.execute("UPDATE users SET time_zone = ? WHERE id = ?", (zone, user.id))
        return zone
