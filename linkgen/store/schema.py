"""A database's numbered schema steps and how they are applied.

Each step runs in its own transaction together with the row that records it,
so a crash leaves the database either before or after a step, never between.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

Step = Callable[["sqlite_utils.Database"], None]


class Schema:
    """The numbered steps of one database (the content in linkgen.db, clicks in clicks.db)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[tuple[int, str, Step]] = []

    def migration(self, number: int, name: str) -> Callable[[Step], Step]:
        def register(step: Step) -> Step:
            assert not self.steps or self.steps[-1][0] == number - 1, "numbered in order"
            self.steps.append((number, name, step))
            return step

        return register

    def pending(self, conn: sqlite3.Connection) -> bool:
        """Whether ``migrate`` has work to do, checked without importing sqlite-utils."""
        try:
            row = conn.execute("SELECT max(number) FROM _migrations").fetchone()
        except sqlite3.OperationalError:
            return True
        return bool(row[0] != self.steps[-1][0])

    def migrate(self, db: sqlite_utils.Database) -> list[int]:
        """Apply the steps not yet applied; return their numbers."""
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in db.execute("SELECT number FROM _migrations").fetchall()}
        latest = max(done, default=0)
        if latest > self.steps[-1][0]:
            from linkgen.errors import ConfigError

            raise ConfigError(
                f"{self.name} is at schema {latest}, newer than this linkgen knows "
                f"({self.steps[-1][0]}); upgrade linkgen"
            )
        applied = []
        for number, name, step in self.steps:
            if number in done:
                continue
            with db.atomic():
                step(db)
                db.execute(
                    "INSERT INTO _migrations VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                    [number, name],
                )
            log.info("%s: applied migration %d: %s", self.name, number, name)
            applied.append(number)
        return applied


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Run a script statement by statement, inside the caller's transaction.

    (``executescript`` would commit first and break the step's atomicity.)
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
