"""Adding a link or a block, moving, hiding and removing one, and its own form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from linkgen.editor.accounts import Session
from linkgen.editor.editor import (
    STALE,
    Editor,
    actor,
    form_version,
    local_time,
    redraw_with,
    signed_in,
)
from linkgen.editor.views.profile import redraw_profile
from linkgen.errors import NotFound
from linkgen.models import Link, LinkChanges, NewLink, Profile, validate

LINK_FIELDS = ("title", "url", "icon", "sensitive", "social", "starts_at", "ends_at")
ITEM_FIELDS = ("embed", "featured", "body", "name", "email", "phone", "organisation", "site")
BLOCK_KINDS = ("header", "text", "divider", "group", "contact", "signup")  # "Add a block"


def link_of(profile: Profile, link_id: str) -> Link:
    link = next((item for item in profile.links if item.id == link_id), None)
    if link is None:
        raise NotFound(link_id)
    return link


def link_typed(link: Link, zone: str = "UTC") -> dict[str, str]:
    """A link's (or block's) fields as its edit form shows them (times in ``zone``)."""
    card = link.contact.model_dump() if link.contact else {}
    return {
        "title": link.title,
        "url": link.url,
        "icon": link.icon or "",
        "sensitive": link.sensitive or "",
        "social": "on" if link.social else "",
        "starts_at": local_time(link.starts_at, zone, "%Y-%m-%dT%H:%M"),
        "ends_at": local_time(link.ends_at, zone, "%Y-%m-%dT%H:%M"),
        "embed": "on" if link.embed else "",
        "featured": "on" if link.kind == "featured" else "",
        "body": link.body or "",
        **{key: card.get(key) or "" for key in ("name", "email", "phone", "organisation")},
        "site": card.get("url") or "",
    }


def item_changes(link: Link, typed: dict[str, str], zone: str) -> dict[str, Any]:
    """What an item's form changes, for its kind: a link's fields, a block's own."""
    changes: dict[str, Any] = {
        "starts_at": utc_time(typed["starts_at"], zone),
        "ends_at": utc_time(typed["ends_at"], zone),
    }
    if link.kind in ("link", "featured"):
        changes.update(
            title=typed["title"], url=typed["url"], icon=typed["icon"] or None,
            sensitive=typed["sensitive"] or None, social=typed["social"] == "on",
            embed=typed["embed"] == "on", kind="featured" if typed["featured"] == "on" else "link",
        )  # fmt: skip
    elif link.kind == "text":
        changes["body"] = typed["body"]
    elif link.kind == "contact":
        card = {key: typed[key] for key in ("name", "email", "phone", "organisation")}
        changes["contact"] = {key: value for key, value in {**card, "url": typed["site"]}.items()
                              if value or key == "name"}  # fmt: skip
    elif link.kind != "divider":
        changes["title"] = typed["title"]
    return changes


def link_form(
    request: Request,
    editor: Editor,
    session: Session,
    profile: Profile,
    link: Link,
    status: int = 200,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    smart_typed: dict[str, Any] | None = None,
) -> Response:
    """A link's own page: its fields, its thumbnail, its rules and UTM tags."""
    tags = link.utm.model_dump() if link.utm else {}
    smart = {f"utm_{key}": tags.get(key) or "" for key in ("source", "medium", "campaign")}
    return editor.render(
        request, "link.html", status, session=session, profile=profile, link=link,
        typed=typed if typed is not None else link_typed(link, session.user.time_zone),
        errors=errors or {}, zone=session.user.time_zone,
        problem=problem, smart={**smart, "rule_device": [], **(smart_typed or {})},
    )  # fmt: skip


async def add_link(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    form = await editor.form(request, session.csrf)
    typed = {"title": form.get("title", ""), "url": form.get("url", "")}
    stale = "This profile was changed elsewhere; the link was not added. Add it again."
    redraw_profile(request, editor, session, profile, stale, new_link=typed)
    _, added = editor.site.content.add_link(
        profile.username,
        validate(NewLink, typed),
        expected_version=form_version(form),
        actor=actor(session),
    )
    return editor.back(profile.username, "Link added.", f"link-{added.id}")


async def add_block(request: Request, editor: Editor, session: Session) -> Response:
    """A header, text, divider, group, contact card or sign-up form; its details on its
    own page."""
    profile = editor.editable(session, request.path_params["username"])
    form = await editor.form(request, session.csrf)
    kind, text = form.get("kind", ""), form.get("text", "")
    typed = {"kind": kind, "text": text}
    stale = "This profile was changed elsewhere; the block was not added. Add it again."
    redraw_profile(request, editor, session, profile, stale, "block", new_block=typed)
    item: dict[str, Any] = {"kind": kind if kind in BLOCK_KINDS else "unknown"}
    if kind == "text":
        item["body"] = text
    elif kind == "contact":
        item["contact"] = {"name": text}
    elif kind != "divider":
        item["title"] = text
    _, added = editor.site.content.add_link(
        profile.username,
        validate(NewLink, item),
        expected_version=form_version(form),
        actor=actor(session),
    )
    return editor.back(profile.username, f"Added a {kind}.", f"link-{added.id}")


async def link_action(request: Request, editor: Editor, session: Session) -> Response:
    """Up, down, hide/show (``toggle``) or remove, from the buttons of the list."""
    profile = editor.editable(session, request.path_params["username"])
    form = await editor.form(request, session.csrf)
    link_id, action = request.path_params["link_id"], request.path_params["action"]
    link = link_of(profile, link_id)
    store, version, who = editor.site.content, form_version(form), actor(session)
    redraw_profile(request, editor, session, profile, STALE)
    anchor, title = f"link-{link_id}", link.title[:60]
    said = f"“{title}” is now {'hidden' if link.enabled else 'shown'}."
    if action == "remove":
        store.remove_link(profile.username, link_id, expected_version=version, actor=who)
        anchor, said = "links", f"Removed “{title}” (Undo brings it back)."
    elif action in ("up", "down", "top"):
        to = 1 if action == "top" else link.position + (-1 if action == "up" else 1)
        said = f"“{title}” stays at {link.position}."
        if 1 <= to <= len(profile.links):
            store.move_link(profile.username, link_id, to, expected_version=version, actor=who)
            said = f"Moved “{title}” to {to}."
    else:
        store.edit_link(
            profile.username,
            link_id,
            LinkChanges(enabled=not link.enabled),
            expected_version=version,
            actor=who,
        )
    return editor.back(profile.username, said, anchor)


async def link_page(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    return link_form(request, editor, session, profile, link)


async def save_link(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    typed = {key: form.get(key, "") for key in (*LINK_FIELDS, *ITEM_FIELDS)}
    changes = item_changes(link, typed, session.user.time_zone)
    redraw_with(
        request,
        lambda status, errors, problem: link_form(
            request, editor, session, profile, link, status, typed, errors, problem
        ),
        "This profile was changed elsewhere; the link was not saved. Save it again.",
    )
    editor.site.content.edit_link(
        profile.username,
        link.id,
        validate(LinkChanges, changes, strict=False),
        expected_version=form_version(form),
        actor=actor(session),
    )
    saved = "Link saved." if link.kind in ("link", "featured") else "Block saved."
    return editor.back(profile.username, saved, f"link-{link.id}")


def utc_time(value: str, zone: str) -> str | None:
    """A datetime-local field (2026-12-01T09:00), read in ``zone``, as UTC; a value
    that is not a time is passed on for the model to refuse by name."""
    value = value.strip()
    if not value:
        return None
    if value.endswith("Z") or "+" in value[10:]:
        return value
    try:
        moment = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        return value
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ROUTES = [
    Route("/p/{username}/links", signed_in(add_link), methods=["POST"]),
    Route("/p/{username}/blocks", signed_in(add_block), methods=["POST"]),
    Route("/p/{username}/links/{link_id}", signed_in(link_page), methods=["GET"]),
    Route("/p/{username}/links/{link_id}", signed_in(save_link), methods=["POST"]),
]
# After the thumbnail route (pictures.py): "{action}" would match "thumbnail" too.
ACTION_ROUTES = [
    Route("/p/{username}/links/{link_id}/{action:str}", signed_in(link_action), methods=["POST"]),
]
