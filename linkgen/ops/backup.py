"""``linkgen backup``: a consistent copy of a site that is running.

The databases (content, clicks, the audience) are copied with SQLite's online
backup API, each as one snapshot however many edits and clicks are being
written meanwhile; then the media (named by their content, so every file a
snapshot refers to is there), the site's settings, templates and themes, and
the editor's and the redirector's signing keys. The
copy of the clicks database keeps only the visitor salt of today: the salts of
days gone are never in a backup. ``manifest.json`` lists every file with its
SHA-256, and is written last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from linkgen import __version__
from linkgen import site as sites
from linkgen.audience.store import audience_path
from linkgen.clicks.db import clicks_path
from linkgen.config import CONFIG_FILE
from linkgen.errors import BackupError
from linkgen.ops.stores import MANIFEST, PREFIX, open_store

FORMAT = "linkgen.backup/1"
DATABASE = "linkgen.db"
CLICKS = "clicks.db"
AUDIENCE = "audience.db"  # the sign-up forms' addresses (docs/privacy.md)
SITE_FILES = (CONFIG_FILE, "templates", "themes")
KEY_FILE = "editor.key"
LINKS_KEY = "redirector.key"  # signs the links in the confirmations the audience was sent


@dataclass
class BackupReport:
    name: str
    location: str
    files: int = 0
    bytes: int = 0
    removed: list[str] = field(default_factory=list)  # older backups beyond --keep
    seconds: float = 0.0


def snapshot(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` as one consistent snapshot, while others write."""
    origin = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        with copy:
            # In one step: a step-wise copy starts again whenever another connection
            # writes, and under a steady stream of clicks it might never end.
            origin.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        origin.close()
        copy.close()


def _forget_old_salts(path: Path, today: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("DELETE FROM salts WHERE day < ?", (today,))
        conn.execute("VACUUM")  # the deleted salts' bytes go too
    finally:
        conn.close()


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stage(site: sites.Site, into: Path) -> dict[str, dict[str, object]]:
    """Everything of ``site`` a restore needs, copied into ``into``; its files listed."""
    snapshot(site.db_path, into / DATABASE)
    clicks = clicks_path(site.root)
    if clicks.is_file():
        snapshot(clicks, into / CLICKS)
        _forget_old_salts(into / CLICKS, dt.datetime.now(dt.UTC).date().isoformat())
    audience = audience_path(site.root)
    if audience.is_file():
        snapshot(audience, into / AUDIENCE)
    if site.media_dir.is_dir():
        shutil.copytree(site.media_dir, into / "media")
    for name in SITE_FILES:
        source = site.root / name
        if source.is_dir():
            shutil.copytree(source, into / "site" / name)
        elif source.is_file():
            (into / "site").mkdir(exist_ok=True)
            shutil.copy2(source, into / "site" / name)
    for name in (KEY_FILE, LINKS_KEY):
        key = site.root / sites.DATA_DIR / name
        if key.is_file():
            shutil.copy2(key, into / name)
    return {
        path.relative_to(into).as_posix(): {"sha256": digest(path), "size": path.stat().st_size}
        for path in sorted(into.rglob("*"))
        if path.is_file()
    }


def backup(
    site: sites.Site,
    destination: str,
    *,
    keep: int | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> BackupReport:
    started = time.perf_counter()
    if keep is not None and keep < 1:
        raise BackupError("--keep must be at least 1")
    store = open_store(destination, endpoint_url, region)
    now = dt.datetime.now(dt.UTC)
    name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}"
    taken = set(store.names())
    suffix = 1
    while name in taken:
        suffix += 1
        name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}-{suffix}"
    report = BackupReport(name, store.location)
    with tempfile.TemporaryDirectory(prefix="linkgen-backup-") as tmp:
        staged = Path(tmp)
        files = stage(site, staged)
        manifest = {
            "format": FORMAT,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "linkgen": __version__,
            "site_url": site.config.site.url,
            "files": files,
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        store.write(name, staged)
    report.files = len(files)
    report.bytes = sum(int(str(entry["size"])) for entry in files.values())
    if keep is not None:
        names = store.names()
        for old in names[: max(0, len(names) - keep)]:
            store.remove(old)
            report.removed.append(old)
    report.seconds = time.perf_counter() - started
    return report
