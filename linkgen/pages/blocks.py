"""A profile's items laid out for its page: runs of buttons between blocks.

The page template walks ``pieces`` in order; each piece is one thing it
draws. Links in a row become one ``links`` piece (one ``<ul>``); a header
starts a section; a group wraps the items under it in ``<details>`` until the
next header, group or divider; the featured link, an embed's facade, a text,
a divider, a contact card and a sign-up form are pieces of their own. A profile with links
only is one ``links`` piece: its page is what it was before blocks existed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from linkgen.pages import brands, embeds, icons, sharing
from linkgen.records import LINK_KINDS, PageLink

if TYPE_CHECKING:
    from linkgen.pages.render import Renderer


class Facade(NamedTuple):
    """What an embed shows before it is tapped: nothing of the provider's."""

    provider: str  # its name, as people write it
    art: str | None  # our copy of its thumbnail, or None (a play mark alone)
    shape: str  # video, tall, audio


class Card(NamedTuple):
    """A contact block: who, and where its vCard is."""

    name: str
    organisation: str | None
    href: str  # /<username>.vcf
    save: str  # the button's words, in the page's language


class LinkView(NamedTuple):
    """A link as the page template sees it, every decision already taken
    (``for id, href, opens, title, me, thumbnail, loading, icon, warning in links``:
    unpacking is cheaper for Jinja than an attribute lookup per field)."""

    id: str
    href: str  # where the link goes
    opens: str  # what the button points at: href, or its warning ("#w-<id>")
    title: str
    me: bool  # a social profile of the creator: rel="me"
    thumbnail: str | None
    loading: str  # "eager" for the first few thumbnails, "lazy" below the fold
    icon: str | None  # the id of the icon's <symbol>
    warning: str | None  # "18+", "21+", "25+", "sensitive": a warning before it opens


class LinkViews(NamedTuple):
    buttons: list[LinkView]
    socials: list[LinkView]
    used: dict[str, icons.Icon]  # each icon drawn once, as a <symbol>
    warned: list[LinkView]
    same_as: list[str]
    facades: dict[str, Facade]  # link id -> the embed it is shown as
    players: list[tuple[PageLink, embeds.Embed]]  # the embeds with a player page of ours


EAGER_THUMBNAILS = 4  # the buttons above the fold on a phone; the rest load lazily


class Piece(NamedTuple):
    kind: str  # links, featured, embed, header, text, divider, group, end, contact, signup
    views: Sequence[Any] = ()  # LinkViews: a run of buttons, or the one featured/embedded
    text: str = ""  # a header's or group's title, a text block's paragraph
    facade: Facade | None = None
    card: Card | None = None
    form: str = ""  # a sign-up block's form: where it posts


_ENDS_GROUP = frozenset({"header", "group", "divider"})


def arrange(
    items: Sequence[PageLink],
    views: Mapping[str, Any],
    facades: Mapping[str, Facade],
    vcard: tuple[str, str],
    forms: str | None = None,
) -> tuple[list[Piece], frozenset[str]]:
    """The pieces of the page, and which kinds of block it uses (for its CSS).

    ``views``: the LinkView of each link drawn as a button (not those in the
    social row); ``facades``: the embeds among them; ``vcard``: the address of
    the profile's contact card and the words of its button; ``forms``: where a
    sign-up form posts (the redirector's base), None: not drawn."""
    pieces: list[Piece] = []
    run: list[Any] = []
    used: set[str] = set()
    in_group = False

    def flush() -> None:
        if run:
            pieces.append(Piece("links", list(run)))
            run.clear()

    for item in items:
        kind = item.kind
        if kind in ("link", "featured"):
            view = views.get(item.id)
            if view is None:  # in the social row
                continue
            facade = facades.get(item.id)
            if kind == "link" and facade is None:
                run.append(view)
                continue
            flush()
            kind = "embed" if facade is not None else "featured"
            pieces.append(Piece(kind, (view,), facade=facade))
        elif kind == "signup":
            if forms is None:
                continue
            flush()
            pieces.append(Piece("signup", (), item.title, form=f"{forms}/s/{item.id}"))
        else:
            flush()
            if in_group and kind in _ENDS_GROUP:
                pieces.append(Piece("end"))
                in_group = False
            if kind == "group":
                in_group = True
            pieces.append(_block(item, vcard))
        used.add(kind)
    flush()
    if in_group:
        pieces.append(Piece("end"))
    return pieces, frozenset(used - {"link"})


def _block(item: PageLink, vcard: tuple[str, str]) -> Piece:
    if item.kind == "text":
        return Piece("text", (), item.body or "")
    if item.kind == "contact":
        card = json.loads(item.contact or "{}")
        return Piece("contact", card=Card(card.get("name", ""), card.get("organisation"), *vcard))
    return Piece(item.kind, (), item.title)


def link_views(renderer: Renderer, profile_id: str, links: Sequence[PageLink]) -> LinkViews:
    """The page's buttons and social icons, the icons they use, the links behind a
    warning, the creator's own profiles (the social row, else social buttons), and
    the embeds' facades."""
    buttons: list[LinkView] = []
    socials: list[LinkView] = []
    used: dict[str, icons.Icon] = {}  # each icon drawn once, as a <symbol>
    warned: list[LinkView] = []
    same_as: list[str] = []  # social-network links among the buttons
    own_profiles: list[str] = []  # the social row: the creator's own profiles
    facades: dict[str, Facade] = {}
    players: list[tuple[PageLink, embeds.Embed]] = []
    for link in links:
        if link.kind not in LINK_KINDS or (link.locked and not renderer.smart_base):
            continue  # a block; a locked link with no redirector to ask for its lock
        embed = embeds.provider(link.url) if link.embed else None
        brand = brands.detect(link.url)
        me = brands.is_social(brand) and embed is None
        if me and not link.sensitive and not link.locked:
            (own_profiles if link.social else same_as).append(link.url)
        chosen = link.icon or brand
        icon = None
        if embed is None and chosen != icons.NO_ICON and (chosen or link.social):
            icon = renderer.icons.get(chosen) if chosen else icons.GENERIC
            used.setdefault(icon.slug, icon)
        href = renderer.link_href(link)
        if embed is not None:
            art = renderer.on_page(link.art) if link.art else None
            facades[link.id] = Facade(embed.name, art, embed.shape)
            if embed.player is not None:
                players.append((link, embed))
                href = f"{renderer.media_path()}/{embeds.player_key(profile_id, link.id)}"
        thumb = renderer.on_page(link.thumbnail) if link.thumbnail else None
        view = LinkView(
            link.id,
            href,
            f"#w-{link.id}" if link.sensitive else href,
            link.title,
            me and not link.sensitive,
            thumb,
            "eager" if len(buttons) < EAGER_THUMBNAILS else "lazy",
            f"i-{icon.slug}" if icon else None,
            link.sensitive,
        )
        (socials if link.social else buttons).append(view)
        if link.sensitive:
            warned.append(view)
    return LinkViews(
        buttons,
        socials,
        used,
        warned,
        (own_profiles or same_as)[: sharing.SAME_AS],
        facades,
        players,
    )


@functools.lru_cache(maxsize=256)
def css_parts(
    socials: bool, icons: bool, warnings: bool, gate: bool, kinds: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The optional parts of a page's CSS (``templates/style.css``) it needs."""
    flags = {"socials": socials, "icons": icons, "warnings": warnings, "gate": gate}
    found = frozenset(name for name, wanted in flags.items() if wanted)
    # Two parts for all blocks, not one per kind: a page's CSS is made once per
    # combination of parts, and seven kinds would make a hundred combinations.
    if kinds:
        found |= {"blocks"}
    return found | {"embed"} if "embed" in kinds else found
