"""Local stand-ins for the CDN purge APIs that cannot run here.

Each one answers at the HTTP boundary the way the real API does, and
enforces its request shapes and limits: a request the real service would
refuse is refused here too, with the same status and error code.
"""

from __future__ import annotations

import json
import re
import threading
import time
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Answer = tuple[int, Any, dict[str, str]]


class ApiStandIn(ABC):
    """A JSON API on 127.0.0.1 whose POSTs go to ``self.post``."""

    def __init__(self) -> None:
        self.requests = 0
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with stand_in.lock:
                    stand_in.requests += 1
                    status, answer, headers = stand_in.post(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @abstractmethod
    def post(self, path: str, headers: Any, body: bytes) -> Answer:
        """The answer the real API gives to this request."""

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FastlyStandIn(ApiStandIn):
    """POST /service/<id>/purge: Fastly-Key auth (401), 1 to 256 keys and ≤ 16,384
    header bytes (400), keys ≤ 1,024 bytes (400); every ``throttle_every``-th
    request answered 429 with Retry-After."""

    def __init__(self, service: str, token: str, *, throttle_every: int = 0, retry_after: int = 1):
        super().__init__()
        self.service, self.token = service, token
        self.throttle_every, self.retry_after = throttle_every, retry_after
        self.purged: list[list[str]] = []
        self.throttled_at: list[float] = []
        self.retried_at: list[float] = []

    def post(self, path: str, headers: Any, body: bytes) -> Answer:
        if path != f"/service/{self.service}/purge":
            return 404, {"msg": "Record not found"}, {}
        if headers.get("Fastly-Key") != self.token:
            return 401, {"msg": "Provided credentials are missing or invalid"}, {}
        header = headers.get("Surrogate-Key", "")
        keys = header.split()
        if not keys or len(keys) > 256 or len(header) > 16_384:
            return 400, {"msg": "Bad request: 1 to 256 keys"}, {}
        if any(len(key.encode()) > 1024 for key in keys):
            return 400, {"msg": "Key too long"}, {}
        if self.throttle_every and self.requests % self.throttle_every == 1:
            self.throttled_at.append(time.monotonic())
            return 429, {"msg": "Too many requests"}, {"Retry-After": str(self.retry_after)}
        if self.throttled_at and len(self.retried_at) < len(self.throttled_at):
            self.retried_at.append(time.monotonic())
        self.purged.append(keys)
        return 200, {key: f"purge-{n}" for n, key in enumerate(keys)}, {}


def _cloudflare(status: int, code: int, message: str) -> tuple[int, Any]:
    body = {"success": False, "errors": [{"code": code, "message": message}], "messages": []}
    return status, body


class CloudflareStandIn(ApiStandIn):
    """POST /client/v4/zones/<zone>/purge_cache as Cloudflare answers it.

    Bearer-token auth (403, code 10000); a JSON body with exactly one of
    files / tags / hosts / prefixes / purge_everything (400); at most
    ``max_items`` entries (400); every file an absolute URL on the zone's
    host. Requests are limited per account by a token bucket of
    ``bucket_size`` requests refilled at ``per_second``: past it, 429 with
    Retry-After (code 971), as the real API does.
    """

    KINDS = ("files", "tags", "hosts", "prefixes", "purge_everything")

    def __init__(
        self,
        zone: str,
        token: str,
        host: str,
        *,
        max_items: int = 100,
        bucket_size: int = 25,
        per_second: float = 5.0,
    ) -> None:
        super().__init__()
        self.zone, self.token, self.host = zone, token, host
        self.max_items = max_items
        self.bucket_size, self.per_second = bucket_size, per_second
        self.tokens, self.refilled = float(bucket_size), time.monotonic()
        self.purged: list[dict[str, list[str]]] = []
        self.throttled = 0

    def post(self, path: str, headers: Any, body: bytes) -> Answer:
        status, answer = self._purge(path, headers, body)
        extra = {}
        if status == 429:
            extra["Retry-After"] = str(max(1, round((1 - self.tokens) / self.per_second)))
        return status, answer, extra

    def _purge(self, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if not re.fullmatch(r"/client/v4/zones/[0-9a-f]{32}/purge_cache", path):
            return _cloudflare(404, 7003, f"Could not route to {path}")
        if path.split("/")[4] != self.zone:
            return _cloudflare(403, 7003, "No zone with that identifier")
        if headers.get("Authorization") != f"Bearer {self.token}":
            return _cloudflare(403, 10000, "Authentication error")
        if not self._take_token():
            self.throttled += 1
            return _cloudflare(429, 971, "Please wait and consider throttling your request speed")
        try:
            request = json.loads(body)
        except ValueError:
            return _cloudflare(400, 6007, "Malformed JSON in request body")
        kinds = [kind for kind in self.KINDS if isinstance(request, dict) and kind in request]
        if len(kinds) != 1 or len(request) != 1:
            return _cloudflare(400, 1012, f"Request must contain exactly one of {self.KINDS}")
        kind = kinds[0]
        items = request[kind]
        if kind == "purge_everything":
            self.purged.append({kind: []})
            return 200, {"success": True, "errors": [], "result": {"id": self.zone}}
        if not isinstance(items, list) or not 1 <= len(items) <= self.max_items:
            return _cloudflare(400, 1015, f"1 to {self.max_items} {kind} a request")
        if kind == "files":
            for url in items:
                parts = urlsplit(url) if isinstance(url, str) else None
                if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
                    return _cloudflare(400, 1016, f"Invalid url: {url!r}")
                if parts.hostname != self.host:
                    return _cloudflare(400, 1016, f"{url} is not in this zone")
        self.purged.append({kind: list(items)})
        return 200, {"success": True, "errors": [], "result": {"id": self.zone}}

    def _take_token(self) -> bool:
        now = time.monotonic()
        elapsed, self.refilled = now - self.refilled, now
        self.tokens = min(self.bucket_size, self.tokens + elapsed * self.per_second)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
