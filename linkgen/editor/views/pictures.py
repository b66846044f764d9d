"""Pictures: the profile's picture and background picture, a link's thumbnail.

Every upload goes one way: capped before parsing, checked and re-encoded by
``pages.images`` (a bad or oversized file stores nothing), then saved.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from linkgen.editor.accounts import Session
from linkgen.editor.editor import (
    Editor,
    actor,
    check_token,
    form_version,
    redraw_with,
    signed_in,
)
from linkgen.editor.views.links import link_form, link_of
from linkgen.editor.views.profile import profile_form, redraw_profile
from linkgen.errors import InvalidInput, NotFound
from linkgen.models import LinkChanges, ProfileFields, validate
from linkgen.pages import images
from linkgen.pages.images import Purpose

PICTURES: dict[str, Purpose] = {"avatar": "avatar", "background": "background"}
CHOOSE = "choose an image file"


async def received_image(
    request: Request, editor: Editor, session: Session, purpose: Purpose
) -> tuple[str, dict[str, str]] | tuple[int, str]:
    """The stored image of an upload form (field ``image``) and the form's other
    fields, or (status, message) saying why there is none."""
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
        return 400, CHOOSE
    data = await upload.read(images.MAX_BYTES + 1)
    try:
        media = images.ingest(data, purpose, source=upload.filename or "the file")
    except InvalidInput as exc:
        return 400, str(exc)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return images.save(media, editor.site.media_dir), fields


async def picture_form(
    request: Request, editor: Editor, session: Session, purpose: Purpose
) -> tuple[str | None, dict[str, str]] | tuple[int, str]:
    """An upload (the stored image and the form) or a form with ``remove``
    (None and the form), or (status, message) saying why it is neither."""
    if request.headers.get("content-type", "").startswith("multipart/"):
        return await received_image(request, editor, session, purpose)
    form = await editor.form(request, session.csrf)
    if "remove" not in form:
        return 400, CHOOSE
    return None, form


async def set_picture(request: Request, editor: Editor, session: Session) -> Response:
    """The profile's picture (kind avatar) or background picture (kind background);
    a form with ``remove`` takes the background picture away."""
    profile = editor.editable(session, request.path_params["username"])
    kind = request.path_params["kind"]
    purpose = PICTURES.get(kind)
    if purpose is None:
        raise NotFound(kind)
    received = await picture_form(request, editor, session, purpose)
    if isinstance(received[0], int):
        errors = {kind: str(received[1])}
        return profile_form(request, editor, session, profile, received[0], errors)
    ref, form = received[0], dict(received[1])
    if ref is None and kind == "avatar":  # a picture is replaced, not removed
        return profile_form(request, editor, session, profile, 400, {kind: CHOOSE})
    fields: dict[str, Any]
    if kind == "avatar":
        fields = {"avatar": ref}
    else:
        fields = {"style": profile.style.merged({"background_image": ref})}
    stale = "This profile was changed elsewhere; the picture was not saved. Try again."
    # a background the text would be unreadable on is refused next to the picture
    redraw_profile(request, editor, session, profile, stale, field=kind)
    editor.site.content.update_profile(
        profile.username,
        validate(ProfileFields, fields),
        expected_version=form_version(form),
        actor=actor(session),
    )
    return editor.back(profile.username, "Picture saved." if ref else "Picture removed.")


async def set_thumbnail(request: Request, editor: Editor, session: Session) -> Response:
    """A link's thumbnail: an upload sets it, a form with ``remove`` takes it away."""
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    received = await picture_form(request, editor, session, "thumbnail")
    if isinstance(received[0], int):
        errors = {"thumbnail": str(received[1])}
        return link_form(request, editor, session, profile, link, received[0], errors=errors)
    ref, form = received[0], dict(received[1])
    redraw_with(
        request,
        lambda status, errors, problem: editor.back(
            profile.username, problem or "; ".join(errors.values())
        ),
        "This profile was changed elsewhere; the thumbnail was not saved.",
    )
    editor.site.content.edit_link(
        profile.username,
        link.id,
        LinkChanges(thumbnail=ref),
        expected_version=form_version(form),
        actor=actor(session),
    )
    return editor.back(profile.username, "Thumbnail saved." if ref else "Thumbnail removed.")


ROUTES = [
    Route("/p/{username}/pictures/{kind}", signed_in(set_picture), methods=["POST"]),
    Route("/p/{username}/links/{link_id}/thumbnail", signed_in(set_thumbnail), methods=["POST"]),
]
