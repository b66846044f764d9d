"""What a request says about its visitor, reduced to what the stats need.

Runs in the click writer process, never on the request path. The IP and
the user agent go into a keyed hash of the day and are then dropped; what is
kept is coarse: a device class, a bot flag, a referrer host, a country code.
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import urlsplit

# Link-preview fetchers and social crawlers that open a link without a human
# behind it; crawlerdetect knows most bots, these are the ones that matter
# most for a link page (and some it may lack).
PREVIEW_FETCHERS = re.compile(
    r"facebookexternalhit|facebookcatalog|meta-externalagent|whatsapp|slackbot|slack-imgproxy|"
    r"twitterbot|discordbot|telegrambot|linkedinbot|skypeuripreview|iframely|embedly|"
    r"redditbot|pinterestbot|applebot|bingpreview|googleother|snapchat|viber|line-poker|"
    r"mastodon|pleroma|akkoma|misskey|friendica|bluesky|cardyb|opengraph|preview",
    re.IGNORECASE,
)
TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.IGNORECASE)
MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|opera mini|iemobile", re.IGNORECASE)
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"^{LABEL}(?:\.{LABEL})*$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


@functools.lru_cache(maxsize=1)
def _crawlers() -> object:
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@functools.lru_cache(maxsize=4096)
def classify(user_agent: str) -> tuple[str, bool]:
    """(device class, is a bot) for a user agent; no user agent at all is a bot."""
    ua = user_agent.strip()
    if not ua:
        return "unknown", True
    bot = bool(PREVIEW_FETCHERS.search(ua)) or bool(
        _crawlers().isCrawler(ua)  # type: ignore[attr-defined]
    )
    if TABLET.search(ua):
        return "tablet", bot
    if MOBILE.search(ua):
        return "mobile", bot
    return "desktop", bot


@functools.lru_cache(maxsize=4096)
def referrer_host(referrer: str) -> str:
    """The lower-cased host of a Referer header; '' if absent or not a plain host."""
    if not referrer or len(referrer) > 2048:
        return ""
    try:
        host = urlsplit(referrer.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    if len(host) > 253 or not HOST.match(host):
        return ""
    return host


@functools.lru_cache(maxsize=1024)
def country(value: str) -> str:
    """An ISO 3166 alpha-2 code from a CDN's country header; '' otherwise."""
    value = value.strip().upper()
    return value if COUNTRY.match(value) and value not in ("XX", "T1") else ""


def visitor_hash(salt: bytes, ip: bytes, user_agent: bytes, profile_id: str) -> str:
    """A visitor of one profile on one day: not reversible, not linkable across days."""
    message = b"\x00".join((ip, user_agent, profile_id.encode()))
    return hashlib.blake2b(message, key=salt[:64], digest_size=8).hexdigest()
