"""Backups that restore: taken while the site is being written to, checked in
full before anything is put back, and published again to what a clean publish
of the same content gives."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.audience.store import AudienceStore, audience_path
from linkgen.clicks.db import ClickStore, Event, clicks_path
from linkgen.clicks.locks import site_key
from linkgen.errors import BackupError
from linkgen.models import NewLink, validate
from linkgen.ops.backup import backup
from linkgen.ops.restore import restore
from tests.support.buckets import bucket_state
from tests.support.cli import Cli
from tests.support.pictures import picture_file

NOW_MS = int(time.time() * 1000)


def configure(root: Path, bucket: str, s3_endpoint: str) -> None:
    (root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{bucket}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
    )


def a_live_site(site: sites.Site, run: Cli, bucket: str, s3_endpoint: str, tmp: Path) -> None:
    """Creators with avatars, thumbnails and social cards, clicks, published."""
    configure(site.root, bucket, s3_endpoint)
    run(
        "profile",
        "add",
        "ada",
        "--name",
        "Ada",
        "--avatar",
        str(picture_file(tmp / "a.png", (200, 40, 40))),
    )
    run(
        "profile",
        "add",
        "bob",
        "--name",
        "Bob",
        "--avatar",
        str(picture_file(tmp / "b.png", (40, 40, 200))),
    )
    thumb = str(picture_file(tmp / "t.png", (40, 160, 40)))
    run("link", "add", "ada", "Shop", "https://shop.example.com", "--thumbnail", thumb)
    run("link", "add", "bob", "Blog", "https://blog.example.com")
    ada = site.content.get("ada")
    store = ClickStore(clicks_path(site.root))
    store.write([Event(NOW_MS, "click", ada.id, ada.links[0].id, "v1", "", "DE", "mobile", False)])
    store.close()
    run("build")
    run("publish")


def media_references(build_dir: Path) -> set[str]:
    found: set[str] = set()
    for page in build_dir.iterdir():
        if page.is_file():
            found |= set(re.findall(r"/_m/([A-Za-z0-9_.-]+)", page.read_text(errors="replace")))
    return found


@pytest.mark.timeout(120)
def test_the_restore_drill(
    site: sites.Site, run: Cli, bucket: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    s3, name = bucket
    a_live_site(site, run, name, s3_endpoint, tmp_path)
    root = site.root
    list_of_ada = AudienceStore(audience_path(root), site_key(root / sites.DATA_DIR))
    list_of_ada.add([(site.content.get("ada").id, "fan@example.com")], time.time())
    (signed_up,) = list_of_ada.due(time.time())
    list_of_ada.close()

    # Back up while edits and clicks are being written.
    stop = threading.Event()
    written = {"links": 0, "clicks": 0}

    def keep_writing() -> None:
        writer = sites.Site.open(root)
        clicks = ClickStore(clicks_path(root))
        bob = writer.content.get("bob")
        while not stop.is_set() and written["links"] < 40:
            n = written["links"]
            writer.content.add_link(
                "bob",
                validate(NewLink, {"title": f"Post {n}", "url": f"https://blog.example.com/{n}"}),
            )
            clicks.write(
                [Event(NOW_MS + n, "view", bob.id, "", f"v{n}", "", "FR", "desktop", False)]
            )
            written["links"] += 1
            written["clicks"] += 1
        clicks.close()
        writer.close()

    writing = threading.Thread(target=keep_writing)
    writing.start()
    try:
        while written["links"] < 3:
            time.sleep(0.01)
        report = backup(
            site, str(tmp_path / "backups"), endpoint_url=s3_endpoint, region="us-east-1"
        )
    finally:
        stop.set()
        writing.join(timeout=30)
    assert report.files >= 8 and report.name.startswith("linkgen-backup-")
    taken = tmp_path / "backups" / report.name
    files = json.loads((taken / "manifest.json").read_text())["files"]
    assert {"linkgen.db", "clicks.db", "audience.db", "redirector.key"} <= set(files)
    assert "site/linkgen.toml" in files
    assert any(key.startswith("media/") for key in files)
    snapshot = sqlite3.connect(taken / "linkgen.db")
    links_then = snapshot.execute("SELECT count(*) FROM links").fetchone()[0]
    snapshot.close()
    assert 2 + 3 <= links_then <= 2 + written["links"]  # one moment of a site being written

    # The site directory and the bucket are lost.
    site.close()
    shutil.rmtree(root)
    for key in [*bucket_state(s3, name), "links/_linkgen/generation"]:
        s3.delete_object(Bucket=name, Key=key)

    restored = Cli(root)
    result = restored("restore", str(tmp_path / "backups"))
    assert report.name in result.stdout
    restored("build")
    published = restored("publish")
    assert "compared every object with the bucket" in published.stdout

    # A clean publish of the same content, for comparison: the backup restored
    # elsewhere, published to an empty bucket.
    s3.create_bucket(Bucket=f"{name}-clean")
    clean_root = tmp_path / "clean"
    clean = Cli(clean_root)
    clean("restore", str(taken))
    configure(clean_root, f"{name}-clean", s3_endpoint)
    clean("build")
    clean("publish")
    assert bucket_state(s3, name) == bucket_state(s3, f"{name}-clean")

    back = sites.Site.open(root)
    assert len(back.content.get("bob").links) == links_then - 1
    refs = media_references(back.build_dir)
    assert refs, "the pages refer to avatars, thumbnails and cards"
    keys = set(bucket_state(s3, name))
    assert {f"links/_m/{ref}" for ref in refs} <= keys  # every /_m/ a page names is there
    clicks = ClickStore(clicks_path(root))
    ada = back.content.get("ada")
    assert [
        r.total
        for r in clicks.daily(ada.id, "2000-01-01", "2100-01-01")
        if r.kind == "click" and r.link_id == ada.links[0].id
    ] == [1]
    clicks.close()
    back.close()
    restored_list = AudienceStore(audience_path(root), site_key(root / sites.DATA_DIR))
    assert restored_list.unsubscribe(signed_up.unsubscribe)  # the list, and its links' key
    restored_list.close()


def a_backup(site: sites.Site, run: Cli, tmp_path: Path) -> Path:
    run("profile", "add", "ada", "--avatar", str(picture_file(tmp_path / "a.png", (200, 40, 40))))
    report = backup(site, str(tmp_path / "backups"))
    return tmp_path / "backups" / report.name


def rewrite_manifest(taken: Path, change: Any) -> None:
    manifest = json.loads((taken / "manifest.json").read_text())
    change(manifest["files"])
    (taken / "manifest.json").write_text(json.dumps(manifest))


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    site: sites.Site, run: Cli, tmp_path: Path
) -> None:
    taken = a_backup(site, run, tmp_path)
    target = tmp_path / "new-site"
    media = next((taken / "media").iterdir())
    media.write_bytes(media.read_bytes()[:-1] + b"!")
    with pytest.raises(BackupError, match=f"media/{media.name} is damaged"):
        restore(str(taken), target)
    assert not target.exists()


def test_a_backup_naming_files_outside_the_site_is_refused(
    site: sites.Site, run: Cli, tmp_path: Path
) -> None:
    taken = a_backup(site, run, tmp_path)
    (taken / "site" / "extra.sh").write_text("echo hi")
    with pytest.raises(BackupError, match=r"extra\.sh is not in the manifest"):
        restore(str(taken), tmp_path / "a")
    (taken / "site" / "extra.sh").unlink()
    rewrite_manifest(taken, lambda files: files.update({"../../etc/cron.d/x": files["linkgen.db"]}))
    with pytest.raises(BackupError, match="is not a file a backup holds"):
        restore(str(taken), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_corrupt_database_is_refused_even_with_matching_checksums(
    site: sites.Site, run: Cli, tmp_path: Path
) -> None:
    from linkgen.ops.backup import digest

    taken = a_backup(site, run, tmp_path)
    database = taken / "linkgen.db"
    data = bytearray(database.read_bytes())
    page = 4096 * 2  # a table's page, after the header page
    data[page + 8 : page + 400] = b"\xff" * 392
    database.write_bytes(bytes(data))
    size, sha = len(data), digest(database)
    rewrite_manifest(
        taken, lambda files: files.update({"linkgen.db": {"sha256": sha, "size": size}})
    )
    with pytest.raises(BackupError, match="fails its integrity check"):
        restore(str(taken), tmp_path / "new-site")


def test_a_restore_over_a_site_keeps_what_it_replaces(
    site: sites.Site, run: Cli, tmp_path: Path
) -> None:
    taken = a_backup(site, run, tmp_path)
    run("profile", "add", "later")
    site.close()
    refused = run("restore", str(taken), code=1)
    assert "linkgen.db exists" in refused.stderr and "--replace" in refused.stderr
    result = run("restore", str(taken), "--replace")
    assert "site_data/linkgen.db.before-restore" in result.stdout
    assert [p.username for p in sites.Site.open(site.root).content.list_profiles()] == ["ada"]
    kept = sqlite3.connect(site.root / "site_data" / "linkgen.db.before-restore")
    assert kept.execute("SELECT count(*) FROM profiles").fetchone()[0] == 2


def test_a_backup_keeps_only_todays_visitor_salt(
    site: sites.Site, run: Cli, tmp_path: Path
) -> None:
    store = ClickStore(clicks_path(site.root))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    store.salt("2026-01-01")
    store.salt(today)
    store.close()
    taken = a_backup(site, run, tmp_path)
    copy = sqlite3.connect(taken / "clicks.db")
    assert [row[0] for row in copy.execute("SELECT day FROM salts")] == [today]
    assert b"2026-01-01" not in (taken / "clicks.db").read_bytes()


def test_backups_in_a_bucket_with_retention_and_a_restore_from_there(
    site: sites.Site, run: Cli, bucket: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    s3, name = bucket
    run("profile", "add", "ada")
    where = f"s3://{name}/backups"
    for _ in range(3):
        run("backup", where, "--keep", "2", "--endpoint-url", s3_endpoint)
    listed = s3.list_objects_v2(Bucket=name, Prefix="backups/")["Contents"]
    names = sorted({item["Key"].split("/")[1] for item in listed})
    assert len(names) == 2 and all(n.startswith("linkgen-backup-") for n in names)
    target = Cli(tmp_path / "elsewhere")
    result = target("restore", where, "--endpoint-url", s3_endpoint, "--region", "us-east-1")
    assert names[-1] in result.stdout
    assert target("profile", "list").stdout.startswith("@ada")


def test_an_older_backup_published_over_the_live_bucket_takes_back_what_came_after(
    site: sites.Site, run: Cli, bucket: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    s3, name = bucket
    configure(site.root, name, s3_endpoint)
    run("profile", "add", "ada")
    run("build")
    run("publish")
    report = backup(site, str(tmp_path / "backups"))
    run("profile", "add", "carol")  # saved after the backup
    run("profile", "set", "ada", "--bio", "changed after the backup")
    run("build")
    run("publish")
    assert "links/carol" in bucket_state(s3, name)
    site.close()
    shutil.rmtree(site.root)
    restored = Cli(site.root)
    restored("restore", str(tmp_path / "backups" / report.name))
    restored("build")
    restored("publish")
    state = bucket_state(s3, name)
    assert "links/carol" not in state
    assert b"changed after the backup" not in state["links/ada"][0]
