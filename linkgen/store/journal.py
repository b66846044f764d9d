"""The build journal: which names of build/ each build wrote or removed.

A publish reads the names journalled since its target's last complete publish
and checks only those against the manifest, instead of every file in build/
(O(changed), not O(site)). A build that may have touched anything (a full
build, a build/ that is not the one this database built) journals ``*``, and
the next publish to each target walks build/ as before; so does one to a
target that has no position yet, one after the headers linkgen gives objects
changed (a new cache policy: ``policy``), and ``publish --verify``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from linkgen.store.database import Database

EVERYTHING = "*"
_POSITION = "journal {}"  # build meta: the last seq a complete publish to the target covered


def insert(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    """Journal ``names`` (inside the caller's transaction); nothing while no target
    has a position (its first publish walks build/ anyway)."""
    if conn.execute("SELECT 1 FROM build_meta WHERE key LIKE 'journal %' LIMIT 1").fetchone():
        conn.executemany("INSERT INTO build_journal (name) VALUES (?)", [(n,) for n in names])


class Journal:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, names: Iterable[str]) -> None:
        rows = list(names)
        if rows:
            with self.database.writing():
                insert(self.database.conn, rows)

    def last(self) -> int:
        row = self.database.conn.execute("SELECT max(seq) FROM build_journal").fetchone()
        return int(row[0] or 0)

    def position(self, target: str, policy: str) -> int | None:
        """The last seq a complete publish to ``target`` covered, with the objects'
        header ``policy`` then (None: none yet, or another policy)."""
        row = self.database.conn.execute(
            "SELECT value FROM build_meta WHERE key = ?", (_POSITION.format(target),)
        ).fetchone()
        if row is None:
            return None
        seq, _, then = str(row[0]).partition(" ")
        return int(seq) if then == policy else None

    def since(self, seq: int) -> tuple[set[str], int]:
        """The names journalled after ``seq``, and the last seq among them."""
        names: set[str] = set()
        last = seq
        for row_seq, name in self.database.conn.execute(
            "SELECT seq, name FROM build_journal WHERE seq > ?", (seq,)
        ):
            names.add(name)
            last = max(last, row_seq)
        return names, last

    def covered(self, target: str, seq: int, policy: str) -> None:
        """A publish to ``target`` covered everything up to ``seq`` (headers by
        ``policy``); what every target has covered is forgotten."""
        with self.database.writing():
            conn = self.database.conn
            conn.execute(
                "INSERT OR REPLACE INTO build_meta (key, value) VALUES (?, ?)",
                (_POSITION.format(target), f"{seq} {policy}"),
            )
            row = conn.execute(
                "SELECT min(CAST(value AS INTEGER)) FROM build_meta WHERE key LIKE 'journal %'"
            ).fetchone()
            conn.execute("DELETE FROM build_journal WHERE seq <= ?", (int(row[0] or 0),))
