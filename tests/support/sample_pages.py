"""Three sample profiles for the page checks (accessibility, Lighthouse, page weight).

- ``mika``: 10 links and 5 social icons, the follow-the-system ``auto`` theme;
- ``fifty``: 50 links, the ``waves`` theme (a background image), one link behind a 21+ warning;
- ``layla``: long right-to-left (Arabic) and CJK text, the ``auto-serif`` theme, in Arabic.
"""

from __future__ import annotations

from linkgen import site as sites
from linkgen.models import NewLink, NewProfile, validate

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
SAMPLES = ("mika", "fifty", "layla")


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
    return list(SAMPLES)
