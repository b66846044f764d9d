"""Which media files are still in use, and removing the rest.

Media are named by content (``/_m/<hash>.<ext>``) and never overwritten, so
a replaced avatar or the card of an old name stays behind until pruned. In
use: every ``/_m/`` path the database refers to (avatars, social images,
thumbnails, background images), every one a built page refers to (its
social card), each profile's QR code (while the build writes them) and the
site's own card. A file is removed from ``site_data/media/``
and ``build/_m/`` only if neither holds it and it is older than a grace
period, so a build running at the same time keeps what it just drew; the
next publish then deletes it from the bucket (within ``max_deletes``).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import NamedTuple

from linkgen.fsutil import remove, write_file
from linkgen.pages.cards import drawn_cards
from linkgen.pages.qr import qr_name
from linkgen.pages.sharing import site_card
from linkgen.records import page_address
from linkgen.site import Site
from linkgen.store.build_state import BuildState

MEDIA_META_KEY = "media_dir_mtime"  # build meta: the media folder's mtime at the last copy

MEDIA_REF = re.compile(r"/_m/([0-9a-f]{8,64}\.(?:webp|png|jpe?g|gif|svg))")
GRACE_SECONDS = 3600.0


class Pruned(NamedTuple):
    removed: list[str]  # file names
    kept: int
    freed_bytes: int


def in_use(site: Site) -> set[str]:
    """File names under /_m/ that the database or a built page refers to."""
    names: set[str] = set()
    conn = site.database.conn
    for (text,) in conn.execute(
        "SELECT coalesce(avatar, '') || ' ' || coalesce(social_image, '') || ' ' || style "
        "FROM profiles UNION ALL SELECT coalesce(thumbnail, '') FROM links "
        "UNION ALL SELECT coalesce(media, '') FROM embed_art"
    ):
        names.update(MEDIA_REF.findall(text or ""))
    out = site.build_dir
    if out.is_dir():
        for entry in os.scandir(out):
            if entry.is_file() and "." not in entry.name:  # pages have no extension
                with open(entry.path, encoding="utf-8", errors="replace") as page:
                    names.update(MEDIA_REF.findall(page.read()))
    names.add(site_card()[0].removeprefix("_m/"))  # the site's own card
    if site.config.build.qr_codes:
        base = site.config.site.url
        names.update(qr_name(f"{base}/{name}") for name in site.builds.usernames())
        names.update(
            qr_name(page_address(base, name, host)) for name, host in site.builds.domains()
        )
    return names


def prune(site: Site, *, dry_run: bool = False, grace: float = GRACE_SECONDS) -> Pruned:
    used = in_use(site)
    cutoff = time.time() - grace
    removed: list[str] = []
    kept = freed = 0
    folders = [site.media_dir, site.build_dir / "_m"]
    names = {entry.name for folder in folders if folder.is_dir() for entry in os.scandir(folder)}
    for name in sorted(names):
        if name.startswith(".") or name in used:
            kept += 1
            continue
        paths = [folder / name for folder in folders if (folder / name).is_file()]
        if any(path.stat().st_mtime > cutoff for path in paths):
            kept += 1  # too new: a build may be about to refer to it
            continue
        freed += max(path.stat().st_size for path in paths)
        removed.append(name)
        if not dry_run:
            for path in paths:
                remove(path)
    if not dry_run:  # the next publish deletes them from the target
        site.journal.add(f"_m/{name}" for name in removed)
    return Pruned(removed, kept, freed)


def copy_new(
    store: BuildState, media: Path, out: Path, intact: bool, *, cards: bool = True
) -> list[str]:
    """Avatars and thumbnails (site_data/media/) into build/_m/, new ones only;
    social cards only while the build draws them.

    Names are content hashes, so a file present is the right file; the
    directory's mtime tells a no-op build there is nothing new to look at.
    """
    try:
        stamp = str(media.stat().st_mtime_ns)
    except FileNotFoundError:
        return []
    if intact and store.build_meta(MEDIA_META_KEY) == stamp:
        return []
    out.mkdir(parents=True, exist_ok=True)
    present = set(os.listdir(out))
    if not cards:
        present |= drawn_cards(media)  # left by earlier builds: not this one's
    copied = []
    for name in sorted(os.listdir(media)):
        if name not in present and not name.startswith("."):
            write_file(out / name, (media / name).read_bytes())
            copied.append(f"_m/{name}")
    store.set_build_meta(MEDIA_META_KEY, stamp)
    return copied
