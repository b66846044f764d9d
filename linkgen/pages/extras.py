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
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from linkgen.fsutil import remove, write_if_changed, write_new
from linkgen.pages import embeds, vcard
from linkgen.records import PageProfile

if TYPE_CHECKING:
    from linkgen.pages.render import Rendered, Renderer

CARD_SUFFIX = ".vcf"


def write(
    out: Path, renderer: Renderer, profile: PageProfile, page: Rendered, existing: set[str] | None
) -> None:
    """Write the players and the card of ``page``; remove the rest.
    ``existing``: the names at the top of ``out`` when known (None: look)."""
    fresh = existing is not None and embeds.FOLDER not in existing  # build/ had no players
    if page.players or not fresh:
        folder = os.path.join(out, embeds.FOLDER, profile.id)
        if page.players or os.path.isdir(folder):
            players = {
                link.id: renderer.player(profile, link, embed) for link, embed in page.players
            }
            _write_players(folder, players, fresh)
    card = f"{profile.username}{CARD_SUFFIX}"
    known = existing is None or card in existing
    if page.contact is not None and page.contact.contact:
        data = vcard.card(json.loads(page.contact.contact), renderer.vcard_url(profile.username))
        (write_if_changed if known else write_new)(out / card, data)
    elif known:
        remove(out / card)


def _write_players(folder: str, players: dict[str, bytes], fresh: bool) -> None:
    if fresh:
        try:
            os.mkdir(folder)
        except FileNotFoundError:  # the first profile with players: _e/ too
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            pass
        for link_id, data in players.items():
            write_new(Path(f"{folder}/{link_id}"), data)
        return
    os.makedirs(folder, exist_ok=True)
    for name in set(os.listdir(folder)) - set(players):
        os.unlink(os.path.join(folder, name))
    for link_id, data in players.items():
        write_if_changed(Path(folder, link_id), data)
    if not players:
        os.rmdir(folder)


def forget(out: Path, profile_ids: Iterable[str]) -> None:
    """Remove the players of these (deleted) profiles."""
    for profile_id in profile_ids:
        shutil.rmtree(out / embeds.FOLDER / profile_id, ignore_errors=True)


def known_folders(out: Path) -> list[str]:
    """The profile ids with a players folder in ``out``."""
    folder = out / embeds.FOLDER
    return os.listdir(folder) if folder.is_dir() else []
