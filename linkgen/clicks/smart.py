"""Smart links: where a link with rules sends this visitor, and its UTM tags.

A link's rules are tried in order; the first whose every condition holds
wins, else the link goes to its own URL. A rule's conditions are read from
what the request already carries — the country the CDN put in its header,
the device class of the user agent (ios, android, desktop), the visitor's
preferred language (the first of ``Accept-Language``) — and the time. None of
it is stored: the click is recorded as any other (see ``visitors``).

UTM tags (``utm_source``, ``utm_medium``, ``utm_campaign``, ``utm_content``)
are added to a link's URLs once, when the redirector loads it, never written
into the page; a parameter the URL already has is kept as it is.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEVICES = ("ios", "android", "desktop")
UTM_KEYS = ("source", "medium", "campaign", "content")

_IOS = re.compile(r"iPhone|iPad|iPod|\bCPU OS \d", re.IGNORECASE)
_ANDROID = re.compile(r"Android", re.IGNORECASE)
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


class Choice(NamedTuple):
    """One rule as the redirector tries it: its conditions, and the answer it gives."""

    countries: frozenset[str]  # empty: any
    devices: frozenset[str]
    languages: tuple[str, ...]  # lower-case tags each with "-": "de-" matches de and de-AT
    starts: float | None  # unix time
    ends: float | None
    answer: Any  # the redirector's prebuilt 302 to the rule's URL


@functools.lru_cache(maxsize=4096)
def device(user_agent: str) -> str:
    """The device class a rule can name: ios, android or desktop (anything else)."""
    if _ANDROID.search(user_agent):
        return "android"
    if _IOS.search(user_agent):
        return "ios"
    return "desktop"


@functools.lru_cache(maxsize=4096)
def preferred_language(header: str) -> str:
    """The language a visitor prefers most (highest ``q``, the first among equals),
    lower-cased; "" when the header names none."""
    best, best_q = "", 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q and tag != "*" and _TAG.match(tag):
            best, best_q = tag.lower(), q
    return best


def _country(value: str) -> str:
    return value.strip().upper()


def pick(
    choices: Sequence[Choice], now: float, header: Callable[[str, str], str], country: str
) -> Any | None:
    """The answer of the first rule that holds for this request, or None.
    ``header(name, default)``: the request's headers by lower-case name;
    ``country``: the name of the CDN's country header. Each header is read at
    most once, and only when a rule asks."""
    # Each header read once, when a rule first asks (locals, not a closure, and
    # each rule unpacked rather than read by attribute: this runs on every
    # request of a link with rules).
    where = kind = speaks = None
    for countries, devices, languages, starts, ends, found in choices:
        if starts is not None and now < starts:
            continue
        if ends is not None and now >= ends:
            continue
        if countries:
            if where is None:
                where = _country(str(header(country, ""))[:512])
            if where not in countries:
                continue
        if devices:
            if kind is None:
                kind = device(str(header("user-agent", ""))[:512])
            if kind not in devices:
                continue
        if languages:
            if speaks is None:
                speaks = preferred_language(str(header("accept-language", ""))[:512])
            if not f"{speaks}-".startswith(languages):  # "fr-ca-" starts with "fr-"
                continue
        return found
    return None


def utm_tags(profile_utm: str | None, link_utm: str | None, title: str) -> dict[str, str]:
    """The UTM tags of a link as stored (JSON, the link's own over its profile's),
    with ``content`` its title as a slug; {} when neither has any."""
    tags = {**json.loads(profile_utm or "{}"), **json.loads(link_utm or "{}")}
    if tags:
        tags["content"] = content_tag(title)
    return tags


def target(url: str, tags: Mapping[str, str], rules: str | None) -> tuple[str, str | None]:
    """A link's URL and its rules (as stored) with its UTM tags added to every URL."""
    if not tags:
        return url, rules
    if rules:
        found = json.loads(rules)
        for rule in found:
            rule["url"] = tagged(rule["url"], tags)
        rules = json.dumps(found)
    return tagged(url, tags), rules


def tagged_split(split: str | None, tags: Mapping[str, str]) -> str | None:
    """A link's A/B test (as stored) with its UTM tags added to every variant's URL."""
    if not split or not tags:
        return split
    found = json.loads(split)
    for variant in found["variants"]:
        if variant.get("url"):  # none: the link's own URL, tagged already
            variant["url"] = tagged(variant["url"], tags)
    return json.dumps(found)


def content_tag(title: str) -> str:
    """``utm_content`` for a link: its title as a slug ("Shop now!" → "shop-now")."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:60].rstrip("-") or "link"


def tagged(url: str, tags: Mapping[str, str]) -> str:
    """``url`` with ``utm_<key>=value`` for each of ``tags`` it does not carry
    already; its other parameters, their order and its fragment kept. Only
    http(s) URLs are tagged."""
    if not tags or not url.startswith(("https://", "http://")):
        return url
    parts = urlsplit(url)
    present = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = [(f"utm_{key}", tags[key]) for key in UTM_KEYS if tags.get(key)]
    added = [(name, value) for name, value in added if name not in present]
    if not added:
        return url
    query = f"{parts.query}&{urlencode(added)}" if parts.query else urlencode(added)
    return urlunsplit(parts._replace(query=query))
