"""A profile with its pictures in one zip file (``linkgen export --bundle``), so an
import into another site shows the same avatar, thumbnails and background.

``profile.json`` is the export; ``media/<name>`` each picture it refers to. The
file is hostile until checked: only those two kinds of entry, at most
``MAX_FILES``, each picture under ``MAX_PICTURE`` and all under ``MAX_TOTAL``
bytes unpacked (read with a cap, whatever the zip claims), named by the hash
of its own bytes (so none can be swapped for another), an image of the format
its name says, and referred to by the profile.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

from linkgen.errors import InvalidInput
from linkgen.fsutil import write_file
from linkgen.models import ProfileExport, validate_json

PROFILE = "profile.json"
MAX_FILES = 200
MAX_PICTURE = 15 * 1024 * 1024
MAX_TOTAL = 64 * 1024 * 1024
_MEDIA = re.compile(r"media/([0-9a-f]{24})\.(webp|jpg)")
_REF = re.compile(r"/_m/([0-9a-f]{24}\.(?:webp|jpg))")
_FORMATS = {"webp": "WEBP", "jpg": "JPEG"}


def is_bundle(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def pictures_of(export: ProfileExport) -> set[str]:
    """The /_m/ names an export refers to."""
    return set(_REF.findall(export.model_dump_json()))


def write(export: ProfileExport, media_dir: Path) -> bytes:
    """The bundle of ``export`` and its pictures from ``media_dir``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(PROFILE, export.model_dump_json(indent=2))
        for name in sorted(pictures_of(export)):
            try:
                bundle.writestr(f"media/{name}", (media_dir / name).read_bytes())
            except FileNotFoundError:
                raise InvalidInput(f"picture {name} is missing from {media_dir}") from None
    return out.getvalue()


def _read(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with bundle.open(info) as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise InvalidInput(f"bundle: {info.filename} is larger than {cap // 1024 // 1024} MB")
    return data


def read(data: bytes) -> tuple[ProfileExport, dict[str, bytes]]:
    """The export in a bundle and its pictures by name, once every check holds."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InvalidInput(f"bundle: not a zip file ({exc})") from None
    with bundle:
        entries = bundle.infolist()
        if len(entries) > MAX_FILES:
            raise InvalidInput(f"bundle: {len(entries)} files, at most {MAX_FILES}")
        names = [info.filename for info in entries]
        if names.count(PROFILE) != 1:
            raise InvalidInput(f"bundle: it must hold one {PROFILE}")
        pictures: dict[str, bytes] = {}
        total = 0
        export = None
        for info in entries:
            if info.filename == PROFILE:
                export = validate_json(ProfileExport, _read(bundle, info, MAX_PICTURE))
                continue
            match = _MEDIA.fullmatch(info.filename)
            if match is None:
                raise InvalidInput(f"bundle: {info.filename[:80]!r} is not a file a bundle holds")
            content = _read(bundle, info, MAX_PICTURE)
            total += len(content)
            if total > MAX_TOTAL:
                raise InvalidInput(f"bundle: more than {MAX_TOTAL // 1024 // 1024} MB of pictures")
            stem, suffix = match.groups()
            if hashlib.sha256(content).hexdigest()[:24] != stem:
                raise InvalidInput(f"bundle: {info.filename} is not the picture its name says")
            _check_image(content, _FORMATS[suffix], info.filename)
            pictures[f"{stem}.{suffix}"] = content
    assert export is not None
    strangers = set(pictures) - pictures_of(export)
    if strangers:
        raise InvalidInput(f"bundle: media/{sorted(strangers)[0]} is not one the profile uses")
    return export, pictures


def _check_image(content: bytes, expected: str, name: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            found = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(f"bundle: {name} is not an image") from None
    if found != expected:
        raise InvalidInput(f"bundle: {name} is {found}, not {expected}")


def keep(pictures: dict[str, bytes], media_dir: Path) -> int:
    """Store the pictures the site does not have yet; how many were new."""
    new = 0
    for name, content in pictures.items():
        target = media_dir / name
        if not target.exists():
            write_file(target, content)
            new += 1
    return new
