"""The files a profile has besides its page: its embeds' players and its card.

Players are ``_e/<profile id>/<link id>`` (one folder per profile, so a link
that stops being an embed, or a deleted profile, leaves nothing behind); the
contact card is ``<username>.vcf`` (no username has a dot, so it never meets
a page), removed with the page when the profile goes or is renamed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from linkgen.fsutil import remove, write_if_changed
from linkgen.pages import embeds, vcard
from linkgen.records import PageLink, PageProfile

if TYPE_CHECKING:
    from linkgen.pages.render import Renderer

CARD_SUFFIX = ".vcf"


def write(out: Path, renderer: Renderer, profile: PageProfile, shown: Sequence[PageLink]) -> None:
    """Write the players and the card of the items on show; remove the rest."""
    folder = out / embeds.FOLDER / profile.id
    players: dict[str, bytes] = {}
    for link in shown:
        embed = embeds.provider(link.url) if link.embed and link.kind == "link" else None
        if embed is not None and embed.player is not None:
            players[link.id] = renderer.player(profile, link, embed)
    if players or folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        for name in set(os.listdir(folder)) - set(players):
            remove(folder / name)
        for link_id, data in players.items():
            write_if_changed(folder / link_id, data)
        if not players:
            folder.rmdir()
    target = out / f"{profile.username}{CARD_SUFFIX}"
    contact = next((link for link in shown if link.kind == "contact"), None)
    if contact is not None and contact.contact:
        source = renderer.profile_url(profile.username)
        write_if_changed(target, vcard.card(json.loads(contact.contact), source))
    else:
        remove(target)


def forget(out: Path, profile_ids: Iterable[str]) -> None:
    """Remove the players of these (deleted) profiles."""
    for profile_id in profile_ids:
        shutil.rmtree(out / embeds.FOLDER / profile_id, ignore_errors=True)


def known_folders(out: Path) -> list[str]:
    """The profile ids with a players folder in ``out``."""
    folder = out / embeds.FOLDER
    return os.listdir(folder) if folder.is_dir() else []
