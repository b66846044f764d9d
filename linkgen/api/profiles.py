"""``/api/v1/profiles``: list, read, create, update; history and undo; stats;
publish status and re-purge."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Header, Query
from starlette.requests import Request
from starlette.responses import Response

from linkgen.api import responses as r
from linkgen.api.context import (
    Caller,
    ScopeMissing,
    answer,
    api_of,
    etag,
    expected_version,
    write,
)
from linkgen.api.schemas import (
    HistoryItem,
    HistoryPage,
    ProfileItem,
    ProfilePage,
    PublishStatus,
    PurgeQueued,
    Stats,
    Undone,
)
from linkgen.errors import InvalidInput, NotFound
from linkgen.models import NewProfile, Profile, ProfileFields

router = APIRouter(tags=["profiles"])
IfMatch = Annotated[str | None, Header(description="The ETag of the profile (required).")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key and body replays the first answer (24 h).",
    ),
]
Username = Annotated[str, r.USERNAME]


def _cursor(raw: str | None) -> str:
    if raw is None:
        return ""
    try:
        padded = raw.encode() + b"=" * (-len(raw) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except ValueError:
        raise InvalidInput("cursor: not a cursor this API gave out") from None


@router.get(
    "/profiles",
    response_model=ProfilePage,
    responses=r.READ,
    summary="List the profiles the token reaches (by username, a page at a time)",
)
async def list_profiles(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProfilePage:
    after = _cursor(cursor)

    def work(caller: Caller) -> ProfilePage:
        token = caller.token
        rows = caller.site.database.conn.execute(
            "SELECT p.id, p.username, p.display_name, p.theme, "
            "(SELECT count(*) FROM links l WHERE l.profile_id = p.id), p.version, p.updated_at "
            "FROM profiles p WHERE p.username > ? AND (? OR p.id IN "
            "(SELECT profile_id FROM api_token_profiles WHERE token_id = ?)) "
            "ORDER BY p.username LIMIT ?",
            (after, int(token.is_admin), token.id, limit + 1),
        ).fetchall()
        items = [
            ProfileItem(**dict(zip(ProfileItem.model_fields, row, strict=True))) for row in rows
        ]
        more = len(items) > limit
        items = items[:limit]
        following = None
        if more:  # the last one on this page: the next page starts after it
            following = base64.urlsafe_b64encode(items[-1].username.encode()).decode().rstrip("=")
        return ProfilePage(items=items, next_cursor=following)

    return await api_of(request).call(request, "profile:read", work)


@router.post(
    "/profiles",
    status_code=201,
    response_model=Profile,
    responses=r.CREATE,
    summary="Create a profile (admin tokens only)",
)
async def create_profile(
    request: Request, body: NewProfile, key: IdempotencyKey = None
) -> Response:
    def work(caller: Caller) -> r.Answer:
        if not caller.token.is_admin:
            raise ScopeMissing("only an admin token creates profiles")
        created = caller.site.content.create_profile(body, actor=caller.actor)
        headers = {
            "ETag": etag(created.version),
            "Location": f"/api/v1/profiles/{created.username}",
        }
        return answer(created, 201, headers)

    return await write(request, "profile:write", key, work)


@router.get(
    "/profiles/{username}",
    response_model=Profile,
    responses=r.READ_ONE,
    summary="A profile with its links; its ETag guards updates",
)
async def get_profile(request: Request, username: Username) -> Response:
    api = api_of(request)

    def work(caller: Caller) -> Response:
        version, body = api.profile_json(caller, username)
        return Response(body, media_type="application/json", headers={"ETag": etag(version)})

    return await api.call(request, "profile:read", work, inline=True)


@router.patch(
    "/profiles/{username}",
    response_model=Profile,
    responses=r.UPDATE,
    summary="Change a profile's fields (only those sent; null clears one)",
)
async def update_profile(
    request: Request,
    username: Username,
    body: ProfileFields,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> Response:
    def work(caller: Caller) -> r.Answer:
        profile, version = caller.guarded(username, if_match)
        after = caller.site.content.update_profile(
            profile.username, body, actor=caller.actor, expected_version=version
        )
        return answer(after, headers={"ETag": etag(after.version)})

    return await write(request, "profile:write", key, work)


@router.get(
    "/profiles/{username}/history",
    response_model=HistoryPage,
    responses=r.READ_ONE,
    summary="The latest changes, newest first",
)
async def history(
    request: Request, username: Username, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> HistoryPage:
    def work(caller: Caller) -> HistoryPage:
        profile = caller.reach(username)
        entries = caller.site.content.history(profile.username, limit=limit)
        return HistoryPage(
            items=[HistoryItem(**entry.model_dump(mode="json")) for entry in entries]
        )

    return await api_of(request).call(request, "profile:read", work)


@router.post(
    "/profiles/{username}/undo",
    response_model=Undone,
    responses=r.UNDO,
    summary="Undo the latest change not yet undone (as `linkgen undo`)",
)
async def undo(
    request: Request, username: Username, if_match: IfMatch = None, key: IdempotencyKey = None
) -> Response:
    def work(caller: Caller) -> r.Answer:
        profile = caller.reach(username)
        if if_match:  # optional here: undo takes back the latest change, whatever it is
            expected_version(if_match, profile.version)
        said = caller.site.content.undo(profile.username, actor=caller.actor)
        try:
            version: int | None = caller.site.content.get(profile.username).version
        except NotFound:
            version = None
        headers = {"ETag": etag(version)} if version else {}
        return answer(Undone(undone=said, version=version), headers=headers)

    return await write(request, "profile:write", key, work)


@router.get(
    "/profiles/{username}/stats",
    response_model=Stats,
    responses=r.READ_ONE,
    summary="Views, clicks, uniques and CTR (the figures of `linkgen stats --json`)",
)
async def stats(
    request: Request,
    username: Username,
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
    bots: bool = False,
) -> Stats:
    def work(caller: Caller) -> Stats:
        from linkgen.clicks import stats as figures
        from linkgen.clicks.db import ClickStore, clicks_path

        profile = caller.reach(username)
        clicks = ClickStore(clicks_path(caller.site.root))
        try:
            numbers = figures.compute(
                caller.site.database, clicks, profile.username, days=days, bots=bots
            )
        finally:
            clicks.close()
        return Stats.model_validate(figures.as_dict(numbers))

    return await api_of(request).call(request, "stats:read", work)


@router.get(
    "/profiles/{username}/publish",
    response_model=PublishStatus,
    responses=r.READ_ONE,
    summary="Whether the last edit is live at the edge, or still pending",
)
async def publish_status(request: Request, username: Username) -> PublishStatus:
    def work(caller: Caller) -> PublishStatus:
        from linkgen.publish.worker import running

        profile = caller.reach(username)
        waiting = caller.site.outbox.waiting(profile.id)
        purging = f"p-{profile.id}" in caller.site.manifest.pending_purges("key")
        return PublishStatus(
            state="pending" if waiting or purging else "live",
            version=profile.version,
            worker_running=running(caller.site.root),
            purge_pending=purging,
        )

    return await api_of(request).call(request, "profile:read", work)


@router.post(
    "/profiles/{username}/purge",
    status_code=202,
    response_model=PurgeQueued,
    responses=r.PURGE,
    summary="Purge the profile's pages from the CDN again (the worker sends it)",
)
async def purge(request: Request, username: Username, key: IdempotencyKey = None) -> Response:
    def work(caller: Caller) -> r.Answer:
        from linkgen.api.purges import queue_profile_purge

        profile = caller.reach(username)
        queued = queue_profile_purge(caller.site, profile.id, profile.username)
        return answer(PurgeQueued(queued=queued), 202)

    return await write(request, "profile:write", key, work)
