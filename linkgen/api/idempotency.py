"""Idempotent writes: a retried request with the same ``Idempotency-Key`` gets the
first answer again instead of doing the work twice.

The answer is stored in the same transaction as the edit it reports, so an edit
and its record are committed together or not at all: a retry after a crash or a
lost answer either replays the stored answer or does the work for the first
time. Keys are per token and kept 24 hours. The same key with another request
(method, path or body) is refused; a failed request stores nothing, so it can be
retried with its key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from linkgen.errors import InvalidInput
from linkgen.records import iso, now
from linkgen.store.database import Database

KEEP = timedelta(hours=24)
HEADER = "Idempotency-Key"


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class KeyReused(InvalidInput):
    """The key was used before with a different request."""


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def once(
    database: Database, token_id: str, key: str | None, fingerprint: str, work: Callable[[], Answer]
) -> tuple[Answer, bool]:
    """``work``'s answer, run in one transaction with its record; (answer, replayed)."""
    if key is None:
        with database.writing():
            return work(), False
    with database.writing():
        row = database.conn.execute(
            "SELECT request_hash, status, headers, body FROM api_idempotency "
            "WHERE token_id = ? AND key = ? AND created_at > ?",
            (token_id, key, iso(now() - KEEP)),
        ).fetchone()
        if row is not None:
            if row[0] != fingerprint:
                raise KeyReused(
                    f"{HEADER}: this key was used in the last 24 hours for another request; "
                    "use a new key for a new request"
                )
            return Answer(row[1], json.loads(row[2]), bytes(row[3])), True
        answer = work()
        database.conn.execute(
            "DELETE FROM api_idempotency WHERE token_id = ? AND key = ?", (token_id, key)
        )
        database.conn.execute(
            "INSERT INTO api_idempotency (token_id, key, request_hash, status, headers, body, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_id, key, fingerprint, answer.status, json.dumps(answer.headers), answer.body,
             iso(now())),
        )  # fmt: skip
        return answer, False


def forget_old(database: Database) -> int:
    """Drop the answers older than 24 hours; how many went."""
    with database.writing():
        cursor = database.conn.execute(
            "DELETE FROM api_idempotency WHERE created_at <= ?", (iso(now() - KEEP),)
        )
    return cursor.rowcount
