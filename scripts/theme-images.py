"""Draw the background images of the built-in image themes (themes/images/).

The images are committed; this script is how they were made, so anyone can
change one and draw it again:

    .venv/bin/python scripts/theme-images.py

The page shows them under a veil of 82 % of the theme's background colour
(so text keeps its contrast over any pixel), so they are drawn bold. Each is
smooth shapes only (no noise, which WebP cannot compress), drawn at
1200x1600 — portrait, as most visitors hold their phone — and written as WebP.
The build checks and re-encodes them like any other image.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parents[1] / "themes" / "images"
SIZE = (1200, 1600)


def dunes() -> Image.Image:
    """Layered sand dunes, light at the top and warmer towards the bottom."""
    image = Image.new("RGB", SIZE, "#f4e9d8")
    pen = ImageDraw.Draw(image)
    shades = ["#e8d2ad", "#dcbb8a", "#cda06a", "#bb8550", "#a66c3a"]
    width, height = SIZE
    for layer, shade in enumerate(shades):
        base = height * (0.3 + 0.14 * layer)
        phase = layer * 1.7
        points = [
            (x, base + 60 * math.sin(x / 210 + phase) + 25 * math.sin(x / 77 + 2 * phase))
            for x in range(0, width + 10, 10)
        ]
        pen.polygon([*points, (width, height), (0, height)], fill=shade)
    return image.filter(ImageFilter.GaussianBlur(2))


def waves() -> Image.Image:
    """Deep-sea bands of colour, rolling from the top left."""
    image = Image.new("RGB", SIZE, "#0a1a2f")
    pen = ImageDraw.Draw(image)
    shades = ["#12345e", "#184a82", "#1f61a3", "#2979c2", "#3591dc", "#46a8ef"]
    width, height = SIZE
    for layer, shade in enumerate(shades):
        base = height * (0.12 + 0.15 * layer)
        points = [
            (x, base + 90 * math.sin(x / 260 + layer * 0.9) + 30 * math.cos(x / 120 + layer))
            for x in range(0, width + 10, 10)
        ]
        pen.polygon([*points, (width, height), (0, height)], fill=shade)
    return image.filter(ImageFilter.GaussianBlur(6))


def bokeh() -> Image.Image:
    """Out-of-focus lights on a dark plum ground."""
    image = Image.new("RGB", SIZE, "#1c0f24")
    lights = Image.new("RGB", SIZE, "#1c0f24")
    pen = ImageDraw.Draw(lights)
    rng = random.Random(7)
    colours = ["#ff7ab8", "#b06cff", "#6f8bff", "#ffa86b", "#ff5f9e"]
    for _ in range(38):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        radius = rng.randrange(40, 170)
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.choice(colours))
    blurred = lights.filter(ImageFilter.GaussianBlur(28))
    return Image.blend(image, blurred, 0.85)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in (("dunes", dunes), ("waves", waves), ("bokeh", bokeh)):
        path = OUT / f"{name}.webp"
        draw().save(path, format="WEBP", quality=80, method=6)
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
