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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from linkgen.publish.targets import Target
from linkgen.store.build_state import BuildState
from linkgen.store.manifest import MANIFEST_SHARDS, Manifest, Published

MIRROR_DIR = "_linkgen/manifest/"
FORMAT = "linkgen.manifest/1"
UNKNOWN_MTIME = -1  # restored entries: the next plan hashes the file once


def shard_key(target: Target, shard: int) -> str:
    return f"{target.prefix}{MIRROR_DIR}{shard:02x}.json"


def marker_key(target: Target) -> str:
    """Written with the first shards: without it there is no copy to read."""
    return f"{target.prefix}{MIRROR_DIR}format.json"


def restore(store: Manifest, target: Target, parallel: int = 16) -> int:
    """Load the target's copy into an empty local manifest; return the entries read."""
    if store.has_manifest(target.name) or target.get(marker_key(target)) is None:
        return 0
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        shards = list(pool.map(lambda n: target.get(shard_key(target, n)), range(MANIFEST_SHARDS)))
    entries = [entry for data in shards if data for entry in _parse(data)]
    store.record_published(target.name, entries, mirror=False)
    return len(entries)


def _parse(data: bytes) -> list[Published]:
    document: dict[str, Any] = json.loads(data)
    if document.get("format") != FORMAT:
        return []
    return [
        Published(key, body, header, size, UNKNOWN_MTIME, surrogate)
        for key, (body, header, size, surrogate) in document["objects"].items()
    ]


def write_pending(
    store: Manifest, builds: BuildState, target: Target, parallel: int = 16
) -> tuple[int, list[str]]:
    """Write the shards that are behind, in parallel; return (shards written, failures)."""
    pending = store.mirror_pending(target.name)
    meta = f"mirror_marker {target.name}"
    if pending and builds.build_meta(meta) is None:
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
