"""Small pictures made on the spot, for uploads, avatars and thumbnails."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def image_bytes(
    colour: tuple[int, int, int], size: tuple[int, int] = (300, 300), fmt: str = "PNG"
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def picture_file(path: Path, colour: tuple[int, int, int]) -> Path:
    """A 300x300 PNG of one colour at ``path``."""
    path.write_bytes(image_bytes(colour))
    return path
