"""How a person names a link: by its id, by its position (``#3``), or by its title
or the start of it, as long as that names one link only."""

from __future__ import annotations

from linkgen.errors import NotFound
from linkgen.models import Link, Profile

_SHOWN = 5  # candidates named in the error of an ambiguous reference


def _name(link: Link) -> str:
    """What a person calls an item: a link's title, a text's words, a card's name."""
    return link.title or link.body or (link.contact.name if link.contact else "")


def resolve(profile: Profile, reference: str) -> Link:
    """The link of ``profile`` that ``reference`` names, or NotFound saying why not."""
    ref = reference.strip()
    for link in profile.links:
        if link.id == ref:
            return link
    if ref.startswith("#") and ref[1:].isdigit():
        position = int(ref[1:])
        if 1 <= position <= len(profile.links):
            return profile.links[position - 1]
        raise NotFound(
            f"link: @{profile.username} has {len(profile.links)} links, there is no {ref}"
        )
    wanted = ref.casefold()
    exact = [link for link in profile.links if _name(link).casefold() == wanted]
    matches = exact or [link for link in profile.links if _name(link).casefold().startswith(wanted)]
    if len(matches) == 1 and wanted:
        return matches[0]
    if not matches or not wanted:
        raise NotFound(
            f"link '{ref[:40]}' is not a link of @{profile.username} "
            "(give its id, its position as #N, or the start of its title)"
        )
    shown = ", ".join(f"#{link.position} {_name(link)[:40]!r}" for link in matches[:_SHOWN])
    more = f" and {len(matches) - _SHOWN} more" if len(matches) > _SHOWN else ""
    raise NotFound(
        f"link '{ref[:40]}' could be any of {len(matches)} links of @{profile.username}: "
        f"{shown}{more}; give #N or more of the title"
    )
