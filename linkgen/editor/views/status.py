"""What a creator looks at: the preview, the publishing status, the QR code, stats."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from linkgen.editor.accounts import Session
from linkgen.editor.editor import Editor, signed_in
from linkgen.editor.security import FRAMED_POLICY, PREVIEW_POLICY
from linkgen.errors import NotFound


async def preview(request: Request, editor: Editor, session: Session) -> Response:
    """The page as it will be published, rendered here from the database."""
    from linkgen.build import visible_links
    from linkgen.records import iso, now

    profile = editor.editable(session, request.path_params["username"])
    (page,) = editor.site.builds.page_profiles([profile.id])
    shown, _ = visible_links(page.links, iso(now()))
    html = editor.renderer.page(page, shown)
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": PREVIEW_POLICY})  # fmt: skip


async def status(request: Request, editor: Editor, session: Session) -> Response:
    """'Live' once the worker has published and purged the last edit; until then
    the little page reloads itself every second (a meta refresh: no script)."""
    profile = editor.editable(session, request.path_params["username"])
    waiting = editor.site.outbox.waiting(profile.id)
    from linkgen.publish.worker import running

    idle = waiting and not running(editor.site.root)
    return editor.templates.TemplateResponse(
        request,
        "status.html",
        {"waiting": waiting, "version": profile.version, "no_worker": idle},
        headers={"Content-Security-Policy": FRAMED_POLICY},
    )


async def qr(request: Request, editor: Editor, session: Session) -> Response:
    """The SVG code the build wrote (/_m/<digest>.svg), made here if not built yet;
    a PNG (for print and for apps that take no SVG) is made on request."""
    from linkgen.pages.qr import profile_qr, qr_name
    from linkgen.records import page_address

    profile = editor.editable(session, request.path_params["username"])
    url = page_address(editor.site.config.site.url, profile.username, profile.domain)
    fmt = request.path_params["fmt"]
    if fmt == "png":
        data, media_type = profile_qr(url, "png"), "image/png"
    elif fmt == "svg":
        try:
            data = (editor.media_dir / qr_name(url)).read_bytes()
        except FileNotFoundError:
            data = profile_qr(url, "svg")
        media_type = "image/svg+xml"
    else:
        raise NotFound(fmt)
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'inline; filename="{profile.username}-qr.{fmt}"'},
    )


async def stats(request: Request, editor: Editor, session: Session) -> Response:
    from linkgen.clicks import stats as figures
    from linkgen.clicks.dashboard import render
    from linkgen.clicks.db import ClickStore, clicks_path

    profile = editor.editable(session, request.path_params["username"])
    clicks = ClickStore(clicks_path(editor.site.root))
    try:
        numbers = figures.compute(editor.site.database, clicks, profile.username, days=30)
    finally:
        clicks.close()
    settings = editor.site.config.redirector
    note = figures.counting_note(settings.mode, settings.base_url)
    page = render(numbers, note=note, back=f"/p/{profile.username}")
    return HTMLResponse(page, headers={"Content-Security-Policy": PREVIEW_POLICY})


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


ROUTES = [
    Route("/healthz", healthz),
    Route("/p/{username}/preview", signed_in(preview)),
    Route("/p/{username}/qr.{fmt}", signed_in(qr)),
    Route("/p/{username}/status", signed_in(status)),
    Route("/p/{username}/stats", signed_in(stats)),
]
