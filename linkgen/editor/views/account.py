"""Signing in and out, setting a password from a one-time link, changing it."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from linkgen.config import EmailSettings
from linkgen.editor import mail
from linkgen.editor.accounts import SIGN_IN_LINK_HOURS, Session, SignInRefused
from linkgen.editor.editor import (
    COOKIE,
    PRE_COOKIE,
    Editor,
    editor_of,
    redraw_with,
    signed_in,
)
from linkgen.errors import LinkgenError

log = logging.getLogger(__name__)


async def sign_in_page(request: Request) -> Response:
    return editor_of(request).public_form(request, "sign_in.html", email="")


async def sign_in(request: Request) -> Response:
    editor = editor_of(request)
    csrf, _ = editor.pre_token(request)
    form = await editor.form(request, csrf)
    address = request.client.host if request.client else "?"
    email = form.get("email", "")[:254]
    password = form.get("password", "")
    redraw_with(
        request,
        lambda status, _errors, problem: editor.render(
            request, "sign_in.html", status, csrf=csrf, email=email, problem=problem
        ),
    )
    # argon2 takes ~0.15 s: on a worker thread, not the event loop
    token, _session = await run_in_threadpool(
        lambda: editor.site.accounts.sign_in(email, password, address)
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


async def sign_out(request: Request, editor: Editor, session: Session) -> Response:
    await editor.form(request, session.csrf)
    editor.site.accounts.sign_out(request.state.token)
    response = editor.redirect("/sign-in", "Signed out.")
    response.delete_cookie(COOKIE)
    return response


async def set_password_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    return editor_of(request).public_form(request, "set_password.html", token=token)


async def set_password(request: Request) -> Response:
    editor = editor_of(request)
    csrf, _ = editor.pre_token(request)
    form = await editor.form(request, csrf)
    link, password = form.get("token", ""), form.get("password", "")
    redraw_with(
        request,
        lambda status, errors, problem: editor.render(
            request,
            "set_password.html",
            status,
            csrf=csrf,
            token=link,
            error=problem or next(iter(errors.values()), ""),
        ),
    )
    await run_in_threadpool(lambda: editor.site.accounts.set_password_with_link(link, password))
    return editor.redirect("/sign-in", "Password set. Sign in.")


RESET_SENT = (
    "If there is an account for that address, a link to set a new password is on its "
    "way. It works once, for 48 hours."
)


async def forgot_password_page(request: Request) -> Response:
    editor = editor_of(request)
    return editor.public_form(
        request, "forgot_password.html", email="", sends=mail.configured(editor.site.config.email)
    )


async def forgot_password(request: Request) -> Response:
    """The same answer, in the same time, whether the address has an account or not:
    the e-mail goes out after the answer (and a failure to send it is logged)."""
    editor = editor_of(request)
    csrf, _ = editor.pre_token(request)
    form = await editor.form(request, csrf)
    settings = editor.site.config.email
    if not mail.configured(settings):
        return editor.redirect("/forgot-password", "E-mail is not set up here.")
    address = request.client.host if request.client else "?"
    email = form.get("email", "")[:254]
    redraw_with(
        request,
        lambda status, _errors, problem: editor.render(
            request, "forgot_password.html", status, csrf=csrf, email=email, sends=True,
            problem=problem,
        ),
    )  # fmt: skip
    found = editor.site.accounts.reset_link(email, address)
    response = editor.redirect("/sign-in", RESET_SENT)
    if found is not None:
        user, token = found
        subject, body = mail.RESET
        text = body.format(
            site=editor.site.config.site.title,
            hours=SIGN_IN_LINK_HOURS,
            link=f"{editor.site.config.editor.base_url}/set-password?token={token}",
        )
        response.background = BackgroundTask(
            _send_quietly, settings, mail.message(settings, user.email, subject, text)
        )
    return response


def _send_quietly(settings: EmailSettings, message: EmailMessage) -> None:
    from linkgen.editor.metrics import RESETS

    try:
        mail.send(settings, message)
    except LinkgenError as exc:
        RESETS.labels("failed").inc()
        log.error("%s", exc)
        return
    RESETS.labels("sent").inc()


async def password_page(request: Request, editor: Editor, session: Session) -> Response:
    return editor.render(request, "password.html", session=session, errors={}, typed_zone="")


async def save_time_zone(request: Request, editor: Editor, session: Session) -> Response:
    form = await editor.form(request, session.csrf)
    typed = form.get("time_zone", "")[:64]
    redraw_with(
        request,
        lambda status, errors, problem: editor.render(
            request, "password.html", status, session=session, typed_zone=typed,
            errors={"time_zone": problem or next(iter(errors.values()), "")},
        ),
    )  # fmt: skip
    zone = editor.site.accounts.set_time_zone(session.user, typed)
    return editor.redirect("/password", f"Times are shown in {zone} now.")


async def change_password(request: Request, editor: Editor, session: Session) -> Response:
    form = await editor.form(request, session.csrf)
    current, new = form.get("current", ""), form.get("new", "")

    def draw(status: int, errors: dict[str, str]) -> Response:
        return editor.render(
            request, "password.html", status, session=session, errors=errors, typed_zone=""
        )

    redraw_with(
        request,
        lambda status, errors, problem: draw(
            status, {"new": problem or next(iter(errors.values()), "")}
        ),
    )
    try:
        await run_in_threadpool(
            lambda: editor.site.accounts.change_password(session.user, current, new)
        )
    except SignInRefused:  # here a field of the form, not a refused sign-in
        return draw(400, {"current": "that is not your current password"})
    # Every session was revoked with the old password, this one too: sign in again.
    response = editor.redirect("/sign-in", "Password changed. Sign in again.")
    response.delete_cookie(COOKIE)
    return response


ROUTES = [
    Route("/sign-in", sign_in_page, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/sign-out", signed_in(sign_out), methods=["POST"]),
    Route("/set-password", set_password_page, methods=["GET"]),
    Route("/set-password", set_password, methods=["POST"]),
    Route("/forgot-password", forgot_password_page, methods=["GET"]),
    Route("/forgot-password", forgot_password, methods=["POST"]),
    Route("/password", signed_in(password_page), methods=["GET"]),
    Route("/password", signed_in(change_password), methods=["POST"]),
    Route("/account/time-zone", signed_in(save_time_zone), methods=["POST"]),
]
