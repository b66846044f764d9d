"""Every API error as RFC 9457 problem details (``application/problem+json``), in
one place: the status of each library error class, the fields of invalid input,
and nothing from the inside (no traceback, no SQL) in any answer."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from linkgen.api.context import PreconditionRequired, RateLimited, ScopeMissing, Unauthorized
from linkgen.api.schemas import OPERATION_TAGS, FieldError, Problem
from linkgen.editor.limits import BodyTooLarge
from linkgen.errors import (
    Conflict,
    InvalidInput,
    LimitReached,
    LinkgenError,
    NotFound,
    NothingToUndo,
    StaleEdit,
    ThemeError,
)

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

# class → (status, type, title); the nearest class of an error in its MRO wins.
KINDS: dict[type[Exception], tuple[int, str, str]] = {
    Unauthorized: (401, "unauthorized", "No valid token"),
    ScopeMissing: (403, "forbidden", "The token lacks a scope"),
    NotFound: (404, "not-found", "Not found"),
    StaleEdit: (412, "stale", "Changed since it was read"),
    PreconditionRequired: (428, "if-match-required", "If-Match is required"),
    RateLimited: (429, "rate-limited", "Too many requests"),
    LimitReached: (409, "limit", "A limit is reached"),
    InvalidInput: (422, "invalid-input", "Invalid input"),
    ThemeError: (422, "invalid-input", "Invalid input"),
    Conflict: (409, "conflict", "Conflict"),
    NothingToUndo: (409, "nothing-to-undo", "Nothing to undo"),
    LinkgenError: (400, "refused", "Refused"),
}


def problem(
    request: Request,
    status: int,
    kind: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = Problem(
        type=f"urn:linkgen:problem:{kind}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
        retry_after=int(headers["Retry-After"]) if headers and "Retry-After" in headers else None,
    )
    data = body.model_dump(mode="json", exclude_none=True)
    return Response(json.dumps(data), status, headers=headers, media_type=MEDIA_TYPE)


def field_errors(message: str) -> list[FieldError]:
    """``url: must be …; title: …`` (the CLI's one line) as one entry per field."""
    found = []
    for part in message.split("; "):
        field, sep, rest = part.partition(": ")
        if sep and field and " " not in field:
            found.append(FieldError(field=field, detail=rest))
        else:
            found.append(FieldError(field="", detail=part))
    return found


async def library_error(request: Request, exc: Exception) -> Response:
    status, kind, title = next(
        KINDS[cls] for cls in type(exc).__mro__ if cls in KINDS
    )  # LinkgenError is always there
    headers = dict(getattr(request.state, "rate_headers", None) or {})
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="linkgen"'
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    errors = field_errors(str(exc)) if status == 422 else None
    return problem(request, status, kind, title, str(exc), errors=errors, headers=headers)


def _where(loc: tuple[Any, ...]) -> str:
    from linkgen.models import json_path

    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    # After a list index, a batch operation's tag ('add') names the union member
    # pydantic tried, not a field the sender wrote.
    kept = [
        part
        for i, part in enumerate(parts)
        if not (i and isinstance(parts[i - 1], int) and part in OPERATION_TAGS)
    ]
    return json_path(tuple(kept))


async def invalid_request(request: Request, exc: Exception) -> Response:
    """The body, a query or a header broke a rule: each field and its message, worded
    as the CLI words them."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for item in exc.errors():
        message = str(item.get("msg", "")).removeprefix("Value error, ")[:300]
        if item.get("type") == "extra_forbidden":
            message = "is not a known field"
        elif item.get("type") == "json_invalid":
            message = "is not valid JSON"
        errors.append(
            FieldError(field=_where(tuple(item.get("loc", ()))) or "body", detail=message)
        )
    detail = "; ".join(f"{error.field}: {error.detail}" for error in errors[:10])
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, …)
        errors = [FieldError(field="body", detail="is not valid JSON")]
        return problem(request, 422, "invalid-input", "Invalid input", "body: is not valid JSON",
                       errors=errors)  # fmt: skip
    titles = {404: "Not found", 405: "Method not allowed"}
    title = titles.get(exc.status_code, "Refused")
    headers = dict(exc.headers or {})
    detail = "no such route" if exc.status_code == 404 else str(exc.detail)
    return problem(request, exc.status_code, "http", title, detail, headers=headers)


def body_too_large(exc: BodyTooLarge, path: str = "") -> Response:
    """413, before the body is read (a declared length over the cap) or while it is."""
    body = Problem(
        type="urn:linkgen:problem:too-large",
        title="Request too large",
        status=413,
        detail=str(exc),
        instance=path or None,
    )
    return Response(
        body.model_dump_json(exclude_none=True), 413, headers={"Connection": "close"},
        media_type=MEDIA_TYPE,
    )  # fmt: skip


async def internal(request: Request, exc: Exception) -> Response:
    log.error("API request failed: %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request, 500, "internal", "Internal error", "something went wrong; nothing was changed"
    )


HANDLERS: dict[Any, Any] = {
    LinkgenError: library_error,
    RequestValidationError: invalid_request,
    HTTPException: http_error,
    Exception: internal,
}
