"""The redirector: ``/r/<link_id>`` sends a visitor on, ``/v/<profile_id>`` counts a view.

A bare application (no framework on the hot path) that speaks RSGI, granian's
own interface, and ASGI for any other server; both ask ``respond`` what to
answer, and every answer is built once, not per request. The target of a
redirect comes only from the store — never from the request — and every
answer is ``Cache-Control: private, no-store`` with a 302, so browsers and
CDNs never replay a click without asking (a cached 301 loses every repeat
click). Hits go to the recorder's in-memory queue; nothing on the request
path waits on SQLite.

Links are held in memory and refreshed in the background: the content
database is polled (``PRAGMA data_version``, a few microseconds) every
``refresh_seconds``; when it changed, only the profiles whose content hash
changed are reloaded, so an edit reaches the redirector within about a
quarter of a second.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from linkgen.clicks import locks, smart
from linkgen.clicks.metrics import Metrics
from linkgen.clicks.recorder import Recorder
from linkgen.store.database import Database
from linkgen.store.routes import LinkRoute, Routes

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# A 1x1 transparent GIF: the view beacon is an image the page embeds, no JavaScript.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
NOT_FOUND_PAGE = (
    b"<!doctype html><html lang=en><meta charset=utf-8>"
    b"<meta name=viewport content='width=device-width'><title>Link not found</title>"
    b"<h1>Link not found</h1><p>This link does not exist, or no longer does.</p></html>"
)
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class Answer(NamedTuple):
    """A whole response, built once: for ASGI (bytes headers) and RSGI (str headers)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    text_headers: list[tuple[str, str]]
    body: bytes


def answer(status: int, body: bytes, content_type: str = TEXT, **extra: str) -> Answer:
    text = [
        ("cache-control", "private, no-store"),
        ("content-type", content_type),
        ("content-length", str(len(body))),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        *extra.items(),
    ]
    raw = [(name.encode(), value.encode()) for name, value in text]
    return Answer(status, raw, text, body)


@dataclass(frozen=True)
class Route:
    url: str
    profile_id: str
    profile_url: str
    enabled: bool
    starts: float | None  # unix time
    ends: float | None
    # A smart link's rules, each with its answer (smart.pick chooses per request).
    rules: tuple[smart.Choice, ...] = ()
    lock: locks.Gate | None = None  # a password or an age asked first
    # The whole answer, built once per edit rather than once per request:
    # a 302 to the target, and a 302 to the profile page when not live.
    to_target: Answer = field(init=False, repr=False, compare=False)
    to_profile: Answer = field(init=False, repr=False, compare=False)
    always: bool = field(init=False, repr=False, compare=False)  # enabled, no schedule

    def __post_init__(self) -> None:
        for name, url in (("to_target", self.url), ("to_profile", self.profile_url)):
            object.__setattr__(self, name, answer(302, b"", location=url))
        plain = self.enabled and self.starts is None and self.ends is None
        object.__setattr__(self, "always", plain)

    def live(self, now: float) -> bool:
        if not self.enabled:
            return False
        if self.starts is not None and now < self.starts:
            return False
        return self.ends is None or now < self.ends


def epoch(value: str | None) -> float | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class LinkIndex:
    """link id -> Route, and the profile ids that exist, refreshed from the content db."""

    def __init__(self, db_path: Path, site_url: str, refresh_seconds: float = 0.25) -> None:
        self.db_path = db_path
        self.site_url = site_url.rstrip("/")
        self.refresh_seconds = refresh_seconds
        self.routes: dict[str, Route] = {}
        self.hashes: dict[str, str] = {}  # profile id -> content hash: the profiles that exist
        self._by_profile: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: Exception | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load every link, then keep watching the database in the background."""
        self._thread = threading.Thread(target=self._watch, daemon=True, name="link-index")
        self._thread.start()
        self._ready.wait(60)
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _watch(self) -> None:
        try:  # the connection lives and dies on this thread
            database = Database(self.db_path)
            database.conn.execute("PRAGMA query_only = ON")
            seen = database.conn.execute("PRAGMA data_version").fetchone()[0]
            store = Routes(database)
            self._reload(store)
        except Exception as exc:
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.wait(self.refresh_seconds):
                try:
                    version = database.conn.execute("PRAGMA data_version").fetchone()[0]
                    if version != seen:
                        seen = version
                        self._reload(store)
                except Exception:  # keep serving the last good index
                    log.exception("could not refresh the links; serving the last known ones")
        finally:
            database.close()

    def _reload(self, store: Routes) -> None:
        hashes = store.profile_hashes()
        changed = [pid for pid, digest in hashes.items() if self.hashes.get(pid) != digest]
        gone = [pid for pid in self.hashes if pid not in hashes]
        routes = dict(self.routes)
        by_profile = dict(self._by_profile)
        for pid in [*changed, *gone]:
            for link_id in by_profile.pop(pid, []):
                routes.pop(link_id, None)
        for route in store.link_routes(changed):
            routes[route.link_id] = self._route(route)
            by_profile.setdefault(route.profile_id, []).append(route.link_id)
        # Swapped in whole: a request sees the old index or the new one.
        self.routes, self._by_profile, self.hashes = routes, by_profile, hashes

    def _route(self, route: LinkRoute) -> Route:
        return Route(
            url=route.url,
            profile_id=route.profile_id,
            profile_url=f"{self.site_url}/{route.username}",
            enabled=route.enabled,
            starts=epoch(route.starts_at),
            ends=epoch(route.ends_at),
            rules=choices(json.loads(route.rules)) if route.rules else (),
            lock=locks.gate(json.loads(route.lock)) if route.lock else None,
        )


def choices(stored: Sequence[Mapping[str, Any]]) -> tuple[smart.Choice, ...]:
    """A link's rules as stored (checked already), each with its prebuilt answer."""
    return tuple(
        smart.Choice(
            frozenset(rule.get("country", ())),
            frozenset(rule.get("device", ())),
            tuple(tag.lower() for tag in rule.get("language", ())),
            epoch(rule.get("starts_at")),
            epoch(rule.get("ends_at")),
            answer(302, b"", location=rule["url"]),
        )
        for rule in stored
    )


@dataclass(frozen=True)
class RedirectorOptions:
    country_header: bytes = b"cloudfront-viewer-country"
    client_ip_header: bytes | None = None  # trusted only behind a proxy that sets it
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None

    @property
    def country_header_name(self) -> str:
        return self.country_header.decode("latin-1")

    @property
    def client_ip_header_name(self) -> str | None:
        return self.client_ip_header.decode("latin-1") if self.client_ip_header else None


class Links(Protocol):
    """Where the links come from: the content database (LinkIndex) or the bucket's
    link map (clicks.bucket_links.BucketLinkIndex)."""

    routes: dict[str, Route]
    hashes: dict[str, str]  # the profiles that exist (their ids are the keys)

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Redirector:
    def __init__(
        self,
        links: Links,
        recorder: Recorder,
        options: RedirectorOptions,
        metrics: Metrics | None = None,
        locks_keeper: locks.Keeper | None = None,
    ) -> None:
        self.links = links
        self.recorder = recorder
        self.options = options
        self.metrics = metrics
        self._ip_header = options.client_ip_header_name  # RSGI headers are str
        self._country_header = options.country_header_name
        self.locks = locks_keeper

    # -- one decision for both interfaces ---------------------------------------

    def respond(
        self, method: str, path: str, header: Header | None = None
    ) -> tuple[Answer, Stub | None]:
        """The answer to a request, and what to record of it (None: nothing).
        ``header(name, default)``: the request's headers, read only for a link
        with rules."""
        if method != "GET" and method != "HEAD":
            return METHOD_NOT_ALLOWED, None
        if path.startswith("/r/"):  # the hot path: an id not in the index is simply absent
            route = self.links.routes.get(path[3:])
            if route is None:
                return NOT_FOUND, None
            now = time.time()
            if not (route.always or route.live(now)):
                return route.to_profile, None
            if route.lock is not None and self.locks is not None:
                page = self.locks.page(path[3:], route.lock, now)
                return answer(200, page.encode(), HTML, **LOCK_HEADERS), None
            target = route.to_target
            if route.rules and header is not None:
                target = smart.pick(route.rules, now, header, self._country_header) or target
            if method == "HEAD":
                return target, None
            return target, (now, "click", route.profile_id, path[3:])
        if path.startswith("/v/"):
            profile_id = path[3:]
            if profile_id not in self.links.hashes:
                return NO_PIXEL, None
            return BEACON, None if method == "HEAD" else (time.time(), "view", profile_id, "")
        if path == "/healthz":
            return OK, None
        return NOT_FOUND, None

    def start(self, loop: Any = None) -> None:
        """Load the links and start recording; hits are handed over on ``loop``
        (the server's event loop) when given."""
        self.links.start()
        self.recorder.start(loop)
        if self.metrics is not None and self.options.metrics_port:
            self.metrics.serve(self.options.metrics_host, self.options.metrics_port)
        gc.freeze()  # the loaded index and modules: never scanned again

    def stop(self) -> None:
        self.recorder.stop()  # everything queued is written first
        self.links.stop()

    # -- RSGI: granian's own interface, what `linkgen redirector` serves -------

    async def unlock(
        self, path: str, body: bytes | None, address: str, header: Header
    ) -> tuple[Answer, Stub | None]:
        """A locked link's form posted back (``body`` None: too large): the link's
        302, its rules applied, and a click; or the form again, or a refusal."""
        route = self.links.routes.get(path[3:]) if path.startswith("/r/") else None
        now = time.time()
        if route is None or route.lock is None or self.locks is None:
            return METHOD_NOT_ALLOWED, None
        if not route.live(now):
            return route.to_profile, None
        if body is None:
            return TOO_LARGE, None
        status, page = await self.locks.opens(path[3:], route.lock, body, address, now)
        if status != 302:
            return answer(status, page.encode(), HTML, **LOCK_HEADERS), None
        target = smart.pick(route.rules, now, header, self._country_header) if route.rules else None
        return target or route.to_target, (now, "click", route.profile_id, path[3:])

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        started = time.perf_counter() if self.metrics is not None else 0.0
        headers = scope.headers
        if scope.method == "POST":
            await self._rsgi_post(scope, protocol)
            return
        response, stub = self.respond(scope.method, scope.path, headers.get)
        if stub is not None:
            ip = headers.get(self._ip_header) if self._ip_header else None
            self.recorder.offer(
                (
                    *stub,
                    ip or scope.client.rpartition(":")[0],  # "host:port"
                    headers.get("user-agent", ""),
                    headers.get("referer", ""),
                    headers.get(self._country_header, ""),
                )
            )
        protocol.response_bytes(response.status, response.text_headers, response.body)
        if self.metrics is not None:
            self._measure(response.status, started)

    async def _rsgi_post(self, scope: Any, protocol: Any) -> None:
        headers = scope.headers
        ip = (headers.get(self._ip_header) if self._ip_header else None) or (
            scope.client.rpartition(":")[0]
        )
        body: bytes | None = b""
        async for chunk in protocol:
            body = (body or b"") + chunk
            if len(body) > locks.BODY_MAX:
                body = None
                break
        response, stub = await self.unlock(scope.path, body, ip, headers.get)
        if stub is not None:
            ua = headers.get("user-agent", "")
            self.recorder.offer((*stub, ip, ua, "", headers.get(self._country_header, "")))
        protocol.response_bytes(response.status, response.text_headers, response.body)

    def __rsgi_init__(self, loop: Any) -> None:
        self.start(loop)

    def __rsgi_del__(self, loop: Any) -> None:
        self.stop()

    # -- ASGI: any other server (uvicorn, hypercorn, …) -------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter() if self.metrics is not None else 0.0
        if scope["method"] == "POST":
            body = await _asgi_body(receive)
            ip, agent, _, country = self._asgi_headers(scope)
            response, stub = await self.unlock(
                scope["path"], body, ip.decode("latin-1"), self._asgi_header(scope)
            )
            if stub is not None:
                self.recorder.offer((*stub, ip, agent, b"", country))
        else:
            response, stub = self.respond(scope["method"], scope["path"], self._asgi_header(scope))
            if stub is not None:
                self.recorder.offer((*stub, *self._asgi_headers(scope)))
        await send(
            {"type": "http.response.start", "status": response.status, "headers": response.headers}
        )
        await send({"type": "http.response.body", "body": response.body})
        if self.metrics is not None:
            self._measure(response.status, started)

    def _measure(self, status: int, started: float) -> None:
        assert self.metrics is not None
        self.metrics.answered(status, time.perf_counter() - started if status == 302 else None)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start(asyncio.get_running_loop())
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    def _asgi_header(scope: Scope) -> Header:
        def header(name: str, default: str = "") -> str:
            wanted = name.encode("latin-1")
            for key, value in scope["headers"]:
                if key == wanted:
                    return str(value.decode("latin-1"))
            return default

        return header

    def _asgi_headers(self, scope: Scope) -> tuple[bytes, bytes, bytes, bytes]:
        """(ip, user agent, referrer, country) as raw bytes; the writer checks them."""
        user_agent = referrer = country = b""
        ip = None
        wanted_ip = self.options.client_ip_header
        country_header = self.options.country_header
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value
            elif name == b"referer":
                referrer = value
            elif name == country_header:
                country = value
            elif name == wanted_ip:
                ip = value
        if ip is None:
            client = scope.get("client")
            ip = client[0].encode() if client else b""
        return ip, user_agent, referrer, country


async def _asgi_body(receive: Receive) -> bytes | None:
    """A request's body, or None past locks.BODY_MAX."""
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > locks.BODY_MAX:
            return None
        if not message.get("more_body"):
            return body


# A request's headers by lower-case name, as granian's RSGI headers answer ``get``.
Header = Callable[[str, str], str]

# What a request decides to record, before its headers are added: (at, kind,
# profile id, link id).
Stub = tuple[float, str, str, str]

NOT_FOUND = answer(404, NOT_FOUND_PAGE, HTML)
TOO_LARGE = answer(413, b"too large\n")
LOCK_HEADERS = {"content-security-policy": locks.POLICY, "x-frame-options": "DENY"}
METHOD_NOT_ALLOWED = answer(405, b"method not allowed\n", TEXT, allow="GET, HEAD")
OK = answer(200, b"ok\n")
BEACON = answer(200, PIXEL, "image/gif")
NO_PIXEL = answer(404, b"", "image/gif")
