"""``linkgen serve``: preview the build directory on 127.0.0.1.

Pages are extensionless files served as HTML, exactly as the bucket will
serve them. With live reload on (``linkgen watch``), HTML responses get a tiny
script that reloads the page after each rebuild; the built files never
contain it.
"""

from __future__ import annotations

import html
import logging
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

RELOAD_PATH = "/__linkgen/reload"
RELOAD_SCRIPT = (
    b'<script>new EventSource("' + RELOAD_PATH.encode() + b'").onmessage='
    b"function(){location.reload()}</script>"
)


class ReloadSignal:
    """A generation counter that preview pages wait on."""

    def __init__(self) -> None:
        self.generation = 0
        self._changed = threading.Condition()

    def bump(self) -> None:
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.generation != seen, timeout)
            return self.generation


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, reload: ReloadSignal | None = None):
        super().__init__(address, PreviewHandler)
        self.root = root
        self.reload = reload

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "linkgen-preview"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        if self.path == RELOAD_PATH and self.server.reload is not None:
            self._stream_reloads(self.server.reload)
            return
        self._respond(head=False)

    def _respond(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            return self._send(HTTPStatus.OK, "text/html; charset=utf-8", self._index(), head)
        if len(path) > 1 and path.endswith("/"):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            # One leading slash: "//evil.example" would send the browser to another site.
            self.send_header("Location", "/" + quote(path.strip("/"), safe="/@:+,;=-_.~"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        file = self._resolve(path)
        if file is None:
            missing = self.server.root / "404.html"
            body = missing.read_bytes() if missing.is_file() else b"not found"
            return self._send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", body, head)
        if file.suffix:
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("xml"):
                kind += "; charset=utf-8"
        else:
            kind = "text/html; charset=utf-8"
        return self._send(HTTPStatus.OK, kind, file.read_bytes(), head)

    def _resolve(self, path: str) -> Path | None:
        parts = path.lstrip("/").split("/")
        if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
            return None
        file = self.server.root.joinpath(*parts)
        return file if file.is_file() else None

    def _index(self) -> bytes:
        root = self.server.root
        names = (
            sorted(
                p.name for p in root.iterdir() if p.is_file() and not p.suffix and p.name[0] != "."
            )
            if root.is_dir()
            else []
        )
        items = "".join(
            f'<li><a href="/{html.escape(n)}">/{html.escape(n)}</a></li>' for n in names
        )
        return (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            "<title>linkgen preview</title><body style='font:16px system-ui;margin:2rem'>"
            f"<h1>linkgen preview</h1><p>{len(names)} pages in <code>{html.escape(str(root))}"
            f"</code></p><ul>{items}</ul></body></html>"
        ).encode()

    def _send(self, status: HTTPStatus, kind: str, body: bytes, head: bool) -> None:
        if self.server.reload is not None and kind.startswith("text/html"):
            body = body.replace(b"</body>", RELOAD_SCRIPT + b"</body>", 1)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _stream_reloads(self, reload: ReloadSignal) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen = reload.generation
        try:
            while True:
                now = reload.wait(seen, timeout=15)
                if now != seen:
                    self.wfile.write(b"data: reload\n\n")
                    seen = now
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


def make_server(
    root: Path, host: str = "127.0.0.1", port: int = 8000, reload: ReloadSignal | None = None
) -> PreviewServer:
    return PreviewServer((host, port), root, reload)
