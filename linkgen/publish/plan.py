"""What a publish must do: diff build/ against the target's manifest.

No LIST request: the manifest (per key, the hash of the bytes and of the
headers last uploaded) says what the target holds. A file whose size and
mtime match the manifest is not even read; one whose bytes or headers
changed is uploaded; a key in the manifest that is no longer built is
deleted. Header-only changes (a new cache policy) are uploads too.

Which files are compared: those the builds journalled since the target's last
complete publish (store.journal) — O(changed), not a walk of build/ — or,
when the journal cannot say (no position yet for the target, a full build
since, ``--verify``, a manifest restored), every file in build/.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from linkgen.publish.objects import (
    BuiltObject,
    Phase,
    body_hash,
    describe,
    draws,
    policy,
    public_path,
    scan,
)
from linkgen.store.journal import EVERYTHING
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
    journal_seq: int = 0  # the journal's last entry this plan covers
    walked: bool = True  # every file in build/ compared (else the journalled ones)

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


def make_plan(site: Site, target: str, prefix: str, *, walk: bool = False) -> Plan:
    """What to upload to and delete from ``target``: the site's build/ against the
    manifest of what the target holds (``walk``: every file, whatever the journal)."""
    position = None if walk else site.journal.position(target, policy())
    if position is not None and site.manifest.has_manifest(target):
        names, last = site.journal.since(position)
        if EVERYTHING not in names:
            return _journalled(site, target, prefix, names, last)
    plan = Plan(target, prefix, journal_seq=site.journal.last())  # read before the walk
    held = site.manifest.held_rows(target)  # key -> row; what is left at the end is deleted
    for obj in scan(site.build_dir, site.builds.page_owners()):
        key = prefix + obj.name
        _compare(plan, key, obj, held.pop(key, None))
    plan.uploads.sort(key=lambda upload: (upload.obj.phase, upload.key))
    plan.deletes = [Published(*held[key]) for key in sorted(held)]
    return plan


Row = tuple[str, str, str, int, int, str]  # a manifest row: key, hashes, stat, keys


def _compare(plan: Plan, key: str, obj: BuiltObject, known: Row | None) -> bool:
    """Add ``obj`` to the plan if the target does not hold it as it is (``known``:
    its manifest row); whether it is unchanged."""
    if known is not None and known[2] == obj.header_hash:
        if known[3] == obj.size and known[4] == obj.mtime_ns:
            plan.unchanged += 1
            return True
        if known[1] == body_hash(obj.read()):
            plan.unchanged += 1
            plan.refreshed.append(Published(*known)._replace(size=obj.size, mtime_ns=obj.mtime_ns))
            return True
    plan.uploads.append(Upload(key, obj))
    return False


def _journalled(site: Site, target: str, prefix: str, names: Iterable[str], last: int) -> Plan:
    """The plan over the names journalled since the target's last complete publish;
    every other object is as the target holds it."""
    plan = Plan(target, prefix, journal_seq=last, walked=False)
    wanted = sorted(n for n in names if n and not n.rpartition("/")[2].startswith("."))
    held = site.manifest.held_rows(target, [prefix + name for name in wanted])
    owners = site.builds.page_owners([name for name in wanted if "/" not in name])
    tests = draws(site.build_dir, owners.values())
    changed = 0
    for name in wanted:
        path = os.path.join(site.build_dir, name)
        try:
            found = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            found = None
        known = held.get(prefix + name)
        if found is None or not stat.S_ISREG(found.st_mode):
            if known is not None:
                plan.deletes.append(Published(*known))
                changed += 1
            continue
        obj = describe(name, path, found.st_size, found.st_mtime_ns, owners, tests)
        if not _compare(plan, prefix + name, obj, known) and known is not None:
            changed += 1
    plan.uploads.sort(key=lambda upload: (upload.obj.phase, upload.key))
    plan.unchanged = site.manifest.count_held(target) - changed
    return plan
