"""What every editor view shares: the site (one per thread), sessions and CSRF
tokens, rendering, and how a refused edit redraws its form.

A view never catches the store's errors itself: it says how its form is shown
again (``redraw_with``) and lets the error rise; ``errors.py`` maps each error
class to its status once.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, Signer, TimestampSigner
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from linkgen import site as sites
from linkgen.editor.accounts import Session
from linkgen.errors import InvalidInput, NotFound
from linkgen.models import Profile
from linkgen.pages.render import Renderer

HERE = Path(__file__).parent
COOKIE = "lg_session"
PRE_COOKIE = "lg_pre"  # before sign-in: the CSRF token of the sign-in forms
KEY_FILE = "editor.key"
NOTICE_SECONDS = 600  # a notice link is good for this long
STALE = "This profile was changed elsewhere; nothing was changed. Try again."


class Forbidden(Exception):
    """A POST without the right CSRF token: answered 403 (an exception handler)."""


# How a form is shown again after its edit was refused: (status, field errors, problem).
Draw = Callable[[int, dict[str, str], str | None], Response]


@dataclass(frozen=True)
class Redraw:
    draw: Draw
    stale: str  # the problem shown when the profile changed elsewhere


class Editor:
    def __init__(self, site_root: Path, listen_host: str = "127.0.0.1") -> None:
        self.site_root = site_root
        # One Site (one SQLite connection) per thread: the event loop's, and the
        # worker threads that run password hashing off it.
        self._local = threading.local()
        opened = sites.Site.open(site_root)
        self.secure = cookies_secure(opened.config.editor.base_url, listen_host)
        key = _key(opened.root / sites.DATA_DIR / KEY_FILE)
        self.signer = Signer(key, salt="session")
        self.notices = TimestampSigner(key, salt="notice")
        self.theme_names = sorted(opened.themes)
        self.media_dir = opened.media_dir
        self.api_settings = opened.config.api
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

    # -- pages --------------------------------------------------------------------

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
        context.setdefault("notice", self.notice_of(request))
        context.setdefault("notice_at", "")  # the profile page places its notices
        context.setdefault("problem", None)
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    # -- notices: what the server said happened, never text from the address --------

    def redirect(self, path: str, notice: str) -> Response:
        """A 303 to ``path`` that shows ``notice`` there (signed: a link cannot forge one)."""
        signed = self.notices.sign(notice[:200]).decode()
        return RedirectResponse(f"{path}?{urlencode({'notice': signed})}", status_code=303)

    def back(self, username: str, notice: str, anchor: str = "") -> Response:
        """To the profile page, with a notice saying what happened (at ``anchor``: the
        part of the page the person was working on, not its top)."""
        response = self.redirect(f"/p/{username}", notice)
        if anchor:  # the notice is shown there too, where the eye is
            response.headers["location"] += f"&{urlencode({'at': anchor})}#{anchor}"
        return response

    def notice_anchor(self, request: Request, known: set[str]) -> str:
        """Where on the page the notice goes (one of the ``known`` ids on it), else ''."""
        value = request.query_params.get("at", "")
        return value if value in known else ""

    def notice_of(self, request: Request) -> str | None:
        given = request.query_params.get("notice")
        if not given:
            return None
        try:
            return self.notices.unsign(given, max_age=NOTICE_SECONDS).decode()
        except BadSignature:
            return None  # not ours: shown as nothing

    def editable(self, session: Session, username: str) -> Profile:
        """The profile if this account may edit it; otherwise NotFound, as if absent."""
        profile = self.site.content.get(username.lower())
        if not self.site.accounts.may_edit(session.user, profile.id):
            raise NotFound(f"no profile '{username}'")
        return profile


def cookies_secure(base_url: str, listen_host: str) -> bool:
    """Cookies are Secure (sent over https only) unless the editor is a local one:
    plain http on a loopback address, for a creator on their own machine."""
    if base_url.startswith("https://"):
        return True
    if listen_host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(listen_host.strip("[]")).is_loopback
    except ValueError:  # a host name: not known to be local
        return True


def editor_of(request: Request) -> Editor:
    editor: Editor = request.app.state.editor
    return editor


def redraw_with(request: Request, draw: Draw, stale: str = STALE) -> None:
    """How this request's form is shown again if the edit it makes is refused."""
    request.state.redraw = Redraw(draw, stale)


SignedInView = Callable[[Request, Editor, Session], Awaitable[Response]]


def signed_in(view: SignedInView) -> Callable[[Request], Awaitable[Response]]:
    """A view for signed-in accounts; anyone else is sent to the sign-in page."""

    async def endpoint(request: Request) -> Response:
        editor = editor_of(request)
        found = editor.session(request)
        if found is None:
            return RedirectResponse("/sign-in", status_code=303)
        request.state.token, request.state.session = found
        return await view(request, editor, found[1])

    return endpoint


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


def local_time(moment: datetime | None, zone: str, shape: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A stored (UTC) time as the account's time zone shows it; '' for none."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).strftime(shape) if moment else ""


def form_version(form: dict[str, str]) -> int | None:
    """The profile version the form was made from (None: the form carries none)."""
    raw = form.get("version", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise InvalidInput("the form's version is not a number; reload the page")
    return int(raw)


def actor(session: Session) -> str:
    return f"{session.user.email} (editor)"
