"""The local preview server and watch mode, over real HTTP on loopback."""

from __future__ import annotations

import http.client
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.models import ProfileFields
from linkgen.preview.serve import RELOAD_PATH, PreviewServer, ReloadSignal, make_server
from linkgen.preview.watch import watch
from tests.support.servers import wait_for


@pytest.fixture
def preview(site: sites.Site, add_profile: Any) -> Iterator[PreviewServer]:
    add_profile("alice", ("Shop", "https://example.com"), display_name="Alice")
    build(site)
    server = make_server(site.build_dir, port=0, reload=ReloadSignal())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def get(server: PreviewServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=5)
    conn.request(method, path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def test_pages_are_served_as_html_without_an_extension(preview: PreviewServer) -> None:
    assert preview.server_address[0] == "127.0.0.1"
    status, headers, body = get(preview, "/alice")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<h1 dir="auto">Alice</h1>' in body
    assert RELOAD_PATH.encode() in body  # live reload only in the preview
    status, headers, body = get(preview, "/alice", "HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


def test_site_files_index_and_errors(preview: PreviewServer) -> None:
    assert get(preview, "/sitemap.xml")[1]["Content-Type"].startswith("application/xml")
    assert get(preview, "/robots.txt")[1]["Content-Type"] == "text/plain; charset=utf-8"
    status, _, body = get(preview, "/")
    assert status == 200 and b'href="/alice"' in body
    status, headers, _ = get(preview, "/alice/")
    assert (status, headers["Location"]) == (301, "/alice")
    for path in ("/nobody", "/../linkgen.toml", "/%2e%2e/linkgen.toml", "/.linkgen-build", "//etc"):
        status, _, body = get(preview, path)
        assert status == 404, path
        assert b"Page not found" in body


@pytest.mark.parametrize(
    "path", ["/%2Fevil.example/", "//evil.example/", "/%2F%2Fevil.example/", "/\\evil.example/"]
)
def test_a_trailing_slash_redirect_never_leaves_the_site(preview: PreviewServer, path: str) -> None:
    status, headers, _ = get(preview, path)
    assert status == 301
    location = headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert urllib.parse.urlsplit(location).netloc == ""


def test_a_redirect_cannot_carry_a_header_of_its_own(preview: PreviewServer) -> None:
    status, headers, _ = get(preview, "/alice%0d%0aSet-Cookie:%20x=1/")
    assert status == 301 and "Set-Cookie" not in headers and "\r" not in headers["Location"]


def test_watch_rebuilds_after_an_edit_and_tells_the_preview(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", display_name="Before")
    stop = threading.Event()
    reports: list[Any] = []
    errors: list[Any] = []
    thread = threading.Thread(
        target=watch,
        kwargs={
            "root": site.root,
            "on_build": reports.append,
            "on_error": errors.append,
            "stop": stop,
            "debounce": 0.05,
        },
        daemon=True,
    )
    thread.start()
    try:
        wait_for(lambda: (site.build_dir / "alice").exists())
        site.content.update_profile("alice", ProfileFields(display_name="After"))
        wait_for(lambda: "After" in (site.build_dir / "alice").read_text())
        (site.root / "templates" / "profile.html").write_text("{{ name }} custom")
        wait_for(lambda: (site.build_dir / "alice").read_text() == "After custom")
        (site.root / "templates" / "profile.html").write_text("{% broken")
        wait_for(lambda: bool(errors))
        assert "profile.html" in str(errors[0]) or "template" in str(errors[0]).lower()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert any("alice" in report.rendered for report in reports)


def test_reload_signal_wakes_waiters() -> None:
    signal = ReloadSignal()
    seen = signal.generation
    threading.Timer(0.05, signal.bump).start()
    assert signal.wait(seen, timeout=5) == seen + 1


def start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start a real ``linkgen`` process and return it with the URL it serves."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "linkgen", *args, "--port", "0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    assert match, line
    return proc, match.group(1)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_the_serve_command_previews_the_build(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", display_name="Alice")
    build(site)
    proc, url = start(["serve"], site.root)
    try:
        assert '<h1 dir="auto">Alice</h1>' in fetch(url + "/alice")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_the_watch_command_rebuilds_and_serves(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", display_name="Before")
    proc, url = start(["watch"], site.root)
    try:
        wait_for(lambda: "Before" in fetch(url + "/alice"))
        site.content.update_profile("alice", ProfileFields(display_name="After"))
        wait_for(lambda: "After" in fetch(url + "/alice"))
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_the_preview_shows_every_image_on_any_port(site: sites.Site, tmp_path: Path) -> None:
    """[site] url says port 8000; the preview runs elsewhere and every picture shows."""
    import io

    from PIL import Image

    from tests.support.cli import Cli
    from tests.support.pictures import picture_file

    picture_file(tmp_path / "a.png", (10, 120, 200))
    run = Cli(site.root)
    run("profile", "add", "ada", "--avatar", str(tmp_path / "a.png"))
    run(
        "link",
        "add",
        "ada",
        "Shop",
        "https://shop.example.com/",
        "--thumbnail",
        str(tmp_path / "a.png"),
    )
    run("build")
    server = make_server(site.build_dir, port=0, reload=ReloadSignal())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert server.server_address[1] != 8000
        _, _, page = get(server, "/ada")
        sources = re.findall(rb'<img[^>]* src="([^"]+)"', page)
        assert len(sources) >= 2
        for src in sources:
            assert src.startswith(b"/_m/"), src  # by path: whatever the host and port
            status, headers, body = get(server, src.decode())
            assert status == 200 and headers["Content-Type"].startswith("image/"), src
            with Image.open(io.BytesIO(body)) as image:
                assert image.size[0] > 0
    finally:
        server.shutdown()
        server.server_close()
