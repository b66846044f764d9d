"""The redirector: ``/r/<link_id>`` sends a visitor on, ``/v/<profile_id>`` counts a view.

A bare ASGI application (no framework on the hot path). The target of a
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

import gc
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from .recorder import Hit, Recorder
from .redirector_metrics import Metrics
from .store import LinkRoute, Store

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
NO_STORE = (b"cache-control", b"private, no-store")
HTML = b"text/html; charset=utf-8"
TEXT = b"text/plain; charset=utf-8"


def _headers(
    content_type: bytes, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> list[tuple[bytes, bytes]]:
    return [
        NO_STORE,
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        *extra,
    ]


@dataclass(frozen=True)
class Route:
    url: str
    profile_id: str
    profile_url: str
    enabled: bool
    starts: float | None  # unix time
    ends: float | None
    # The whole answer, built once per edit rather than once per request:
    # a 302 to the target, and a 302 to the profile page when not live.
    to_target: list[tuple[bytes, bytes]] = field(init=False, repr=False, compare=False)
    to_profile: list[tuple[bytes, bytes]] = field(init=False, repr=False, compare=False)
    always: bool = field(init=False, repr=False, compare=False)  # enabled, no schedule

    def __post_init__(self) -> None:
        for name, url in (("to_target", self.url), ("to_profile", self.profile_url)):
            location = ((b"location", url.encode()),)
            object.__setattr__(self, name, _headers(TEXT, b"", location))
        plain = self.enabled and self.starts is None and self.ends is None
        object.__setattr__(self, "always", plain)

    def live(self, now: float) -> bool:
        if not self.enabled:
            return False
        if self.starts is not None and now < self.starts:
            return False
        return self.ends is None or now < self.ends


def _epoch(value: str | None) -> float | None:
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
            store = Store(self.db_path)
            store.conn.execute("PRAGMA query_only = ON")
            seen = store.conn.execute("PRAGMA data_version").fetchone()[0]
            self._reload(store)
        except Exception as exc:
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.wait(self.refresh_seconds):
                try:
                    version = store.conn.execute("PRAGMA data_version").fetchone()[0]
                    if version != seen:
                        seen = version
                        self._reload(store)
                except Exception:  # keep serving the last good index
                    log.exception("could not refresh the links; serving the last known ones")
        finally:
            store.close()

    def _reload(self, store: Store) -> None:
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
            starts=_epoch(route.starts_at),
            ends=_epoch(route.ends_at),
        )


@dataclass(frozen=True)
class RedirectorOptions:
    country_header: bytes = b"cloudfront-viewer-country"
    client_ip_header: bytes | None = None  # trusted only behind a proxy that sets it
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None


class Redirector:
    def __init__(
        self,
        links: LinkIndex,
        recorder: Recorder,
        options: RedirectorOptions,
        metrics: Metrics | None = None,
    ) -> None:
        self.links = links
        self.recorder = recorder
        self.options = options
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.metrics is None:
                await self._http(scope, send)
                return
            started = time.perf_counter()
            status = await self._http(scope, send)
            self.metrics.answered(status, time.perf_counter() - started if status == 302 else None)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.links.start()
                    self.recorder.start()
                    if self.metrics is not None and self.options.metrics_port:
                        self.metrics.serve(self.options.metrics_host, self.options.metrics_port)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                gc.freeze()  # the loaded index and modules: never scanned again
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.recorder.stop()  # everything queued is written first
                self.links.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, send: Send) -> int:
        method = scope["method"]
        if method != "GET" and method != "HEAD":
            return await _answer(send, 405, METHOD_NOT_ALLOWED)
        path: str = scope["path"]
        if path.startswith("/r/"):  # the hot path: an id not in the index is simply absent
            return await self._redirect(scope, send, path[3:], method == "GET")
        if path.startswith("/v/"):
            return await self._view(scope, send, path[3:], method == "GET")
        if path == "/healthz":
            return await _answer(send, 200, OK)
        return await _answer(send, 404, NOT_FOUND)

    async def _redirect(self, scope: Scope, send: Send, link_id: str, count: bool) -> int:
        route = self.links.routes.get(link_id)
        if route is None:
            return await _answer(send, 404, NOT_FOUND)
        now = time.time()
        if not (route.always or route.live(now)):
            await _send(send, 302, route.to_profile, b"")
            return 302
        if count:
            self.recorder.offer(self._hit(scope, now, "click", route.profile_id, link_id))
        await _send(send, 302, route.to_target, b"")
        return 302

    async def _view(self, scope: Scope, send: Send, profile_id: str, count: bool) -> int:
        if profile_id not in self.links.hashes:
            return await _answer(send, 404, NO_PIXEL)
        if count:
            self.recorder.offer(self._hit(scope, time.time(), "view", profile_id, ""))
        return await _answer(send, 200, BEACON)

    def _hit(self, scope: Scope, now: float, kind: str, profile_id: str, link_id: str) -> Hit:
        """The raw header bytes; decoding and every other check wait for the writer."""
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
        return (now, kind, profile_id, link_id, ip, user_agent, referrer, country)


class Answer(NamedTuple):
    """A fixed response: status, headers and body built once."""

    headers: list[tuple[bytes, bytes]]
    body: bytes


def _fixed(body: bytes, content_type: bytes = TEXT, *extra: tuple[bytes, bytes]) -> Answer:
    return Answer(_headers(content_type, body, extra), body)


NOT_FOUND = _fixed(NOT_FOUND_PAGE, HTML)
METHOD_NOT_ALLOWED = _fixed(b"method not allowed\n", TEXT, (b"allow", b"GET, HEAD"))
OK = _fixed(b"ok\n")
BEACON = _fixed(PIXEL, b"image/gif")
NO_PIXEL = _fixed(b"", b"image/gif")


async def _answer(send: Send, status: int, answer: Answer) -> int:
    await _send(send, status, answer.headers, answer.body)
    return status


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
