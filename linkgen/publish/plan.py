"""What a publish must do: diff build/ against the target's manifest.

No LIST request: the manifest (per key, the hash of the bytes and of the
headers last uploaded) says what the target holds. A file whose size and
mtime match the manifest is not even read; one whose bytes or headers
changed is uploaded; a key in the manifest that is no longer built is
deleted. Header-only changes (a new cache policy) are uploads too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..store import Published, Store
from .objects import BuiltObject, Phase, body_hash, scan


@dataclass(frozen=True)
class Upload:
    key: str
    obj: BuiltObject


@dataclass
class Plan:
    target: str
    uploads: list[Upload] = field(default_factory=list)
    deletes: list[Published] = field(default_factory=list)
    refreshed: list[Published] = field(default_factory=list)  # same bytes, new stat
    unchanged: int = 0

    @property
    def purge_keys(self) -> list[str]:
        """Surrogate keys whose cached copies the CDN must drop after this publish."""
        keys: set[str] = set()
        for upload in self.uploads:
            if upload.obj.phase is not Phase.MEDIA:  # media names are content hashes
                keys.add(upload.obj.surrogate_keys.split()[0])
        for gone in self.deletes:
            keys.add(gone.surrogate_keys.split()[0])
        return sorted(keys)

    def by_phase(self, phase: Phase) -> list[Upload]:
        return [upload for upload in self.uploads if upload.obj.phase is phase]


def make_plan(store: Store, build_dir: Path, target: str, prefix: str) -> Plan:
    manifest = store.manifest(target)
    plan = Plan(target)
    seen: set[str] = set()
    for obj in scan(build_dir, store.page_owners()):
        key = prefix + obj.name
        seen.add(key)
        known = manifest.get(key)
        header_hash = obj.header_hash
        if known is not None and known.header_hash == header_hash:
            if (known.size, known.mtime_ns) == (obj.size, obj.mtime_ns):
                plan.unchanged += 1
                continue
            if known.body_hash == body_hash(obj.path.read_bytes()):
                plan.unchanged += 1
                plan.refreshed.append(known._replace(size=obj.size, mtime_ns=obj.mtime_ns))
                continue
        plan.uploads.append(Upload(key, obj))
    plan.uploads.sort(key=lambda upload: (upload.obj.phase, upload.key))
    plan.deletes = sorted(
        (entry for key, entry in manifest.items() if key not in seen), key=lambda e: e.key
    )
    return plan
