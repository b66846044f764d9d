"""The content database (``site_data/linkgen.db``): one connection, its pragmas,
the migrations, the write transaction and id issuing.

Every part of the store (content, exchange, outbox, build state, manifest,
routes) works over one ``Database``, so a write that touches several parts'
tables is still one transaction.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkgen.store.migrations import migrate, pending_migrations

if TYPE_CHECKING:
    import sqlite_utils

_NOT_ALNUM = str.maketrans("", "", "-_")  # ids never start with '-' (CLI options)
_ID_LENGTH = 12  # 71 bits; uniqueness is still checked against every id ever issued
CHUNK = 500  # ids per IN (...) query


def chunked(ids: Sequence[str]) -> Iterator[list[str]]:
    """``ids`` in lists of at most CHUNK, for ``IN (...)`` queries."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


BUSY_MS = 10_000  # how long a write waits for another writer


class Busy(Exception):
    """Another connection holds the write lock (only when asked not to wait)."""


class Database:
    def __init__(self, path: Path, *, run_migrations: bool = True) -> None:
        self.path = path
        self.conn = conn = sqlite3.connect(str(path), timeout=BUSY_MS / 1000)
        self._depth = 0  # how many writing() blocks are open
        self._ring = False  # wake the worker after the commit
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if run_migrations and pending_migrations(conn):
            migrate(self.db)

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection (imported only when needed)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction: two writers queue instead of failing
        on lock upgrade; an exception rolls everything back.

        Inside another ``writing()`` it is a savepoint of that transaction: an
        exception undoes only its own part, and nothing is committed until the
        outermost one ends (an API batch, or an edit and its idempotency record).
        """
        conn = self.conn
        if self._depth:
            name = f"w{self._depth}"
            conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            conn.execute(f"RELEASE {name}")
            return
        conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._ring = False
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        conn.execute("COMMIT")
        if self._ring:  # an edit was queued: the worker learns of it now, not at its next look
            self._ring = False
            from linkgen.store import doorbell  # sockets: loaded by a write only

            doorbell.ring(self.path.parent)

    def ring_after_commit(self) -> None:
        """Wake the worker once this transaction commits (nothing if it rolls back)."""
        self._ring = True

    @contextmanager
    def waiting(self, wait: bool) -> Iterator[None]:
        """With ``wait`` False, a write transaction begun inside raises ``Busy`` at once
        when another connection holds the write lock, instead of waiting for it."""
        if wait or self._depth:
            yield
            return
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise Busy(str(exc)) from None
            raise
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def issue_id(self, kind: str) -> str:
        """A new random id, never handed out before (every issued id is kept)."""
        import secrets  # OpenSSL: loaded by a write only

        while True:
            candidate = secrets.token_urlsafe(_ID_LENGTH).translate(_NOT_ALNUM)[:_ID_LENGTH]
            if len(candidate) < _ID_LENGTH:
                continue
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO issued_ids (id, kind) VALUES (?, ?)", (candidate, kind)
            )
            if cursor.rowcount == 1:
                return candidate
