"""API request bodies are read whole (they are small) before any route sees them:
one over 64 KB — declared or not — is answered 413 and never parsed."""

from __future__ import annotations

from typing import Any

from linkgen.api.problems import body_too_large
from linkgen.editor.limits import FORM_BYTES, BodyTooLarge


class WholeBody:
    """A plain ASGI middleware: count the body against the cap, then hand it on."""

    def __init__(self, app: Any, limit: int = FORM_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        parts, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            parts.append(message.get("body", b""))
            seen += len(parts[-1])
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body, given = b"".join(parts), False

        async def replay() -> Any:
            nonlocal given
            if given:
                return await receive()  # http.disconnect, when it comes
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        response = body_too_large(BodyTooLarge(self.limit), scope.get("path", ""))
        await response(scope, receive, send)
