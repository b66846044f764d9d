"""Plain records for the hot build path, and time helpers.

Rows read for rendering were validated when they were written, so they are
carried as named tuples: no pydantic import or validation per link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

LINK_KINDS = frozenset({"link", "featured"})  # the items with a URL: counted, redirected
LINK_KINDS_SQL = "(" + ", ".join(f"'{kind}'" for kind in sorted(LINK_KINDS)) + ")"
VARIANT_LABELS = "ABCDE"  # an A/B test's variants: A is the link's own URL
PAGE_LABELS = VARIANT_LABELS.lower()  # as a title test's pages label links and beacon: ?x=b


class PageLink(NamedTuple):
    id: str
    title: str
    url: str
    thumbnail: str | None
    starts_at: str | None
    ends_at: str | None
    icon: str | None = None  # None: detected from the URL; "none": no icon
    social: bool = False  # in the icons row
    sensitive: str | None = None  # "18+", "21+", "25+", "sensitive"
    kind: str = "link"  # or featured, header, text, divider, group, contact
    embed: bool = False  # a player's facade instead of a button
    body: str | None = None  # a text block's paragraph
    contact: str | None = None  # a contact block's card, as JSON
    art: str | None = None  # an embed's thumbnail (/_m/…), once a build fetched it
    smart: bool = False  # rules, a lock or an A/B test: only the redirector sends it on
    utm: str | None = None  # its own UTM tags, as stored (JSON)
    locked: bool = False  # a password or an age first: never its URL on the page or edge
    titles: str | None = None  # its A/B test as stored (JSON), when it tests titles
    label: str | None = None  # on a title test's page variant: the variant shown ("b")


class PageProfile(NamedTuple):
    """A profile as the renderer sees it: enabled links only, in order."""

    id: str
    username: str
    display_name: str
    bio: str
    avatar: str | None
    theme: str
    style: dict[str, str]
    seo_title: str | None
    seo_description: str | None
    updated_at: str
    links: tuple[PageLink, ...]
    sensitive: str | None = None
    social_image: str | None = None
    created_at: str | None = None
    language: str | None = None  # a BCP 47 tag; None: the site's
    domain: str | None = None  # a host of the creator's own: the page is its root
    utm: str | None = None  # UTM tags for its links, as stored (JSON)


def page_address(site_url: str, username: str, domain: str | None = None) -> str:
    """Where a profile's page is: the root of its own domain, else its path on the site."""
    return f"https://{domain}/" if domain else f"{site_url}/{username}"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
