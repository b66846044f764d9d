"""Publishing to a real S3 API (moto's server over HTTP on loopback)."""

from __future__ import annotations

import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.build import build
from linkgen.errors import PublishError
from linkgen.models import ProfileFields
from linkgen.publish import objects
from linkgen.publish.objects import BuiltObject
from linkgen.publish.run import publish
from linkgen.publish.targets import S3Target
from linkgen.store.manifest import manifest_shard
from tests.support.buckets import bucket_state


@pytest.fixture(autouse=True)
def _no_cards_or_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count published objects; a profile's social card and QR code
    are published like any other media (tests/test_cards.py, tests/test_qr.py)."""
    monkeypatch.setenv("LINKGEN_BUILD__SOCIAL_CARDS", "false")
    monkeypatch.setenv("LINKGEN_BUILD__QR_CODES", "false")


@pytest.fixture
def s3_site(site: sites.Site, bucket: Any, s3_endpoint: str, add_profile: Any) -> sites.Site:
    _, name = bucket
    (site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{name}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
    )
    for n in range(5):
        add_profile(f"user{n}", ("Shop", f"https://example.com/{n}"), display_name=f"User {n}")
    opened = sites.Site.open(site.root)
    build(opened)
    return opened


class Counting:
    """An S3 target that counts the API calls it makes, by operation."""

    def __init__(self, site: sites.Site) -> None:
        settings = site.config.publish
        bucket, _, prefix = settings.target.removeprefix("s3://").partition("/")
        self.target = S3Target(settings, bucket, prefix + "/")
        self.calls: Counter[str] = Counter()
        self.target.client.meta.events.register("before-call.s3.*", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    def publish(self, site: sites.Site, **options: Any) -> Any:
        self.calls.clear()
        return publish(site, target=self.target, **options)


def test_first_publish_uploads_everything_with_headers_and_no_list(
    s3_site: sites.Site, bucket: Any, s3_endpoint: str
) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    report = counting.publish(s3_site)
    assert report.ok, report.failures
    assert counting.calls["ListObjectsV2"] == 0 and counting.calls["ListObjects"] == 0
    assert len(report.uploaded) == 10  # 5 pages + 5 site files (with the home page)
    shards = {manifest_shard(key) for key in report.uploaded}
    assert report.manifest_shards_written == len(shards)
    # + the copy's marker and the generation marker, once each
    assert counting.calls["PutObject"] == 10 + len(shards) + 2
    assert counting.calls["GetObject"] == 1  # looked for a manifest copy by name: none yet
    profile = s3_site.content.get("user1")
    head = s3.head_object(Bucket=name, Key="links/user1")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == objects.PAGE_CACHE
    assert head["Metadata"]["surrogate-key"] == f"p-{profile.id} all"
    media = next(k for k in report.uploaded if k.startswith("links/_m/"))
    assert s3.head_object(Bucket=name, Key=media)["CacheControl"].endswith("immutable")
    sitemap = s3.head_object(Bucket=name, Key="links/sitemap.xml")
    assert sitemap["Metadata"]["surrogate-key"] == "site all"
    # Anonymous GET, as a CDN would fetch it:
    with urllib.request.urlopen(f"{s3_endpoint}/{name}/links/user1") as response:
        assert response.read() == (s3_site.build_dir / "user1").read_bytes()
    # Media first, pages next, site files last:
    phases = [k.split("/", 1)[1] for k in report.uploaded]
    assert (
        phases.index(media.split("/", 1)[1]) < phases.index("user0") < phases.index("sitemap.xml")
    )


def test_a_second_publish_sends_nothing(s3_site: sites.Site) -> None:
    counting = Counting(s3_site)
    counting.publish(s3_site)
    report = counting.publish(s3_site)
    assert report.ok and report.uploaded == [] and report.unchanged == 10
    # One request: the generation marker, read while the plan is made (it also
    # proves the bucket answers); nothing else.
    assert counting.calls == {"GetObject": 1}


def test_one_edit_uploads_one_page_and_purges_one_key(s3_site: sites.Site) -> None:
    counting = Counting(s3_site)
    counting.publish(s3_site)
    s3_site.content.update_profile("user3", ProfileFields(bio="fresh"))
    build(s3_site)
    report = counting.publish(s3_site)
    # The sitemap's lastmod is a date: a same-day edit leaves it as it is.
    assert report.uploaded == ["links/user3"]
    assert report.manifest_shards_written == 1
    assert counting.calls["PutObject"] == 2  # the page and its manifest shard
    assert counting.calls.get("ListObjectsV2", 0) == 0
    assert report.purge_keys == [f"p-{s3_site.content.get('user3').id}"]


def test_a_deleted_profile_is_deleted_and_purged(s3_site: sites.Site, bucket: Any) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    counting.publish(s3_site)
    gone = s3_site.content.get("user2")
    s3_site.content.delete_profile("user2")
    build(s3_site)
    report = counting.publish(s3_site)
    assert report.deleted == ["links/user2"]
    kept = s3_site.manifest.held(report.target)
    emptied = all(manifest_shard(k) != manifest_shard("links/user2") for k in kept)
    # The page, and its manifest shard if the page was the shard's last key.
    assert counting.calls["DeleteObjects"] == 1 + emptied
    assert f"p-{gone.id}" in report.purge_keys
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert "links/user2" not in keys and "links/user1" in keys


def test_a_fresh_runner_reads_the_manifest_copy_and_uploads_nothing(
    s3_site: sites.Site, bucket: Any
) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    first = counting.publish(s3_site)
    # A new CI machine: the same build, but no local record of the bucket.
    s3_site.database.conn.execute("DELETE FROM publish_manifest")
    s3_site.database.conn.commit()
    again = counting.publish(s3_site)
    assert again.ok and again.uploaded == [] and again.deleted == []
    assert again.manifest_restored == len(first.uploaded) == 10
    assert counting.calls["GetObject"] == 1 + 256  # the marker, then every shard by name
    assert counting.calls.get("PutObject", 0) == 0
    assert counting.calls.get("ListObjectsV2", 0) == 0
    shard = s3.get_object(
        Bucket=name, Key=f"links/_linkgen/manifest/{manifest_shard('links/user0'):02x}.json"
    )
    assert shard["CacheControl"] == "private, no-store"
    # And it stays incremental: one edit, one page.
    s3_site.content.update_profile("user0", ProfileFields(bio="after the move"))
    build(s3_site)
    assert counting.publish(s3_site).uploaded == ["links/user0"]


def test_a_header_only_change_is_uploaded(
    s3_site: sites.Site, bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    counting.publish(s3_site)
    monkeypatch.setattr(objects, "PAGE_CACHE", "public, max-age=30, s-maxage=31536000")
    report = counting.publish(s3_site)
    assert sorted(report.uploaded) == [f"links/user{n}" for n in range(5)]
    assert s3.head_object(Bucket=name, Key="links/user0")["CacheControl"].startswith(
        "public, max-age=30"
    )


def test_the_delete_guard_holds_mass_deletes_until_confirmed(s3_site: sites.Site) -> None:
    counting = Counting(s3_site)
    counting.publish(s3_site)
    for n in range(3):
        s3_site.content.delete_profile(f"user{n}")
    build(s3_site)
    held = counting.publish(s3_site, max_deletes=2)
    assert not held.ok and held.deleted == [] and held.deletes_held == 3
    assert "run again with --max-deletes 3" in held.failures[0]
    assert counting.calls.get("DeleteObjects", 0) == 0
    done = counting.publish(s3_site, max_deletes=3)
    assert done.ok and len(done.deleted) == 3


def test_nothing_outside_the_prefix_is_touched(s3_site: sites.Site, bucket: Any) -> None:
    s3, name = bucket
    s3.put_object(Bucket=name, Key="other/keep-me", Body=b"x")
    s3.put_object(Bucket=name, Key="linksextra", Body=b"x")
    counting = Counting(s3_site)
    counting.publish(s3_site)
    for n in range(5):
        s3_site.content.delete_profile(f"user{n}")
    build(s3_site)
    counting.publish(s3_site)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
    assert {"other/keep-me", "linksextra"} <= keys
    with pytest.raises(PublishError, match="outside the prefix"):
        counting.target.delete(["other/keep-me"])


def test_a_dry_run_changes_nothing(s3_site: sites.Site, bucket: Any) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    report = counting.publish(s3_site, dry_run=True)
    assert len(report.uploaded) == 10 and report.dry_run
    assert counting.calls.get("PutObject", 0) == 0
    assert "Contents" not in s3.list_objects_v2(Bucket=name)
    assert s3_site.manifest.held(report.target) == {}


def test_a_missing_bucket_is_one_clear_error(s3_site: sites.Site, s3_endpoint: str) -> None:
    (s3_site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://no-such-bucket/x"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\n'
    )
    with pytest.raises(PublishError, match="bucket 'no-such-bucket' does not exist"):
        publish(sites.Site.open(s3_site.root))


def test_a_failed_media_upload_stops_before_any_page(s3_site: sites.Site, bucket: Any) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    real_put = counting.target.put

    def broken_put(key: str, data: bytes, obj: BuiltObject) -> None:
        if "/_m/" in key:
            raise OSError("connection reset")
        real_put(key, data, obj)

    counting.target.put = broken_put  # type: ignore[method-assign]
    failed = counting.publish(s3_site)
    assert not failed.ok and failed.uploaded == []
    assert "upload links/_m/" in failed.failures[0] and "connection reset" in failed.failures[0]
    assert "Contents" not in s3.list_objects_v2(Bucket=name)
    counting.target.put = real_put  # type: ignore[method-assign]
    again = counting.publish(s3_site)
    assert again.ok and len(again.uploaded) == 10


def test_the_file_target_mirrors_the_bucket_layout(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", ("Shop", "https://example.com"))
    build(site)
    report = publish(site)
    assert report.ok and report.target == (site.root / "published").as_uri()
    published = site.root / "published"
    assert (published / "alice").read_bytes() == (site.build_dir / "alice").read_bytes()
    assert not (published / ".linkgen-build").exists()
    site.content.delete_profile("alice")
    build(site)
    assert publish(site).deleted == ["alice"] and not (published / "alice").exists()


def test_a_long_publish_reports_progress_in_a_log(
    site: sites.Site, add_profile: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkgen.cli import output as cli

    for n in range(12):
        add_profile(f"user{n}")
    monkeypatch.setattr(cli, "LOG_PROGRESS_OVER", 10)
    result = run("publish")
    uploading = [line for line in result.stderr.splitlines() if line.startswith("uploading:")]
    rendering = [line for line in result.stderr.splitlines() if line.startswith("rendering:")]
    assert uploading[-1] == "uploading: 17 of 17"  # 12 pages, sitemap, robots, 404, card, /
    assert len(uploading) >= 5 and rendering[-1] == "rendering: 12 of 12"
    assert "uploaded 17" in result.stdout


def test_publish_py_is_the_ci_entry_point(site: sites.Site, add_profile: Any) -> None:
    import subprocess
    import sys

    add_profile("alice")
    script = Path(__file__).resolve().parents[2] / "publish.py"
    result = subprocess.run(
        [sys.executable, str(script), "--site", str(site.root)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "uploaded" in result.stdout and (site.root / "published" / "alice").exists()
    (site.root / "linkgen.toml").write_text('[publish]\ntarget = "ftp://nope"\n')
    bad = subprocess.run(
        [sys.executable, str(script), "--site", str(site.root)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "publish.target" in bad.stderr and "Traceback" not in bad.stderr


def test_verify_repairs_objects_changed_or_deleted_behind_our_back(
    s3_site: sites.Site, bucket: Any
) -> None:
    s3, name = bucket
    counting = Counting(s3_site)
    counting.publish(s3_site)
    s3.delete_object(Bucket=name, Key="links/user1")
    s3.put_object(Bucket=name, Key="links/user2", Body=b"defaced")
    s3.put_object(Bucket=name, Key="links/stray.txt", Body=b"not ours")
    normal = counting.publish(s3_site)
    assert normal.uploaded == []  # without --verify, nothing lists the bucket
    repaired = counting.publish(s3_site, verify=True)
    assert repaired.ok and repaired.drift == ["links/user1", "links/user2"]
    assert sorted(repaired.uploaded) == ["links/user1", "links/user2"]
    assert repaired.unknown == ["links/stray.txt"]
    assert counting.calls["ListObjectsV2"] == 1
    body = s3.get_object(Bucket=name, Key="links/user2")["Body"].read()
    assert body == (s3_site.build_dir / "user2").read_bytes()
    assert s3.head_object(Bucket=name, Key="links/stray.txt")  # reported, never deleted


def test_objects_lost_from_the_bucket_out_of_band_are_noticed_and_put_back(
    s3_site: sites.Site, bucket: Any, run: Any
) -> None:
    s3, name = bucket
    assert publish(s3_site).ok
    before = bucket_state(s3, name)
    for key in list(before):  # someone empties the bucket (lifecycle rule, wrong sync…)
        s3.delete_object(Bucket=name, Key=key)
    s3.delete_object(Bucket=name, Key="links/_linkgen/generation")
    s3_site.close()
    result = run("publish")
    assert "the bucket no longer holds the generation this site wrote" in result.stdout
    assert "uploaded 10 " in result.stdout
    assert bucket_state(s3, name) == before
    again = Counting(s3_site)
    report = again.publish(s3_site)
    assert report.ok and report.uploaded == [] and report.verified is None
    assert again.calls == {"GetObject": 1}
