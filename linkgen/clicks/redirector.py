"""The redirector: ``/r/<link_id>`` sends a visitor on, ``/v/<profile_id>`` counts a view.

A bare application (no framework on the hot path) that speaks RSGI, granian's
own interface, and ASGI for any other server; both ask ``respond`` what to
answer, and every answer is built once, not per request. The target of a
redirect comes only from the store — never from the request — and every
answer is ``Cache-Control: private, no-store`` with a 302, so browsers and
CDNs never replay a click without asking (a cached 301 loses every repeat
click). Hits go to the recorder's in-memory queue; nothing on the request
path waits on SQLite.

Links are held in memory and refreshed in the background (clicks.link_index).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from linkgen.clicks import locks, own_pages, smart, variants
from linkgen.clicks.link_index import TEXT, Answer, Form, Route, answer
from linkgen.clicks.metrics import Metrics
from linkgen.clicks.recorder import Recorder

if TYPE_CHECKING:
    from linkgen.audience.signups import Signups

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
    forms: dict[str, Form]  # block id -> a sign-up form
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
        signups: Signups | None = None,
        hasher: variants.DayHasher | None = None,
    ) -> None:
        self.links = links
        self.recorder = recorder
        self.options = options
        self.metrics = metrics
        self._ip_header = options.client_ip_header_name  # RSGI headers are str
        self._country_header = options.country_header_name
        self.locks = locks_keeper
        self.signups = signups
        self.hasher = hasher  # the day's visitor hash, for A/B tests

    # -- one decision for both interfaces ---------------------------------------

    def respond(
        self, method: str, path: str, header: Header | None = None, query: str = ""
    ) -> tuple[Answer | variants.Test, Stub | None]:
        """The answer to a request, and what to record of it (None: nothing).
        ``header(name, default)``: the request's headers, read only for a link
        with rules. For a split link the answer is its ``variants.Test``, which
        ``settled`` turns into the visitor's variant: the one the page said it
        showed (``query`` ``x=b``, from a title test's page), else a draw."""
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
                return answer(200, page.encode(), HTML, **own_pages.HEADERS), None
            target: Answer | variants.Test = route.to_target
            if route.rules and header is not None:
                picked = smart.pick(route.rules, now, header, self._country_header)
                target = picked or route.split or target
            elif route.split is not None:
                target = route.split
            if method == "HEAD":  # nothing is counted, no variant drawn
                return route.to_target if target is route.split else target, None
            label = route.split.label(query) if target is route.split and query else ""
            return target, (now, "click", route.profile_id, path[3:], label)
        if path.startswith("/v/"):
            profile_id = path[3:]
            if profile_id not in self.links.hashes:
                return NO_PIXEL, None
            if method == "HEAD":
                return BEACON, None
            label = variants.label_of(query) if query else ""
            return BEACON, (time.time(), "view", profile_id, "", label)
        if path.startswith("/s/") and self.signups is not None:
            return self.signups.page(path), None
        if path == "/healthz":
            return OK, None
        return NOT_FOUND, None

    def settled(self, response: Answer | variants.Test, stub: Stub, ip: Any, agent: Any) -> Answer:
        """The answer itself: for a split link, the variant its page showed this
        visitor, else the one of this visitor of the day."""
        if not isinstance(response, variants.Test):
            return response
        if stub[4]:
            return cast(Answer, response.labelled(stub[4]))
        visitor = self.hasher.visitor(stub[0], ip, agent, stub[2]) if self.hasher else None
        chosen: Answer = response.answer(visitor)
        return chosen

    def start(self, loop: Any = None) -> None:
        """Load the links and start recording; hits are handed over on ``loop``
        (the server's event loop) when given."""
        self.links.start()
        self.recorder.start(loop)
        if self.signups is not None:
            self.signups.start()
        if self.metrics is not None and self.options.metrics_port:
            self.metrics.serve(self.options.metrics_host, self.options.metrics_port)
        gc.freeze()  # the loaded index and modules: never scanned again

    def stop(self) -> None:
        self.recorder.stop()  # everything queued is written first
        if self.signups is not None:
            self.signups.stop()  # and every sign-up
        self.links.stop()

    # -- RSGI: granian's own interface, what `linkgen redirector` serves -------

    async def post(
        self, path: str, body: bytes | None, address: str, header: Header
    ) -> tuple[Answer | variants.Test, Stub | None]:
        """A form posted (``body`` None: too large): a locked link's, answered with the
        link's 302, its rules applied, and a click, or the form again, or a refusal;
        or a sign-up form's, or a subscriber's confirmation or unsubscription."""
        if path.startswith("/s/") and self.signups is not None:
            form = self.links.forms.get(path[3:])
            if form is not None:
                return self.signups.post(form, body, address, time.time()), None
            return await self.signups.act(path), None
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
            return answer(status, page.encode(), HTML, **own_pages.HEADERS), None
        target = smart.pick(route.rules, now, header, self._country_header) if route.rules else None
        stub = (now, "click", route.profile_id, path[3:], "")
        return target or route.split or route.to_target, stub

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        started = time.perf_counter() if self.metrics is not None else 0.0
        headers = scope.headers
        if scope.method == "POST":
            await self._rsgi_post(scope, protocol)
            return
        decided, stub = self.respond(scope.method, scope.path, headers.get, scope.query_string)
        if stub is not None:
            ip = (headers.get(self._ip_header) if self._ip_header else None) or (
                scope.client.rpartition(":")[0]  # "host:port"
            )
            agent = headers.get("user-agent", "")
            response = self.settled(decided, stub, ip, agent)
            referer = headers.get("referer", "")
            self.recorder.offer((*stub, ip, agent, referer, headers.get(self._country_header, "")))
        else:
            response = cast(Answer, decided)  # HEAD and what is not counted: never a split
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
        decided, stub = await self.post(scope.path, body, ip, headers.get)
        response = cast(Answer, decided)  # a refusal or the form again: never a split
        if stub is not None:
            ua = headers.get("user-agent", "")
            response = self.settled(decided, stub, ip, ua)
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
            decided, stub = await self.post(
                scope["path"], body, ip.decode("latin-1"), self._asgi_header(scope)
            )
            if stub is not None:
                decided = self.settled(decided, stub, ip, agent)
                self.recorder.offer((*stub, ip, agent, b"", country))
        else:
            query = scope.get("query_string", b"")
            decided, stub = self.respond(
                scope["method"],
                scope["path"],
                self._asgi_header(scope),
                query.decode("latin-1") if query else "",
            )
            if stub is not None:
                found = self._asgi_headers(scope)
                decided = self.settled(decided, stub, found[0], found[1])
                self.recorder.offer((*stub, *found))
        response = cast(Answer, decided)  # settled when counted; else never a split
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
# profile id, link id, the A/B variant its page said it showed or "").
Stub = tuple[float, str, str, str, str]

NOT_FOUND = answer(404, NOT_FOUND_PAGE, HTML)
TOO_LARGE = answer(413, b"too large\n")
METHOD_NOT_ALLOWED = answer(405, b"method not allowed\n", TEXT, allow="GET, HEAD")
OK = answer(200, b"ok\n")
BEACON = answer(200, PIXEL, "image/gif")
NO_PIXEL = answer(404, b"", "image/gif")
