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
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, Signer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from linkgen import site as sites
from linkgen.editor.accounts import Session, SignInRefused, TooManyAttempts
from linkgen.errors import Conflict, InvalidInput, LinkgenError, NotFound, StaleEdit
from linkgen.models import LinkChanges, NewLink, Profile, ProfileFields, validate
from linkgen.pages.images import Purpose
from linkgen.pages.render import Renderer

HERE = Path(__file__).parent
# What a creator may set over their theme in the profile form.
OVERRIDES = ("background", "text", "button", "button_text", "font", "button_shape")
COOKIE = "lg_session"
PRE_COOKIE = "lg_pre"  # before sign-in: the CSRF token of the sign-in forms
KEY_FILE = "editor.key"
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


class Forbidden(Exception):
    """A POST without the right CSRF token: answered 403 (an exception handler)."""


class Editor:
    def __init__(self, site_root: Path) -> None:
        self.site_root = site_root
        # One Site (one SQLite connection) per thread: the event loop's, and the
        # worker threads that run password hashing off it.
        self._local = threading.local()
        opened = sites.Site.open(site_root)
        self.secure = opened.config.editor.base_url.startswith("https://")
        self.signer = Signer(_key(opened.root / sites.DATA_DIR / KEY_FILE), salt="session")
        self.theme_names = sorted(opened.themes)
        self.media_dir = opened.media_dir
        opened.close()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

    @property
    def site(self) -> sites.Site:
        site = getattr(self._local, "site", None)
        if site is None:
            site = self._local.site = sites.Site.open(self.site_root)
        return site

    # -- sessions and CSRF --------------------------------------------------------

    def session(self, request: Request) -> tuple[str, Session] | None:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            token = self.signer.unsign(cookie).decode()
        except BadSignature:
            return None
        found = self.site.accounts.session(token)
        return (token, found) if found else None

    def pre_token(self, request: Request) -> tuple[str, str | None]:
        """The sign-in forms' CSRF token, and the cookie to set if it is new."""
        cookie = request.cookies.get(PRE_COOKIE)
        if cookie:
            try:
                return self.signer.unsign(cookie).decode(), None
            except BadSignature:
                pass
        token = secrets.token_urlsafe(24)
        return token, self.signer.sign(token).decode()

    async def form(self, request: Request, expected: str) -> dict[str, str]:
        """The form's text fields, once its CSRF token is checked (Forbidden otherwise)."""
        form = await request.form()
        check_token(form.get("csrf"), expected)
        return {key: value for key, value in form.items() if isinstance(value, str)}

    @property
    def renderer(self) -> Renderer:
        """The public pages' renderer, built once per thread (it compiles templates)."""
        renderer = getattr(self._local, "renderer", None)
        if renderer is None:
            renderer = self._local.renderer = self.site.renderer()
            renderer.media_base = ""  # images from this server's /_m/, published or not
        return renderer

    def public_form(self, request: Request, name: str, **context: Any) -> Response:
        """A page with a form before sign-in: its CSRF token rides in a signed cookie."""
        csrf, cookie = self.pre_token(request)
        response = self.render(request, name, csrf=csrf, **context)
        if cookie:
            response.set_cookie(
                PRE_COOKIE, cookie, httponly=True, samesite="strict", secure=self.secure
            )
        return response

    def render(
        self, request: Request, name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        context.setdefault("session", None)
        context.setdefault("notice", request.query_params.get("notice"))
        context.setdefault("problem", None)
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def editable(self, session: Session, username: str) -> Profile:
        """The profile if this account may edit it; otherwise NotFound, as if absent."""
        profile = self.site.content.get(username.lower())
        if not self.site.accounts.may_edit(session.user, profile.id):
            raise NotFound(f"no profile '{username}'")
        return profile


def check_token(given: object, expected: str) -> None:
    if not isinstance(given, str) or not secrets.compare_digest(given, expected):
        raise Forbidden


def _key(path: Path) -> bytes:
    """The site's editor signing key, created on first use (readable by its owner only)."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def create_app(site_root: Path) -> Any:
    editor = Editor(site_root)

    def signed_in(
        handler: Callable[[Request, str, Session], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            found = editor.session(request)
            if found is None:
                return RedirectResponse("/sign-in", status_code=303)
            token, session = found
            try:
                return await handler(request, token, session)
            except NotFound:
                return editor.render(
                    request, "base.html", 404, session=session, problem="Not found."
                )

        return endpoint

    async def home(request: Request, token: str, session: Session) -> Response:
        store = editor.site.content
        profiles = [
            summary
            for summary in store.list_profiles()
            if editor.site.accounts.may_edit(session.user, summary.id)
        ]
        return editor.render(request, "home.html", session=session, profiles=profiles)

    async def sign_in_page(request: Request) -> Response:
        return editor.public_form(request, "sign_in.html", email="")

    async def sign_in(request: Request) -> Response:
        csrf, _ = editor.pre_token(request)
        form = await editor.form(request, csrf)
        address = request.client.host if request.client else "?"
        email = form.get("email", "")[:254]
        password = form.get("password", "")
        try:  # argon2 takes ~0.15 s: on a worker thread, not the event loop
            token, _session = await run_in_threadpool(
                lambda: editor.site.accounts.sign_in(email, password, address)
            )
        except TooManyAttempts as wait:
            response = editor.render(
                request, "sign_in.html", 429, csrf=csrf, email=email, problem=str(wait)
            )
            response.headers["Retry-After"] = str(int(wait.retry_after) + 1)
            return response
        except SignInRefused as refused:
            return editor.render(
                request, "sign_in.html", 401, csrf=csrf, email=email, problem=str(refused)
            )
        signed_in_page = RedirectResponse("/", status_code=303)  # a new token: no fixation
        signed_in_page.set_cookie(
            COOKIE,
            editor.signer.sign(token).decode(),
            httponly=True,
            samesite="lax",
            secure=editor.secure,
            max_age=14 * 24 * 3600,
        )
        signed_in_page.delete_cookie(PRE_COOKIE)
        return signed_in_page

    async def sign_out(request: Request, token: str, session: Session) -> Response:
        await editor.form(request, session.csrf)
        editor.site.accounts.sign_out(token)
        response = RedirectResponse("/sign-in?notice=Signed+out.", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def set_password_page(request: Request) -> Response:
        token = request.query_params.get("token", "")
        return editor.public_form(request, "set_password.html", token=token)

    async def set_password(request: Request) -> Response:
        csrf, _ = editor.pre_token(request)
        form = await editor.form(request, csrf)
        link, password = form.get("token", ""), form.get("password", "")
        try:
            await run_in_threadpool(
                lambda: editor.site.accounts.set_password_with_link(link, password)
            )
        except InvalidInput as exc:
            return editor.render(
                request,
                "set_password.html",
                400,
                csrf=csrf,
                token=form.get("token", ""),
                error=str(exc),
            )
        return RedirectResponse("/sign-in?notice=Password+set.+Sign+in.", status_code=303)

    async def profile_page(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        return _profile(request, session, profile)

    def _profile(
        request: Request,
        session: Session,
        profile: Profile,
        status: int = 200,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        new_link: dict[str, str] | None = None,
        problem: str | None = None,
    ) -> Response:
        return editor.render(
            request,
            "profile.html",
            status,
            session=session,
            profile=profile,
            themes=editor.theme_names,
            errors=errors or {},
            typed=typed,
            new_link=new_link or {"title": "", "url": ""},
            problem=problem,
            history=editor.site.content.history(profile.username, limit=10),
        )

    async def save_profile(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        form = await editor.form(request, session.csrf)
        values = {key: form.get(key, "") for key in ("display_name", "bio", "theme", *OVERRIDES)}
        colours = {key: values[key].strip() or None for key in OVERRIDES}
        try:
            fields = validate(
                ProfileFields,
                {"display_name": values["display_name"] or None, "bio": values["bio"] or None,
                 "theme": values["theme"], "style": profile.style.merged(colours)},
            )  # fmt: skip
            editor.site.content.update_profile(
                profile.username, fields, expected_version=_version(form), actor=_actor(session)
            )
        except StaleEdit:
            fresh = editor.site.content.get(profile.username)
            problem = (
                "This profile was changed elsewhere since you opened it; nothing was saved. "
                "Your text is still in the form: check the page and save again."
            )
            return _profile(request, session, fresh, 409, typed=values, problem=problem)
        except InvalidInput as exc:
            errors = _field_errors(str(exc))
            return _profile(request, session, profile, 400, errors, typed=values)
        return _back(profile.username, "Saved.")

    async def add_link(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        form = await editor.form(request, session.csrf)
        typed = {"title": form.get("title", ""), "url": form.get("url", "")}
        try:
            editor.site.content.add_link(
                profile.username,
                validate(NewLink, typed),
                expected_version=_version(form),
                actor=_actor(session),
            )
        except StaleEdit:
            fresh = editor.site.content.get(profile.username)
            problem = "This profile was changed elsewhere; the link was not added. Add it again."
            return _profile(request, session, fresh, 409, new_link=typed, problem=problem)
        except (InvalidInput, Conflict) as exc:
            errors = _field_errors(str(exc))
            return _profile(request, session, profile, 400, errors, new_link=typed)
        return _back(profile.username, "Link added.")

    async def link_action(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        form = await editor.form(request, session.csrf)
        link_id, action = request.path_params["link_id"], request.path_params["action"]
        link = next((item for item in profile.links if item.id == link_id), None)
        if link is None:
            raise NotFound(link_id)
        store, version, actor = editor.site.content, _version(form), _actor(session)
        try:
            if action == "remove":
                store.remove_link(profile.username, link_id, expected_version=version, actor=actor)
            elif action in ("up", "down"):
                to = link.position + (-1 if action == "up" else 1)
                if 1 <= to <= len(profile.links):
                    store.move_link(
                        profile.username, link_id, to, expected_version=version, actor=actor
                    )
            else:
                store.edit_link(
                    profile.username,
                    link_id,
                    LinkChanges(enabled=not link.enabled),
                    expected_version=version,
                    actor=actor,
                )
        except StaleEdit:
            fresh = store.get(profile.username)
            problem = "This profile was changed elsewhere; nothing was changed. Try again."
            return _profile(request, session, fresh, 409, problem=problem)
        return _back(profile.username, "Saved.")

    def _link_typed(link: Any) -> dict[str, str]:
        """A link's fields as its edit form shows them."""
        return {
            "title": link.title,
            "url": link.url,
            "icon": link.icon or "",
            "sensitive": link.sensitive or "",
            "social": "on" if link.social else "",
            "starts_at": f"{link.starts_at:%Y-%m-%dT%H:%M}" if link.starts_at else "",
            "ends_at": f"{link.ends_at:%Y-%m-%dT%H:%M}" if link.ends_at else "",
        }

    def _link_of(profile: Profile, link_id: str) -> Any:
        link = next((item for item in profile.links if item.id == link_id), None)
        if link is None:
            raise NotFound(link_id)
        return link

    async def link_page(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        link = _link_of(profile, request.path_params["link_id"])
        return editor.render(
            request, "link.html", session=session, profile=profile, link=link,
            typed=_link_typed(link), errors={},
        )  # fmt: skip

    async def save_link(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        link = _link_of(profile, request.path_params["link_id"])
        form = await editor.form(request, session.csrf)
        keys = ("title", "url", "icon", "sensitive", "social", "starts_at", "ends_at")
        typed = {key: form.get(key, "") for key in keys}
        changes = {
            "title": typed["title"],
            "url": typed["url"],
            "icon": typed["icon"] or None,
            "sensitive": typed["sensitive"] or None,
            "social": typed["social"] == "on",
            "starts_at": _utc(typed["starts_at"]),
            "ends_at": _utc(typed["ends_at"]),
        }
        try:
            editor.site.content.edit_link(
                profile.username,
                link.id,
                validate(LinkChanges, changes, strict=False),
                expected_version=_version(form),
                actor=_actor(session),
            )
        except StaleEdit:
            problem = "This profile was changed elsewhere; the link was not saved. Save it again."
            return editor.render(
                request, "link.html", 409, session=session, profile=profile, link=link,
                typed=typed, errors={}, problem=problem,
            )  # fmt: skip
        except InvalidInput as exc:
            return editor.render(
                request, "link.html", 400, session=session, profile=profile, link=link,
                typed=typed, errors=_field_errors(str(exc)),
            )  # fmt: skip
        return _back(profile.username, "Link saved.")

    async def received_image(
        request: Request, session: Session, purpose: Purpose
    ) -> tuple[str, dict[str, str]] | tuple[int, str]:
        """The stored image of an upload form (field ``image``) and the form's other
        fields, or (status, message) saying why there is none."""
        from starlette.datastructures import UploadFile
        from starlette.formparsers import MultiPartException

        from linkgen.pages import images

        size = int(request.headers.get("content-length") or 0)
        if size > images.MAX_BYTES + 64 * 1024:
            return 413, f"the file is over {images.MAX_BYTES // (1024 * 1024)} MB"
        try:
            form = await request.form(max_files=1, max_fields=10, max_part_size=images.MAX_BYTES)
        except MultiPartException as exc:
            return 400, str(exc)
        check_token(form.get("csrf"), session.csrf)
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            return 400, "choose an image file"
        data = await upload.read(images.MAX_BYTES + 1)
        try:
            media = images.ingest(data, purpose, source=upload.filename or "the file")
        except InvalidInput as exc:
            return 400, str(exc)
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        return images.save(media, editor.site.media_dir), fields

    async def picture_form(
        request: Request, session: Session, purpose: Purpose
    ) -> tuple[str | None, dict[str, str]] | tuple[int, str]:
        """An upload (the stored image and the form) or a form with ``remove``
        (None and the form), or (status, message) saying why it is neither."""
        if request.headers.get("content-type", "").startswith("multipart/"):
            return await received_image(request, session, purpose)
        form = await editor.form(request, session.csrf)
        if "remove" not in form:
            return 400, "choose an image file"
        return None, form

    async def set_picture(request: Request, token: str, session: Session) -> Response:
        """The profile's picture (kind avatar) or background picture (kind background);
        a form with ``remove`` takes the background picture away."""
        profile = editor.editable(session, request.path_params["username"])
        kind = request.path_params["kind"]
        purpose = PICTURES.get(kind)
        if purpose is None:
            raise NotFound(kind)
        received = await picture_form(request, session, purpose)
        if isinstance(received[0], int):
            return _profile(request, session, profile, received[0], {kind: str(received[1])})
        ref, form = received[0], dict(received[1])
        if ref is None and kind == "avatar":  # a picture is replaced, not removed
            return _profile(request, session, profile, 400, {kind: "choose an image file"})
        fields: dict[str, Any]
        if kind == "avatar":
            fields = {"avatar": ref}
        else:
            fields = {"style": profile.style.merged({"background_image": ref})}
        try:
            editor.site.content.update_profile(
                profile.username,
                validate(ProfileFields, fields),
                expected_version=_version(form),
                actor=_actor(session),
            )
        except StaleEdit:
            fresh = editor.site.content.get(profile.username)
            problem = "This profile was changed elsewhere; the picture was not saved. Try again."
            return _profile(request, session, fresh, 409, problem=problem)
        except InvalidInput as exc:  # a background the text would be unreadable on
            return _profile(request, session, profile, 400, {kind: str(exc)})
        return _back(profile.username, "Picture saved." if ref else "Picture removed.")

    async def set_thumbnail(request: Request, token: str, session: Session) -> Response:
        """A link's thumbnail: an upload sets it, a form with ``remove`` takes it away."""
        profile = editor.editable(session, request.path_params["username"])
        link = _link_of(profile, request.path_params["link_id"])
        received = await picture_form(request, session, "thumbnail")
        if isinstance(received[0], int):
            return _link_form(request, session, profile, link, received[0], str(received[1]))
        ref, form = received[0], dict(received[1])
        try:
            editor.site.content.edit_link(
                profile.username,
                link.id,
                LinkChanges(thumbnail=ref),
                expected_version=_version(form),
                actor=_actor(session),
            )
        except StaleEdit:
            fresh = editor.site.content.get(profile.username)
            problem = "This profile was changed elsewhere; the thumbnail was not saved."
            return _back(fresh.username, problem)
        return _back(profile.username, "Thumbnail saved." if ref else "Thumbnail removed.")

    def _link_form(
        request: Request, session: Session, profile: Profile, link: Any, status: int, error: str
    ) -> Response:
        return editor.render(
            request, "link.html", status, session=session, profile=profile, link=link,
            typed=_link_typed(link), errors={"thumbnail": error},
        )  # fmt: skip

    async def password_page(request: Request, token: str, session: Session) -> Response:
        return editor.render(request, "password.html", session=session, errors={})

    async def change_password(request: Request, token: str, session: Session) -> Response:
        form = await editor.form(request, session.csrf)
        current, new = form.get("current", ""), form.get("new", "")
        try:
            await run_in_threadpool(
                lambda: editor.site.accounts.change_password(session.user, current, new)
            )
        except SignInRefused:
            errors = {"current": "that is not your current password"}
            return editor.render(request, "password.html", 400, session=session, errors=errors)
        except InvalidInput as exc:
            errors = {"new": str(exc).removeprefix("password: ")}
            return editor.render(request, "password.html", 400, session=session, errors=errors)
        # Every session was revoked with the old password, this one too: sign in again.
        response = RedirectResponse(
            "/sign-in?notice=Password+changed.+Sign+in+again.", status_code=303
        )
        response.delete_cookie(COOKIE)
        return response

    async def undo(request: Request, token: str, session: Session) -> Response:
        profile = editor.editable(session, request.path_params["username"])
        await editor.form(request, session.csrf)
        try:
            done = editor.site.content.undo(profile.username, actor=_actor(session))
        except LinkgenError as exc:
            return _profile(request, session, profile, 400, problem=str(exc))
        return _back(profile.username, done[:120])

    async def preview(request: Request, token: str, session: Session) -> Response:
        from linkgen.build import visible_links
        from linkgen.records import iso, now

        profile = editor.editable(session, request.path_params["username"])
        site = editor.site
        (page,) = site.builds.page_profiles([profile.id])
        shown, _ = visible_links(page.links, iso(now()))
        html = editor.renderer.page(page, shown)
        return Response(html, media_type="text/html; charset=utf-8", headers={
            "Content-Security-Policy": PREVIEW_POLICY})  # fmt: skip

    async def status(request: Request, token: str, session: Session) -> Response:
        """'Live' once the worker has published and purged the last edit; until then
        the little page reloads itself every second (a meta refresh: no script)."""
        profile = editor.editable(session, request.path_params["username"])
        waiting = editor.site.outbox.waiting(profile.id)
        return editor.templates.TemplateResponse(
            request,
            "status.html",
            {"waiting": waiting, "version": profile.version},
            headers={"Content-Security-Policy": FRAMED_POLICY},
        )

    async def qr(request: Request, token: str, session: Session) -> Response:
        """The SVG code the build wrote (/_m/<digest>.svg), made here if not built yet;
        a PNG (for print and for apps that take no SVG) is made on request."""
        from linkgen.pages.qr import profile_qr, qr_name

        profile = editor.editable(session, request.path_params["username"])
        url = f"{editor.site.config.site.url}/{profile.username}"
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

    async def stats(request: Request, token: str, session: Session) -> Response:
        from linkgen.clicks import stats as figures
        from linkgen.clicks.dashboard import render
        from linkgen.clicks.db import ClickStore, clicks_path

        profile = editor.editable(session, request.path_params["username"])
        clicks = ClickStore(clicks_path(editor.site.root))
        try:
            numbers = figures.compute(editor.site.content, clicks, profile.username, days=30)
        finally:
            clicks.close()
        return HTMLResponse(render(numbers), headers={"Content-Security-Policy": PREVIEW_POLICY})

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    routes = [
        Route("/", signed_in(home)),
        Route("/healthz", healthz),
        Route("/sign-in", sign_in_page, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-out", signed_in(sign_out), methods=["POST"]),
        Route("/set-password", set_password_page, methods=["GET"]),
        Route("/set-password", set_password, methods=["POST"]),
        Route("/p/{username}", signed_in(profile_page), methods=["GET"]),
        Route("/p/{username}/profile", signed_in(save_profile), methods=["POST"]),
        Route("/p/{username}/links", signed_in(add_link), methods=["POST"]),
        Route("/p/{username}/pictures/{kind}", signed_in(set_picture), methods=["POST"]),
        Route("/p/{username}/links/{link_id}", signed_in(link_page), methods=["GET"]),
        Route(
            "/p/{username}/links/{link_id}/thumbnail",
            signed_in(set_thumbnail),
            methods=["POST"],
        ),
        Route("/p/{username}/links/{link_id}", signed_in(save_link), methods=["POST"]),
        Route("/p/{username}/undo", signed_in(undo), methods=["POST"]),
        Route("/password", signed_in(password_page), methods=["GET"]),
        Route("/password", signed_in(change_password), methods=["POST"]),
        Route(
            "/p/{username}/links/{link_id}/{action:str}",
            signed_in(link_action),
            methods=["POST"],
        ),
        Route("/p/{username}/preview", signed_in(preview)),
        Route("/p/{username}/qr.{fmt}", signed_in(qr)),
        Route("/p/{username}/status", signed_in(status)),
        Route("/p/{username}/stats", signed_in(stats)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        # The site's own images (avatars, backgrounds), for the preview.
        Mount("/_m", StaticFiles(directory=str(editor.media_dir), check_dir=False), name="media"),
    ]
    handlers = {404: _not_found, 500: _internal, Forbidden: _forbidden}
    app = Starlette(routes=routes, exception_handlers=handlers)
    return SecurityHeaders(app)


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


async def _forbidden(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("missing or wrong form token", status_code=403)


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found", status_code=404)


async def _internal(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("something went wrong; nothing was changed", status_code=500)


def _utc(value: str) -> str | None:
    """A datetime-local field (2026-12-01T09:00), read as UTC."""
    value = value.strip()
    if not value:
        return None
    if len(value) == 16:  # no seconds
        value += ":00"
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


PICTURES: dict[str, Purpose] = {"avatar": "avatar", "background": "background"}


def _version(form: dict[str, str]) -> int | None:
    raw = form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _actor(session: Session) -> str:
    return f"{session.user.email} (editor)"


def _field_errors(message: str) -> dict[str, str]:
    """'field: what is wrong' → {field: what is wrong} (shown next to that field)."""
    field, sep, rest = message.partition(": ")
    return {field.strip(): rest} if sep and " " not in field.strip() else {"form": message}


def _back(username: str, notice: str) -> Response:
    return RedirectResponse(f"/p/{username}?notice={notice.replace(' ', '+')}", status_code=303)


def app_from_env() -> Any:
    import os

    return create_app(Path(os.environ["LINKGEN_SITE"]))


__all__ = ["create_app"]
