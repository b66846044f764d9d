"""Where backups are kept: a folder, or an S3 bucket and prefix.

Each backup is a directory of files (``linkgen-backup-<UTC time>/``) whose
``manifest.json`` is written last: a backup without one is unfinished and is
neither restored nor counted for retention.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from linkgen.errors import BackupError

PREFIX = "linkgen-backup-"
MANIFEST = "manifest.json"


class BackupStore(Protocol):
    location: str

    def names(self) -> list[str]:
        """The finished backups here, oldest first."""
        ...

    def write(self, name: str, staged: Path) -> None:
        """Store the folder ``staged`` as backup ``name`` (its manifest last)."""
        ...

    def fetch(self, name: str, into: Path) -> None:
        """Copy backup ``name`` into the empty folder ``into``."""
        ...

    def remove(self, name: str) -> None: ...


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            yield path
    yield root / MANIFEST


class FolderStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.name.startswith(PREFIX) and (p / MANIFEST).is_file()
        )

    def write(self, name: str, staged: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(staged, partial)
        partial.rename(self.root / name)

    def fetch(self, name: str, into: Path) -> None:
        shutil.copytree(self.root / name, into, dirs_exist_ok=True)

    def remove(self, name: str) -> None:
        shutil.rmtree(self.root / name)


class S3Store:
    def __init__(self, url: str, endpoint_url: str | None, region: str | None) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise BackupError(f"{url}: no bucket named (s3://BUCKET/PREFIX)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = url
        import boto3

        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _keys(self, under: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=under
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def names(self) -> list[str]:
        found = set()
        for key in self._keys(self.prefix + PREFIX):
            name, _, rest = key[len(self.prefix) :].partition("/")
            if rest == MANIFEST:
                found.add(name)
        return sorted(found)

    def write(self, name: str, staged: Path) -> None:
        for path in _files(staged):
            key = f"{self.prefix}{name}/{path.relative_to(staged).as_posix()}"
            self.client.upload_file(str(path), self.bucket, key)

    def fetch(self, name: str, into: Path) -> None:
        base = f"{self.prefix}{name}/"
        for key in self._keys(base):
            relative = key[len(base) :]
            target = (into / relative).resolve()
            if not relative or not target.is_relative_to(into.resolve()):
                raise BackupError(f"{self.location}: the key {key!r} is not a file of a backup")
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, key, str(target))

    def remove(self, name: str) -> None:
        keys = self._keys(f"{self.prefix}{name}/")
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})


def open_store(
    location: str, endpoint_url: str | None = None, region: str | None = None
) -> BackupStore:
    if location.startswith("s3://"):
        return S3Store(location, endpoint_url, region)
    if "://" in location:
        raise BackupError(f"{location}: a backup goes to a folder or to s3://BUCKET/PREFIX")
    return FolderStore(Path(location).expanduser())
