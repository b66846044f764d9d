"""A webhook receiver on loopback: it checks every delivery's signature with the
Standard Webhooks library, answers from a script (500 for the first tries, then
200), and keeps what it was sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    url: str
    secret: str = ""
    fail_first: int = 0  # answer 500 to this many deliveries of each message id
    always: int | None = None  # answer this status every time
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_for(self, message_id: str) -> int:
        if self.always is not None:
            return self.always
        tries = sum(1 for r in self.received if r.headers.get("webhook-id") == message_id)
        return 500 if tries < self.fail_first else 200

    def taken(self) -> list[Received]:
        """The deliveries it answered 2xx, in order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def wait_for(self, condition: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if condition(list(self.received)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"not received in {timeout} s: {[r.event for r in self.received]}")


@contextmanager
def receiver(**options: Any) -> Iterator[Receiver]:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            box = state["box"]
            try:
                Webhook(box.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            with box.lock:
                status = box.answer_for(headers.get("webhook-id", "")) if verified else 401
                box.received.append(Received(time.time(), headers, body, verified, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box = state["box"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
