"""What a shared link shows: the og:image and its facts, and the page's JSON-LD.

Stored images have the size their purpose gives them (pages.images, pages.cards),
so the page states width, height and type without opening a file.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

from linkgen.pages.resources import builtin
from linkgen.records import PageProfile

SOCIAL_CARD = "assets/social-card.png"  # under templates/


@functools.lru_cache(maxsize=1)
def site_card() -> tuple[str, bytes]:
    """The site's own link-preview image: its key under build/ and its bytes."""
    card = (builtin("templates") / SOCIAL_CARD).read_bytes()
    return f"_m/{hashlib.sha256(card).hexdigest()[:20]}.png", card


def jsonld(
    profile: PageProfile,
    name: str,
    canonical: str,
    same_as: list[str],
    absolute: Callable[[str], str],
    language: str,
) -> dict[str, Any]:
    """The page's schema.org ProfilePage: its person, their picture, and their own
    profiles elsewhere (the social row)."""
    person: dict[str, Any] = {
        "@type": "Person",
        "name": name,
        "alternateName": f"@{profile.username}",
        "identifier": profile.id,
        "url": canonical,
    }
    if profile.bio:
        person["description"] = profile.bio
    if profile.avatar:
        person["image"] = absolute(profile.avatar)
    if same_as:
        person["sameAs"] = same_as
    page: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ProfilePage",
        "url": canonical,
        "inLanguage": language,
        "dateModified": profile.updated_at,
        "mainEntity": person,
    }
    if profile.created_at:
        page["dateCreated"] = profile.created_at
    return page


class ShareImage(NamedTuple):
    url: str
    width: int | None
    height: int | None
    type: str | None


# sameAs names who the person is elsewhere: the social row where there is one, else
# the social-network buttons; never a link behind a warning, and a handful at most.
SAME_AS = 10
CARD_SIZE = (1200, 630)  # pages.images' "card" and pages.cards
AVATAR_SIZE = (192, 192)  # pages.images' "avatar"
_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def stored(url: str, ref: str, size: tuple[int, int]) -> ShareImage:
    """A share image's facts: a stored image (/_m/) has the size its purpose gives it."""
    kind = _TYPES.get(ref.rpartition(".")[2].lower())
    if ref.startswith("/_m/"):
        return ShareImage(url, *size, kind)
    return ShareImage(url, None, None, kind)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR)."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
