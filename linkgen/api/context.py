"""What every API route shares: the site (one per thread), who is calling (their
token), their allowance, and the versions that guard an update.

A route's work runs in a worker thread (``Api.call``): authentication, the
scope check, the rate limit and the store's work, one hop off the event loop,
over that thread's own SQLite connection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import anyio.to_thread
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from linkgen import site as sites
from linkgen.api import idempotency
from linkgen.api.ratelimit import TokenBuckets
from linkgen.api.tokens import Token, Tokens
from linkgen.config import ApiSettings
from linkgen.errors import LinkgenError, NotFound, StaleEdit
from linkgen.models import PUBLIC, Profile
from linkgen.store.database import Busy

T = TypeVar("T")
READ_CACHE = 1024  # profiles whose JSON is kept


class Unauthorized(LinkgenError):
    """No token, or one that is wrong, expired or removed (401)."""


class ScopeMissing(LinkgenError):
    """The token lacks the scope the route needs (403)."""


class PreconditionRequired(LinkgenError):
    """An update sent without If-Match (428)."""


class RateLimited(LinkgenError):
    """The token spent its allowance (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests for this token; try again in {retry_after} s")
        self.retry_after = retry_after


class Reached(NamedTuple):
    id: str
    username: str
    version: int


class Caller(NamedTuple):
    """A request's token and this thread's site."""

    token: Token
    site: sites.Site

    def profile(self, username: str) -> Profile:
        """The profile if the token reaches it; otherwise NotFound, as if absent."""
        profile = self.site.content.get(username.lower())
        if not self.token.may_see(profile.id):
            raise NotFound(f"no profile '{username}'")
        return profile

    def reach(self, username: str) -> Reached:
        """The profile's id, name and version if the token reaches it (one indexed row:
        what a write needs before the store loads the profile in its transaction)."""
        row = self.site.database.conn.execute(
            "SELECT id, username, version FROM profiles WHERE username = ?", (username.lower(),)
        ).fetchone()
        if row is None or not self.token.may_see(row[0]):
            raise NotFound(f"no profile '{username}'")
        return Reached(*row)

    def guarded(self, username: str, if_match: str | None) -> tuple[Reached, int | None]:
        """The profile an update goes to, and the version its If-Match allows."""
        profile = self.reach(username)
        return profile, expected_version(if_match, profile.version)

    @property
    def actor(self) -> str:
        return f"{self.token.name} (api {self.token.id})"


class Api:
    def __init__(self, site_root: Path, settings: ApiSettings) -> None:
        self.site_root = site_root
        self.settings = settings
        self.buckets = TokenBuckets(settings.rate, settings.burst)
        self._local = threading.local()
        # One writer at a time in this process: threads queue here, not in SQLite's
        # busy handler (whose sleeps grow to 100 ms and make the slowest writes slow).
        self.write_lock = threading.Lock()
        # Each profile's JSON at its version (a version is never reused for new content).
        self._read: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._read_lock = threading.Lock()

    def profile_json(self, caller: Caller, username: str) -> tuple[int, bytes]:
        """(version, JSON) of a profile the token reaches: one indexed lookup of its
        version, and the JSON made again only when that changed."""
        name = username.lower()
        row = caller.site.database.conn.execute(
            "SELECT id, version FROM profiles WHERE username = ?", (name,)
        ).fetchone()
        if row is None or not caller.token.may_see(row[0]):
            raise NotFound(f"no profile '{username}'")
        with self._read_lock:
            cached = self._read.get(row[0])
        if cached is not None and cached[0] == row[1]:
            return cached
        profile = caller.site.content.get(name)
        made = (profile.version, profile.model_dump_json(context=PUBLIC).encode())
        with self._read_lock:
            self._read[profile.id] = made
            self._read.move_to_end(profile.id)
            while len(self._read) > READ_CACHE:
                self._read.popitem(last=False)
        return made

    @property
    def site(self) -> sites.Site:
        site = getattr(self._local, "site", None)
        if site is None:
            site = self._local.site = sites.Site.open(self.site_root)
            self._local.tokens = Tokens(site.database)
        return site

    @property
    def tokens(self) -> Tokens:
        self.site  # noqa: B018 (opens this thread's site and its tokens)
        tokens: Tokens = self._local.tokens
        return tokens

    async def call(
        self,
        request: Request,
        scope: str | None,
        work: Callable[[Caller], T],
        *,
        inline: bool = False,
    ) -> T:
        """``work`` for the request's token once it holds ``scope``: off the event loop,
        or (``inline``: a read of a few indexed rows, which WAL never makes wait) on it."""
        header = request.headers.get("authorization", "")
        state = request.state

        def run() -> T:
            caller = self._caller(header, scope, state)
            return work(caller)

        if inline:
            return run()
        return await anyio.to_thread.run_sync(run)

    def _caller(self, header: str, scope: str | None, state: Any) -> Caller:
        kind, _, text = header.partition(" ")
        if kind.lower() != "bearer" or not text.strip():
            raise Unauthorized("send a token: 'Authorization: Bearer lg_…' (linkgen token add)")
        token = self.tokens.authenticate(text.strip())
        if token is None:
            raise Unauthorized("the token is wrong, expired or removed")
        allowance = self.buckets.take(token.id)
        state.rate_headers = allowance.headers(self.settings.burst, self.settings.rate)
        if not allowance.allowed:
            raise RateLimited(allowance.retry_after)
        if scope is not None and scope not in token.scopes and not token.is_admin:
            raise ScopeMissing(f"this token lacks the scope {scope}")
        return Caller(token, self.site)


def api_of(request: Request) -> Api:
    api: Api = request.app.state.api
    return api


# -- versions: ETag out, If-Match in ---------------------------------------------------


def etag(version: int) -> str:
    return f'"v{version}"'


def expected_version(if_match: str | None, current: int) -> int | None:
    """The version an update may apply to, from its If-Match (None: ``*``, any)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "If-Match: required on an update; send the ETag of your last GET of the profile"
        )
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return None
    if etag(current) in tags:
        return current  # the store checks it again inside its transaction
    raise StaleEdit(
        "If-Match: the profile changed since that ETag was read; GET it again and retry"
    )


# -- answers a write stores for its idempotency key ----------------------------------


def answer(
    model: BaseModel | None, status: int = 200, headers: dict[str, str] | None = None
) -> idempotency.Answer:
    body = b"" if model is None else model.model_dump_json(context=PUBLIC).encode()
    return idempotency.Answer(status, headers or {}, body)


def respond(given: idempotency.Answer, replayed: bool) -> Response:
    headers = dict(given.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    media = "application/json" if given.body else None
    return Response(given.body, given.status, headers=headers, media_type=media)


async def write(
    request: Request,
    scope: str,
    key: str | None,
    work: Callable[[Caller], idempotency.Answer],
) -> Response:
    """A write: ``work`` and the record of its answer in one transaction.

    It is first tried on the event loop, when nothing else is writing (this
    process's lock and SQLite's are both free at once): a handful of rows, a
    millisecond or two, without the hand-over to a worker thread and back that
    costs as much again. Otherwise it queues for the lock in a worker thread, so
    the loop never waits on another writer.
    """
    body = await request.body()
    fingerprint = idempotency.request_hash(request.method, request.url.path, body)
    api = api_of(request)
    caller = await api.call(request, scope, lambda caller: caller, inline=True)

    def attempt(wait: bool) -> tuple[idempotency.Answer, bool] | None:
        here = Caller(caller.token, api.site)  # this thread's connection
        if not api.write_lock.acquire(blocking=wait):
            return None
        try:
            with here.site.database.waiting(wait):
                return idempotency.once(
                    here.site.database, caller.token.id, key, fingerprint, lambda: work(here)
                )
        except Busy:
            return None
        finally:
            api.write_lock.release()

    done = attempt(False)
    if done is None:
        done = await anyio.to_thread.run_sync(attempt, True)
    assert done is not None
    return respond(*done)
