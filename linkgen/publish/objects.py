"""The objects a build holds, with the key, headers and surrogate keys of each."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

# HTML: browsers keep it a minute; shared caches keep it until purged.
PAGE_CACHE = "public, max-age=60, s-maxage=31536000"
PAGE_SURROGATE_CONTROL = "max-age=31536000"
# Site files change on every build that adds or removes a profile.
SITE_CACHE = "public, max-age=300, s-maxage=86400"
# Media names carry their content hash: they never change.
MEDIA_CACHE = "public, max-age=31536000, immutable"


class Phase(IntEnum):
    """Upload order: no published page may reference a missing media object."""

    MEDIA = 0
    PAGES = 1
    SITE = 2


@dataclass(frozen=True)
class BuiltObject:
    name: str  # path relative to build/, "/" separated
    path: Path
    size: int
    mtime_ns: int
    phase: Phase
    content_type: str
    cache_control: str
    surrogate_keys: str

    @property
    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": self.content_type,
            "Cache-Control": self.cache_control,
            "x-amz-meta-surrogate-key": self.surrogate_keys,
        }
        if self.phase is Phase.PAGES:
            headers["x-amz-meta-surrogate-control"] = PAGE_SURROGATE_CONTROL
        return headers

    @property
    def header_hash(self) -> str:
        canonical = json.dumps(self.headers, sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()[:32]


def _content_type(name: str) -> str:
    if "." not in name.rsplit("/", 1)[-1]:
        return "text/html; charset=utf-8"
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/xml", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind


def scan(build_dir: Path, owners: Mapping[str, str]) -> Iterator[BuiltObject]:
    """Every file in build/ except dotfiles; ``owners`` maps username -> profile id."""
    stack = [(build_dir, "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), name + "/"))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat()
                yield _describe(name, Path(entry.path), stat.st_size, stat.st_mtime_ns, owners)


def _describe(
    name: str, path: Path, size: int, mtime_ns: int, owners: Mapping[str, str]
) -> BuiltObject:
    kind = _content_type(name)
    if name.startswith("_m/"):
        return BuiltObject(name, path, size, mtime_ns, Phase.MEDIA, kind, MEDIA_CACHE, "site all")
    owner = owners.get(name)
    if owner is not None:
        keys = f"p-{owner} all"
        return BuiltObject(name, path, size, mtime_ns, Phase.PAGES, kind, PAGE_CACHE, keys)
    return BuiltObject(name, path, size, mtime_ns, Phase.SITE, kind, SITE_CACHE, "site all")


def body_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
