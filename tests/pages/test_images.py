from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from linkgen import site as sites
from linkgen.build import build
from linkgen.fetch import FetchFailed
from linkgen.pages import images
from linkgen.pages.images import ImageRefused, ingest
from tests.support.cli import Cli
from tests.support.html import page, parse


def encoded(fmt: str, size: tuple[int, int] = (300, 200), mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 60, 30) if mode == "RGB" else None).save(out, format=fmt, **save)
    return out.getvalue()


def phone_photo() -> bytes:
    """A JPEG as a phone writes it: EXIF orientation (rotate 90°) and a GPS position."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    return encoded("JPEG", (400, 200), exif=exif.tobytes())


@pytest.mark.parametrize(
    "data", [phone_photo(), encoded("PNG", mode="RGBA"), encoded("WEBP"), encoded("GIF", mode="P")]
)
def test_a_valid_image_becomes_a_small_webp_without_metadata(data: bytes) -> None:
    media = ingest(data, "avatar")
    result = Image.open(io.BytesIO(media.data))
    assert (
        (result.format, result.size)
        == ("WEBP", (192, 192))
        == ("WEBP", (media.width, media.height))
    )
    assert not result.getexif() and b"PhoneMaker" not in media.data and b"Exif" not in media.data
    assert media.ref == f"/_m/{media.name}" and media.name.endswith(".webp")


def test_thumbnails_are_cut_to_their_own_size() -> None:
    assert ingest(encoded("PNG"), "thumbnail").width == 80


def test_a_truncated_file_is_refused() -> None:
    whole = phone_photo()
    with pytest.raises(ImageRefused, match=r"photo.jpg: the JPEG data is damaged"):
        ingest(whole[: len(whole) // 2], "avatar", source="photo.jpg")


def test_the_format_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "photo.jpg"
    misnamed.write_bytes(encoded("PNG"))
    data, source = images.read_source(str(misnamed))
    assert ingest(data, "avatar", source=source).width == 192  # a PNG, whatever its name
    fake = tmp_path / "photo.png"
    fake.write_text("<svg onload=alert(1)>")
    data, source = images.read_source(str(fake))
    with pytest.raises(ImageRefused, match=r"photo.png: not an image"):
        ingest(data, "avatar", source=source)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = encoded("PNG", (20_000, 20_000), mode="1")  # small file, 400 megapixels
    assert len(bomb) < 2_000_000
    with pytest.raises(ImageRefused, match=r"too many pixels"):
        ingest(bomb, "avatar")


def test_other_formats_are_refused() -> None:
    with pytest.raises(ImageRefused, match=r"BMP images are not accepted"):
        ingest(encoded("BMP"), "avatar")


class _Images(BaseHTTPRequestHandler):
    failures_left = 1

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/flaky.png" and _Images.failures_left:
            _Images.failures_left -= 1
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        if self.path in ("/a.png", "/flaky.png"):
            body = encoded("PNG")
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_error(404)


LOOPBACK = ["127.0.0.0/8"]  # the test server's network, allowed as a self-hoster would


@pytest.fixture
def image_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_images_are_fetched_with_a_retry_and_clear_errors(image_server: str) -> None:
    assert ingest(images.fetch(f"{image_server}/a.png", LOOPBACK), "avatar").width == 192
    _Images.failures_left = 1
    assert images.fetch(f"{image_server}/flaky.png", LOOPBACK)  # a 503 first, then the image
    with pytest.raises(FetchFailed, match=r"missing.png: the server answered 404"):
        images.fetch(f"{image_server}/missing.png", LOOPBACK)


def test_an_avatar_from_a_file_reaches_the_page_and_the_build(
    run: Cli, site: sites.Site, add_profile: Any, tmp_path: Path
) -> None:
    add_profile("alice")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(phone_photo())
    run("profile", "set", "alice", "--avatar", str(photo))
    ref = site.content.get("alice").avatar
    assert ref is not None and ref.startswith("/_m/")
    build(site)
    avatar = parse(page(site, "alice")).find(".//img[@class='avatar']")
    assert avatar.get("src").endswith(ref) and (avatar.get("width"), avatar.get("height")) == (
        "96",
        "96",
    )
    assert (site.build_dir / ref.lstrip("/")).read_bytes() == (
        site.media_dir / ref[4:]
    ).read_bytes()


def test_a_bad_upload_is_a_clear_error_and_changes_nothing(
    run: Cli, site: sites.Site, add_profile: Any, tmp_path: Path
) -> None:
    before = add_profile("alice")
    broken = tmp_path / "me.jpg"
    broken.write_bytes(phone_photo()[:500])
    result = run("profile", "set", "alice", "--avatar", str(broken), code=1)
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert site.content.get("alice") == before and not site.media_dir.exists()
    assert "no such file" in run("profile", "set", "alice", "--avatar", "nope.png", code=1).stderr


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4000), st.integers(min_value=0, max_value=4000))
def test_any_bytes_give_an_image_or_a_clear_refusal(noise: bytes, cut: int) -> None:
    for data in (noise, phone_photo()[:cut] + noise, encoded("PNG")[:cut] + noise):
        try:
            assert ingest(data, "thumbnail").width == 80
        except ImageRefused as refused:
            assert str(refused)
