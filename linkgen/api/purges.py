"""A purge asked for through the API: the profile's keys (or paths) join the purge
queue, and the worker sends them on its next round, as it retries failed ones."""

from __future__ import annotations

from linkgen.publish.objects import public_path
from linkgen.publish.purge import purge_unit
from linkgen.records import iso, now
from linkgen.site import Site

ASKED = "asked for through the API"


def subjects(site: Site, profile_id: str, username: str) -> list[str]:
    """What the CDN is told to drop: ``p-<id>``, or the public paths of the profile's
    published objects for a CDN that purges by URL."""
    if purge_unit(site.config.cdn) == "key":
        return [f"p-{profile_id}"]
    rows = site.database.conn.execute(
        "SELECT target, key FROM publish_manifest WHERE surrogate_keys = ? "
        "OR surrogate_keys LIKE ?",
        (f"p-{profile_id}", f"p-{profile_id} %"),
    )
    paths: set[str] = set()
    for target, key in rows:
        prefix = (
            target.split("/", 3)[3] if target.startswith("s3://") and target.count("/") >= 3 else ""
        )
        paths.update(public_path(site.config.site.url, key.removeprefix(prefix)))
    return sorted(paths) or [f"{public_path(site.config.site.url, username)[0]}"]


def queue_profile_purge(site: Site, profile_id: str, username: str) -> list[str]:
    unit, queued = purge_unit(site.config.cdn), subjects(site, profile_id, username)
    with site.database.writing():
        site.database.conn.executemany(
            "INSERT INTO purge_queue (unit, subject, first_failed_at, attempts, last_error) "
            "VALUES (?, ?, ?, 0, ?) ON CONFLICT(unit, subject) DO NOTHING",
            [(unit, subject, iso(now()), ASKED) for subject in queued],
        )
    return queued
