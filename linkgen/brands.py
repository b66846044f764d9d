"""Which social network a link points at, from its host name.

Links to a detected brand are social profiles: they get ``rel="me"`` and go
into the page's ``sameAs`` list.
"""

from __future__ import annotations

import functools
import re

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


def detect(url: str) -> str | None:
    if not url.startswith(("https://", "http://")):
        return None
    return _detect_host(host_of(url))


@functools.lru_cache(maxsize=4096)
def _detect_host(host: str) -> str | None:
    for prefix in _STRIP_PREFIXES:
        if host.startswith(prefix):
            host = host[len(prefix) :]
            break
    while host:
        if host in _HOSTS:
            return _HOSTS[host]
        _, _, host = host.partition(".")  # user.substack.com -> substack.com
        if "." not in host:
            return None
    return None
