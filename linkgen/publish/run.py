"""Carry out a publish plan: uploads phase by phase, then deletes, then purges.

Media go up before the pages that use them and pages before the sitemap; a
phase with a failed upload stops the publish, so no published page ever
references an object that is not there. Deletes run only after every upload
succeeded, in batches of at most 1,000 keys, never outside the prefix, and
never more than ``max_deletes`` in one run unless the caller says so.
The manifest is updated as objects land, so a publish killed at any point
is finished by the next run.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from linkgen.errors import PublishError
from linkgen.publish import generation, linkmap, mirror, objects
from linkgen.publish.objects import Phase, body_hash
from linkgen.publish.plan import Plan, Upload, make_plan
from linkgen.publish.purge import Purger, open_purger, purge_unit
from linkgen.publish.targets import DELETE_BATCH, Target, open_target
from linkgen.site import Site
from linkgen.store.manifest import Published

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class PublishReport:
    target: str
    dry_run: bool
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    purge_keys: list[str] = field(default_factory=list)
    unchanged: int = 0
    bytes: int = 0
    failures: list[str] = field(default_factory=list)
    deletes_held: int = 0  # deletes over max_deletes, not carried out
    purged: list[str] = field(default_factory=list)
    purge_pending: list[str] = field(default_factory=list)  # failed; retried next run
    manifest_restored: int = 0  # entries read from the target's copy (a fresh runner)
    manifest_shards_written: int = 0
    link_map_shards_written: int = 0  # [redirector] link_map
    drift: list[str] = field(default_factory=list)  # --verify: objects changed behind our back
    verified: str | None = None  # why every object was compared with the bucket
    unknown: list[str] = field(default_factory=list)  # --verify: objects we never wrote
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.deletes_held


def publish(
    site: Site,
    *,
    dry_run: bool = False,
    max_deletes: int | None = None,
    progress: Progress | None = None,
    target: Target | None = None,
    purger: Purger | None = None,
    verify: bool = False,
) -> PublishReport:
    started = time.perf_counter()
    settings = site.config.publish
    target = target or open_target(settings, site.root)
    restored, plan = 0, None
    verified = "asked for (--verify)" if verify else None
    if not dry_run:
        # Settings errors surface before anything is uploaded: a purger that
        # failed to open after the uploads would lose the keys to purge.
        purger = purger or open_purger(site.config.cdn, site.config.site.url)
        target.connect()
        held = site.manifest.has_manifest(target.name)
        mine = generation.expected(site.builds, target) if held and not verify else None
        with ThreadPoolExecutor(max_workers=1) as checking:
            # Round trips while the plan is made: the target is there, and it still
            # holds the generation this site last wrote (else every object is checked).
            check = checking.submit(_check, target, mine)
            if not verify and held:
                plan = make_plan(site, target.name, target.prefix)
            lost = check.result()
        if not verify and (lost or generation.verify_asked(site.builds)):
            verify = True
            why = "the bucket no longer holds the generation this site wrote"
            verified = why if lost else "the site was restored from a backup"
            log.warning("%s: comparing every object with the bucket", verified)
        restored = mirror.restore(site, target, settings.parallel)
    drift, unknown = _verify(site, target) if verify else ([], [])
    if plan is None or restored or drift:
        plan = make_plan(site, target.name, target.prefix, walk=verify or bool(restored or drift))
    report = PublishReport(target.name, dry_run, unchanged=plan.unchanged)
    report.manifest_restored = restored
    report.drift, report.unknown = drift, unknown
    report.verified = verified
    limit = settings.max_deletes if max_deletes is None else max_deletes
    if dry_run:  # (a real run reports what it purged, in _purge)
        report.purge_keys = plan.purge_subjects(purge_unit(site.config.cdn), site.config.site.url)
        report.uploaded = [upload.key for upload in plan.uploads]
        report.deleted = [entry.key for entry in plan.deletes]
        report.bytes = sum(upload.obj.size for upload in plan.uploads)
    else:
        if plan.refreshed:  # same bytes, newer stat: nothing for the mirror
            site.manifest.record_published(target.name, plan.refreshed, mirror=False)
        if site.config.redirector.link_map:  # before the pages that show the links
            written, failures = linkmap.write_pending(
                site.database, target, site.config.site.url, settings.parallel
            )
            report.link_map_shards_written = written
            report.failures.extend(failures)
        if not report.failures:
            _upload(site, target, plan, report, settings.parallel, progress)
        if not report.failures:
            _delete(site, target, plan, report, limit)

        def write_mirror() -> None:
            written, failures = mirror.write_pending(
                site.manifest, site.builds, target, settings.parallel
            )
            report.manifest_shards_written = written
            report.failures.extend(failures)

        assert purger is not None
        _purge(site, purger, plan, report, meanwhile=write_mirror)
        if report.ok and (verify or generation.expected(site.builds, target) is None):
            try:
                generation.renew(site.builds, target)
            except Exception as exc:  # the next publish verifies again; nothing lost
                report.failures.append(f"generation marker: {_reason(exc)}")
        if report.ok:  # the next publish compares what builds wrote after this plan
            site.journal.covered(target.name, plan.journal_seq, objects.policy())
    report.seconds = time.perf_counter() - started
    return report


def _check(target: Target, mine: str | None) -> bool:
    """One request: the target answers, and whether it lost the generation ``mine``
    (reading the marker proves the first as well)."""
    if mine is None:
        target.check()
        return False
    try:
        return generation.lost(target, mine)
    except Exception:
        target.check()  # says plainly what is wrong with the target
        raise


def _upload(
    site: Site,
    target: Target,
    plan: Plan,
    report: PublishReport,
    parallel: int,
    progress: Progress | None,
) -> None:
    total = len(plan.uploads)

    def put(upload: Upload) -> Published:
        data = upload.obj.read()
        target.put(upload.key, data, upload.obj)
        obj = upload.obj
        return Published(
            upload.key,
            body_hash(data),
            obj.header_hash,
            len(data),
            obj.mtime_ns,
            obj.surrogate_keys,
        )

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for phase in Phase:
            batch = plan.by_phase(phase)
            if not batch:
                continue
            futures = [(upload, pool.submit(put, upload)) for upload in batch]
            done: list[Published] = []
            for upload, future in futures:
                try:
                    done.append(future.result())
                except Exception as exc:  # every failure is reported, none is fatal alone
                    report.failures.append(f"upload {upload.key}: {_reason(exc)}")
                if progress:
                    progress(len(report.uploaded) + len(done), total)
            site.manifest.record_published(target.name, done)
            report.uploaded += [entry.key for entry in done]
            report.bytes += sum(entry.size for entry in done)
            if report.failures:
                log.error(
                    "stopping after %s: %d uploads failed", phase.name.lower(), len(report.failures)
                )
                return


def _delete(site: Site, target: Target, plan: Plan, report: PublishReport, limit: int) -> None:
    entries = [entry for entry in plan.deletes if entry.key.startswith(target.prefix)]
    keys = [entry.key for entry in _ours(site, target, entries, report)]
    if len(keys) > limit:
        report.deletes_held = len(keys)
        report.failures.append(
            f"{len(keys)} objects would be deleted, more than max_deletes = {limit}; nothing "
            f"was deleted. Check the build, then run again with --max-deletes {len(keys)}"
        )
        return
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        try:
            failed = set(target.delete(batch))
        except PublishError:
            raise
        except Exception as exc:
            report.failures.append(f"delete of {len(batch)} objects: {_reason(exc)}")
            return
        gone = [key for key in batch if key not in failed]
        report.failures += [f"delete {key}: refused by the target" for key in sorted(failed)]
        site.manifest.forget_published(target.name, gone)
        report.deleted += gone


def _ours(
    site: Site, target: Target, entries: list[Published], report: PublishReport
) -> list[Published]:
    """The entries to delete that we know we wrote: recorded here, or, if only the
    bucket's copy of the manifest vouches for one, carrying linkgen's metadata.
    Anything else is forgotten and reported, never deleted."""
    vouched = [entry for entry in entries if entry.mtime_ns == mirror.UNKNOWN_MTIME]
    if not vouched:
        return entries
    strangers = {entry.key for entry in vouched if not target.written_by_us(entry.key)}
    if strangers:
        log.warning("not deleting %d objects linkgen did not write", len(strangers))
        site.manifest.forget_published(target.name, sorted(strangers))
        report.unknown += sorted(strangers)
    return [entry for entry in entries if entry.key not in strangers]


def _purge(
    site: Site, purger: Purger, plan: Plan, report: PublishReport, meanwhile: Callable[[], None]
) -> None:
    """Purge what changed at the origin, plus every purge that failed before.

    ``meanwhile`` (writing the manifest's copy) runs while the CDN answers.

    Surrogate-key CDNs get the first key of each changed object (``p-<id>``
    or ``site``); URL-purging CDNs get the public paths of the changed objects.
    """
    landed = set(report.uploaded) | set(report.deleted)
    pending = site.manifest.pending_purges(purger.unit)
    subjects = plan.purge_subjects(purger.unit, site.config.site.url, landed)
    subjects = sorted(set(subjects) | set(pending))
    report.purge_keys = subjects
    if purger.name == "none" or not subjects:  # no CDN: nothing is cached anywhere
        meanwhile()
        site.manifest.purges_done(purger.unit, pending)
        return
    with ThreadPoolExecutor(max_workers=1) as purging:
        sending = purging.submit(purger.purge, subjects)
        meanwhile()
        try:
            sending.result()
        except PublishError as exc:
            site.manifest.purges_failed(purger.unit, subjects, str(exc))
            report.purge_pending = subjects
            report.failures.append(f"{exc} ({len(subjects)} kept, retried on the next run)")
            return
    site.manifest.purges_done(purger.unit, subjects)
    report.purged = subjects


def _verify(site: Site, target: Target) -> tuple[list[str], list[str]]:
    """List the target once and forget manifest entries that no longer hold.

    An object that is missing, or whose size or MD5 differs from what we
    uploaded, is dropped from the manifest, so the plan that follows uploads
    it again. Objects we never wrote are reported, never deleted.
    """
    held = target.inventory()
    mirror.resync(site, target, held)
    manifest = site.manifest.held(target.name)
    drift = []
    for key, entry in manifest.items():
        remote = held.get(key)
        if remote is None or remote[0] != entry.size:
            drift.append(key)
            continue
        local = site.build_dir / key.removeprefix(target.prefix)
        try:
            data = local.read_bytes()
        except FileNotFoundError:
            continue  # no longer built: the plan deletes it
        if body_hash(data) == entry.body_hash and hashlib.md5(data).hexdigest() != remote[1]:
            drift.append(key)
    site.manifest.forget_published(target.name, drift)
    ours = f"{target.prefix}_linkgen/"
    unknown = sorted(k for k in held if k not in manifest and not k.startswith(ours))
    # Objects linkgen wrote that the manifest forgot (a site restored from a backup
    # older than the bucket): taken back, so the plan replaces or deletes them.
    adopted = [key for key in unknown if target.written_by_us(key)]
    if adopted:
        keys = mirror.SurrogateKeys(site)
        site.manifest.record_published(
            target.name,
            [
                Published(key, "-", "-", held[key][0], mirror.UNKNOWN_MTIME,
                          keys(key.removeprefix(target.prefix), ""))
                for key in adopted
            ],
            mirror=True,
        )  # fmt: skip
    return sorted(drift), [key for key in unknown if key not in set(adopted)]


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"
