"""The files a profile has besides its page: its embeds' players, its card and
the page's variants of a title test.

Players are ``_e/<profile id>/<link id>`` (one folder per profile, so a link
that stops being an embed, or a deleted profile, leaves nothing behind); the
contact card is ``<username>.vcf`` (no username has a dot, so it never meets
a page), removed with the page when the profile goes or is renamed. A title
test's page variants are ``_t/<profile id>/<label>`` (b to e; the page itself
is variant a), with the draw the edge makes in ``_t/<profile id>/.ab`` (not
published: it becomes the page's ``ab`` metadata, see publish.objects).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkgen.fsutil import remove, write_if_changed, write_new
from linkgen.pages import embeds, vcard
from linkgen.records import PAGE_LABELS, PageLink, PageProfile

if TYPE_CHECKING:
    from linkgen.pages.render import Rendered, Renderer

CARD_SUFFIX = ".vcf"
TITLE_TESTS = "_t"
DRAW = ".ab"  # in a title test's folder: "<profile id> a:<bound> b:<bound> …"
FOLDERS = (embeds.FOLDER, TITLE_TESTS)


def title_test(links: Sequence[PageLink]) -> tuple[PageLink, dict[str, Any]] | None:
    """The link on show whose titles are tested (one per profile), and its test."""
    for link in links:
        if link.titles:
            return link, json.loads(link.titles)
    return None


def page_variant(links: Sequence[PageLink], tested: str, label: str, title: str) -> list[PageLink]:
    """``links`` as variant ``label`` shows them: the tested link's title, labelled."""
    return [
        link._replace(title=title, label=label) if link.id == tested else link for link in links
    ]


def write_title_test(
    out: Path,
    renderer: Renderer,
    profile: PageProfile,
    links: Sequence[PageLink],
    test: tuple[PageLink, dict[str, Any]] | None,
    existing: set[str] | None,
) -> list[str]:
    """Write the page variants b, c, … of ``test`` and the draw; remove what was.
    The names written or removed (build/-relative)."""
    if test is None:
        if existing is None or TITLE_TESTS in existing:
            return _gone(out, TITLE_TESTS, profile.id)
        return []
    folder = out / TITLE_TESTS / profile.id
    link, split = test
    variants = split["variants"]
    labels = PAGE_LABELS
    bounds = itertools.accumulate([split["weight"], *(variant["weight"] for variant in variants)])
    draw = " ".join(f"{label}:{bound}" for label, bound in zip(labels, bounds, strict=False))
    pages = {
        label: renderer.profile_page(
            profile,
            page_variant(links, link.id, label, variant.get("title") or link.title),
            label=label,
        ).html
        for label, variant in zip(labels[1:], variants, strict=False)
    }
    folder.mkdir(parents=True, exist_ok=True)
    before = set(os.listdir(folder))
    for name in before - {*pages, DRAW}:
        os.unlink(folder / name)
    for name, data in pages.items():
        write_if_changed(folder / name, data)
    write_if_changed(folder / DRAW, f"{profile.id} {draw}".encode())
    return [f"{TITLE_TESTS}/{profile.id}/{name}" for name in (before | set(pages)) - {DRAW}]


def _gone(out: Path, folder: str, profile_id: str) -> list[str]:
    """Remove ``folder``/``profile_id``; the names it held."""
    path = out / folder / profile_id
    try:
        names = [f"{folder}/{profile_id}/{name}" for name in os.listdir(path)]
    except FileNotFoundError:
        return []
    shutil.rmtree(path, ignore_errors=True)
    return [name for name in names if not name.rpartition("/")[2].startswith(".")]


def write(
    out: Path, renderer: Renderer, profile: PageProfile, page: Rendered, existing: set[str] | None
) -> list[str]:
    """Write the players and the card of ``page``; remove the rest.
    ``existing``: the names at the top of ``out`` when known (None: look).
    The names written or removed (build/-relative)."""
    fresh = existing is not None and embeds.FOLDER not in existing  # build/ had no players
    card = f"{profile.username}{CARD_SUFFIX}"
    touched = [card]
    if page.players or not fresh:
        folder = os.path.join(out, embeds.FOLDER, profile.id)
        if page.players or os.path.isdir(folder):
            players = {
                link.id: renderer.player(profile, link, embed) for link, embed in page.players
            }
            names = _write_players(folder, players, fresh)
            touched += [f"{embeds.FOLDER}/{profile.id}/{name}" for name in names]
    known = existing is None or card in existing
    if page.contact is not None and page.contact.contact:
        data = vcard.card(json.loads(page.contact.contact), renderer.vcard_url(profile.username))
        (write_if_changed if known else write_new)(out / card, data)
    elif known:
        remove(out / card)
    return touched


def _write_players(folder: str, players: dict[str, bytes], fresh: bool) -> set[str]:
    """Write ``players`` into ``folder``, removing others; the names written or removed."""
    if fresh:
        try:
            os.mkdir(folder)
        except FileNotFoundError:  # the first profile with players: _e/ too
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:
            pass
        for link_id, data in players.items():
            write_new(f"{folder}/{link_id}", data)
        return set(players)
    os.makedirs(folder, exist_ok=True)
    before = set(os.listdir(folder))
    for name in before - set(players):
        os.unlink(os.path.join(folder, name))
    for link_id, data in players.items():
        write_if_changed(Path(folder, link_id), data)
    if not players:
        os.rmdir(folder)
    return before | set(players)


def forget(out: Path, profile_ids: Iterable[str]) -> list[str]:
    """Remove the players and title tests of these (deleted) profiles; the names."""
    return [name for pid in profile_ids for folder in FOLDERS for name in _gone(out, folder, pid)]


def known_folders(out: Path) -> list[str]:
    """The profile ids with a players or title test folder in ``out``."""
    return [pid for name in FOLDERS if (out / name).is_dir() for pid in os.listdir(out / name)]
