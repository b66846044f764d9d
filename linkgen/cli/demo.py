"""The embedded demo: a few sample creators, so a new site shows something real."""

from __future__ import annotations

from typing import Any

from linkgen.models import NewLink, NewProfile, validate
from linkgen.site import Site

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


def seed(site: Site) -> list[str]:
    """Add the sample creators that are not there yet; return their usernames."""
    batch = []
    for sample in SAMPLES:
        if site.content.exists(sample["username"]):
            continue
        fields = {k: v for k, v in sample.items() if k != "links"}
        profile = validate(NewProfile, fields)
        links = [validate(NewLink, {"title": t, "url": u}) for t, u in sample["links"]]
        batch.append((profile, links))
    site.exchange.bulk_create(batch)
    return [profile.username for profile, _ in batch]
