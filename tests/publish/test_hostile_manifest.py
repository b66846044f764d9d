"""The bucket's copy of the manifest is hostile: whoever can write the bucket can
write it. A fresh runner reading a forged copy deletes nothing outside the
target, nothing linkgen did not write, and purges nothing it did not build."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.publish import mirror
from linkgen.publish.run import publish
from linkgen.publish.targets import FileTarget
from linkgen.store.manifest import manifest_shard
from tests.support.standins import FastlyStandIn

SERVICE, TOKEN = "SU1Z0isxPaozGVKXdv0eY", "fastly-token"
BODY = hashlib.sha256(b"x").hexdigest()


def forge(target: Any, prefix: str, entries: dict[str, list[Any]]) -> None:
    """Add entries to the target's copy, each in the shard its key belongs to."""
    for key, value in entries.items():
        shard = mirror.shard_key(target, manifest_shard(key))
        raw = target.get(shard)
        document = json.loads(raw) if raw else {"format": mirror.FORMAT, "objects": {}}
        document["objects"][key] = value
        target.put_private(shard, json.dumps(document).encode())


def fresh_runner(site: sites.Site) -> sites.Site:
    """The same site on a new CI machine: the build, but no local record of the target."""
    site.database.conn.execute("DELETE FROM publish_manifest")
    site.database.conn.commit()
    return sites.Site.open(site.root)


@pytest.fixture
def folder_site(site: sites.Site, add_profile: Any, tmp_path: Path) -> sites.Site:
    (site.root / "linkgen.toml").write_text('[publish]\ntarget = "file://published"\n')
    add_profile("alice", ("Shop", "https://shop.example.com"))
    opened = sites.Site.open(site.root)
    build(opened)
    assert publish(opened).ok
    return opened


def test_a_forged_key_outside_the_folder_deletes_nothing_there(
    folder_site: sites.Site, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("not linkgen's")
    target = FileTarget(folder_site.root / "published")
    forge(target, "", {
        "../../victim.txt": [BODY, BODY[:32], 13, "site all"],
        "/etc/hostname": [BODY, BODY[:32], 13, "site all"],
        "a/../../../victim.txt": [BODY, BODY[:32], 13, "site all"],
    })  # fmt: skip
    report = publish(fresh_runner(folder_site))
    assert report.ok and report.deleted == []
    assert victim.read_text() == "not linkgen's"
    assert (folder_site.root / "published" / "alice").is_file()  # the real pages stay


def test_a_folder_target_never_touches_a_path_outside_it(tmp_path: Path) -> None:
    target = FileTarget(tmp_path / "published")
    (tmp_path / "published").mkdir()
    (tmp_path / "outside").write_text("keep")
    (tmp_path / "published" / "link").symlink_to(tmp_path)
    for key in ("../outside", "link/outside", "x/../../outside"):
        with pytest.raises(Exception, match="outside"):
            target.delete([key])
    assert (tmp_path / "outside").read_text() == "keep"


@pytest.fixture
def fastly() -> Iterator[FastlyStandIn]:
    stand_in = FastlyStandIn(SERVICE, TOKEN)
    yield stand_in
    stand_in.close()


@pytest.fixture
def s3_site(
    site: sites.Site,
    add_profile: Any,
    bucket: Any,
    s3_endpoint: str,
    fastly: FastlyStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> sites.Site:
    _, name = bucket
    monkeypatch.setenv("FASTLY_API_TOKEN", TOKEN)
    (site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{name}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
        f'[cdn]\nprovider = "fastly"\nfastly_service_id = "{SERVICE}"\n'
        f'fastly_api_url = "{fastly.url}"\n'
    )
    add_profile("alice", ("Shop", "https://shop.example.com"))
    add_profile("bob", ("Blog", "https://blog.example.com"))
    opened = sites.Site.open(site.root)
    build(opened)
    assert publish(opened).ok
    fastly.purged.clear()
    return opened


def test_a_forged_copy_cannot_purge_the_whole_cdn(
    s3_site: sites.Site, fastly: FastlyStandIn
) -> None:
    target = _s3(s3_site)
    forge(target, "links/", {
        "links/ghost": [BODY, BODY[:32], 1, "all"],
        "links/ghost2": [BODY, BODY[:32], 1, "p-NotOurId0001 all"],
        "links/alice": [BODY, BODY[:32], 1, "all"],  # a real page, claimed with `all`
    })  # fmt: skip
    fresh = fresh_runner(s3_site)
    report = publish(fresh)
    assert report.ok, report.failures
    keys = {key for batch in fastly.purged for key in batch}
    assert "all" not in keys and not any("NotOurId" in key for key in keys)
    alice = fresh.content.get("alice").id
    assert keys <= {"site", f"p-{alice}"}
    held = fresh.manifest.held(target.name)
    assert held["links/alice"].surrogate_keys == f"p-{alice} all"  # recomputed


def test_objects_linkgen_did_not_write_are_never_deleted(s3_site: sites.Site, bucket: Any) -> None:
    s3, name = bucket
    s3.put_object(Bucket=name, Key="links/precious.pdf", Body=b"someone else's")
    target = _s3(s3_site)
    forge(target, "links/", {"links/precious.pdf": [BODY, BODY[:32], 14, "site all"]})
    report = publish(fresh_runner(s3_site))
    assert report.ok and report.deleted == []
    assert report.unknown == ["links/precious.pdf"]
    assert s3.get_object(Bucket=name, Key="links/precious.pdf")["Body"].read() == b"someone else's"


def test_a_page_linkgen_wrote_and_no_longer_builds_is_still_deleted(
    s3_site: sites.Site, bucket: Any
) -> None:
    s3, name = bucket
    s3_site.content.delete_profile("bob")
    fresh = fresh_runner(s3_site)
    build(fresh)
    report = publish(fresh)
    assert report.ok and "links/bob" in report.deleted
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name, Prefix="links/")["Contents"]]
    assert "links/bob" not in keys


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("elsewhere/x", [BODY, BODY[:32], 1, "site all"], "not a key under the prefix"),
        ("links/../x", [BODY, BODY[:32], 1, "site all"], "not a normalised path"),
        ("links//x", [BODY, BODY[:32], 1, "site all"], "not a normalised path"),
        ("links/", [BODY, BODY[:32], 1, "site all"], "not a normalised path"),
        ("links/_linkgen/manifest/00.json", [BODY, BODY[:32], 1, "x"], "not a normalised path"),
        ("links/a\\b", [BODY, BODY[:32], 1, "site all"], "backslash"),
        ("links/a\nb", [BODY, BODY[:32], 1, "site all"], "control character"),
        ("links/" + "x" * 1100, [BODY, BODY[:32], 1, "site all"], "not a key under the prefix"),
        ("links/x", [BODY, BODY[:32], 1], "not [body hash"),
        ("links/x", {"size": 1}, "not [body hash"),
        ("links/x", ["nope", BODY[:32], 1, "site all"], "SHA-256"),
        ("links/x", [BODY, "nope", 1, "site all"], "header hash"),
        ("links/x", [BODY, BODY[:32], -1, "site all"], "impossible size"),
        ("links/x", [BODY, BODY[:32], 10**13, "site all"], "impossible size"),
        ("links/x", [BODY, BODY[:32], True, "site all"], "impossible size"),
        ("links/x", [BODY, BODY[:32], 1, ["all"]], "not text"),
    ],
)
def test_every_malformed_entry_is_refused(key: str, value: Any, why: str) -> None:
    refused = mirror.refusal(key, value, "links/", manifest_shard(key))
    assert refused is not None and why in refused


def test_an_entry_in_the_wrong_shard_is_refused() -> None:
    right = manifest_shard("links/x")
    value = [BODY, BODY[:32], 1, "site all"]
    assert mirror.refusal("links/x", value, "links/", right) is None
    assert mirror.refusal("links/x", value, "links/", (right + 1) % 256) == "in the wrong shard"


def _s3(site: sites.Site) -> Any:
    from linkgen.publish.targets import open_target

    target = open_target(site.config.publish, site.root)
    target.connect()
    return target
