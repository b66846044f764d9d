"""What a publish must do: diff build/ against the target's manifest.

No LIST request: the manifest (per key, the hash of the bytes and of the
headers last uploaded) says what the target holds. A file whose size and
mtime match the manifest is not even read; one whose bytes or headers
changed is uploaded; a key in the manifest that is no longer built is
deleted. Header-only changes (a new cache policy) are uploads too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from linkgen.publish.objects import BuiltObject, Phase, body_hash, public_path, scan
from linkgen.store.manifest import Published

if TYPE_CHECKING:
    from linkgen.site import Site


@dataclass(frozen=True)
class Upload:
    key: str
    obj: BuiltObject


@dataclass
class Plan:
    target: str
    prefix: str = ""
    uploads: list[Upload] = field(default_factory=list)
    deletes: list[Published] = field(default_factory=list)
    refreshed: list[Published] = field(default_factory=list)  # same bytes, new stat
    unchanged: int = 0

    def purge_subjects(
        self, unit: str, site_url: str, landed: Collection[str] | None = None
    ) -> list[str]:
        """What the CDN must drop once the objects in ``landed`` (default: all) are in place.

        ``unit`` "key": the first surrogate key of each changed object
        (``p-<id>`` or ``site``); "path": the public URL paths of the changed
        objects. Media are never purged: their names are content hashes.
        """
        changed = [
            (upload.key, upload.obj.surrogate_keys)
            for upload in self.uploads
            if upload.obj.phase is not Phase.MEDIA
        ]
        changed += [(entry.key, entry.surrogate_keys) for entry in self.deletes]
        if landed is not None:
            changed = [(key, keys) for key, keys in changed if key in landed]
        if unit == "path":
            start = len(self.prefix)
            return sorted({p for key, _ in changed for p in public_path(site_url, key[start:])})
        return sorted({keys.split()[0] for _, keys in changed})

    def by_phase(self, phase: Phase) -> list[Upload]:
        return [upload for upload in self.uploads if upload.obj.phase is phase]


def make_plan(site: Site, target: str, prefix: str) -> Plan:
    """What to upload to and delete from ``target``: the site's build/ against the
    manifest of what the target holds."""
    held = site.manifest.held_rows(target)  # key -> row; what is left at the end is deleted
    plan = Plan(target, prefix)
    for obj in scan(site.build_dir, site.builds.page_owners()):
        key = prefix + obj.name
        known = held.pop(key, None)  # (key, body hash, header hash, size, mtime_ns, keys)
        if known is not None and known[2] == obj.header_hash:
            if known[3] == obj.size and known[4] == obj.mtime_ns:
                plan.unchanged += 1
                continue
            if known[1] == body_hash(obj.read()):
                plan.unchanged += 1
                plan.refreshed.append(
                    Published(*known)._replace(size=obj.size, mtime_ns=obj.mtime_ns)
                )
                continue
        plan.uploads.append(Upload(key, obj))
    plan.uploads.sort(key=lambda upload: (upload.obj.phase, upload.key))
    plan.deletes = [Published(*held[key]) for key in sorted(held)]
    return plan
