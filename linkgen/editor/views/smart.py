"""A link's rules, A/B test, UTM tags and lock, from its own page: add a rule, remove
one, add or remove a variant, end the test, set the tags, lock it with a password
or an age, open it again."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from linkgen.editor.accounts import Session
from linkgen.editor.editor import Editor, actor, form_version, redraw_with, signed_in
from linkgen.editor.views.links import link_form, link_of, utc_time
from linkgen.errors import InvalidInput, NotFound
from linkgen.models import LinkChanges, validate
from linkgen.records import VARIANT_LABELS, iso, now

DEVICES = ("ios", "android", "desktop")
RULE_FIELDS = ("rule_url", "rule_country", "rule_language", "rule_starts_at", "rule_ends_at")
UTM_KEYS = ("source", "medium", "campaign")


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.replace(" ", ",").split(",") if part.strip()]


def _redraw_here(request: Request, editor: Editor, session: Session, typed: dict[str, Any]) -> None:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])

    def draw(status: int, errors: dict[str, str], problem: str | None) -> Response:
        # A refused rule or tag is named by its field (rules.2.country.0): shown at its form.
        mine = ("rules", "utm", "lock", "split")
        found = {key.split(".")[0].removesuffix("s"): text
                 for key, text in errors.items() if key.startswith(mine)}  # fmt: skip
        return link_form(
            request, editor, session, profile, link, status,
            errors={**errors, **found}, problem=problem, smart_typed=typed,
        )  # fmt: skip

    redraw_with(request, draw, "This profile was changed elsewhere; nothing was saved. Try again.")


def _change(
    editor: Editor,
    session: Session,
    username: str,
    link_id: str,
    form: dict[str, str],
    values: dict[str, Any],
) -> None:
    editor.site.content.edit_link(
        username,
        link_id,
        validate(LinkChanges, values, strict=False),
        expected_version=form_version(form),
        actor=actor(session),
    )


async def add_rule(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    typed: dict[str, Any] = {key: str(form.get(key, "")) for key in RULE_FIELDS}
    typed["rule_device"] = [device for device in DEVICES if form.get(f"rule_device_{device}")]
    _redraw_here(request, editor, session, typed)
    zone = session.user.time_zone
    rule = {
        "url": typed["rule_url"],
        "country": _list(typed["rule_country"]),
        "device": typed["rule_device"],
        "language": _list(typed["rule_language"]),
        "starts_at": utc_time(typed["rule_starts_at"], zone),
        "ends_at": utc_time(typed["rule_ends_at"], zone),
    }
    rules = [*(item.model_dump(mode="json") for item in link.rules), rule]
    _change(editor, session, profile.username, link.id, form, {"rules": rules})
    return editor.back(profile.username, f"Rule {len(rules)} added.", f"link-{link.id}")


async def remove_rule(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    number = request.path_params["number"]
    if not 1 <= number <= len(link.rules):
        raise NotFound(f"rule {number}")
    _redraw_here(request, editor, session, {})
    rules = [item.model_dump(mode="json") for item in link.rules]
    del rules[number - 1]
    _change(editor, session, profile.username, link.id, form, {"rules": rules})
    return editor.back(profile.username, f"Rule {number} removed.", f"link-{link.id}")


async def save_utm(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    typed = {f"utm_{key}": str(form.get(f"utm_{key}", "")).strip() for key in UTM_KEYS}
    _redraw_here(request, editor, session, typed)
    tags = {key: typed[f"utm_{key}"] for key in UTM_KEYS if typed[f"utm_{key}"]}
    _change(editor, session, profile.username, link.id, form, {"utm": tags or None})
    return editor.back(profile.username, "UTM tags saved.", f"link-{link.id}")


def _split(link: Any, variants: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The link's test with these variants, starting now (None: no variant left)."""
    weight = link.split.weight if link.split else 50
    return {"weight": weight, "variants": variants, "since": iso(now())} if variants else None


def _variants(link: Any) -> list[dict[str, Any]]:
    return [v.model_dump(mode="json") for v in link.split.variants] if link.split else []


async def add_variant(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    names = ("split_url", "split_title", "split_weight")
    typed = {key: str(form.get(key, "")).strip() for key in names}
    _redraw_here(request, editor, session, typed)
    weight = int(typed["split_weight"]) if typed["split_weight"].isdigit() else 0
    variant = {"url": typed["split_url"] or None, "title": typed["split_title"] or None}
    variants = [*_variants(link), {**variant, "weight": weight}]
    _change(editor, session, profile.username, link.id, form, {"split": _split(link, variants)})
    label = VARIANT_LABELS[len(variants)]
    return editor.back(profile.username, f"Variant {label} added; the test starts now.",
                       f"link-{link.id}")  # fmt: skip


async def remove_variant(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    number = request.path_params["number"]
    variants = _variants(link)
    if not 1 <= number <= len(variants):
        raise NotFound(f"variant {number}")
    _redraw_here(request, editor, session, {})
    del variants[number - 1]
    _change(editor, session, profile.username, link.id, form, {"split": _split(link, variants)})
    said = f"Variant {VARIANT_LABELS[number]} removed."
    return editor.back(profile.username, said, f"link-{link.id}")


async def end_split(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    _redraw_here(request, editor, session, {})
    _change(editor, session, profile.username, link.id, form, {"split": None})
    return editor.back(profile.username, "The A/B test ended.", f"link-{link.id}")


PASSWORD_MIN = 4


async def save_lock(request: Request, editor: Editor, session: Session) -> Response:
    profile = editor.editable(session, request.path_params["username"])
    link = link_of(profile, request.path_params["link_id"])
    form = await editor.form(request, session.csrf)
    kind = form.get("lock", "")
    typed = {"lock": kind, "lock_age": form.get("lock_age", "")}
    _redraw_here(request, editor, session, typed)
    lock: dict[str, Any] | None = None
    if kind == "age":
        lock = {"kind": "age", "age": int(typed["lock_age"]) if typed["lock_age"].isdigit() else 0}
    elif kind == "password":
        password = form.get("lock_password", "")
        if not PASSWORD_MIN <= len(password) <= 200:
            raise InvalidInput(f"lock: a password of {PASSWORD_MIN} to 200 characters")
        from argon2 import PasswordHasher

        digest = await run_in_threadpool(PasswordHasher().hash, password)
        lock = {"kind": "password", "password_hash": digest}
    _change(editor, session, profile.username, link.id, form, {"lock": lock})
    said = "The link is open to everyone." if lock is None else "The link is locked."
    return editor.back(profile.username, said, f"link-{link.id}")


ROUTES = [
    Route("/p/{username}/links/{link_id}/rules", signed_in(add_rule), methods=["POST"]),
    Route(
        "/p/{username}/links/{link_id}/rules/{number:int}/remove",
        signed_in(remove_rule),
        methods=["POST"],
    ),
    Route("/p/{username}/links/{link_id}/split", signed_in(add_variant), methods=["POST"]),
    Route(
        "/p/{username}/links/{link_id}/split/{number:int}/remove",
        signed_in(remove_variant),
        methods=["POST"],
    ),
    Route("/p/{username}/links/{link_id}/split/end", signed_in(end_split), methods=["POST"]),
    Route("/p/{username}/links/{link_id}/utm", signed_in(save_utm), methods=["POST"]),
    Route("/p/{username}/links/{link_id}/lock", signed_in(save_lock), methods=["POST"]),
]
