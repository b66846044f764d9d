"""The security headers every editor response carries, and the page policies."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data: https:; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
FRAMED_POLICY = (  # the editor's own small pages shown in a frame of it
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)


class SecurityHeaders:
    """Adds the security headers to every response (a plain ASGI middleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                framed = "frame-ancestors 'self'" in headers["Content-Security-Policy"]
                headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)
