"""Links served by the edge (``[redirector] mode = "edge"``): each link is an
object of its own, ``r/<link id>``, whose body is where it sends a visitor.

The edge answers it with ``302 Found`` to that address (``linkgen edge vcl``),
so no link depends on a redirector process. A link that is disabled, not yet
started or already ended sends the visitor to the profile page, as the
redirector does; a deleted link's object goes. Each profile's link ids are
listed in ``r/.<profile id>`` (a dotfile: never published), so a link removed
from a profile, or a deleted profile, leaves no object behind. The view
beacon, ``/v/<profile id>``, is one small image for every profile (``v.gif``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from linkgen.fsutil import remove, write_if_changed
from linkgen.records import PageLink

FOLDER = "r"
PIXEL_NAME = "v.gif"  # a name no username can have (no dots in usernames)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_SAFE = ":/?#[]@!$&'()*+,;=%~"


def ascii_url(url: str) -> str:
    """``url`` as S3 metadata can carry it: ASCII, anything else percent-encoded."""
    return url if url.isascii() else quote(url, safe=_SAFE)


def _index(out: Path, profile_id: str) -> Path:
    return out / FOLDER / f".{profile_id}"


def targets(
    enabled: Sequence[PageLink], shown: Sequence[PageLink], disabled: Iterable[str], home: str
) -> dict[str, str]:
    """link id -> where it sends a visitor now: its address while it is on show, the
    profile page (``home``) while it is disabled, not yet started or ended."""
    live = {link.id for link in shown}
    found = {link.id: link.url if link.id in live else home for link in enabled}
    found.update(dict.fromkeys(disabled, home))
    return found


def write(out: Path, profile_id: str, addresses: dict[str, str]) -> list[str]:
    """Write ``addresses`` (link id -> address) as the profile's link objects, and
    remove the objects of links it no longer has; the names written or removed."""
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    index = _index(out, profile_id)
    try:
        before = set(index.read_text().split())
    except FileNotFoundError:
        before = set()
    for link_id in before - set(addresses):
        remove(folder / link_id)
    for link_id, url in addresses.items():
        write_if_changed(folder / link_id, ascii_url(url).encode("ascii"))
    write_if_changed(index, "\n".join(sorted(addresses)).encode())
    return [f"{FOLDER}/{link_id}" for link_id in before | set(addresses)]


def forget(out: Path, profile_ids: Iterable[str]) -> list[str]:
    """Remove every link object of these (deleted) profiles; the names removed."""
    gone = []
    for profile_id in profile_ids:
        gone += write(out, profile_id, {})
        remove(_index(out, profile_id))
    return gone
