"""Webhooks: where events go, and each delivery owed until it is made or given up.

An event is queued in the transaction of what it reports (an edit's
``profile.updated`` with the edit), one row per hook that wants it, so it is
never lost and never blocks anything: the worker sends the queue
(``publish/deliveries.py``). Each delivery has an id of its own, the one
receivers de-duplicate on.
"""

from __future__ import annotations

import json
import secrets
import time
from base64 import b64encode
from datetime import timedelta
from typing import Any, NamedTuple

from linkgen.errors import InvalidInput, NotFound
from linkgen.records import iso, now
from linkgen.store.database import Database

EVENTS = {
    "profile.updated": "a profile or its links changed (any edit, undo included)",
    "profile.published": "a profile's new version is live at the edge",
    "link.clicked.hourly": "a profile's clicks per link in the last closed hour",
}


class Hook(NamedTuple):
    id: str
    url: str
    events: frozenset[str]
    profile_id: str | None  # None: every profile's events
    created_at: str


class Delivery(NamedTuple):
    id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    payload: str
    created_at: str
    attempts: int
    last_error: str | None


def parse_events(raw: str) -> frozenset[str]:
    events = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(events - set(EVENTS))
    if unknown or not events:
        raise InvalidInput(
            f"events: {', '.join(unknown) or 'none given'}; the events are {', '.join(EVENTS)}"
        )
    return events


class Webhooks:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, url: str, events: frozenset[str], profile_id: str | None) -> tuple[Hook, str]:
        """A new hook and its signing secret (``whsec_…``, shown once)."""
        secret = "whsec_" + b64encode(secrets.token_bytes(24)).decode()
        with self.database.writing():
            hook_id = self.database.issue_id("webhook")
            self.database.conn.execute(
                "INSERT INTO webhooks (id, url, events, profile_id, secret, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (hook_id, url, " ".join(sorted(events)), profile_id, secret, iso(now())),
            )
        return self.get(hook_id), secret

    def get(self, hook_id: str) -> Hook:
        row = self.database.conn.execute(
            "SELECT id, url, events, profile_id, created_at FROM webhooks WHERE id = ?", (hook_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no webhook '{hook_id}'")
        return Hook(row[0], row[1], frozenset(row[2].split()), row[3], row[4])

    def all(self) -> list[Hook]:
        rows = self.database.conn.execute(
            "SELECT id, url, events, profile_id, created_at FROM webhooks ORDER BY created_at, id"
        )
        return [Hook(r[0], r[1], frozenset(r[2].split()), r[3], r[4]) for r in rows]

    def remove(self, hook_id: str) -> None:
        with self.database.writing():
            gone = self.database.conn.execute("DELETE FROM webhooks WHERE id = ?", (hook_id,))
            if gone.rowcount == 0:
                raise NotFound(f"no webhook '{hook_id}'")

    def wants(self, event: str, profile_id: str) -> bool:
        return bool(self._hooks_for(event, profile_id))

    def _hooks_for(self, event: str, profile_id: str) -> list[str]:
        rows = self.database.conn.execute(
            "SELECT id, events FROM webhooks WHERE profile_id IS NULL OR profile_id = ?",
            (profile_id,),
        )
        return [row[0] for row in rows if event in row[1].split()]

    def enqueue(self, event: str, profile_id: str, data: dict[str, Any]) -> int:
        """Queue ``event`` for every hook that wants it (inside the caller's
        transaction, when there is one); how many deliveries were queued."""
        hooks = self._hooks_for(event, profile_id)
        if not hooks:
            return 0
        stamp = iso(now())
        with self.database.writing():
            for hook_id in hooks:
                delivery_id = "msg_" + self.database.issue_id("delivery")
                payload = json.dumps({"type": event, "timestamp": stamp, "data": data})
                self.database.conn.execute(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, created_at, "
                    "next_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (delivery_id, hook_id, event, payload, stamp, time.time()),
                )
        return len(hooks)

    # -- what the sender reads and writes ----------------------------------------

    def due(self, limit: int = 50, moment: float | None = None) -> list[Delivery]:
        rows = self.database.conn.execute(
            "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.created_at, "
            "d.attempts, d.last_error FROM webhook_deliveries d JOIN webhooks w "
            "ON w.id = d.webhook_id WHERE d.state = 'pending' AND d.next_at <= ? "
            "ORDER BY d.next_at LIMIT ?",
            (time.time() if moment is None else moment, limit),
        )
        return [Delivery(*row) for row in rows]

    def delivered(self, delivery_id: str) -> None:
        with self.database.writing():
            self.database.conn.execute(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                (delivery_id,),
            )

    def failed(self, delivery_id: str, error: str, retry_at: float | None) -> None:
        """A try that failed: tried again at ``retry_at``, or (None) given up on."""
        state = "pending" if retry_at is not None else "failed"
        with self.database.writing():
            self.database.conn.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, "
                "state = ?, next_at = ? WHERE id = ?",
                (error[:500], state, retry_at or 0.0, delivery_id),
            )

    def dead_letters(self) -> list[Delivery]:
        rows = self.database.conn.execute(
            "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.created_at, "
            "d.attempts, d.last_error FROM webhook_deliveries d JOIN webhooks w "
            "ON w.id = d.webhook_id WHERE d.state = 'failed' ORDER BY d.created_at, d.id"
        )
        return [Delivery(*row) for row in rows]

    def retry(self, delivery_ids: list[str] | None = None) -> int:
        """Send given-up deliveries again (all when no ids are given), from now on."""
        with self.database.writing():
            if delivery_ids is None:
                cursor = self.database.conn.execute(
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = ?, "
                    "created_at = ? WHERE state = 'failed'",
                    (time.time(), iso(now())),
                )
                return cursor.rowcount
            changed = 0
            for delivery_id in delivery_ids:
                changed += self.database.conn.execute(
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = ?, "
                    "created_at = ? WHERE id = ? AND state = 'failed'",
                    (time.time(), iso(now()), delivery_id),
                ).rowcount
            if changed < len(delivery_ids):
                raise NotFound(
                    "only given-up deliveries can be retried; see 'linkgen webhook failed'"
                )
            return changed

    def forget_delivered(self, days: int = 7) -> None:
        """Drop deliveries made more than ``days`` ago (dead letters stay until retried)."""
        cutoff = iso(now() - timedelta(days=days))
        with self.database.writing():
            self.database.conn.execute(
                "DELETE FROM webhook_deliveries WHERE state = 'delivered' AND created_at < ?",
                (cutoff,),
            )

    def mark(self, event: str) -> str | None:
        row = self.database.conn.execute(
            "SELECT done_until FROM webhook_marks WHERE event = ?", (event,)
        ).fetchone()
        return row[0] if row else None

    def set_mark(self, event: str, until: str) -> None:
        self.database.conn.execute(
            "INSERT INTO webhook_marks (event, done_until) VALUES (?, ?) "
            "ON CONFLICT(event) DO UPDATE SET done_until = excluded.done_until",
            (event, until),
        )
