"""Request bodies are capped before anything parses them.

Every request's body counts as it arrives, whether or not it declares a
Content-Length: a form may send at most FORM_BYTES, an upload the image cap
(plus room for the form around it). A declared length over the cap is answered
413 before a byte is read; a body that grows past it stops being read and is
answered 413 too, so nothing is spooled to disk on its behalf.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from linkgen.pages.images import MAX_BYTES

FORM_BYTES = 64 * 1024
# Twice the image cap: an upload that declares a size between the two is refused by
# its view, next to its field; past this, or sent without a size, it is cut off here.
UPLOAD_BYTES = 2 * MAX_BYTES
UPLOADS = re.compile(r"^/p/[^/]+/(pictures/[^/]+|links/[^/]+/thumbnail)$")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        super().__init__(f"the request is over {size}")
        self.limit = limit


def limit_for(path: str) -> int:
    return UPLOAD_BYTES if UPLOADS.match(path) else FORM_BYTES


class BodyLimit:
    """A plain ASGI middleware counting each request's body against its cap."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = too_large(BodyTooLarge(limit))
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def too_large(exc: BodyTooLarge) -> Response:
    # The rest of the body is not read: the connection closes after the answer.
    return PlainTextResponse(str(exc), status_code=413, headers={"Connection": "close"})


async def body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return too_large(exc)
