"""URLs linkgen downloads are hostile: no private addresses (first hop or any
redirect), few redirects, one deadline, only what is kept — against real
servers on loopback (127.0.0.2 plays the public internet where a test allows it)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from linkgen import fetch
from linkgen import site as sites
from linkgen.fetch import FetchFailed, Refused
from linkgen.pages import images
from tests.support.cli import Cli

PUBLIC = ["127.0.0.2/32"]  # the address the tests' "internet" server listens on


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), "teal").save(out, format="PNG")
    return out.getvalue()


class Server:
    """A loopback HTTP server answering each path with ``routes[path](handler)``."""

    def __init__(self, address: str, routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]):
        self.hits: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.hits[self.path] += 1
                route = routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                route(self)

        self.http = ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def body(data: bytes, kind: str = "image/png") -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", to)
        handler.end_headers()

    return answer


@pytest.fixture
def secret() -> Iterator[Server]:
    """A service only this machine should reach (an admin API, cloud metadata...)."""
    server = Server("127.0.0.1", {"/secret.png": body(png())})
    yield server
    server.close()


@pytest.fixture
def internet(secret: Server) -> Iterator[Server]:
    hops = {f"/hop{n}": redirect(f"/hop{n + 1}") for n in range(10)}
    server = Server(
        "127.0.0.2",
        {
            "/a.png": body(png()),
            "/to-secret": redirect(f"{secret.url}/secret.png"),
            "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
            **hops,
            "/hop3": body(png()),  # three redirects, then the image
        },
    )
    yield server
    server.close()


def test_a_private_address_is_refused_before_any_request(secret: Server) -> None:
    with pytest.raises(Refused, match="private or local address"):
        images.fetch(f"{secret.url}/secret.png")
    assert secret.hits["/secret.png"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://localhost:9/",
        "http://[::1]:9/",
        "http://0.0.0.0:9/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",  # shared address space
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://[::ffff:127.0.0.1]:9/",  # IPv4 mapped into IPv6
        "http://[fe80::1]/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
    ],
)
def test_every_kind_of_address_that_is_not_public_is_refused(url: str) -> None:
    with pytest.raises(Refused):
        fetch.get(url, max_bytes=1000)


def test_a_redirect_to_a_private_address_is_refused(internet: Server, secret: Server) -> None:
    assert images.fetch(f"{internet.url}/a.png", PUBLIC)  # the public server is fetched
    with pytest.raises(Refused, match="private or local address"):
        images.fetch(f"{internet.url}/to-secret", PUBLIC)
    with pytest.raises(Refused):
        images.fetch(f"{internet.url}/to-metadata", PUBLIC)
    assert secret.hits["/secret.png"] == 0


def test_at_most_five_redirects_are_followed(internet: Server) -> None:
    assert images.fetch(f"{internet.url}/hop0", PUBLIC)  # 3 redirects: fine
    with pytest.raises(Refused, match="more than 5 redirects"):
        images.fetch(f"{internet.url}/hop4", PUBLIC)
    assert sum(internet.hits[f"/hop{n}"] for n in range(4, 11)) == 6  # the first + 5


def test_a_trickling_server_is_cut_off_at_the_deadline() -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        try:
            for _ in range(1000):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    server = Server("127.0.0.2", {"/slow": trickle})
    started = time.monotonic()
    with pytest.raises(FetchFailed, match=r"took longer than 1\.5 s"):
        fetch.get(f"{server.url}/slow", max_bytes=10_000, allow=PUBLIC, deadline=1.5)
    assert time.monotonic() - started < 4
    server.close()


def linktree(base: str, links: list[dict[str, object]], avatar: str) -> str:
    props = {
        "account": {"username": "nova", "pageTitle": "Nova", "profilePictureUrl": avatar},
        "username": "nova",
        "links": links,
    }
    data = json.dumps({"props": {"pageProps": props}})
    return f'<html><body><script id="__NEXT_DATA__" type="application/json">{data}</script>'


def allow_public(site: sites.Site) -> None:
    with (site.root / "linkgen.toml").open("a", encoding="utf-8") as settings:
        settings.write(f"\n[fetch]\nallow_networks = {json.dumps(PUBLIC)}\n")


def test_an_imported_page_cannot_make_linkgen_fetch_a_private_service(
    run: Cli, site: sites.Site, secret: Server, tmp_path: Path
) -> None:
    allow_public(site)
    page = tmp_path / "nova.html"
    links = [{"id": 1, "type": "CLASSIC", "title": "Shop", "position": 0,
              "url": "https://shop.example.com",
              "modifiers": {"thumbnailUrl": f"{secret.url}/secret.png"}}]  # fmt: skip
    page.write_text(linktree("", links, avatar=f"{secret.url}/secret.png"))
    result = run("import-linktree", str(page))
    assert "left out the avatar" in result.stderr and "private or local address" in result.stderr
    assert "left out the thumbnail of 'Shop'" in result.stderr
    assert secret.hits["/secret.png"] == 0
    nova = site.content.get("nova")
    assert nova.avatar is None and nova.links[0].thumbnail is None
    assert not site.media_dir.exists() or not any(site.media_dir.iterdir())


def test_only_the_thumbnails_of_kept_links_are_fetched(
    run: Cli, site: sites.Site, internet: Server, tmp_path: Path
) -> None:
    allow_public(site)
    links: list[dict[str, object]] = [
        {"id": n, "type": "CLASSIC", "title": f"Link {n}", "position": n,
         "url": f"https://example.com/{n}" if n % 10 else "javascript:alert(1)",
         "modifiers": {"thumbnailUrl": f"{internet.url}/a.png?link={n}"}}
        for n in range(70)
    ]  # fmt: skip
    page = tmp_path / "nova.html"
    page.write_text(linktree("", links, avatar=f"{internet.url}/a.png?avatar"))
    result = run("import-linktree", str(page))
    assert "left out 13 links over the limit" in result.stderr  # 63 valid, 50 kept
    assert len(site.content.get("nova").links) == 50
    assert internet.hits["/a.png"] == 0  # every request carried a query string
    fetched = [path for path in internet.hits if path.startswith("/a.png?link=")]
    assert len(fetched) == 50 and internet.hits["/a.png?avatar"] == 1


def test_an_imported_page_brings_only_images_from_its_own_folder(
    run: Cli, site: sites.Site, tmp_path: Path
) -> None:
    private = tmp_path / "private"
    private.mkdir()
    (private / "x.png").write_bytes(png())
    folder = tmp_path / "pages" / "littlelink"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "avatar.png").write_bytes(png())
    answers = {}
    for name, avatar in (
        ("exists", "../../private/x.png"),
        ("missing", "../../private/nope.png"),
        ("absolute", str(private / "x.png")),
        ("own", "images/avatar.png"),
    ):
        page = folder / f"{name}.html"
        page.write_text(
            f'<html><body><img class="avatar" src="{avatar}"><h1>{name}</h1>'
            '<a class="button" href="https://example.com">Site</a></body></html>'
        )
        answers[name] = run("import-littlelink", str(page), "--username", name).stderr
    refused = "is not in the page's own folder"
    assert refused in answers["exists"] and refused in answers["missing"]  # says nothing more
    assert refused in answers["absolute"]
    assert site.content.get("exists").avatar is None
    assert site.content.get("missing").avatar is None
    assert site.content.get("own").avatar is not None
