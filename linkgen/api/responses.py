"""The statuses each kind of route documents beside its success, and the path
parameters they share. Every status listed is one the route can answer (the
suite reaches each), and the routes answer no other."""

from __future__ import annotations

from typing import Any

from fastapi import Path

from linkgen.api.idempotency import Answer
from linkgen.api.schemas import Problem

USERNAME = Path(min_length=1, max_length=64, description="The profile's username.")
LINK_ID = Path(min_length=1, max_length=40, description="The link's id.")

WHY = {
    401: "No token, or a wrong, expired or removed one.",
    403: "The token lacks the scope this route needs.",
    404: "No such profile or link, or not one this token reaches.",
    409: "It clashes with what is stored (a taken username, a full list of links).",
    412: "If-Match does not match the profile's current ETag.",
    413: "The body is over 64 KB.",
    422: "A parameter, a header or the body broke a rule; `errors` names each field.",
    428: "If-Match is missing.",
    429: "The token's allowance is spent; wait `Retry-After` seconds.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem, "description": WHY[code]} for code in sorted(codes)}


_EVERY = (401, 403, 422, 429)
READ = problems(*_EVERY)
READ_ONE = problems(*_EVERY, 404)
CREATE = problems(*_EVERY, 409, 413)
ADD = problems(*_EVERY, 404, 409, 412, 413)
UPDATE = problems(*_EVERY, 404, 412, 413, 428)
BATCH = problems(*_EVERY, 404, 409, 412, 413, 428)
CHANGE = problems(*_EVERY, 404, 412, 428)  # an update without a body: move's, toggles'
UNDO = problems(*_EVERY, 404, 412)
PURGE = problems(*_EVERY, 404)

__all__ = ["ADD", "BATCH", "CHANGE", "CREATE", "LINK_ID", "PURGE", "READ", "READ_ONE", "UNDO",
           "UPDATE", "USERNAME", "Answer", "problems"]  # fmt: skip
