"""The embedded demo: a few sample creators, so a new site shows the product as it
is meant to be seen — avatars and thumbnails (drawn here, nothing downloaded), a
social row, a scheduled link, a content warning, picture, dark and light themes,
and blocks: headers, a text, a group, a divider, a featured link, an embed (its
thumbnail drawn here too) and a contact card.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from linkgen.models import NewLink, NewProfile, validate
from linkgen.site import Site

# (initials, background, foreground) of each creator's drawn portrait.
PORTRAITS = {
    "ada": ("AO", (176, 84, 44), (255, 241, 228)),
    "kenji": ("YK", (30, 41, 89), (226, 232, 255)),  # Latin initials: the font Pillow
    "layla": ("LH", (110, 44, 74), (255, 232, 242)),  # ships has no CJK or Arabic
    "sam-rivera": ("SR", (36, 99, 79), (224, 255, 240)),
}
SOCIAL_HOSTS = ("instagram.com", "youtube.com", "x.com", "github.com", "twitch.tv", "linkedin.com")

SAMPLES: list[dict[str, Any]] = [
    {
        "username": "ada",
        "display_name": "Ada Okafor",
        "bio": "Ceramicist in Lagos. Small-batch stoneware, studio diaries, workshops.",
        "theme": "dunes",
        "links": [
            ("Shop the spring kiln", "https://example.com/shop"),
            ("Book a wheel-throwing workshop", "https://example.com/workshops"),
            ("Instagram", "https://www.instagram.com/example"),
            ("YouTube: studio diaries", "https://youtube.com/@example"),
            ("Email the studio", "mailto:studio@example.com"),
        ],
    },
    {
        "username": "kenji",
        "display_name": "山田 健二",
        "bio": "東京のフォトグラファー。Street photography, zines and film cameras.",
        "theme": "midnight",
        "language": "ja",
        "links": [
            ("写真集「夜の街」", "https://example.jp/zine"),
            ("Prints & commissions", "https://example.jp/prints"),
            ("GitHub: film-scanner tools", "https://github.com/example"),
            ("X / Twitter", "https://x.com/example"),
        ],
    },
    {
        "username": "layla",
        "display_name": "ليلى حداد",
        "bio": "كاتبة ومترجمة من بيروت — essays, translations and a weekly letter.",
        "theme": "paper",
        "language": "ar",
        "links": [
            ("النشرة الأسبوعية", "https://example.org/letter"),
            ("Latest essay: on translating silence", "https://example.org/essays/silence"),
            ("LinkedIn", "https://www.linkedin.com/in/example"),
            ("Call the agency", "tel:+9611234567"),
        ],
    },
    {
        "username": "sam-rivera",
        "display_name": "Sam Rivera",
        "bio": "Indie game dev. Currently making a cozy farming game about moths.",
        "theme": "bokeh",
        "links": [
            ("Wishlist Mothfields", "https://store.example.com/mothfields"),
            ("Devlog", "https://example.dev/devlog"),
            ("Twitch", "https://www.twitch.tv/example"),
            ("Discord community", "https://discord.gg/example"),
            ("Press kit", "https://example.dev/press"),
            ("Support me on Ko-fi", "https://ko-fi.com/example"),
        ],
    },
]


def _png(draw: Any, size: tuple[int, int], background: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, background)
    draw(ImageDraw.Draw(image), size)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _portrait(username: str) -> bytes:
    from PIL import ImageFont

    initials, background, foreground = PORTRAITS[username]

    def draw(pen: Any, size: tuple[int, int]) -> None:
        width, height = size
        pen.ellipse(
            (-width // 3, height * 5 // 8, width, height * 3 // 2),
            fill=tuple((f + b) // 2 for f, b in zip(foreground, background, strict=True)),
        )
        font = ImageFont.load_default(size=width // 3)
        pen.text((width / 2, height * 0.4), initials, fill=foreground, font=font, anchor="mm")

    return _png(draw, (384, 384), background)


def _tile(number: int, colour: tuple[int, int, int]) -> bytes:
    """A small abstract picture for a link: rings and a bar, different for each."""

    def draw(pen: Any, size: tuple[int, int]) -> None:
        width, height = size
        for ring in range(3):
            inset = 12 + ring * 18 + number * 3
            pen.ellipse(
                (inset, inset, width - inset, height - inset), outline=(255, 255, 255), width=6
            )
        pen.rectangle((0, height - 28, width * (number % 4 + 1) // 4, height), fill=(255, 255, 255))

    return _png(draw, (160, 160), colour)


def _pictures(site: Site, username: str) -> tuple[str, list[str]]:
    """The creator's avatar and two link thumbnails, stored like uploads."""
    from linkgen.pages import images

    def stored(data: bytes, purpose: images.Purpose) -> str:
        return images.save(images.ingest(data, purpose, source=f"demo {purpose}"), site.media_dir)

    _, background, _ = PORTRAITS[username]
    avatar = stored(_portrait(username), "avatar")
    thumbs = [stored(_tile(n, background), "thumbnail") for n in (1, 2)]
    return avatar, thumbs


def _links(sample: dict[str, Any], thumbs: list[str]) -> list[NewLink]:
    """The sample's links: social networks in the icon row, the first two with a
    thumbnail, a sale that ends in a month, and, for one creator, a link behind a
    content warning."""
    links = []
    for n, (title, url) in enumerate(sample["links"]):
        values: dict[str, Any] = {"title": title, "url": url}
        if any(host in url for host in SOCIAL_HOSTS):
            values["social"] = True
        elif n < len(thumbs):
            values["thumbnail"] = thumbs[n]
        links.append(validate(NewLink, values))
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    sale = {"title": "Spring sale (this month only)", "url": sample["links"][0][1] + "/sale"}
    links.append(validate(NewLink, {**sale, "ends_at": ends}, strict=False))
    if sample["username"] == "kenji":
        night = {"title": "Night series (mature themes)", "url": "https://example.jp/night"}
        links.append(validate(NewLink, {**night, "sensitive": "18+"}))
    return links


# Blocks the demo adds to two creators: (kind, position, fields); an embed's
# thumbnail is drawn here and kept as a build would have fetched it.
BLOCKS: dict[str, list[tuple[int, dict[str, Any]]]] = {
    "sam-rivera": [
        (1, {"kind": "text", "body": "A cozy farming game about moths.\nOut in spring."}),
        (2, {"kind": "header", "title": "Watch"}),
        (3, {"title": "Mothfields: the trailer", "url": "https://www.youtube.com/watch?v=aqz-KE-bpKQ",
             "embed": True}),
        (4, {"kind": "group", "title": "Community"}),
        (8, {"kind": "divider"}),
        (9, {"kind": "contact", "contact": {"name": "Sam Rivera (press)",
             "email": "press@example.dev", "organisation": "Moth Games"}}),
    ],
    "ada": [
        (2, {"kind": "header", "title": "Find me"}),
        (9, {"kind": "contact", "contact": {"name": "Ada Okafor Studio",
             "email": "studio@example.com", "phone": "+234 1 555 0100"}}),
    ],
}  # fmt: skip


def _with_blocks(site: Site, username: str, links: list[NewLink]) -> list[NewLink]:
    """The sample's links with its blocks among them (sam's first link featured)."""
    items = list(links)
    if items and not items[0].social and username == "sam-rivera":
        items[0] = items[0].model_copy(update={"kind": "featured"})
    for position, fields in BLOCKS.get(username, []):
        item = validate(NewLink, fields)
        items.insert(min(position, len(items)), item)
        if item.embed and item.url:
            from PIL import Image

            from linkgen.pages import images

            out = io.BytesIO()
            Image.new("RGB", (640, 360), PORTRAITS[username][1]).save(out, format="PNG")
            art = images.save(images.ingest(out.getvalue(), "embed"), site.media_dir)
            site.builds.record_art(item.url, art, None, "2026-12-01T00:00:00Z")
    return items


def seed(site: Site) -> list[str]:
    """Add the sample creators that are not there yet; return their usernames."""
    batch = []
    for sample in SAMPLES:
        if site.content.exists(sample["username"]):
            continue
        avatar, thumbs = _pictures(site, sample["username"])
        fields = {k: v for k, v in sample.items() if k != "links"}
        profile = validate(NewProfile, {**fields, "avatar": avatar})
        links = _with_blocks(site, sample["username"], _links(sample, thumbs))
        batch.append((profile, links))
    site.exchange.bulk_create(batch)
    return [profile.username for profile, _ in batch]
