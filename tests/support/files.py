"""A loopback web server of fixed answers that counts what it was asked."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


class Answer(NamedTuple):
    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200


class Files:
    """``answers`` by path (query included); any other path is a 404."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.asked: Counter[str] = Counter()
        self.base = ""

    def put(self, path: str, body: bytes | str, content_type: str = "text/html") -> str:
        data = body.encode() if isinstance(body, str) else body
        self.answers[path] = Answer(data, content_type)
        return self.base + path


@contextmanager
def serving() -> Iterator[Files]:
    files = Files()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            files.asked[self.path] += 1
            path = self.path if self.path in files.answers else self.path.split("?")[0]
            answer = files.answers.get(path)
            if answer is None:
                self.send_error(404)
                return
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    files.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield files
    finally:
        server.shutdown()
        server.server_close()
