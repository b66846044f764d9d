"""The editor application (Starlette): server-rendered forms, no script needed.

Everything it changes goes through the same store as the CLI, so an edit
here is validated, versioned, recorded in the history and queued for the
publish worker exactly like ``linkgen profile set``.

Security, by default:
- the session cookie holds a random token signed with the site's editor key
  (HttpOnly, SameSite=Lax, Secure under https); the database keeps only its
  hash, and signing out revokes it on the server;
- every form carries a CSRF token (the session's; before sign-in, a signed
  token of its own); a POST without the right one is answered 403;
- a profile the account may not edit is answered 404 (its existence is not
  revealed); every response carries a strict Content-Security-Policy (no
  inline script anywhere), ``frame-ancestors 'none'``, ``nosniff`` and
  ``Referrer-Policy: same-origin``.

The views live in ``views/`` (one module per page family), what they share in
``editor.py``, the answer to each library error in ``errors.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from linkgen.config import ApiSettings
from linkgen.editor import errors
from linkgen.editor.editor import HERE, Editor
from linkgen.editor.limits import BodyLimit, BodyTooLarge, body_too_large
from linkgen.editor.security import SecurityHeaders
from linkgen.editor.views import account, links, pictures, profile, smart, status


def create_app(site_root: Path, listen_host: str = "127.0.0.1") -> Any:
    editor = Editor(site_root, listen_host)
    routes: list[BaseRoute] = [
        *account.ROUTES,
        *profile.ROUTES,
        *status.ROUTES,
        *pictures.ROUTES,
        *links.ROUTES,
        *smart.ROUTES,
        *links.ACTION_ROUTES,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        # The site's own images (avatars, backgrounds), for the preview.
        Mount("/_m", StaticFiles(directory=str(editor.media_dir), check_dir=False), name="media"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodyLimit)],  # inside the handlers' reach: a 413, not a 500
        exception_handlers={**errors.HANDLERS, BodyTooLarge: body_too_large},
    )
    app.state.editor = editor
    settings = editor.api_settings
    if not settings.enabled:
        return SecurityHeaders(app)
    return SecurityHeaders(Dispatch(app, site_root, settings))


class Dispatch:
    """``/api/…`` to the API, everything else to the editor's pages (both behind the
    same security headers). The API is built on its first request: an editor used
    only by people never loads FastAPI (a fifth of a second at every start)."""

    def __init__(self, pages: Any, site_root: Path, settings: ApiSettings) -> None:
        self.pages, self.site_root, self.settings = pages, site_root, settings
        self.api: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/api" and not path.startswith("/api/"):
            await self.pages(scope, receive, send)
            return
        if self.api is None:
            from linkgen.api.app import create_api

            self.api = create_api(self.site_root, self.settings)
        await self.api(scope, receive, send)


def app_from_env() -> Any:
    """The factory granian's worker calls; it stops if `linkgen editor` is killed."""
    from linkgen.config import load
    from linkgen.ops.lifeline import follow_parent
    from linkgen.site import DATA_DIR, DB_FILE

    follow_parent()
    root = Path(os.environ["LINKGEN_SITE"])
    app = create_app(root, os.environ.get("LINKGEN_EDITOR_HOST", "127.0.0.1"))
    settings = load(root).editor
    if settings.metrics_port:
        from linkgen.api.metrics import watch_deliveries  # no FastAPI: counters only
        from linkgen.editor import metrics

        watch_deliveries(root / DATA_DIR / DB_FILE)
        metrics.serve(settings.metrics_host, settings.metrics_port)
    return app


__all__ = ["create_app"]
