"""The objects a build holds, with the key, headers and surrogate keys of each."""

from __future__ import annotations

import functools
import hashlib
import json
import mimetypes
import os
from collections.abc import Iterable, Iterator, Mapping
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from linkgen import __version__

# HTML: browsers keep it a minute; shared caches keep it until purged.
PAGE_CACHE = "public, max-age=60, s-maxage=31536000"
PAGE_SURROGATE_CONTROL = "max-age=31536000"
# Site files change on every build that adds or removes a profile.
SITE_CACHE = "public, max-age=300, s-maxage=86400"
# The 404 page is what a CDN answers for any missing key, with the origin's
# error headers gone (CloudFront's error pages keep the page's own): a lifetime
# safe everywhere, downstream included.
NOT_FOUND_PAGE = "404.html"
NOT_FOUND_CACHE = "public, max-age=30"
# A link served by the edge (pages.redirects): its body is where it sends a
# visitor, also stored as x-amz-meta-location, which the edge answers with.
REDIRECTS = "r/"
REDIRECT_TYPE = "text/plain; charset=utf-8"
# Media names carry their content hash: they never change.
MEDIA_CACHE = "public, max-age=31536000, immutable"


class Phase(IntEnum):
    """Upload order: no published page may reference a missing media object."""

    MEDIA = 0
    PAGES = 1
    SITE = 2


# Content types by extension, fixed here rather than read from the machine's
# mime.types: two machines must describe the same file the same way, or a
# fresh CI runner would see header changes everywhere.
CONTENT_TYPES = {
    "": "text/html; charset=utf-8",  # profile pages: /<username>, no extension
    "html": "text/html; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "json": "application/json",
    "svg": "image/svg+xml; charset=utf-8",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "ico": "image/vnd.microsoft.icon",
    "woff2": "font/woff2",
    "webmanifest": "application/manifest+json",
    "vcf": "text/vcard; charset=utf-8",
}
PLAYERS = "_e/"  # an embed's player page: _e/<profile id>/<link id>
CARD_SUFFIX = ".vcf"  # a profile's contact card: <username>.vcf
# A title test's page variants: _t/<profile id>/<label>, and in _t/<profile id>/.ab
# the draw the edge makes, stored on the page as its "ab" metadata (pages.extras).
TITLE_TESTS = "_t/"
DRAW = ".ab"


def policy() -> str:
    """A digest of the headers linkgen gives objects by their kind: when it changes
    (another cache policy), every object is compared again (store.journal)."""
    fixed = (__version__, PAGE_CACHE, PAGE_SURROGATE_CONTROL, SITE_CACHE, NOT_FOUND_CACHE,
             MEDIA_CACHE, REDIRECT_TYPE, sorted(CONTENT_TYPES.items()))  # fmt: skip
    return hashlib.sha256(json.dumps(fixed).encode()).hexdigest()[:16]


class BuiltObject(NamedTuple):
    name: str  # path relative to build/, "/" separated
    path: str
    size: int
    mtime_ns: int
    phase: Phase
    content_type: str
    cache_control: str
    surrogate_keys: str
    draw: str = ""  # a page with a title test: "<profile id> a:<bound> b:<bound> …"

    @property
    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": self.content_type,
            "Cache-Control": self.cache_control,
            "x-amz-meta-surrogate-key": self.surrogate_keys,
        }
        if self.phase is Phase.PAGES:
            headers["x-amz-meta-surrogate-control"] = PAGE_SURROGATE_CONTROL
        if self.draw:
            headers["x-amz-meta-ab"] = self.draw
        return headers

    @property
    def header_hash(self) -> str:
        """A hash of every header: the fixed ones (shared by many objects), the keys
        and a title test's draw."""
        fixed = _fixed_headers_hash(self.phase, self.content_type, self.cache_control)
        keys = f"{self.surrogate_keys} ab={self.draw}" if self.draw else self.surrogate_keys
        return hashlib.sha256(f"{fixed} {keys}".encode()).hexdigest()[:32]

    @property
    def redirect(self) -> bool:
        """An ``r/<link id>`` object: its body goes in its ``location`` metadata too."""
        return self.name.startswith(REDIRECTS)

    def read(self) -> bytes:
        with open(self.path, "rb") as file:
            return file.read()


@functools.lru_cache(maxsize=64)
def _fixed_headers_hash(phase: Phase, content_type: str, cache_control: str) -> str:
    fixed = {"Content-Type": content_type, "Cache-Control": cache_control}
    if phase is Phase.PAGES:
        fixed["x-amz-meta-surrogate-control"] = PAGE_SURROGATE_CONTROL
    return hashlib.sha256(json.dumps(fixed, sort_keys=True).encode()).hexdigest()


@functools.lru_cache(maxsize=256)
def _content_type(extension: str) -> str:
    known = CONTENT_TYPES.get(extension.lower())
    if known:
        return known
    kind = _MIME.guess_type(f"x.{extension}")[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


_MIME = mimetypes.MimeTypes(filenames=())  # Python's own table only, never /etc/mime.types


def scan(build_dir: Path, owners: Mapping[str, str]) -> Iterator[BuiltObject]:
    """Every file in build/ except dotfiles; ``owners`` maps username -> profile id."""
    tests = draws(build_dir)
    stack = [(str(build_dir), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, name + "/"))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat()
                yield describe(name, entry.path, stat.st_size, stat.st_mtime_ns, owners, tests)


def describe(
    name: str,
    path: str,
    size: int,
    mtime_ns: int,
    owners: Mapping[str, str],
    tests: Mapping[str, str],
) -> BuiltObject:
    """The object of build/'s file ``name``; ``tests``: profile id -> its title
    test's draw (``draws``)."""
    found = _describe(name, path, size, mtime_ns, owners)
    if tests and owners.get(name) in tests:  # a page with a title test
        found = found._replace(draw=tests[owners[name]])
    return found


def draws(build_dir: Path, profile_ids: Iterable[str] | None = None) -> dict[str, str]:
    """profile id -> the draw of its title test, for each test in build/ (or of
    ``profile_ids``)."""
    folder = build_dir / TITLE_TESTS
    found: dict[str, str] = {}
    if profile_ids is None:
        profile_ids = os.listdir(folder) if folder.is_dir() else ()
    for profile_id in profile_ids:
        try:
            found[profile_id] = (folder / profile_id / DRAW).read_text()
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found


def _describe(
    name: str, path: str, size: int, mtime_ns: int, owners: Mapping[str, str]
) -> BuiltObject:
    base = name.rpartition("/")[2]
    kind = _content_type(base.rpartition(".")[2] if "." in base else "")
    if name.startswith("_m/"):
        return BuiltObject(name, path, size, mtime_ns, Phase.MEDIA, kind, MEDIA_CACHE, "site all")
    if name.startswith(REDIRECTS):  # a link the edge answers: its own key, purged alone
        keys = f"l-{base} all"
        return BuiltObject(name, path, size, mtime_ns, Phase.PAGES, REDIRECT_TYPE, PAGE_CACHE, keys)
    owner = owners.get(name.removesuffix(CARD_SUFFIX))
    if owner is None and name.startswith((PLAYERS, TITLE_TESTS)):
        owner = name.split("/")[1]
    if owner is not None:
        keys = f"p-{owner} all"
        return BuiltObject(name, path, size, mtime_ns, Phase.PAGES, kind, PAGE_CACHE, keys)
    cache = NOT_FOUND_CACHE if name == NOT_FOUND_PAGE else SITE_CACHE
    return BuiltObject(name, path, size, mtime_ns, Phase.SITE, kind, cache, "site all")


def body_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public_path(site_url: str, name: str) -> list[str]:
    """The public URL paths under which the object ``name`` of build/ is served."""
    base = urlsplit(site_url).path.rstrip("/")
    if name == "index.html":
        return [f"{base}/", f"{base}/index.html"]
    return [f"{base}/{name}"]
