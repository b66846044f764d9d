"""The outbox: profiles edited but not yet published.

An edit writes its outbox row in its own transaction (see ``profile_rows``);
the publisher clears a row only at the version it published, so an edit made
during a publish is published by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linkgen.store.database import Database


class Outbox:
    def __init__(self, database: Database) -> None:
        self.database = database

    def entries(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.database.query("SELECT * FROM outbox ORDER BY queued_at")]

    def marks(self) -> list[tuple[str, int, int]]:
        """(profile id, version, deleted) of every profile waiting to be published."""
        rows = self.database.conn.execute("SELECT profile_id, version, deleted FROM outbox")
        return [(row[0], row[1], row[2]) for row in rows]

    def depth(self) -> tuple[int, str | None]:
        """How many profiles wait to be published, and since when the oldest does."""
        row = self.database.conn.execute("SELECT count(*), min(queued_at) FROM outbox").fetchone()
        return int(row[0]), row[1]

    def queued_at(self) -> list[str]:
        """When each waiting edit was saved (ISO UTC seconds)."""
        return [row[0] for row in self.database.conn.execute("SELECT queued_at FROM outbox")]

    def waiting(self, profile_id: str) -> bool:
        """Whether an edit of this profile is still to be published (and purged)."""
        row = self.database.conn.execute("SELECT 1 FROM outbox WHERE profile_id = ?", (profile_id,))
        return row.fetchone() is not None

    def done(self, marks: Sequence[tuple[str, int, int]]) -> None:
        """Clear rows published as read; a row an edit changed since then stays."""
        with self.database.writing():
            self.database.conn.executemany(
                "DELETE FROM outbox WHERE profile_id = ? AND version = ? AND deleted = ?", marks
            )
