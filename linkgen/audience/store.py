"""audience.db: the e-mail addresses visitors gave a profile's sign-up form.

The only personal data linkgen keeps, in a database of its own
(``site_data/audience.db``) so that it is backed up, exported and deleted
apart from everything else (docs/privacy.md). An address is kept with the
profile it signed up to, when, and when it confirmed — no IP address, user
agent or anything else of the visitor. An address not confirmed within
PENDING_DAYS is deleted; one that unsubscribes is deleted at once; a deleted
profile's list goes with it.

Its links are tokens made from the row and a random nonce, signed with the
redirector's key (clicks.locks.site_key): nothing that opens them is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from linkgen.store.schema import Schema, run_script

if TYPE_CHECKING:
    import sqlite_utils

AUDIENCE = Schema("audience.db")
PENDING_DAYS = 7  # an address not confirmed by then is deleted
RESEND_SECONDS = 24 * 3600  # a second sign-up with the same address mails again after this
MAILS_PER_DAY = 3  # confirmations one address is sent a day, over every profile
MAIL_TRIES = 8  # then the confirmation is given up (the address is deleted with the others)
CONFIRM, UNSUBSCRIBE = "confirm", "unsubscribe"


@AUDIENCE.migration(1, "subscribers")
def _initial(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            profile_id TEXT NOT NULL,
            email TEXT NOT NULL,
            signed_up_at REAL NOT NULL,
            confirmed_at REAL,
            nonce TEXT NOT NULL,      -- with the key, makes its confirm and unsubscribe links
            mail_due REAL,            -- when its confirmation is (next) tried; NULL: none to send
            mail_tries INTEGER NOT NULL DEFAULT 0,
            mailed_at REAL,           -- when its last confirmation went out
            UNIQUE (profile_id, email)
        );
        CREATE INDEX subscribers_due ON subscribers (mail_due) WHERE mail_due IS NOT NULL;
        CREATE INDEX subscribers_email ON subscribers (email);
        """,
    )


def audience_path(site_root: Path) -> Path:
    return site_root / "site_data" / "audience.db"


class Due(NamedTuple):
    """A confirmation to send."""

    id: int
    profile_id: str
    email: str
    tries: int
    confirm: str  # the token of its confirm link
    unsubscribe: str  # and of its unsubscribe link


class Subscriber(NamedTuple):
    email: str
    confirmed: bool
    signed_up_at: float
    confirmed_at: float | None


class AudienceStore:
    """The only code that touches audience.db."""

    def __init__(self, path: Path, key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.key = key
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA busy_timeout = 5000")
        if AUDIENCE.pending(self.conn):  # sqlite-utils imported only to migrate
            import sqlite_utils

            AUDIENCE.migrate(sqlite_utils.Database(self.conn))

    def close(self) -> None:
        self.conn.close()

    def token(self, purpose: str, row_id: int, nonce: str) -> str:
        message = f"{purpose}.{row_id}.{nonce}".encode()
        return f"{row_id}.{hmac.new(self.key, message, hashlib.sha256).hexdigest()[:32]}"

    def _holder(self, purpose: str, token: str) -> tuple[int, str, str] | None:
        """(row id, profile id, e-mail) of the row ``token`` opens, or None."""
        row_id, _, _ = token.partition(".")
        if not row_id.isdigit() or len(row_id) > 18:
            return None
        row = self.conn.execute(
            "SELECT id, profile_id, email, nonce FROM subscribers WHERE id = ?", (int(row_id),)
        ).fetchone()
        if row is None or not hmac.compare_digest(token, self.token(purpose, row[0], row[3])):
            return None
        return row[0], row[1], row[2]

    # -- sign-ups, from the redirector's queue ----------------------------------

    def add(self, signups: Iterable[tuple[str, str]], now: float) -> int:
        """Record (profile id, e-mail) sign-ups in one transaction, a confirmation
        due for each new or long-unconfirmed one; how many confirmations are due."""
        due = 0
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for profile_id, email in signups:
                due += self._add(profile_id, email, now)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return due

    def _add(self, profile_id: str, email: str, now: float) -> int:
        row = self.conn.execute(
            "SELECT id, confirmed_at, mail_due, mailed_at FROM subscribers "
            "WHERE profile_id = ? AND email = ?",
            (profile_id, email),
        ).fetchone()
        if row is not None and (row[1] is not None or row[2] is not None):
            return 0  # confirmed already, or its confirmation on the way
        if row is not None and row[3] is not None and row[3] > now - RESEND_SECONDS:
            return 0
        (sent_today,) = self.conn.execute(
            "SELECT count(*) FROM subscribers WHERE email = ? AND (mailed_at > ? OR mail_due "
            "IS NOT NULL)",
            (email, now - RESEND_SECONDS),
        ).fetchone()
        mail_due = now if sent_today < MAILS_PER_DAY else None
        if row is None:
            self.conn.execute(
                "INSERT INTO subscribers (profile_id, email, signed_up_at, nonce, mail_due) "
                "VALUES (?, ?, ?, ?, ?)",
                (profile_id, email, now, secrets.token_hex(16), mail_due),
            )
        else:
            self.conn.execute(
                "UPDATE subscribers SET mail_due = ?, mail_tries = 0 WHERE id = ?",
                (mail_due, row[0]),
            )
        return int(mail_due is not None)

    # -- confirmations, for the mailer -----------------------------------------

    def due(self, now: float, limit: int = 100) -> list[Due]:
        rows = self.conn.execute(
            "SELECT id, profile_id, email, mail_tries, nonce FROM subscribers "
            "WHERE mail_due <= ? ORDER BY mail_due LIMIT ?",
            (now, limit),
        ).fetchall()
        return [
            Due(i, p, e, t, self.token(CONFIRM, i, n), self.token(UNSUBSCRIBE, i, n))
            for i, p, e, t, n in rows
        ]

    def next_due(self) -> float | None:
        (when,) = self.conn.execute("SELECT min(mail_due) FROM subscribers").fetchone()
        return float(when) if when is not None else None

    def mailed(self, row_id: int, now: float) -> None:
        self.conn.execute(
            "UPDATE subscribers SET mail_due = NULL, mail_tries = 0, mailed_at = ? WHERE id = ?",
            (now, row_id),
        )

    def failed(self, due: Due, now: float) -> None:
        """Try again later (1, 2, 4 … 60 minutes), or give up after MAIL_TRIES."""
        retry = now + min(60.0 * 2**due.tries, 3600.0) if due.tries + 1 < MAIL_TRIES else None
        self.conn.execute(
            "UPDATE subscribers SET mail_due = ?, mail_tries = mail_tries + 1 WHERE id = ?",
            (retry, due.id),
        )

    # -- a subscriber's own links ------------------------------------------------

    def confirm(self, token: str, now: float) -> bool:
        holder = self._holder(CONFIRM, token)
        if holder is None:
            return False
        self.conn.execute(
            "UPDATE subscribers SET confirmed_at = coalesce(confirmed_at, ?), mail_due = NULL "
            "WHERE id = ?",
            (now, holder[0]),
        )
        return True

    def unsubscribe(self, token: str) -> bool:
        """Delete the address the link was sent to."""
        holder = self._holder(UNSUBSCRIBE, token)
        if holder is not None:
            self.conn.execute("DELETE FROM subscribers WHERE id = ?", (holder[0],))
        return holder is not None

    def prune(self, now: float, profiles: Collection[str] | None = None) -> int:
        """Delete the addresses not confirmed within PENDING_DAYS, and those of
        profiles no longer among ``profiles`` (when known)."""
        cursor = self.conn.execute(
            "DELETE FROM subscribers WHERE confirmed_at IS NULL AND signed_up_at < ?",
            (now - PENDING_DAYS * 86400,),
        )
        deleted = cursor.rowcount
        if profiles is not None:
            held = [
                row[0] for row in self.conn.execute("SELECT DISTINCT profile_id FROM subscribers")
            ]
            for gone in set(held) - set(profiles):
                deleted += self.remove_profile(gone)
        return deleted

    # -- the creator's list --------------------------------------------------------

    def subscribers(self, profile_id: str) -> list[Subscriber]:
        rows = self.conn.execute(
            "SELECT email, confirmed_at IS NOT NULL, signed_up_at, confirmed_at "
            "FROM subscribers WHERE profile_id = ? ORDER BY signed_up_at, id",
            (profile_id,),
        )
        return [Subscriber(e, bool(c), s, at) for e, c, s, at in rows]

    def remove(self, profile_id: str, email: str) -> bool:
        cursor = self.conn.execute(
            "DELETE FROM subscribers WHERE profile_id = ? AND email = ?", (profile_id, email)
        )
        return cursor.rowcount > 0

    def remove_profile(self, profile_id: str) -> int:
        cursor = self.conn.execute("DELETE FROM subscribers WHERE profile_id = ?", (profile_id,))
        return cursor.rowcount
