"""Synthetic sites for benchmarks: N profiles with 3-30 links (mean about 10).

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
from linkgen.models import NewLink, NewProfile

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


def generate(site_dir: Path, profiles: int, seed: int = 1, batch: int = 2000) -> None:
    site = sites.init(site_dir)
    rng = random.Random(seed)
    started = time.perf_counter()
    existing = site.content.count_profiles()
    for start in range(existing, profiles, batch):
        stop = min(profiles, start + batch)
        site.exchange.bulk_create([make_profile(i, rng) for i in range(start, stop)])
        print(f"\r{stop}/{profiles} profiles", end="", file=sys.stderr, flush=True)
    print(f"\ngenerated in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_dir", type=Path)
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.site_dir, args.profiles, args.seed)


if __name__ == "__main__":
    main()
