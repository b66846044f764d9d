"""A relaying HTTP proxy on loopback, for looking at (or breaking) S3 traffic.

Every request goes to ``hook(handler, body_length)`` first; if the hook
returns True it has answered (a fault, say) and the request is not relayed.
A hook that reads the body must leave it in ``handler.body``.
Used by bench/publish_bench.py to count requests and by the tests to inject
throttling and connection resets.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Hook = Callable[[BaseHTTPRequestHandler, int], bool]


class RelayProxy:
    def __init__(
        self,
        upstream: str,
        hook: Hook,
        *,
        latency: float = 0.0,
        answered: Callable[[BaseHTTPRequestHandler], None] | None = None,
    ) -> None:
        """``latency``: seconds added to every relayed request, like a real network's RTT;
        ``answered(handler)``: called once upstream's answer is read, before it is sent
        on (a slow origin waits there)."""
        parts = urlsplit(upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_expect_100(self) -> bool:
                return True  # answered below, once the hook has had its say

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if hook(self, length):
                    return
                if self.headers.get("Expect", "").lower() == "100-continue":
                    self.send_response_only(100)
                    self.end_headers()
                if latency:
                    time.sleep(latency)
                body = self.__dict__.pop("body", None)  # a hook may have read it
                if body is None:
                    body = self.rfile.read(length) if length else b""
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if answered is not None:
                    answered(self)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                # A HEAD answer has no body but says how long the object is.
                size = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", size or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PURGE = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> bool:
    """Answer a request from a hook (and tell the proxy not to relay it)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    return True
