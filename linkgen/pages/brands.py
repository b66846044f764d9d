"""Which brand a link points at, from its URL.

First a table of the hosts that matter most for a link page (with their
mobile and short-link hosts: youtu.be, vm.tiktok.com, lnkd.in, …); then any
label of the host that is a Simple Icons slug (figma.com -> figma); then a
fediverse profile path (``https://any.instance/@name``) -> mastodon. ``mailto:``
and ``tel:`` links get the e-mail and phone icons.

Links to a detected brand are social profiles: they get ``rel="me"`` and go
into the page's ``sameAs`` list.
"""

from __future__ import annotations

import functools
import re

from linkgen.pages import icons

# host (without "www.", "m.", "mobile.") -> brand slug
_HOSTS: dict[str, str] = {
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "music.youtube.com": "youtube",
    "tiktok.com": "tiktok",
    "vm.tiktok.com": "tiktok",
    "x.com": "x",
    "twitter.com": "x",
    "github.com": "github",
    "gitlab.com": "gitlab",
    "linkedin.com": "linkedin",
    "lnkd.in": "linkedin",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "fb.me": "facebook",
    "threads.net": "threads",
    "threads.com": "threads",
    "bsky.app": "bluesky",
    "open.spotify.com": "spotify",
    "spotify.com": "spotify",
    "spotify.link": "spotify",
    "twitch.tv": "twitch",
    "soundcloud.com": "soundcloud",
    "bandcamp.com": "bandcamp",
    "pinterest.com": "pinterest",
    "pin.it": "pinterest",
    "snapchat.com": "snapchat",
    "reddit.com": "reddit",
    "discord.gg": "discord",
    "discord.com": "discord",
    "t.me": "telegram",
    "telegram.me": "telegram",
    "wa.me": "whatsapp",
    "patreon.com": "patreon",
    "ko-fi.com": "kofi",
    "buymeacoffee.com": "buymeacoffee",
    "substack.com": "substack",
    "medium.com": "medium",
    "vimeo.com": "vimeo",
    "dribbble.com": "dribbble",
    "behance.net": "behance",
    "etsy.com": "etsy",
    "music.apple.com": "applemusic",
    "podcasts.apple.com": "applepodcasts",
    "mastodon.social": "mastodon",
    "mstdn.social": "mastodon",
    "fosstodon.org": "mastodon",
}
_STRIP_PREFIXES = ("www.", "m.", "mobile.")


_HOST = re.compile(r"https?://([^/?#:\[\]]+)")


def host_of(url: str) -> str:
    """The host of a normalised http(s) URL (see ``rules.url``), without parsing it all."""
    match = _HOST.match(url)
    return match.group(1).lower() if match else ""


_FEDIVERSE_PROFILE = re.compile(r"https?://[^/]+/@[A-Za-z0-9_.-]+/?$")
# Second-level labels of country domains (bbc.co.uk): never a brand.
_NOT_BRANDS = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or", "go"})


def detect(url: str) -> str | None:
    """The brand slug of a link (an icon in ``icons``), or None."""
    if url.startswith("mailto:"):
        return "email"
    if url.startswith("tel:"):
        return "phone"
    if not url.startswith(("https://", "http://")):
        return None
    brand = _detect_host(host_of(url))
    if brand is None and "/@" in url and _FEDIVERSE_PROFILE.match(url):
        return "mastodon"
    return brand


def curated() -> list[str]:
    """The brands detected by host name (their icons ship with linkgen)."""
    return sorted({*_HOSTS.values(), "mastodon"})


def is_social(brand: str | None) -> bool:
    """A profile on a network (rel="me"), as opposed to e-mail or a phone number."""
    return brand is not None and brand not in ("email", "phone")


@functools.lru_cache(maxsize=4096)
def _detect_host(host: str) -> str | None:
    for prefix in _STRIP_PREFIXES:
        if host.startswith(prefix):
            host = host[len(prefix) :]
            break
    labels = host.split(".")
    for start in range(len(labels) - 1):  # user.substack.com, then substack.com
        if ".".join(labels[start:]) in _HOSTS:
            return _HOSTS[".".join(labels[start:])]
    # Only the registrable label (figma in www.figma.com, bbc in bbc.co.uk), never one
    # further left: youtube.com.evil.example is not YouTube.
    registrable = labels[-2:-1]
    if len(labels) >= 3 and labels[-2] in _NOT_BRANDS:
        registrable = labels[-3:-2]
    for label in registrable:
        if len(label) >= 3 and label in icons.catalog():
            return label
    return None
