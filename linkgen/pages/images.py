"""Avatars and thumbnails: checked, cut to the size the page shows, re-encoded.

An image comes from a file or a URL. Pillow sniffs its format from its bytes
(never the file name), refuses anything but JPEG, PNG, WebP and GIF, refuses
images over a pixel cap before decoding them (decompression bombs), decodes
it fully (a truncated file is refused, not half-shown), turns it upright from
its EXIF orientation, then crops it square at twice the size the page draws
it and re-encodes it as WebP — no EXIF, GPS or other metadata survives.

The result is stored by content hash in ``site_data/media/`` and referred to
as ``/_m/<hash>.webp``; the build copies it into ``build/_m/``, which the
publisher uploads with a one-year immutable cache header.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from linkgen.errors import InvalidInput

if TYPE_CHECKING:
    from PIL import Image as PILImage

Purpose = Literal["avatar", "thumbnail", "card", "background", "embed", "cover"]
# 2x the CSS pixels the page draws; a social image is what link previews show.
SIZES: dict[Purpose, tuple[int, int]] = {
    "avatar": (192, 192),
    "thumbnail": (80, 80),
    "card": (1200, 630),
    "background": (1600, 1600),  # the longest side; not cropped
    "embed": (640, 360),  # a video's facade (320 x 180 on the page)
    "cover": (192, 192),  # an album's or a track's facade (96 x 96)
}
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: any phone photo, no bomb


class ImageRefused(InvalidInput):
    """The file is not an image linkgen accepts; says why."""


@dataclass(frozen=True)
class MediaFile:
    name: str  # <hash>.webp
    data: bytes
    width: int
    height: int

    @property
    def ref(self) -> str:
        return f"/_m/{self.name}"


def ingest(data: bytes, purpose: Purpose, *, source: str = "image") -> MediaFile:
    """Check an uploaded or downloaded image and turn it into what the page uses."""
    from PIL import Image, ImageOps

    if len(data) > MAX_BYTES:
        raise ImageRefused(f"{source}: {len(data):,} bytes; the limit is {MAX_BYTES:,}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _decode(data, source)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused(
                f"{source}: too many pixels (over {MAX_PIXELS:,}); refused as a possible "
                "decompression bomb"
            ) from None
    size = SIZES[purpose]
    out = io.BytesIO()
    try:
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "RGBA"):
            has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        if purpose == "background":
            fitted = ImageOps.contain(image, size, method=Image.Resampling.LANCZOS)
            size = fitted.size
        else:
            fitted = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
        if purpose == "card":  # og:image: JPEG, the one format every preview reads
            fitted.convert("RGB").save(out, format="JPEG", quality=88)
        else:
            fitted.save(out, format="WEBP", quality=82, method=4)  # no exif= given: none
    except (OSError, SyntaxError, ValueError) as exc:  # damaged metadata
        raise ImageRefused(f"{source}: the image data is damaged ({exc})") from None
    encoded = out.getvalue()
    suffix = "jpg" if purpose == "card" else "webp"
    name = f"{hashlib.sha256(encoded).hexdigest()[:24]}.{suffix}"
    return MediaFile(name, encoded, *size)


def _decode(data: bytes, source: str) -> PILImage.Image:
    from PIL import Image, UnidentifiedImageError

    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        try:
            probe = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageRefused(
                f"{source}: not an image (JPEG, PNG, WebP or GIF expected)"
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:  # a header cut short
            raise ImageRefused(f"{source}: the image data is damaged ({exc})") from None
        if probe.format not in FORMATS:
            raise ImageRefused(
                f"{source}: {probe.format} images are not accepted (JPEG, PNG, WebP or GIF)"
            )
        width, height = probe.size
        if width * height > MAX_PIXELS:
            raise ImageRefused(
                f"{source}: {width}x{height} is too many pixels (limit {MAX_PIXELS:,}); "
                "refused as a possible decompression bomb"
            )
        try:
            probe.load()  # every byte decoded now: a truncated file fails here
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRefused(f"{source}: the {probe.format} data is damaged ({exc})") from None
        return probe
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def read_source(value: str, allow: Sequence[str] = ()) -> tuple[bytes, str]:
    """The bytes of a local file or an http(s) URL, and a name for messages
    (``allow``: private networks a fetch may reach, see ``fetch``)."""
    if value.startswith(("https://", "http://")):
        return fetch(value, allow), value
    path = Path(value).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageRefused(f"{value}: {size:,} bytes; the limit is {MAX_BYTES:,}")
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise InvalidInput(f"{value}: no such file (give a file or an https:// URL)") from None
    except IsADirectoryError:
        raise InvalidInput(f"{value}: is a directory, not an image") from None
    except OSError as exc:
        raise InvalidInput(f"{value}: {exc.strerror or exc}") from None


def fetch(url: str, allow: Sequence[str] = ()) -> bytes:
    """Download an image (see ``linkgen.fetch``: public addresses only, a deadline,
    a size cap, retries)."""
    from linkgen.fetch import TooLarge, get

    try:
        return get(url, max_bytes=MAX_BYTES, allow=allow)
    except TooLarge as exc:
        raise ImageRefused(str(exc)) from None


def save(media: MediaFile, media_dir: Path) -> str:
    """Keep it in the site's media directory (written once: the name is its content hash)."""
    from linkgen.fsutil import write_file

    target = media_dir / media.name
    if not target.exists():
        write_file(target, media.data)
    return media.ref
