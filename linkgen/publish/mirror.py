"""The manifest's copy in the target, so a fresh CI runner stays incremental.

The copy is split into 256 shards by a hash of the object key
(``<prefix>_linkgen/manifest/<nn>.json``, private). A publish rewrites only
the shards whose keys changed — a one-profile publish writes one shard — and
a runner with no local manifest for the target reads all 256 by name: GETs,
never a LIST. Shards owed are recorded in the same transaction as the local
manifest, so a failed write is redone by the next run.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from linkgen.publish.targets import Target
from linkgen.store.build_state import BuildState
from linkgen.store.manifest import MANIFEST_SHARDS, Manifest, Published, manifest_shard

if TYPE_CHECKING:
    from linkgen.site import Site

log = logging.getLogger(__name__)

MIRROR_DIR = "_linkgen/manifest/"
FORMAT = "linkgen.manifest/1"
UNKNOWN_MTIME = -1  # restored entries: the next plan hashes the file once
MAX_KEY = 1024  # bytes: S3's limit for a key
MAX_SIZE = 5 * 1024**3  # S3's limit for one PUT
SITE_KEYS = "site all"
_PAGE_KEYS = re.compile(r"p-([A-Za-z0-9]{12}) all")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_SHARD = re.compile(r"[0-9a-f]{2}\.json")


def shard_key(target: Target, shard: int) -> str:
    return f"{target.prefix}{MIRROR_DIR}{shard:02x}.json"


def marker_key(target: Target) -> str:
    """Written with the first shards: without it there is no copy to read."""
    return f"{target.prefix}{MIRROR_DIR}format.json"


def restore(site: Site, target: Target, parallel: int = 16) -> int:
    """Load the target's copy into an empty local manifest; return the entries read.

    The copy is hostile until checked: whoever can write the bucket can write it.
    Only well-formed entries under the target's prefix are kept (``refusal``), and
    their surrogate keys are recomputed, never taken from the copy.
    """
    store = site.manifest
    if store.has_manifest(target.name) or target.get(marker_key(target)) is None:
        return 0
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        shards = list(pool.map(lambda n: target.get(shard_key(target, n)), range(MANIFEST_SHARDS)))
    keys = SurrogateKeys(site)
    entries = [
        entry
        for shard, data in enumerate(shards)
        if data
        for entry in _parse(data, shard, target.prefix, keys)
    ]
    store.record_published(target.name, entries, mirror=False)
    return len(entries)


class SurrogateKeys:
    """The surrogate keys of an object, from what this site knows, never from the copy:
    a built page's are its profile's; media and site files have ``site``; a page no
    longer built keeps ``p-<id>`` only if this site ever issued that id."""

    def __init__(self, site: Site) -> None:
        self.owners = site.builds.page_owners()
        self.conn = site.database.conn

    def __call__(self, name: str, claimed: str) -> str:
        if name.startswith("_m/"):
            return SITE_KEYS
        if name.startswith("r/"):
            return f"l-{name[2:]} all"
        owner = self.owners.get(name)
        if owner is not None:
            return f"p-{owner} all"
        match = _PAGE_KEYS.fullmatch(claimed)
        if match and self._issued(match.group(1)):
            return claimed
        return SITE_KEYS

    def _issued(self, profile_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM issued_ids WHERE id = ? AND kind = 'profile'", (profile_id,)
        ).fetchone()
        return row is not None


def refusal(key: object, value: object, prefix: str, shard: int) -> str | None:
    """Why an entry of the copy is refused, or None if it is well formed: the key a
    normalised relative path under ``prefix`` in its own shard, the hashes ours,
    the size a possible one."""
    if not isinstance(key, str) or not key.startswith(prefix) or len(key.encode()) > MAX_KEY:
        return "not a key under the prefix"
    name = key[len(prefix) :]
    parts = name.split("/")
    if name.startswith("_linkgen/") or any(part in ("", ".", "..") for part in parts):
        return "not a normalised path"
    if any(ord(char) < 0x20 or char in "\\\x7f" for char in name):
        return "a control character or backslash in the key"
    if manifest_shard(key) != shard:
        return "in the wrong shard"
    if not isinstance(value, list) or len(value) != 4:
        return "not [body hash, header hash, size, keys]"
    body, header, size, claimed = value
    if not (isinstance(body, str) and _HEX64.fullmatch(body)):
        return "a body hash that is not a SHA-256"
    if not (isinstance(header, str) and _HEX32.fullmatch(header)):
        return "a header hash that is not one of ours"
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        return "an impossible size"
    if not isinstance(claimed, str):
        return "surrogate keys that are not text"
    return None


def _parse(
    data: bytes, shard: int, prefix: str, keys: Callable[[str, str], str]
) -> list[Published]:
    try:
        document: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        log.warning("manifest copy: shard %02x is not JSON; ignored", shard)
        return []
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return []
    objects = document.get("objects")
    if not isinstance(objects, dict):
        return []
    kept = []
    for key, value in objects.items():
        refused = refusal(key, value, prefix, shard)
        if refused is not None:
            log.warning("manifest copy: entry %r refused: %s", str(key)[:200], refused)
            continue
        body, header, size, claimed = value
        surrogate = keys(key[len(prefix) :], claimed)
        kept.append(Published(key, body, header, size, UNKNOWN_MTIME, surrogate))
    return kept


def resync(site: Site, target: Target, held: Collection[str]) -> None:
    """After comparing with the bucket (``held``: every key there): the copy is
    written again in full, its marker too if it is gone, so a fresh runner reads
    what the manifest now says."""
    copies = {key for key in held if key.startswith(f"{target.prefix}{MIRROR_DIR}")}
    if marker_key(target) not in copies:
        site.builds.set_build_meta(f"mirror_marker {target.name}", "0")
    shards = {int(key[-7:-5], 16) for key in copies if _SHARD.fullmatch(key[-7:])}
    site.manifest.mirror_rewrite(target.name, shards)


def write_pending(
    store: Manifest, builds: BuildState, target: Target, parallel: int = 16
) -> tuple[int, list[str]]:
    """Write the shards that are behind, in parallel; return (shards written, failures)."""
    pending = store.mirror_pending(target.name)
    meta = f"mirror_marker {target.name}"
    if pending and builds.build_meta(meta) != "1":
        marker = json.dumps({"format": FORMAT, "shards": MANIFEST_SHARDS}).encode()
        try:
            target.put_private(marker_key(target), marker)
        except Exception as exc:
            return 0, [f"manifest marker: {type(exc).__name__}: {exc}"]
        builds.set_build_meta(meta, "1")
    documents = {}
    for shard in pending:  # read here: the store's connection stays on this thread
        objects = {
            entry.key: [entry.body_hash, entry.header_hash, entry.size, entry.surrogate_keys]
            for entry in store.manifest_shard(target.name, shard)
        }
        documents[shard] = (
            objects and json.dumps({"format": FORMAT, "objects": objects}, sort_keys=True).encode()
        )

    def write(shard: int) -> str | None:
        data = documents[shard]
        try:
            if data:
                target.put_private(shard_key(target, shard), data)
            elif target.delete([shard_key(target, shard)]):  # empty: as if never written
                raise OSError("the target refused the delete")
        except Exception as exc:  # reported; the shard stays pending for the next run
            return f"manifest shard {shard:02x}: {type(exc).__name__}: {exc}"
        return None

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        outcomes = list(zip(pending, pool.map(write, pending), strict=True))
    written = [shard for shard, failure in outcomes if failure is None]
    store.mirror_written(target.name, written)
    return len(written), [failure for _, failure in outcomes if failure]
