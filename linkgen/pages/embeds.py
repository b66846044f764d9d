"""Links shown as embeds: which provider a URL is, its player, its facade.

The profile page carries only a facade — the thumbnail (ours, under ``/_m/``),
a play mark and the title — so no request leaves the site until the visitor
taps. The tap opens a static page of ours (``/_e/<profile id>/<link id>``)
holding the provider's privacy-enhanced player, whose policy allows frames
from that provider's player origin and nothing else. A provider with no
player we can address from the URL alone (Bandcamp needs an album number)
opens its own page instead.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

FOLDER = "_e"


class Embed(NamedTuple):
    provider: str  # slug: youtube, vimeo, spotify, soundcloud, applemusic, tiktok, bandcamp
    name: str  # as people write it
    player: str | None  # the frame's address; None: the tap opens the provider's page
    oembed: str | None  # where the thumbnail is asked for; None: the page's og:image
    shape: str  # the frame's shape: "video" (16:9), "tall" (9:16), "audio" (a strip)

    @property
    def origin(self) -> str | None:
        """The player's origin: the one frame source its page allows."""
        if self.player is None:
            return None
        return "/".join(self.player.split("/", 3)[:3])  # https://host


_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_SPOTIFY = re.compile(
    r"^/(?:intl-[a-z-]+/)?(track|album|playlist|episode|show|artist)/([A-Za-z0-9]{22})$"
)
_APPLE = re.compile(r"^/[a-z]{2}/(album|playlist|song|music-video|station)/.+")
_TIKTOK = re.compile(r"^/@[^/]+/video/(\d{1,25})$")
_BANDCAMP = re.compile(r"^/(track|album)/[A-Za-z0-9-]+$")
_SOUNDCLOUD = re.compile(r"^/[A-Za-z0-9_-]+/(?:sets/)?[A-Za-z0-9_-]+$")


def _youtube(host: str, path: str, query: str) -> str | None:
    if host == "youtu.be":
        video = path[1:]
    elif host in ("youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"):
        if path == "/watch":
            video = (parse_qs(query).get("v") or [""])[0]
        else:
            head, _, video = path[1:].partition("/")
            if head not in ("shorts", "embed", "live"):
                return None
    else:
        return None
    return video if _YOUTUBE_ID.match(video) else None


@functools.lru_cache(maxsize=8192)
def provider(url: str | None) -> Embed | None:
    """The embed a link's (normalised) URL can be shown as, or None."""
    if not url or not url.startswith("https://"):
        return None
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path.rstrip("/") or "/"
    quoted = quote(url, safe="")
    video = _youtube(host, path, parts.query)
    if video:
        return Embed(
            "youtube",
            "YouTube",
            f"https://www.youtube-nocookie.com/embed/{video}?autoplay=1",
            f"https://www.youtube.com/oembed?format=json&url={quoted}",
            "tall" if "/shorts/" in path else "video",
        )
    if host in ("vimeo.com", "www.vimeo.com") and re.fullmatch(r"/\d{1,12}", path):
        return Embed(
            "vimeo",
            "Vimeo",
            f"https://player.vimeo.com/video/{path[1:]}?dnt=1&autoplay=1",
            f"https://vimeo.com/api/oembed.json?url={quoted}",
            "video",
        )
    if host == "open.spotify.com" and (match := _SPOTIFY.match(path)):
        return Embed(
            "spotify",
            "Spotify",
            f"https://open.spotify.com/embed/{match[1]}/{match[2]}",
            f"https://open.spotify.com/oembed?url={quoted}",
            "audio",
        )
    if host in ("soundcloud.com", "www.soundcloud.com") and _SOUNDCLOUD.match(path):
        return Embed(
            "soundcloud",
            "SoundCloud",
            f"https://w.soundcloud.com/player/?url={quoted}&auto_play=true",
            f"https://soundcloud.com/oembed?format=json&url={quoted}",
            "audio",
        )
    if host == "music.apple.com" and _APPLE.match(path):
        return Embed(
            "applemusic", "Apple Music", f"https://embed.music.apple.com{path}", None, "audio"
        )
    if host in ("tiktok.com", "www.tiktok.com") and (match := _TIKTOK.match(path)):
        return Embed(
            "tiktok",
            "TikTok",
            f"https://www.tiktok.com/embed/v2/{match[1]}",
            f"https://www.tiktok.com/oembed?url={quoted}",
            "tall",
        )
    if host.endswith(".bandcamp.com") and _BANDCAMP.match(path):
        return Embed("bandcamp", "Bandcamp", None, None, "audio")
    return None


def player_key(profile_id: str, link_id: str) -> str:
    """Where a link's player page is in build/ (and under the site's URL)."""
    return f"{FOLDER}/{profile_id}/{link_id}"


def policy(embed: Embed) -> str:
    """The player page's Content-Security-Policy: its own style and that one frame."""
    return _policy(embed.origin)


@functools.lru_cache(maxsize=64)
def _policy(origin: str | None) -> str:
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src {origin}; "
        "base-uri 'none'; form-action 'none'"
    )
