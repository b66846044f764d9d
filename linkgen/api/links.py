"""``/api/v1/profiles/{username}/links``: list, add, read, change, move, show,
hide, remove, and a batch of up to 50 operations applied all or nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from linkgen.api import responses as r
from linkgen.api.context import Caller, answer, api_of, etag, expected_version, write
from linkgen.api.profiles import IdempotencyKey, IfMatch, Username
from linkgen.api.schemas import (
    AddOp,
    BatchRequest,
    BatchResult,
    EditOp,
    LinkPage,
    MoveOp,
    MoveRequest,
    NewLinkRequest,
)
from linkgen.errors import NotFound
from linkgen.models import PUBLIC, Link, LinkChanges, NewLink, Profile
from linkgen.store.content import LinkOperation

router = APIRouter(tags=["links"])
LinkId = Annotated[str, r.LINK_ID]
BASE = "/profiles/{username}/links"


def _link(profile: Profile, link_id: str) -> Link:
    for link in profile.links:
        if link.id == link_id:
            return link
    raise NotFound(f"link '{link_id}' is not a link of @{profile.username}")


def _link_answer(profile: Profile, link_id: str, status: int = 200) -> r.Answer:
    headers = {"ETag": etag(profile.version)}
    if status == 201:
        headers["Location"] = f"/api/v1/profiles/{profile.username}/links/{link_id}"
    return answer(_link(profile, link_id), status, headers)


@router.get(BASE, response_model=LinkPage, responses=r.READ_ONE, summary="A profile's links")
async def list_links(request: Request, username: Username) -> Response:
    def work(caller: Caller) -> Response:
        profile = caller.profile(username)
        body = LinkPage(items=list(profile.links)).model_dump_json(context=PUBLIC)
        return Response(
            body, media_type="application/json", headers={"ETag": etag(profile.version)}
        )

    return await api_of(request).call(request, "profile:read", work, inline=True)


@router.post(BASE, status_code=201, response_model=Link, responses=r.ADD, summary="Add a link")
async def add_link(
    request: Request,
    username: Username,
    body: NewLinkRequest,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> Response:
    def work(caller: Caller) -> r.Answer:
        profile = caller.reach(username)
        version = expected_version(if_match, profile.version) if if_match else None
        new = NewLink.model_validate(body.model_dump(exclude={"position"}), strict=False)
        after, link = caller.site.content.add_link(
            profile.username, new, position=body.position, actor=caller.actor,
            expected_version=version,
        )  # fmt: skip
        return _link_answer(after, link.id, 201)

    return await write(request, "links:write", key, work)


@router.get(BASE + "/{link_id}", response_model=Link, responses=r.READ_ONE, summary="A link")
async def get_link(request: Request, username: Username, link_id: LinkId) -> Response:
    def work(caller: Caller) -> Response:
        profile = caller.profile(username)
        link = _link(profile, link_id)
        return Response(
            link.model_dump_json(context=PUBLIC),
            media_type="application/json",
            headers={"ETag": etag(profile.version)},
        )

    return await api_of(request).call(request, "profile:read", work, inline=True)


@router.patch(
    BASE + "/{link_id}",
    response_model=Link,
    responses=r.UPDATE,
    summary="Change a link's fields (only those sent; null clears one)",
)
async def update_link(
    request: Request,
    username: Username,
    link_id: LinkId,
    body: LinkChanges,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> Response:
    def work(caller: Caller) -> r.Answer:
        profile, version = caller.guarded(username, if_match)
        after, _ = caller.site.content.edit_link(
            profile.username, link_id, body, actor=caller.actor, expected_version=version
        )
        return _link_answer(after, link_id)

    return await write(request, "links:write", key, work)


async def _one(
    request: Request,
    username: str,
    link_id: str,
    operation: LinkOperation,
    if_match: str | None,
    key: str | None,
) -> Response:
    def work(caller: Caller) -> r.Answer:
        profile, version = caller.guarded(username, if_match)
        store, who = caller.site.content, caller.actor
        if operation.op == "move":
            assert operation.position is not None
            after = store.move_link(
                profile.username, link_id, operation.position, actor=who, expected_version=version
            )
        else:
            assert operation.changes is not None
            action = "link.enable" if operation.changes.enabled else "link.disable"
            after, _ = store.edit_link(
                profile.username, link_id, operation.changes, actor=who,
                expected_version=version, action=action,
            )  # fmt: skip
        return _link_answer(after, link_id)

    return await write(request, "links:write", key, work)


@router.post(
    BASE + "/{link_id}/move", response_model=Link, responses=r.UPDATE, summary="Move a link"
)
async def move_link(
    request: Request,
    username: Username,
    link_id: LinkId,
    body: MoveRequest,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> Response:
    operation = LinkOperation("move", link_id, position=body.position)
    return await _one(request, username, link_id, operation, if_match, key)


def _toggle(enabled: bool) -> Callable[..., Awaitable[Response]]:
    """The route that shows (``enabled``) or hides a link."""

    async def toggle(
        request: Request,
        username: Username,
        link_id: LinkId,
        if_match: IfMatch = None,
        key: IdempotencyKey = None,
    ) -> Response:
        operation = LinkOperation("edit", link_id, changes=LinkChanges(enabled=enabled))
        return await _one(request, username, link_id, operation, if_match, key)

    toggle.__name__ = "enable_link" if enabled else "disable_link"
    return toggle


for _enabled, _verb, _summary in (
    (True, "enable", "Show a link on the page"),
    (False, "disable", "Hide a link (kept, and shown again with enable)"),
):
    router.post(
        BASE + f"/{{link_id}}/{_verb}", response_model=Link, responses=r.CHANGE, summary=_summary
    )(_toggle(_enabled))


@router.delete(BASE + "/{link_id}", status_code=204, responses=r.CHANGE, summary="Remove a link")
async def remove_link(
    request: Request,
    username: Username,
    link_id: LinkId,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> Response:
    def work(caller: Caller) -> r.Answer:
        profile, version = caller.guarded(username, if_match)
        after = caller.site.content.remove_link(
            profile.username, link_id, actor=caller.actor, expected_version=version
        )
        return answer(None, 204, {"ETag": etag(after.version)})

    return await write(request, "links:write", key, work)


def _store_operation(given: object) -> LinkOperation:
    if isinstance(given, AddOp):
        return LinkOperation("add", new=given.link, position=given.position)
    if isinstance(given, EditOp):
        return LinkOperation("edit", given.link_id, changes=given.changes)
    if isinstance(given, MoveOp):
        return LinkOperation("move", given.link_id, position=given.position)
    assert hasattr(given, "op") and hasattr(given, "link_id")
    if given.op == "remove":
        return LinkOperation("remove", given.link_id)
    return LinkOperation("edit", given.link_id, changes=LinkChanges(enabled=given.op == "enable"))


@router.post(
    BASE + "/batch",
    response_model=BatchResult,
    responses=r.BATCH,
    summary="Up to 50 link operations in one edit: all are applied, or none",
)
async def batch(
    request: Request,
    username: Username,
    body: BatchRequest,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> Response:
    operations = [_store_operation(given) for given in body.operations]

    def work(caller: Caller) -> r.Answer:
        profile, version = caller.guarded(username, if_match)
        after, created = caller.site.content.batch(
            profile.username, operations, actor=caller.actor, expected_version=version
        )
        result = BatchResult(version=after.version, created=created)
        return answer(result, headers={"ETag": etag(after.version)})

    return await write(request, "links:write", key, work)
