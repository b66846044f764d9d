"""Three sample profiles for the page checks (accessibility, Lighthouse, page weight).

- ``mika``: 10 links and 5 social icons, the follow-the-system ``auto`` theme;
- ``fifty``: 50 links, the ``waves`` theme (a background image), one link behind a 21+ warning;
- ``layla``: long right-to-left (Arabic) and CJK text, the ``auto-serif`` theme, in Arabic;
- ``nova``: every block: 10 links, a header, a text, a group, a divider, a featured link,
  3 embeds (with their thumbnails, as a build fetches them), a contact card and an
  e-mail sign-up form (drawn where the site has a redirector to post it to:
  ``add_signup_sample``'s site).
"""

from __future__ import annotations

import io
from pathlib import Path

from linkgen import site as sites
from linkgen.models import NewLink, NewProfile, validate
from linkgen.pages import images

SOCIALS = [
    ("Instagram", "https://www.instagram.com/mika.makes"),
    ("TikTok", "https://www.tiktok.com/@mika.makes"),
    ("YouTube", "https://www.youtube.com/@mikamakes"),
    ("X", "https://x.com/mikamakes"),
    ("GitHub", "https://github.com/mikamakes"),
]
ARABIC_BIO = (
    "مصممة جرافيك ورسامة من عمّان. أعمل على الكتب المصورة للأطفال، والملصقات الثقافية، "
    "وورش الخط العربي للمبتدئين. أحب القهوة والمكتبات القديمة والسفر بالقطار."
)
CJK_TITLES = [
    "新しい写真集「東京の夜」予約受付中",
    "我的播客：城市里的小故事（每周更新）",
    "서울 사진 산책 워크숍 신청하기",
    "旅の記録とフィルムカメラの話",
]
SAMPLES = ("mika", "fifty", "layla", "nova")
EMBEDS = (
    ("Live at the harbour (video)", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("Night Drive, the album", "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"),
    ("Studio diary", "https://vimeo.com/76979871"),
)


def add_samples(site: sites.Site) -> list[str]:
    store = site.content
    store.create_profile(
        validate(
            NewProfile,
            {
                "username": "mika",
                "display_name": "Mika Tanaka",
                "bio": "Ceramics, zines and slow travel. New pieces every first Sunday.",
                "theme": "auto",
            },
        )
    )
    for title, url in SOCIALS:
        store.add_link("mika", validate(NewLink, {"title": title, "url": url, "social": True}))
    for n in range(1, 11):
        link = {"title": f"Spring collection, part {n}", "url": f"https://shop.example.com/{n}"}
        store.add_link("mika", validate(NewLink, link))

    store.create_profile(
        validate(
            NewProfile,
            {"username": "fifty", "display_name": "Fifty Links", "theme": "waves"},
        )
    )
    for n in range(1, 51):
        link: dict[str, object] = {
            "title": f"Episode {n}: notes, links and show transcript",
            "url": f"https://podcast.example.com/episodes/{n}",
        }
        if n == 7:
            link["sensitive"] = "21+"
        store.add_link("fifty", validate(NewLink, link))

    store.create_profile(
        validate(
            NewProfile,
            {
                "username": "layla",
                "display_name": "ليلى حداد — رسامة ومصممة كتب الأطفال",
                "bio": ARABIC_BIO,
                "theme": "auto-serif",
                "language": "ar",
            },
        )
    )
    for n, title in enumerate(CJK_TITLES, start=1):
        url = f"https://books.example.com/{n}"
        store.add_link("layla", validate(NewLink, {"title": title, "url": url}))
    store.add_link(
        "layla",
        validate(
            NewLink,
            {
                "title": "متجر الملصقات والطبعات الفنية المحدودة",
                "url": "https://shop.example.com/prints",
            },
        ),
    )
    add_blocks_sample(site)
    return list(SAMPLES)


def _art(site: sites.Site, seed: int, purpose: images.Purpose) -> str:
    """A thumbnail as a build would have fetched and stored it."""
    from PIL import Image

    picture = Image.new("RGB", (640, 360), ((seed * 70) % 256, 90, (255 - seed * 50) % 256))
    data = io.BytesIO()
    picture.save(data, format="PNG")
    return images.save(images.ingest(data.getvalue(), purpose), site.media_dir)


def add_blocks_sample(site: sites.Site) -> None:
    store = site.content
    store.create_profile(validate(NewProfile, {
        "username": "nova", "display_name": "Nova Quartet", "theme": "default",
        "bio": "Jazz from the harbour town. New album out in spring.",
    }))  # fmt: skip

    def add(**item: object) -> None:
        store.add_link("nova", validate(NewLink, item))

    add(kind="featured", title="Pre-save the new album", url="https://music.example.com/pre-save")
    add(kind="text", body="Four friends, one old piano.\nWe play every Friday at the Anchor.")
    add(kind="header", title="Listen")
    for seed, (title, url) in enumerate(EMBEDS, start=1):
        add(title=title, url=url, embed=True)
        shape = "cover" if "spotify" in url else "embed"
        site.builds.record_art(url, _art(site, seed, shape), None, "2026-12-01T00:00:00Z")
    add(kind="header", title="Shows")
    for n in range(1, 6):
        add(title=f"Tickets: spring tour, night {n}", url=f"https://tickets.example.com/{n}")
    add(kind="group", title="Shop")
    for n in range(1, 5):
        add(title=f"Vinyl and prints, part {n}", url=f"https://shop.example.com/nova/{n}")
    add(kind="divider")
    add(title="Booking and press kit", url="https://nova.example.com/press")
    add(kind="contact", contact={
        "name": "Nova Quartet (booking)", "email": "booking@nova.example.com",
        "phone": "+44 20 7946 0018", "organisation": "Harbour Music Ltd",
        "url": "https://nova.example.com",
    })  # fmt: skip
    add(kind="signup", title="Get a letter before each tour")


def add_signup_sample(root: Path) -> sites.Site:
    """A site with a redirector, whose ``sol`` has a sign-up form among links."""
    site = sites.init(root)
    (root / "linkgen.toml").write_text(
        '[site]\nurl = "https://links.example.com"\n'
        '[redirector]\nbase_url = "https://go.example.com"\n'
    )
    site.close()
    site = sites.Site.open(root)
    store = site.content
    store.create_profile(validate(NewProfile, {"username": "sol", "display_name": "Sol Ray"}))
    for item in (
        {"title": "New single", "url": "https://music.example.com/sol"},
        {"kind": "signup", "title": "Get my monthly letter"},
        {"title": "Tour dates", "url": "https://tour.example.com/sol"},
    ):
        store.add_link("sol", validate(NewLink, item))
    return site
