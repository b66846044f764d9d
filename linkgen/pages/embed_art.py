"""Embeds' thumbnails: fetched once by a build, kept as our own images.

A visitor's browser never asks a provider for anything before the tap, so
the facade's picture is ours: the provider's oEmbed answer names the
thumbnail (or, for a provider without oEmbed, the page's ``og:image``), which
is downloaded under the usual fetch rules (public addresses only, a deadline,
a size cap), checked and re-encoded like any upload and stored under ``/_m/``.
Everything the provider answers is hostile until checked. A thumbnail that
cannot be had is noted and tried again a day later; the facade shows a play
mark alone meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from linkgen import rules
from linkgen.errors import LinkgenError
from linkgen.pages import embeds, images, metatags
from linkgen.records import iso, now
from linkgen.store.build_state import BuildState

if TYPE_CHECKING:
    from linkgen.site import Site

log = logging.getLogger(__name__)

OEMBED_MAX = 64 * 1024
PAGE_MAX = 2 * 1024 * 1024
RETRY_AFTER = timedelta(days=1)


def _oembed(embed: embeds.Embed, url: str, endpoints: Mapping[str, str]) -> str | None:
    """Where the provider's oEmbed answer for ``url`` is (a configured endpoint first)."""
    base = endpoints.get(embed.provider)
    if base is not None:
        return f"{base}{'&' if '?' in base else '?'}format=json&url={quote(url, safe='')}"
    return embed.oembed


def thumbnail_url(
    url: str, endpoints: Mapping[str, str], allow: Sequence[str], deadline: float
) -> str:
    """The address of ``url``'s thumbnail, as its provider names it, checked."""
    from linkgen.fetch import FetchFailed, get

    embed = embeds.provider(url)
    if embed is None:
        raise LinkgenError(f"{url}: not a link linkgen can embed")
    where = _oembed(embed, url, endpoints)
    if where is not None:
        raw = get(where, max_bytes=OEMBED_MAX, allow=allow, deadline=deadline)
        try:
            answer = json.loads(raw)
        except (ValueError, RecursionError):
            raise FetchFailed(f"{embed.name} answered something that is not oEmbed JSON") from None
        found = answer.get("thumbnail_url") if isinstance(answer, dict) else None
    else:
        page = get(url, max_bytes=PAGE_MAX, allow=allow, deadline=deadline)
        tags = metatags.read(page.decode("utf-8", "replace"))
        found = tags.get("og:image") or tags.get("twitter:image")
    if not isinstance(found, str) or not found:
        raise FetchFailed(f"{embed.name} names no thumbnail for {url}")
    try:
        return rules.web_url(found)
    except ValueError as exc:
        raise FetchFailed(f"{embed.name}'s thumbnail address {found[:80]!r}: {exc}") from None


def fetch(
    url: str, media_dir: Path, endpoints: Mapping[str, str], allow: Sequence[str], deadline: float
) -> str:
    """Fetch, check and store ``url``'s thumbnail; its /_m/ path."""
    embed = embeds.provider(url)
    purpose: images.Purpose = "cover" if embed is not None and embed.shape == "audio" else "embed"
    from linkgen.fetch import get

    address = thumbnail_url(url, endpoints, allow, deadline)
    data = get(address, max_bytes=images.MAX_BYTES, allow=allow, deadline=deadline)
    media = images.ingest(data, purpose, source=f"the thumbnail of {url}")
    return images.save(media, media_dir)


def fetch_for(site: Site, profile_ids: Sequence[str]) -> int:
    """Fetch the thumbnails the embeds of these profiles lack, as the site's settings say."""
    settings = site.config.embeds
    return fetch_missing(
        site.builds,
        profile_ids,
        site.media_dir,
        endpoints=settings.oembed,
        allow=site.config.fetch.allow_networks,
        deadline=settings.deadline,
    )


def fetch_missing(
    builds: BuildState,
    profile_ids: Sequence[str],
    media_dir: Path,
    *,
    endpoints: Mapping[str, str],
    allow: Sequence[str],
    deadline: float,
) -> int:
    """Fetch the thumbnails the embeds of these profiles still lack; how many arrived."""
    due = iso(now() - RETRY_AFTER)
    wanted = builds.embeds_without_art(profile_ids, tried_before=due)
    arrived = 0
    for url in wanted:
        try:
            media: str | None = fetch(url, media_dir, endpoints, allow, deadline)
            error = None
            arrived += 1
        except LinkgenError as exc:
            media, error = None, str(exc)[:500]
            log.warning("no thumbnail for the embed %s: %s", url, error)
        builds.record_art(url, media, error, iso(now()))
    return arrived
