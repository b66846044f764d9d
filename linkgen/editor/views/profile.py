"""The list of profiles an account may edit, a profile's page, saving it, undo."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from linkgen.editor.accounts import Session
from linkgen.editor.editor import (
    Editor,
    actor,
    form_version,
    local_time,
    redraw_with,
    signed_in,
)
from linkgen.errors import NotFound
from linkgen.models import NewProfile, Profile, ProfileFields, validate
from linkgen.pages.language import names as language_names
from linkgen.records import page_address

PROBLEM = "problem"  # messages shown at the top of the page, not by a field
# What a creator may set over their theme in the profile form.
OVERRIDES = ("background", "text", "button", "button_text", "font", "button_shape")
CLICK_DAYS = 30  # the clicks each link shows
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


def _home(
    request: Request,
    editor: Editor,
    session: Session,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: str = "",
) -> Response:
    profiles = [
        summary
        for summary in editor.site.content.list_profiles()
        if editor.site.accounts.may_edit(session.user, summary.id)
    ]
    return editor.render(
        request, "home.html", status, session=session, profiles=profiles,
        errors=errors or {}, typed=typed, site_url=editor.site.config.site.url,
    )  # fmt: skip


async def home(request: Request, editor: Editor, session: Session) -> Response:
    return _home(request, editor, session)


async def create_profile(request: Request, editor: Editor, session: Session) -> Response:
    """A new profile, for an admin (a creator's account is given profiles by one)."""
    if not session.user.is_admin:
        raise NotFound("not found")
    form = await editor.form(request, session.csrf)
    username = form.get("username", "").strip()
    redraw_with(
        request,
        lambda status, errors, problem: _home(
            request, editor, session, status,
            {"username": problem or next(iter(errors.values()), "")}, username,
        ),
    )  # fmt: skip
    fields = validate(NewProfile, {"username": username})
    created = editor.site.content.create_profile(fields, actor=actor(session))
    return editor.back(created.username, f"Created @{created.username}.")


def profile_form(
    request: Request,
    editor: Editor,
    session: Session,
    profile: Profile,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    new_link: dict[str, str] | None = None,
    problem: str | None = None,
    new_block: dict[str, str] | None = None,
) -> Response:
    """The profile page: its form, the add-a-link and add-a-block forms, pictures,
    history."""
    return editor.render(
        request,
        "profile.html",
        status,
        session=session,
        profile=profile,
        themes=editor.theme_names,
        now=datetime.now(UTC),
        zone=session.user.time_zone,
        local_time=local_time,
        public_url=page_address(editor.site.config.site.url, profile.username, profile.domain),
        languages=language_names(),
        site_language=editor.site.config.site.language,
        errors=errors or {},
        typed=typed,
        new_link=new_link or {"title": "", "url": ""},
        new_block=new_block or {"kind": "header", "text": ""},
        problem=problem,
        history=editor.site.content.history(profile.username, limit=10),
        clicks=_clicks(editor, profile),
        notice_at=editor.notice_anchor(
            request, {"fields", "links", "history"} | {f"link-{link.id}" for link in profile.links}
        ),
        click_days=CLICK_DAYS,
    )


def _clicks(editor: Editor, profile: Profile) -> dict[str, int]:
    """link id -> clicks in the last CLICK_DAYS days (read from the rollups)."""
    from linkgen.clicks.db import ClickStore, clicks_path
    from linkgen.clicks.stats import clicks_per_link

    store = ClickStore(clicks_path(editor.site.root))
    try:
        return clicks_per_link(store, profile.id, days=CLICK_DAYS)
    finally:
        store.close()


def redraw_profile(
    request: Request,
    editor: Editor,
    session: Session,
    profile: Profile,
    stale: str,
    field: str | None = None,
    **kept: dict[str, str],
) -> None:
    """A refused edit shows the profile page again as it is stored now, with what
    was typed (``kept``). ``field`` names the field a one-field form's messages go
    to; PROBLEM puts them at the top of the page."""

    def draw(status: int, errors: dict[str, str], problem: str | None) -> Response:
        if field == PROBLEM:
            problem, errors = problem or "; ".join(errors.values()), {}
        elif field is not None and errors:
            errors = {field: next(iter(errors.values()))}
        fresh = editor.site.content.get(profile.username)
        return profile_form(
            request, editor, session, fresh, status, errors, problem=problem, **kept
        )

    redraw_with(request, draw, stale)


async def profile_page(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    return profile_form(request, editor, session, profile)


async def save_profile(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    form = await editor.form(request, session.csrf)
    names = ("display_name", "bio", "theme", "language", *OVERRIDES, *UTM_FIELDS)
    values = {key: form.get(key, "") for key in names}
    colours = {key: values[key].strip() or None for key in OVERRIDES}
    stale = (
        "This profile was changed elsewhere since you opened it; nothing was saved. "
        "Your text is still in the form: check the page and save again."
    )
    redraw_profile(request, editor, session, profile, stale, typed=values)
    tags = {key[4:]: values[key].strip() for key in UTM_FIELDS if values[key].strip()}
    fields = validate(
        ProfileFields,
        {"display_name": values["display_name"] or None, "bio": values["bio"] or None,
         "theme": values["theme"], "language": values["language"].strip() or None,
         "style": profile.style.merged_data(colours), "utm": tags or None},
    )  # fmt: skip
    editor.site.content.update_profile(
        profile.username, fields, expected_version=form_version(form), actor=actor(session)
    )
    return editor.back(profile.username, "Saved.", "fields")


async def undo(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    await editor.form(request, session.csrf)
    redraw_profile(request, editor, session, profile, "Nothing was undone.", PROBLEM)
    done = editor.site.content.undo(profile.username, actor=actor(session))
    return editor.back(profile.username, done[:120], "history")


ROUTES = [
    Route("/", signed_in(home)),
    Route("/profiles", signed_in(create_profile), methods=["POST"]),
    Route("/p/{username}", signed_in(profile_page), methods=["GET"]),
    Route("/p/{username}/profile", signed_in(save_profile), methods=["POST"]),
    Route("/p/{username}/undo", signed_in(undo), methods=["POST"]),
]
