"""Synthetic sites for benchmarks: N profiles with 3-30 links (mean about 10).

With ``--blocks``, the same profiles and links, and blocks among them in the
proportions of BLOCKS (a header on a third of the profiles, a text on a
quarter, embeds on a fifth, …), drawn from a random stream of their own so the
links are exactly those of the site without blocks.

Text mixes Latin, CJK, Arabic, Cyrillic, Devanagari and emoji, URLs point at
real-world shapes (social networks, shops, mail, phone). Deterministic for a
given seed. Profiles go in through the store's bulk path, so they are
validated exactly like any other input.

    python bench/synth.py SITE_DIR --profiles 10000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkgen import site as sites
from linkgen.models import Contact, NewLink, NewProfile

FIRST = [
    "Ada",
    "Kenji",
    "Layla",
    "Sam",
    "Priya",
    "Olu",
    "Mateo",
    "Yuki",
    "Ines",
    "Tomás",
    "Anya",
    "Kwame",
    "Mei",
    "Noor",
    "Lars",
    "Zanele",
    "Diego",
    "Hana",
    "Ivan",
    "Amara",
    "山田",
    "李",
    "Иван",
    "ليلى",
    "प्रिया",
    "Søren",
    "Zoë",
    "Chloé",
    "Đức",
    "Ömer",
]
LAST = [
    "Okafor",
    "Tanaka",
    "Haddad",
    "Rivera",
    "Sharma",
    "Adeyemi",
    "García",
    "Sato",
    "Silva",
    "Novak",
    "Mensah",
    "Chen",
    "Khan",
    "Berg",
    "Dube",
    "Kim",
    "Petrov",
    "健二",
    "明",
    "Смирнова",
    "حداد",
    "शर्मा",
    "Müller",
    "Ñúñez",
    "Nguyễn",
    "Yılmaz",
]
BIO = [
    "Ceramicist and teacher",
    "東京のフォトグラファー",
    "كاتبة ومترجمة من بيروت",
    "Indie game dev 🎮",
    "Музыкант и продюсер",
    "फ़ोटोग्राफ़र और यात्री",
    "Runner, baker, occasional podcaster",
    "Designing type since 2009",
    "Tattoo artist — books open monthly ✨",
    "Chef · cookbooks · pop-ups",
    "Open-source maintainer",
    "Yoga & breathwork",
    "Streaming Tue/Thu 8pm",
    "Illustrator, zines & prints",
    "Climbing coach 🧗",
    "Wine, slowly",
]
TITLES = [
    "My shop",
    "Latest video",
    "Book a session",
    "Newsletter",
    "Podcast",
    "Portfolio",
    "Tour dates",
    "Merch",
    "Donate",
    "Blog",
    "New release",
    "写真集",
    "最新の動画",
    "النشرة الأسبوعية",
    "Мой магазин",
    "मेरा ब्लॉग",
    "Workshop tickets 🎟️",
    "Free guide (PDF)",
    "Press kit",
    "Contact me",
]
SOCIAL = [
    "https://www.instagram.com/{u}",
    "https://youtube.com/@{u}",
    "https://www.tiktok.com/@{u}",
    "https://x.com/{u}",
    "https://github.com/{u}",
    "https://www.linkedin.com/in/{u}",
    "https://open.spotify.com/artist/{u}",
    "https://www.twitch.tv/{u}",
    "https://{u}.substack.com/",
]
OTHER = [
    "https://shop.example.com/{u}/item-{n}",
    "https://example.org/{u}/posts/{n}?ref=bio",
    "https://tickets.example.net/e/{n}",
    "mailto:{u}@example.com",
    "tel:+1555{n:07d}",
    "https://blog.example.jp/{u}/{n}",
    "https://example.com/dl/guide-{n}.pdf",
]
THEMES = ["default", "midnight", "paper"]
# Share of profiles with each kind of block (one each; headers 1-2, embeds 1-3).
BLOCKS = {"header": 0.35, "text": 0.25, "embed": 0.20, "featured": 0.15, "divider": 0.10,
          "group": 0.10, "contact": 0.08}  # fmt: skip
EMBEDS = [
    "https://www.youtube.com/watch?v={v}",
    "https://open.spotify.com/track/{t}",
    "https://vimeo.com/{n}",
]
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def link_count(rng: random.Random) -> int:
    # 3-30, skewed so the mean is about 10
    return min(30, 3 + int(rng.expovariate(1 / 7)))


def make_profile(i: int, rng: random.Random) -> tuple[NewProfile, list[NewLink]]:
    username = f"user{i:06d}"
    profile = NewProfile(
        username=username,
        display_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        bio=" · ".join(rng.sample(BIO, rng.randint(1, 3))),
        theme=rng.choice(THEMES),
    )
    links = []
    for n in range(link_count(rng)):
        template = rng.choice(SOCIAL) if rng.random() < 0.4 else rng.choice(OTHER)
        links.append(
            NewLink(
                title=f"{rng.choice(TITLES)} {n + 1}",
                url=template.format(u=username, n=rng.randint(1, 9_999_999)),
            )
        )
    return profile, links


def _embed(rng: random.Random) -> str:
    return rng.choice(EMBEDS).format(
        v="".join(rng.choices(ALPHABET, k=11)),
        t="".join(rng.choices(ALPHABET, k=22)),
        n=rng.randint(10_000_000, 999_999_999),
    )


def with_blocks(i: int, links: list[NewLink], seed: int) -> list[NewLink]:
    """``links`` with blocks among them, in the shares of BLOCKS (at most 50 items)."""
    rng = random.Random(seed * 1_000_003 + i)
    items = list(links)

    def put(item: NewLink) -> None:
        items.insert(rng.randint(0, len(items)), item)

    if rng.random() < BLOCKS["featured"]:
        chosen = rng.randrange(len(items))
        items[chosen] = items[chosen].model_copy(update={"kind": "featured"})
    for _ in range(rng.randint(1, 3) if rng.random() < BLOCKS["embed"] else 0):
        put(NewLink(title=f"{rng.choice(TITLES)} (video)", url=_embed(rng), embed=True))
    for _ in range(rng.randint(1, 2) if rng.random() < BLOCKS["header"] else 0):
        put(NewLink(kind="header", title=rng.choice(TITLES)))
    if rng.random() < BLOCKS["text"]:
        put(NewLink(kind="text", body="\n".join(rng.sample(BIO, rng.randint(1, 3)))))
    if rng.random() < BLOCKS["group"]:
        put(NewLink(kind="group", title=rng.choice(TITLES)))
    if rng.random() < BLOCKS["divider"]:
        put(NewLink(kind="divider"))
    if rng.random() < BLOCKS["contact"]:
        card = Contact(name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", email=f"hi{i}@example.com")
        items.append(NewLink(kind="contact", contact=card))
    return items[:50]


def generate(
    site_dir: Path, profiles: int, seed: int = 1, batch: int = 2000, *, blocks: bool = False
) -> None:
    site = sites.init(site_dir)
    rng = random.Random(seed)
    started = time.perf_counter()
    existing = site.content.count_profiles()
    for start in range(existing, profiles, batch):
        stop = min(profiles, start + batch)
        made = [make_profile(i, rng) for i in range(start, stop)]
        if blocks:
            made = [(p, with_blocks(i, links, seed)) for i, (p, links) in enumerate(made, start)]
        site.exchange.bulk_create(made)
        print(f"\r{stop}/{profiles} profiles", end="", file=sys.stderr, flush=True)
    print(f"\ngenerated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_dir", type=Path)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--blocks", action="store_true", help="Blocks among the links too.")
    args = parser.parse_args()
    generate(args.site_dir, args.profiles, args.seed, blocks=args.blocks)


if __name__ == "__main__":
    main()
