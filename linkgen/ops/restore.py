"""``linkgen restore``: a backup checked in full, then put in place.

A backup is outside input like any other: every file must be one the manifest
lists, under a path it may have, with the size and SHA-256 the manifest says,
and both databases must pass ``PRAGMA integrity_check`` — before anything in
the site is touched. Files the site already has and the backup would replace
are kept beside it (``<name>.before-restore``), never lost. The restored site's
next publish compares every object with the bucket instead of trusting the
restored manifest (pages saved after the backup are replaced or deleted there).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkgen import site as sites
from linkgen.errors import BackupError
from linkgen.ops.backup import AUDIENCE, CLICKS, DATABASE, FORMAT, KEY_FILE, LINKS_KEY, digest
from linkgen.ops.stores import MANIFEST, PREFIX, FolderStore, open_store

# Where each file of a backup goes in the site (None: refused).
_PLACES = (
    (
        re.compile(r"linkgen\.db|clicks\.db|audience\.db|editor\.key|redirector\.key"),
        sites.DATA_DIR,
    ),
    (re.compile(r"media/[A-Za-z0-9_.-]+"), sites.DATA_DIR),
    (re.compile(r"site/linkgen\.toml"), ""),
    (re.compile(r"site/(templates|themes)(/[A-Za-z0-9_. -]+)+"), ""),
)


@dataclass
class RestoreReport:
    name: str
    site: Path
    files: int
    kept_aside: list[str]
    created_at: str


def _place(relative: str) -> Path | None:
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    for pattern, base in _PLACES:
        if pattern.fullmatch(relative):
            inner = relative.removeprefix("site/")
            return Path(base) / inner if base else Path(inner)
    return None


def check(folder: Path) -> dict[str, Any]:
    """The backup in ``folder``'s manifest, once every file in it holds; else BackupError."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder}: no readable {MANIFEST} ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: not a linkgen backup (format {FORMAT} expected)")
    files = manifest.get("files")
    if not isinstance(files, dict) or DATABASE not in files:
        raise BackupError(f"{folder}: the manifest lists no {DATABASE}")
    for relative, entry in files.items():
        if not isinstance(relative, str) or _place(relative) is None:
            raise BackupError(f"{folder}: {str(relative)[:80]!r} is not a file a backup holds")
        path = folder / relative
        if not isinstance(entry, dict) or not path.is_file():
            raise BackupError(f"{folder}: {relative} is missing")
        if path.stat().st_size != entry.get("size") or digest(path) != entry.get("sha256"):
            raise BackupError(f"{folder}: {relative} is damaged (its checksum differs)")
    listed = {folder / relative for relative in files} | {folder / MANIFEST}
    extra = [p for p in folder.rglob("*") if p.is_file() and p not in listed]
    if extra:
        raise BackupError(f"{folder}: {extra[0].relative_to(folder)} is not in the manifest")
    for name in (DATABASE, CLICKS, AUDIENCE):
        if name in files:
            _integrity(folder / name)
    return manifest


def _integrity(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)  # touches nothing
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        verdict = str(exc)
    finally:
        conn.close()
    if verdict != "ok":
        raise BackupError(f"{path.name} in the backup fails its integrity check: {verdict}")


def restore(
    source: str,
    site_dir: Path,
    *,
    replace: bool = False,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> RestoreReport:
    """Restore the backup ``source`` (one backup, or the latest of a folder or
    bucket prefix of them) into ``site_dir``."""
    folder, name, store = _locate(source, endpoint_url, region)
    with tempfile.TemporaryDirectory(prefix="linkgen-restore-") as tmp:
        if folder is None:
            folder = Path(tmp)
            store.fetch(name, folder)
        manifest = check(folder)
        database = site_dir / sites.DATA_DIR / DATABASE
        if database.exists() and not replace:
            raise BackupError(
                f"{database} exists: restore into another --site, or pass --replace "
                "(the files it replaces are kept beside them as *.before-restore)"
            )
        kept = _put_in_place(folder, manifest["files"], site_dir)
    site = sites.Site.open(site_dir)
    try:
        from linkgen.publish import generation

        generation.ask_verify(site.builds)  # also runs the migrations of an older backup
    finally:
        site.close()
    return RestoreReport(
        name, site_dir, len(manifest["files"]), kept, str(manifest.get("created_at"))
    )


def _locate(
    source: str, endpoint_url: str | None, region: str | None
) -> tuple[Path | None, str, Any]:
    """(the backup's folder if it is local, its name, its store)."""
    local = Path(source).expanduser()
    if "://" not in source and (local / MANIFEST).is_file():
        return local, local.name, None
    store = open_store(source, endpoint_url, region)
    names = store.names()
    if not names:
        base, _, last = source.rstrip("/").rpartition("/")
        if last.startswith(PREFIX) and base:
            parent = open_store(base, endpoint_url, region)
            if last in parent.names():
                return None, last, parent
        raise BackupError(f"{source}: no finished backup there")
    name = names[-1]
    if isinstance(store, FolderStore):
        return store.root / name, name, store
    return None, name, store


def _put_in_place(folder: Path, files: dict[str, Any], site_dir: Path) -> list[str]:
    kept: list[str] = []
    for stale in (DATABASE, CLICKS, AUDIENCE):
        for suffix in ("-wal", "-shm"):
            (site_dir / sites.DATA_DIR / (stale + suffix)).unlink(missing_ok=True)
    for relative in sorted(files):
        place = _place(relative)
        assert place is not None  # checked
        target = site_dir / place
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if target.read_bytes() == (folder / relative).read_bytes():
                continue
            aside = target.with_name(target.name + ".before-restore")
            target.replace(aside)
            kept.append(str(aside.relative_to(site_dir)))
        shutil.copy2(folder / relative, target)
    for name in (KEY_FILE, LINKS_KEY):
        key = site_dir / sites.DATA_DIR / name
        if key.exists():
            key.chmod(0o600)
    return kept
