"""The manifest's copy in the bucket: written shard by shard, read back by a fresh runner."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from linkgen import site as sites
from linkgen.publish import mirror
from linkgen.publish.targets import FileTarget, S3Target
from linkgen.store.manifest import Published, manifest_shard


def entry(key: str, size: int = 10) -> Published:
    body = hashlib.sha256(key.encode()).hexdigest()
    return Published(key, body, body[:32], size, 123, "site all")


class CountingTarget(FileTarget):
    """A folder target that counts what is written and can refuse writes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.written: list[str] = []
        self.refuse = False

    def put_private(self, key: str, data: bytes) -> None:
        if self.refuse:
            raise OSError("the disk is full")
        self.written.append(key)
        super().put_private(key, data)


def test_only_the_shards_that_changed_are_written(site: sites.Site, tmp_path: Path) -> None:
    target = CountingTarget(tmp_path / "bucket")
    entries = [entry(f"user{n}") for n in range(40)]
    site.manifest.record_published(target.name, entries)
    written, failures = mirror.write_pending(site.manifest, site.builds, target)
    shards = {manifest_shard(e.key) for e in entries}
    assert failures == [] and written == len(shards)
    assert mirror.marker_key(target) in target.written
    target.written.clear()
    site.manifest.record_published(target.name, [entry("user7", size=99)])
    assert mirror.write_pending(site.manifest, site.builds, target) == (1, [])
    assert target.written == [mirror.shard_key(target, manifest_shard("user7"))]
    assert site.manifest.mirror_pending(target.name) == []


def test_a_fresh_runner_reads_the_copy_back_exactly(site: sites.Site, tmp_path: Path) -> None:
    target = CountingTarget(tmp_path / "bucket")
    entries = [entry(f"user{n}") for n in range(25)]
    site.manifest.record_published(target.name, entries)
    mirror.write_pending(site.manifest, site.builds, target)
    fresh = sites.init(tmp_path / "fresh-runner")  # no local manifest
    assert mirror.restore(fresh, target) == 25
    held = fresh.manifest.held(target.name)
    assert {k: v._replace(mtime_ns=0) for k, v in held.items()} == {
        e.key: e._replace(mtime_ns=0) for e in entries
    }
    assert {v.mtime_ns for v in held.values()} == {mirror.UNKNOWN_MTIME}  # hashed once later
    assert fresh.manifest.mirror_pending(target.name) == []  # nothing to write back
    assert mirror.restore(fresh, target) == 0  # a local manifest wins
    fresh.close()


def test_a_shard_left_empty_is_deleted_from_the_copy(site: sites.Site, tmp_path: Path) -> None:
    target = CountingTarget(tmp_path / "bucket")
    site.manifest.record_published(target.name, [entry("only")])
    mirror.write_pending(site.manifest, site.builds, target)
    shard = target.root / mirror.shard_key(target, manifest_shard("only"))
    assert json.loads(shard.read_bytes())["objects"]["only"][2] == 10
    site.manifest.forget_published(target.name, ["only"])
    assert mirror.write_pending(site.manifest, site.builds, target) == (1, [])
    assert not shard.exists()


def test_a_failed_write_is_reported_and_redone_next_run(site: sites.Site, tmp_path: Path) -> None:
    target = CountingTarget(tmp_path / "bucket")
    site.manifest.record_published(target.name, [entry("a"), entry("b")])
    target.refuse = True
    written, failures = mirror.write_pending(site.manifest, site.builds, target)
    assert written == 0 and failures == ["manifest marker: OSError: the disk is full"]
    target.refuse = False
    assert mirror.write_pending(site.manifest, site.builds, target)[1] == []
    assert site.manifest.mirror_pending(target.name) == []


def test_no_copy_or_another_format_restores_nothing(site: sites.Site, tmp_path: Path) -> None:
    target = CountingTarget(tmp_path / "bucket")
    assert mirror.restore(site, target) == 0  # no marker: no copy
    target.put_private(mirror.marker_key(target), b'{"format": "linkgen.manifest/1"}')
    target.put_private(
        mirror.shard_key(target, 0), json.dumps({"format": "other/9", "objects": {}}).encode()
    )
    assert mirror.restore(site, target) == 0
    assert not site.manifest.has_manifest(target.name)


def test_the_copy_in_s3_is_private_and_read_by_name(
    site: sites.Site, bucket: Any, s3_endpoint: str
) -> None:
    s3, name = bucket
    (site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{name}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
    )
    live = sites.Site.open(site.root)
    target = S3Target(live.config.publish, name, "links/")
    target.connect()
    live.manifest.record_published(target.name, [entry("links/alice")])
    assert mirror.write_pending(live.manifest, live.builds, target)[1] == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert set(keys) == {
        "links/_linkgen/manifest/format.json",
        f"links/_linkgen/manifest/{manifest_shard('links/alice'):02x}.json",
    }
    for key in keys:  # the public-read ACL of pages is never given to the copy
        grants = s3.get_object_acl(Bucket=name, Key=key)["Grants"]
        assert all("AllUsers" not in str(grant["Grantee"]) for grant in grants)
    fresh = sites.init(site.root.parent / "fresh")
    assert mirror.restore(fresh, target) == 1
    fresh.close()
    live.close()


def test_the_count_of_what_a_target_holds_follows_every_write(site: sites.Site) -> None:
    manifest = site.manifest
    assert manifest.count_held("s3://a/") == 0
    manifest.record_published("s3://a/", [entry(f"user{n}") for n in range(30)])
    manifest.record_published("s3://b/", [entry("user1")])
    # Published again, changed or not: still one object per key.
    manifest.record_published("s3://a/", [entry(f"user{n}", size=n) for n in range(20, 40)])
    manifest.forget_published("s3://a/", ["user0", "user1", "never-held"])
    held = manifest.held("s3://a/")
    assert manifest.count_held("s3://a/") == len(held) == 38
    assert held["user25"].size == 25
    assert manifest.count_held("s3://b/") == 1
