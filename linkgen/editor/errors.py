"""Library errors answered as HTTP, in one place (exception handlers per class).

A refused edit shows its form again with the status its error class maps to:
the fields' messages next to the fields for bad input, the view's own words
when the profile changed elsewhere, the error's sentence otherwise. Nothing
from the inside (no traceback, no SQL) reaches the page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from linkgen.editor.accounts import SignInRefused, TooManyAttempts
from linkgen.editor.editor import Forbidden, Redraw, editor_of
from linkgen.errors import Conflict, InvalidInput, LinkgenError, NotFound, StaleEdit

STATUS: dict[type[LinkgenError], int] = {
    StaleEdit: 409,
    SignInRefused: 401,
    TooManyAttempts: 429,
    LinkgenError: 400,
}


def status_of(exc: LinkgenError) -> int:
    """The status of the nearest class of ``exc`` in STATUS."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def field_errors(message: str) -> dict[str, str]:
    """'field: what is wrong' → {field: what is wrong} (shown next to that field)."""
    field, sep, rest = message.partition(": ")
    return {field.strip(): rest} if sep and " " not in field.strip() else {"form": message}


async def refused(request: Request, exc: Exception) -> Response:
    """An edit or sign-in the library refused: its form again, or a page saying why."""
    assert isinstance(exc, LinkgenError)
    status = status_of(exc)
    redraw: Redraw | None = getattr(request.state, "redraw", None)
    if redraw is None:
        session = getattr(request.state, "session", None)
        return editor_of(request).render(
            request, "base.html", status, session=session, problem=str(exc)
        )
    if isinstance(exc, StaleEdit):
        response = redraw.draw(status, {}, redraw.stale)
    elif isinstance(exc, InvalidInput | Conflict):
        response = redraw.draw(status, field_errors(str(exc)), None)
    else:
        response = redraw.draw(status, {}, str(exc))
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    """A profile or link that is not there, or not this account's: the same answer."""
    session = getattr(request.state, "session", None)
    if session is None:
        return PlainTextResponse("not found", status_code=404)
    return editor_of(request).render(
        request, "base.html", 404, session=session, problem="Not found."
    )


async def forbidden(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("missing or wrong form token", status_code=403)


async def internal(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("something went wrong; nothing was changed", status_code=500)


HANDLERS: dict[Any, Any] = {
    404: not_found,
    500: internal,
    Forbidden: forbidden,
    NotFound: not_found,
    LinkgenError: refused,
}
